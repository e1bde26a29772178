//! The arguments of a JIT function call: Python ints, floats, dicts, and
//! arrays, found through the buffer protocol (NumPy, and anything NumPy can
//! view, such as Torch CPU tensors), `__cuda_array_interface__` (CuPy
//! arrays, Torch CUDA tensors, Numba device arrays) or DLPack
//! (`__dlpack__`). What the code specialises on ([`Argument`]) is separated
//! from where each array's memory is ([`ArrayView`]).

use parla_compiler::frontend::{Argument, ArrayInfo, DType};
use pyo3::{
    exceptions::{PyBufferError, PyTypeError, PyValueError},
    ffi, intern,
    prelude::*,
    sync::PyOnceLock,
    types::{PyBool, PyBytes, PyCapsule, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple},
};
use std::ffi::c_void;

/// Where an array's elements are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Host,
    /// GPU memory (CUDA, or HIP on AMD GPUs); `stream` is the stream the
    /// producer says its pending work is on (`__cuda_array_interface__` v3:
    /// 1 is CUDA's legacy default stream, 2 the per-thread one, others a
    /// stream handle; 0 for HIP's default stream).
    Gpu {
        stream: Option<usize>,
    },
}

impl Location {
    /// Whether addresses in `self` and `other` are of one memory (host, or
    /// GPU memory whatever stream its producer named).
    fn same_memory(&self, other: &Location) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// A raw view of an array argument.
pub struct ArrayView {
    pub info: ArrayInfo,
    /// The address of element 0 (host or device).
    pub data: *mut c_void,
    pub readonly: bool,
    /// A copy NumPy made of a list or tuple: writes into it are lost.
    pub temporary: bool,
    pub location: Location,
    /// What keeps the memory alive for the call, where the argument
    /// itself does not.
    _owner: Option<Owner>,
}

/// Memory an [`ArrayView`] points into that the argument does not own
/// (held for its lifetime, never read).
#[allow(dead_code)]
enum Owner {
    /// A DLPack export, released when the call is done.
    Dlpack(DlpackExport),
    /// The array NumPy made from the argument (a list, `__array__`): its
    /// memory is freed with it.
    Array(Py<PyAny>),
    /// The argument itself, an array in a dict argument: the call's
    /// argument tuple holds the dict, not its entries, which another
    /// thread may replace (and free) while the call runs without the GIL.
    Entry(Py<PyAny>),
}

impl ArrayView {
    /// Whether `other` is this very array: the same memory, dtype, shape
    /// and strides (which the code then treats as one array).
    pub fn is_same_array(&self, other: &ArrayView) -> bool {
        self.data == other.data && self.location == other.location && self.info == other.info
    }

    /// A one-element i64 host array at `word`: where a kernel compiled with
    /// bounds checks reports the first failing access. The caller keeps
    /// `word` alive and in place for the call.
    pub fn error_word(word: *mut i64) -> Self {
        ArrayView {
            info: ArrayInfo {
                dtype: DType::I64,
                shape: vec![1],
                strides: vec![1],
            },
            data: word.cast(),
            readonly: false,
            temporary: false,
            location: Location::Host,
            _owner: None,
        }
    }
}

/// The dtype of a buffer-protocol format code with elements of `bytes`
/// bytes (`l` is 8 bytes here, 4 on some platforms).
fn dtype_of_format(code: &str, bytes: usize) -> PyResult<DType> {
    let kind = match code {
        "b" | "h" | "i" | "l" | "q" => Some('i'),
        "B" | "H" | "I" | "L" | "Q" => Some('u'),
        "f" | "d" => Some('f'),
        "?" => Some('b'),
        _ => None,
    };
    kind.and_then(|kind| dtype_of_kind(kind, bytes))
        .ok_or_else(|| unsupported_element(&format!("format '{code}'")))
}

/// The dtype of a `kind` ('i', 'u', 'f', 'b') and size in bytes.
fn dtype_of_kind(kind: char, bytes: usize) -> Option<DType> {
    Some(match (kind, bytes) {
        ('i', 1) => DType::I8,
        ('i', 2) => DType::I16,
        ('i', 4) => DType::I32,
        ('i', 8) => DType::I64,
        ('u', 1) => DType::U8,
        ('u', 2) => DType::U16,
        ('u', 4) => DType::U32,
        ('u', 8) => DType::U64,
        ('f', 4) => DType::F32,
        ('f', 8) => DType::F64,
        ('b', 1) => DType::Bool,
        _ => return None,
    })
}

/// `value.dtype` as text, for messages.
fn dtype_name(value: &Bound<'_, PyAny>) -> String {
    value
        .getattr("dtype")
        .and_then(|d| d.str().map(|s| s.to_string()))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn unsupported_element(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "arrays of element {what} are not supported (int8 to int64, uint8 to uint64, float32, float64, bool)"
    ))
}

/// Strides in bytes to strides in elements.
fn element_strides(bytes: &[i64], item: i64) -> PyResult<Vec<i64>> {
    bytes
        .iter()
        .map(|&b| {
            if b % item != 0 {
                Err(PyValueError::new_err(
                    "array strides must be whole elements",
                ))
            } else {
                Ok(b / item)
            }
        })
        .collect()
}

/// Strides in elements of a C-contiguous array of `shape`.
fn contiguous_strides(shape: &[i64]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1].max(1);
    }
    strides
}

/// Through the buffer protocol; None for objects without it.
fn buffer_view(object: &Bound<'_, PyAny>) -> PyResult<Option<ArrayView>> {
    // GPU arrays (CuPy, Torch) have no buffer: asked for one, they would
    // raise an exception only to have it cleared.
    // SAFETY: a live object; the check reads its type.
    if unsafe { ffi::PyObject_CheckBuffer(object.as_ptr()) } == 0 {
        return Ok(None);
    }
    let mut buffer: ffi::Py_buffer = unsafe { std::mem::zeroed() };
    let flags = ffi::PyBUF_RECORDS_RO;
    // SAFETY: `buffer` is released below on every path.
    if unsafe { ffi::PyObject_GetBuffer(object.as_ptr(), &mut buffer, flags) } != 0 {
        unsafe { ffi::PyErr_Clear() };
        return Ok(None);
    }
    let result = (|| {
        let format = if buffer.format.is_null() {
            "B".to_string()
        } else {
            unsafe { std::ffi::CStr::from_ptr(buffer.format) }
                .to_string_lossy()
                .into_owned()
        };
        let code = format.trim_start_matches(['<', '=', '@', '!']);
        let dtype = dtype_of_format(code, buffer.itemsize as usize)?;
        let ndim = buffer.ndim as usize;
        let shape: Vec<i64> = (0..ndim)
            .map(|d| unsafe { *buffer.shape.add(d) } as i64)
            .collect();
        let strides: Vec<i64> = (0..ndim)
            .map(|d| unsafe { *buffer.strides.add(d) } as i64)
            .collect();
        Ok(Some(ArrayView {
            info: ArrayInfo {
                dtype,
                strides: element_strides(&strides, buffer.itemsize as i64)?,
                shape,
            },
            data: buffer.buf,
            readonly: buffer.readonly != 0,
            temporary: false,
            location: Location::Host,
            _owner: None,
        }))
    })();
    unsafe { ffi::PyBuffer_Release(&mut buffer) };
    result
}

/// Through `__cuda_array_interface__` (versions 2 and 3), and whether it
/// has a `stream` entry (version 3); None for objects without it.
fn cuda_array_view(object: &Bound<'_, PyAny>) -> PyResult<Option<(ArrayView, bool)>> {
    let Ok(interface) = object.getattr("__cuda_array_interface__") else {
        return Ok(None);
    };
    let bad = |what: &str| {
        PyValueError::new_err(format!("__cuda_array_interface__ of this argument: {what}"))
    };
    let interface = interface.cast::<PyDict>().map_err(|_| bad("not a dict"))?;
    let field = |name: &str| -> PyResult<Bound<'_, PyAny>> {
        interface
            .get_item(name)?
            .ok_or_else(|| bad(&format!("no '{name}'")))
    };
    if interface
        .get_item("mask")?
        .is_some_and(|mask| !mask.is_none())
    {
        return Err(bad("masked arrays are not supported"));
    }
    let shape: Vec<i64> = field("shape")?.extract()?;
    let typestr: String = field("typestr")?.extract()?;
    let (order, rest) = typestr.split_at(typestr.len().min(1));
    if order == ">" {
        return Err(bad("big-endian elements are not supported"));
    }
    let mut chars = rest.chars();
    let kind = chars.next().unwrap_or('?');
    let bytes: usize = chars.as_str().parse().unwrap_or(0);
    let dtype = dtype_of_kind(kind, bytes)
        .ok_or_else(|| unsupported_element(&format!("type '{typestr}'")))?;
    let (pointer, readonly): (usize, bool) = field("data")?.extract()?;
    let strides = match interface.get_item("strides")? {
        Some(strides) if !strides.is_none() => {
            element_strides(&strides.extract::<Vec<i64>>()?, bytes as i64)?
        }
        _ => contiguous_strides(&shape),
    };
    let named = interface.get_item("stream")?;
    let names_a_stream = named.is_some();
    let stream = match named {
        Some(stream) if !stream.is_none() => Some(stream.extract::<usize>()?),
        _ => None,
    };
    let view = ArrayView {
        info: ArrayInfo {
            dtype,
            shape,
            strides,
        },
        data: pointer as *mut c_void,
        readonly,
        temporary: false,
        location: Location::Gpu { stream },
        _owner: None,
    };
    Ok(Some((view, names_a_stream)))
}

/// DLPack's `DLTensor`, `DLManagedTensor` (the unversioned ABI, which
/// `__dlpack__()` returns when no `max_version` is asked for).
#[repr(C)]
struct DlTensor {
    data: *mut c_void,
    device_type: i32,
    device_id: i32,
    ndim: i32,
    dtype_code: u8,
    dtype_bits: u8,
    dtype_lanes: u16,
    shape: *const i64,
    strides: *const i64,
    byte_offset: u64,
}

#[repr(C)]
struct DlManagedTensor {
    tensor: DlTensor,
    manager_context: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DlManagedTensor)>,
}

const DL_CPU: i32 = 1;
const DL_CUDA: i32 = 2;
const DL_CUDA_HOST: i32 = 3;
const DL_CUDA_MANAGED: i32 = 13;
const DL_ROCM: i32 = 10;
const DL_ROCM_HOST: i32 = 11;

/// A consumed DLPack export: the producer's deleter runs when it drops.
struct DlpackExport {
    managed: *mut DlManagedTensor,
}

impl Drop for DlpackExport {
    fn drop(&mut self) {
        // SAFETY: consumed from its capsule (renamed), deleted once.
        unsafe {
            if let Some(deleter) = (*self.managed).deleter {
                deleter(self.managed);
            }
        }
    }
}

/// Through DLPack (`__dlpack__`, `__dlpack_device__`); None for objects
/// without it.
fn dlpack_view(object: &Bound<'_, PyAny>) -> PyResult<Option<ArrayView>> {
    if !object.hasattr("__dlpack__")? || !object.hasattr("__dlpack_device__")? {
        return Ok(None);
    }
    let (device_type, _): (i32, i32) = object.call_method0("__dlpack_device__")?.extract()?;
    if !matches!(
        device_type,
        DL_CPU | DL_CUDA | DL_CUDA_HOST | DL_CUDA_MANAGED | DL_ROCM | DL_ROCM_HOST
    ) {
        return Err(PyTypeError::new_err(format!(
            "DLPack arrays on device type {device_type} are not supported (CPU, CUDA and ROCm are)"
        )));
    }
    // The default stream (CUDA's legacy one is 1, HIP's is 0): the producer
    // makes its pending work visible there, where kernels outside tasks are
    // launched.
    let default_stream = match device_type {
        DL_CUDA => Some(1),
        DL_ROCM => Some(0),
        _ => None,
    };
    let capsule = match default_stream {
        Some(stream) => {
            let keywords = PyDict::new(object.py());
            keywords.set_item("stream", stream)?;
            object.call_method("__dlpack__", (), Some(&keywords))?
        }
        None => object.call_method0("__dlpack__")?,
    };
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__dlpack__() did not return a capsule"))?;
    let name = c"dltensor";
    // SAFETY: a live capsule; a wrong name returns null with an error set.
    let managed = unsafe { ffi::PyCapsule_GetPointer(capsule.as_ptr(), name.as_ptr()) }
        .cast::<DlManagedTensor>();
    if managed.is_null() {
        return Err(PyErr::take(object.py())
            .unwrap_or_else(|| PyValueError::new_err("the DLPack capsule was already used")));
    }
    // The consumer renames the capsule so its destructor leaves the tensor
    // to us, and calls the deleter when done.
    // SAFETY: renaming a live capsule.
    unsafe { ffi::PyCapsule_SetName(capsule.as_ptr(), c"used_dltensor".as_ptr()) };
    let export = DlpackExport { managed };
    // SAFETY: a DLManagedTensor from its producer, alive until deleted.
    let tensor = unsafe { &(*managed).tensor };
    if tensor.dtype_lanes != 1 {
        return Err(unsupported_element("vectors (DLPack lanes > 1)"));
    }
    let kind = match tensor.dtype_code {
        0 => 'i',
        1 => 'u',
        2 => 'f',
        6 => 'b',
        _ => '?',
    };
    let bytes = tensor.dtype_bits as usize / 8;
    let dtype = dtype_of_kind(kind, bytes).ok_or_else(|| {
        unsupported_element(&format!(
            "DLPack type code {} with {} bits",
            tensor.dtype_code, tensor.dtype_bits
        ))
    })?;
    let ndim = tensor.ndim.max(0) as usize;
    // SAFETY: the producer's shape and strides arrays hold ndim values.
    let shape: Vec<i64> = (0..ndim).map(|d| unsafe { *tensor.shape.add(d) }).collect();
    let strides = if tensor.strides.is_null() {
        contiguous_strides(&shape)
    } else {
        (0..ndim)
            .map(|d| unsafe { *tensor.strides.add(d) })
            .collect()
    };
    let data = (tensor.data as usize + tensor.byte_offset as usize) as *mut c_void;
    Ok(Some(ArrayView {
        info: ArrayInfo {
            dtype,
            shape,
            strides,
        },
        data,
        readonly: false,
        temporary: false,
        location: match default_stream {
            Some(stream) => Location::Gpu {
                stream: Some(stream),
            },
            None => Location::Host,
        },
        _owner: Some(Owner::Dlpack(export)),
    }))
}

/// The stream Torch now queues work on for the device of `object`, a Torch
/// CUDA tensor (its current stream there; CUDA's legacy default stream is
/// named 1, as `__cuda_array_interface__` v3 names it), read through the C
/// function Torch's own compiler reads it with. None for other objects, or
/// where this Torch lacks that function: DLPack serves then, at several
/// times the cost (Torch's `__dlpack__` is Python code).
fn torch_current_stream(object: &Bound<'_, PyAny>) -> Option<usize> {
    static CURRENT_RAW_STREAM: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();
    let py = object.py();
    let module = object.get_type().module().ok()?;
    if !module.to_str().ok()?.starts_with("torch") {
        return None;
    }
    let current = CURRENT_RAW_STREAM
        .get_or_init(py, || {
            py.import("torch")
                .and_then(|torch| torch.getattr("_C"))
                .and_then(|c| c.getattr("_cuda_getCurrentRawStream"))
                .ok()
                .map(Bound::unbind)
        })
        .as_ref()?;
    let device: i64 = object
        .call_method0(intern!(py, "get_device"))
        .ok()?
        .extract()
        .ok()?;
    if device < 0 {
        return None;
    }
    let raw: usize = current.call1(py, (device,)).ok()?.extract(py).ok()?;
    Some(if raw == 0 { 1 } else { raw })
}

/// An array argument, however it is offered.
pub fn array_view(value: &Bound<'_, PyAny>) -> PyResult<ArrayView> {
    // The buffer protocol first: host arrays are the common case on the
    // CPU's call path, and GPU arrays (CuPy, Torch) do not offer it.
    if let Some(view) = buffer_view(value)? {
        return Ok(view);
    }
    match cuda_array_view(value)? {
        // Version 2 of the interface (Torch's) names no stream: the
        // producer's pending work may be on any stream (Torch's current
        // one). For Torch tensors that stream is asked for (the call is
        // then queued after that work); otherwise DLPack, where the object
        // has it, makes the work visible on the stream asked for.
        Some((mut view, false)) => {
            if let Some(stream) = torch_current_stream(value) {
                view.location = Location::Gpu {
                    stream: Some(stream),
                };
                return Ok(view);
            }
            return Ok(dlpack_view(value)?.unwrap_or(view));
        }
        Some((view, _)) => return Ok(view),
        None => {}
    }
    if let Some(view) = dlpack_view(value)? {
        return Ok(view);
    }
    // Objects without any of these that NumPy can still view (e.g. through
    // `__array_interface__` or `__array__`): through NumPy, which shares
    // their memory where it can.
    let numpy = value.py().import("numpy")?;
    let array = numpy.call_method1("asarray", (value,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "unsupported argument of type {}: pass ints, floats, arrays or dicts of them",
            crate::type_name(value)
        ))
    })?;
    let mut view =
        buffer_view(&array)?.ok_or_else(|| PyTypeError::new_err("the argument is not an array"))?;
    view.temporary = value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>();
    view._owner = Some(Owner::Array(array.unbind()));
    Ok(view)
}

/// Checks the arrays of a call against what its code does with them
/// (`written`, per memref parameter after `skipped` leading ones):
/// arrays it writes must take the writes (not read-only, not a list NumPy
/// copied), and must not overlap another argument unless both are the
/// very same array (which the code then treats as one). `name` says how
/// messages name each array (asked only for a message).
pub fn check_arrays(
    arrays: &[ArrayView],
    written: &[bool],
    skipped: usize,
    name: &dyn Fn(usize) -> String,
) -> PyResult<()> {
    let writes = |index: usize| written.get(index + skipped).copied().unwrap_or(false);
    for (index, array) in arrays.iter().enumerate() {
        if !writes(index) {
            continue;
        }
        if array.temporary {
            return Err(PyTypeError::new_err(format!(
                "{} is a list or tuple, which the function writes: the writes would go to a \
                 temporary copy and be lost; pass a NumPy array",
                name(index)
            )));
        }
        if array.readonly {
            return Err(PyValueError::new_err(format!(
                "{} is read-only, but the function writes it",
                name(index)
            )));
        }
    }
    for (i, a) in arrays.iter().enumerate() {
        for (j, b) in arrays.iter().enumerate().skip(i + 1) {
            if (writes(i) || writes(j))
                && !a.is_same_array(b)
                && a.location.same_memory(&b.location)
                && may_share_elements(a, b)
            {
                let written_one = if writes(j) { name(j) } else { name(i) };
                return Err(PyValueError::new_err(format!(
                    "{} and {} are views that share memory, and the function writes {written_one}: \
                     its loops could read elements they have already written, where NumPy reads first; \
                     pass a copy of one (x.copy()), or the same array for both",
                    name(i),
                    name(j)
                )));
            }
        }
    }
    Ok(())
}

/// The bytes `[lo, hi)` an array's elements lie in; None when empty.
fn byte_range(array: &ArrayView) -> Option<(i128, i128)> {
    if array.info.shape.contains(&0) {
        return None;
    }
    let bytes = array.info.dtype.bytes() as i128;
    let start = array.data as usize as i128;
    let (mut lo, mut hi) = (start, start + bytes);
    for (&n, &stride) in array.info.shape.iter().zip(&array.info.strides) {
        let reach = i128::from(n - 1) * i128::from(stride) * bytes;
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    Some((lo, hi))
}

/// Whether two arrays may have an element in common: their byte ranges
/// meet, unless they are one-dimensional with the same stride and
/// interleave (`a[::2]` and `a[1::2]`).
fn may_share_elements(a: &ArrayView, b: &ArrayView) -> bool {
    let (Some((a_lo, a_hi)), Some((b_lo, b_hi))) = (byte_range(a), byte_range(b)) else {
        return false;
    };
    if a_hi <= b_lo || b_hi <= a_lo {
        return false;
    }
    let bytes = a.info.dtype.bytes() as i128;
    if let ([a_stride], [b_stride]) = (a.info.strides.as_slice(), b.info.strides.as_slice()) {
        let step = i128::from(*a_stride).abs() * bytes;
        let same_layout =
            a_stride.abs() == b_stride.abs() && a.info.dtype.bytes() == b.info.dtype.bytes();
        if same_layout && step > 0 {
            let offset = (b.data as usize as i128 - a.data as usize as i128).rem_euclid(step);
            if offset >= bytes && step - offset >= bytes {
                return false;
            }
        }
    }
    true
}

/// A call's arguments, and the arrays among them in order (which the
/// kernel's memref parameters take). An argument that cannot be passed is
/// an error naming it: by its parameter in `params`, else by position.
pub fn call_arguments(
    args: &Bound<'_, PyTuple>,
    params: &[String],
) -> PyResult<(Vec<Argument>, Vec<ArrayView>)> {
    let mut arrays = Vec::new();
    let arguments = args
        .iter()
        .enumerate()
        .map(|(index, a)| {
            argument(&a, &mut arrays, true).map_err(|error| {
                let py = args.py();
                let which = params.get(index).map_or_else(
                    || format!("argument {index}"),
                    |p| format!("argument `{p}`"),
                );
                let message = error.value(py).to_string();
                PyErr::from_type(error.get_type(py), format!("{which}: {message}"))
            })
        })
        .collect::<PyResult<_>>()?;
    Ok((arguments, arrays))
}

fn argument(
    value: &Bound<'_, PyAny>,
    arrays: &mut Vec<ArrayView>,
    top: bool,
) -> PyResult<Argument> {
    // A Python bool: among NumPy values a bool, as NumPy takes it
    // (`bools + True` stays bool, `int8s + True` int8), among Python
    // numbers the int it is (`True + 1` is 2).
    if value.is_instance_of::<PyBool>() {
        return Ok(Argument::Bool(value.extract::<bool>()?));
    }
    if value.is_instance_of::<PyInt>() {
        return value.extract::<i64>().map(Argument::Int).map_err(|_| {
            let hint = if value.extract::<u64>().is_ok() {
                format!("; pass np.uint64({value}) for an unsigned value")
            } else {
                String::new()
            };
            PyValueError::new_err(format!(
                "Python int arguments are int64s (from -2**63 to 2**63 - 1), and {value} is not one{hint}"
            ))
        });
    }
    // A Python float; np.float64 derives from float but is a NumPy scalar
    // of its dtype (float32s * np.float64(x) is float64), read below.
    if value.is_exact_instance_of::<PyFloat>()
        || (value.is_instance_of::<PyFloat>() && !value.hasattr("dtype")?)
    {
        return Ok(Argument::Float(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        if !top {
            return Err(PyTypeError::new_err("dict arguments cannot hold dicts"));
        }
        let mut entries = Vec::new();
        for (key, item) in dict.iter() {
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("dict arguments need string keys"))?;
            if item.is_instance_of::<PyDict>() {
                return Err(PyTypeError::new_err(format!(
                    "the dict entry \"{key}\" is a dict: dict arguments cannot hold dicts"
                )));
            }
            entries.push((key, argument(&item, arrays, false)?));
        }
        return Ok(Argument::Dict(entries));
    }
    if value.is_none() || value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{} is not an argument JIT functions take: pass ints, floats, arrays or dicts of them",
            value.get_type().name()?
        )));
    }
    let view = array_view(value).map_err(|error| {
        let py = value.py();
        // NumPy scalars arrive as 0-d arrays: name them as scalars.
        let scalar = value.hasattr("dtype").unwrap_or(false)
            && value
                .getattr("ndim")
                .and_then(|n| n.extract::<usize>())
                .is_ok_and(|n| n == 0);
        if scalar
            && (error.is_instance_of::<PyBufferError>(py) || error.is_instance_of::<PyTypeError>(py))
        {
            PyTypeError::new_err(format!(
                "NumPy scalars of type {} are not supported (int8 to int64, uint8 to uint64, float32, \
                 float64, bool)",
                dtype_name(value)
            ))
        } else if error.is_instance_of::<PyBufferError>(py) {
            // DLPack exporters refuse dtypes it has no code for (datetime64).
            unsupported_element(&format!("type {}", dtype_name(value)))
        } else {
            error
        }
    })?;
    if view.info.shape.is_empty() {
        // A 0-d array: a typed, specialised scalar.
        let bytes = view.info.dtype.bytes();
        let mut bits = 0u64;
        let target = (&mut bits as *mut u64).cast::<u8>();
        match view.location {
            // SAFETY: a 0-d host array holds one element.
            Location::Host => unsafe {
                std::ptr::copy_nonoverlapping(view.data as *const u8, target, bytes)
            },
            Location::Gpu { .. } => {
                crate::gpu_call::read_device_scalar(value.py(), view.data as u64, target, bytes)?
            }
        }
        return Ok(Argument::Scalar(view.info.dtype, bits));
    }
    let mut view = view;
    if !top && view._owner.is_none() {
        view._owner = Some(Owner::Entry(value.clone().unbind()));
    }
    let info = view.info.clone();
    let same = arrays.iter().position(|a| a.is_same_array(&view));
    arrays.push(view);
    Ok(match same {
        Some(first) => Argument::Alias(first, info),
        None => Argument::Array(info),
    })
}
