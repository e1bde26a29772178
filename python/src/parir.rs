//! The native side of `parla.parir`: parsed JIT functions, their
//! specialisation cache, and calls of compiled kernels.

use parla_compiler::{
    frontend::{
        self,
        syntax::{Node, Value},
        Argument, ArrayInfo, CompileError, DType, LabelSpec, Source,
    },
    gpu::GpuTarget,
    jit::{MemrefArgument, PackedArguments},
    kernel::{self, CompileOptions, Kernel, KernelError},
};
use pyo3::{
    exceptions::{PyRuntimeError, PyTypeError, PyValueError},
    ffi,
    prelude::*,
    types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple},
};
use std::{
    collections::HashMap,
    ffi::c_void,
    sync::{Arc, Mutex},
};

pub fn compile_error(py: Python<'_>, error: &CompileError) -> PyErr {
    let exception = py
        .import("parla.parir")
        .and_then(|m| m.getattr("CompileError"))
        .and_then(|class| {
            class.call1((
                error.to_string(),
                error.file.clone(),
                error.line,
                error.column,
                error.source_line.clone(),
            ))
        });
    match exception {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

fn kernel_error(py: Python<'_>, error: KernelError) -> PyErr {
    match error {
        KernelError::Compile(e) => compile_error(py, &e),
        KernelError::InvalidIr(text) => {
            PyValueError::new_err(format!("the IR does not parse or verify:\n{text}"))
        }
        KernelError::Jit(e) => PyValueError::new_err(format!("code generation failed: {e}")),
        KernelError::MissingLibrary(text) => PyRuntimeError::new_err(text),
    }
}

/// Python syntax data (nested tuples) to the compiler's syntax tree.
fn syntax_value(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_none() {
        Ok(Value::None)
    } else if value.is_instance_of::<PyBool>() {
        Ok(Value::Bool(value.extract()?))
    } else if value.is_instance_of::<PyInt>() {
        Ok(value
            .extract::<i64>()
            .map(Value::Int)
            .unwrap_or(Value::Float(f64::INFINITY)))
    } else if value.is_instance_of::<PyFloat>() {
        Ok(Value::Float(value.extract()?))
    } else if let Ok(s) = value.cast::<PyString>() {
        Ok(Value::Str(s.to_str()?.to_string()))
    } else if let Ok(list) = value.cast::<PyList>() {
        Ok(Value::List(
            list.iter()
                .map(|v| syntax_value(&v))
                .collect::<PyResult<_>>()?,
        ))
    } else if let Ok(tuple) = value.cast::<PyTuple>() {
        // (kind, line, column, [(field, value), ...])
        let kind: String = tuple.get_item(0)?.extract()?;
        let line: u32 = tuple.get_item(1)?.extract()?;
        let column: u32 = tuple.get_item(2)?.extract()?;
        let fields = tuple
            .get_item(3)?
            .cast::<PyList>()?
            .iter()
            .map(|pair| {
                let pair = pair.cast::<PyTuple>()?.clone();
                Ok((
                    pair.get_item(0)?.extract::<String>()?,
                    syntax_value(&pair.get_item(1)?)?,
                ))
            })
            .collect::<PyResult<_>>()?;
        Ok(Value::Node(Box::new(Node {
            kind,
            line,
            column,
            fields,
        })))
    } else {
        Ok(Value::None) // bytes, complex, Ellipsis: rejected later as constants
    }
}

/// A raw view of an array argument, taken through the buffer protocol.
struct ArrayView {
    info: ArrayInfo,
    data: *mut c_void,
}

fn array_view(object: &Bound<'_, PyAny>) -> PyResult<Option<ArrayView>> {
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
        let dtype = match code {
            "b" => DType::I8,
            "h" => DType::I16,
            "i" => DType::I32,
            "l" | "q" => DType::I64,
            "B" => DType::U8,
            "H" => DType::U16,
            "I" => DType::U32,
            "L" | "Q" => DType::U64,
            "f" => DType::F32,
            "d" => DType::F64,
            "?" => DType::Bool,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "arrays of element format '{other}' are not supported (int8 to int64, uint8 to uint64, float32, float64, bool)"
                )))
            }
        };
        let ndim = buffer.ndim as usize;
        let item = buffer.itemsize as i64;
        let shape: Vec<i64> = (0..ndim)
            .map(|d| unsafe { *buffer.shape.add(d) } as i64)
            .collect();
        let strides: Vec<i64> = (0..ndim)
            .map(|d| {
                let bytes = unsafe { *buffer.strides.add(d) } as i64;
                if bytes % item != 0 {
                    return Err(PyValueError::new_err(
                        "array strides must be whole elements",
                    ));
                }
                Ok(bytes / item)
            })
            .collect::<PyResult<_>>()?;
        Ok(Some(ArrayView {
            info: ArrayInfo {
                dtype,
                shape,
                strides,
            },
            data: buffer.buf,
        }))
    })();
    unsafe { ffi::PyBuffer_Release(&mut buffer) };
    result
}

/// An argument for specialisation, and the arrays it holds.
/// A call's arguments, and the arrays among them in order (which the
/// kernel's memref parameters take).
fn call_arguments(args: &Bound<'_, PyTuple>) -> PyResult<(Vec<Argument>, Vec<ArrayView>)> {
    let mut arrays = Vec::new();
    let arguments = args
        .iter()
        .map(|a| argument(&a, &mut arrays, true))
        .collect::<PyResult<_>>()?;
    Ok((arguments, arrays))
}

fn argument(
    value: &Bound<'_, PyAny>,
    arrays: &mut Vec<ArrayView>,
    top: bool,
) -> PyResult<Argument> {
    if value.is_instance_of::<PyBool>() {
        return Ok(Argument::Int(value.extract::<bool>()? as i64));
    }
    if value.is_instance_of::<PyInt>() {
        return value
            .extract::<i64>()
            .map(Argument::Int)
            .map_err(|_| PyValueError::new_err("integer arguments must fit in 64 bits"));
    }
    if value.is_instance_of::<PyFloat>() {
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
    let view = match array_view(value)? {
        Some(view) => view,
        None => {
            // Objects without the buffer protocol (e.g. Torch CPU tensors):
            // through NumPy, which shares their memory.
            let numpy = value.py().import("numpy")?;
            let array =
                numpy.call_method1("asarray", (value,)).map_err(|_| {
                    PyTypeError::new_err(format!(
                    "unsupported argument of type {}: pass ints, floats, arrays or dicts of them",
                    value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                ))
                })?;
            array_view(&array)?
                .ok_or_else(|| PyTypeError::new_err("the argument is not an array"))?
        }
    };
    if view.info.shape.is_empty() {
        // A 0-d array: a typed, specialised scalar.
        let bytes = view.info.dtype.bytes();
        let mut bits = 0u64;
        unsafe {
            std::ptr::copy_nonoverlapping(
                view.data as *const u8,
                &mut bits as *mut u64 as *mut u8,
                bytes,
            )
        };
        return Ok(Argument::Scalar(view.info.dtype, bits));
    }
    let info = view.info.clone();
    arrays.push(view);
    Ok(Argument::Array(info))
}

/// The parallel specification from `parir.par({...})` options.
fn label_specs(options: &Bound<'_, PyAny>) -> PyResult<HashMap<String, LabelSpec>> {
    let mut specs = HashMap::new();
    if options.is_none() {
        return Ok(specs);
    }
    let parallel = options.getattr("parallelize")?;
    let parallel = parallel
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("opts.parallelize must be a dict"))?;
    for (label, spec) in parallel.iter() {
        let label: String = label
            .extract()
            .map_err(|_| PyTypeError::new_err("parallel specification keys are label strings"))?;
        let threads: Option<u64> = spec.getattr("threads")?.extract()?;
        let spec = match threads {
            None => LabelSpec::Sequential,
            Some(threads) => LabelSpec::Threads {
                threads,
                tpb: spec.getattr("tpb_")?.extract()?,
                reduce: spec.getattr("reduce_")?.extract()?,
            },
        };
        specs.insert(label, spec);
    }
    Ok(specs)
}

fn key_of(arguments: &[Argument], specs: &HashMap<String, LabelSpec>, stages: bool) -> String {
    let mut labels: Vec<_> = specs.iter().collect();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    format!("{arguments:?}|{labels:?}|{stages}")
}

/// A parsed JIT function with its compiled specialisations.
#[pyclass(module = "parla.parir", frozen)]
pub struct ParsedFunction {
    function: Arc<frontend::Function>,
    cache: Mutex<HashMap<String, Arc<Kernel>>>,
}

fn callee_map(
    py: Python<'_>,
    callees: &Bound<'_, PyDict>,
) -> PyResult<HashMap<String, frontend::Function>> {
    let mut map = HashMap::new();
    for (name, parsed) in callees.iter() {
        let parsed = parsed.cast::<ParsedFunction>()?;
        map.insert(name.extract::<String>()?, (*parsed.get().function).clone());
    }
    let _ = py;
    Ok(map)
}

fn run(py: Python<'_>, kernel: &Kernel, arrays: &[ArrayView]) -> PyResult<()> {
    let mut packed = PackedArguments::with_capacity(arrays.len() * 7 + 5);
    let mut error = [0i64; 1];
    if kernel.checks.is_some() {
        packed.push_memref(&MemrefArgument {
            data: error.as_mut_ptr().cast(),
            offset: 0,
            sizes: vec![1],
            strides: vec![1],
        });
    }
    for view in arrays {
        packed.push_memref(&MemrefArgument {
            data: view.data,
            offset: 0,
            sizes: view.info.shape.clone(),
            strides: view.info.strides.clone(),
        });
    }
    let entry = kernel.entry;
    // The arrays stay alive: the caller holds their Python objects.
    let pointer = &mut packed as *mut PackedArguments as usize;
    py.detach(move || unsafe { (*(pointer as *mut PackedArguments)).call(entry) });
    if let (Some(checks), code @ 1..) = (&kernel.checks, error[0]) {
        let site = &checks[code as usize - 1];
        return Err(pyo3::exceptions::PyIndexError::new_err(format!(
            "{}:{}:{}: index out of bounds (checked because debug=True)\n    {}",
            site.file,
            site.line,
            site.column,
            site.source_line.trim()
        )));
    }
    Ok(())
}

#[pymethods]
impl ParsedFunction {
    /// Parses a function's syntax tree (see `parla/parir/_syntax.py`).
    #[new]
    fn new(
        py: Python<'_>,
        tree: &Bound<'_, PyAny>,
        file: String,
        lines: Vec<String>,
        module_names: Vec<String>,
    ) -> PyResult<Self> {
        let Value::Node(node) = syntax_value(tree)? else {
            return Err(PyTypeError::new_err("expected a syntax tree"));
        };
        let source = Source { file, lines };
        let function =
            frontend::convert(&node, &source, &module_names).map_err(|e| compile_error(py, &e))?;
        Ok(Self {
            function: Arc::new(function),
            cache: Mutex::new(HashMap::new()),
        })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.function.name
    }

    /// The names this function calls (to resolve JIT callees).
    fn called_names(&self) -> Vec<String> {
        fn walk(statements: &[frontend::ast::Stmt], into: &mut Vec<String>) {
            for s in statements {
                use frontend::ast::StmtKind::*;
                match &s.kind {
                    For { body, .. } | While { body, .. } | OnDevice(body) => walk(body, into),
                    If {
                        then, otherwise, ..
                    } => {
                        walk(then, into);
                        walk(otherwise, into);
                    }
                    Call(call) => {
                        if let frontend::ast::ExprKind::Call { function, .. } = &call.kind {
                            into.push(function.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut names = Vec::new();
        walk(&self.function.body, &mut names);
        names
    }

    /// Compiles (once per specialisation) and runs the function.
    #[pyo3(signature = (args, options, callees, debug = false))]
    fn call(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
        debug: bool,
    ) -> PyResult<Option<Vec<(String, String, f64)>>> {
        let (arguments, arrays) = call_arguments(args)?;
        let specs = label_specs(options)?;
        if !specs.values().any(LabelSpec::is_parallel) {
            return Err(PyValueError::new_err(format!(
                "{}() was called with no parallelism: pass opts=parir.par({{'label': parir.threads(n)}}) for a labelled loop, or seq=True to run it in Python",
                self.function.name
            )));
        }
        let key = key_of(&arguments, &specs, debug);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let kernel = match cached {
            Some(kernel) => kernel,
            None => {
                let callees = callee_map(py, callees)?;
                let function = self.function.clone();
                let options = CompileOptions {
                    opt_level: 3,
                    keep_stages: debug,
                    bounds_checks: debug,
                };
                let kernel = py
                    .detach(|| kernel::compile(&function, &callees, &arguments, &specs, options))
                    .map_err(|e| kernel_error(py, e))?;
                let kernel = Arc::new(kernel);
                self.cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, kernel.clone());
                kernel
            }
        };
        run(py, &kernel, &arrays)?;
        Ok(debug.then(|| kernel.stages.clone()))
    }

    /// The IR of each stage for these arguments (compiling if needed).
    fn stages(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
    ) -> PyResult<Vec<(String, String, f64)>> {
        let (arguments, _) = call_arguments(args)?;
        let specs = label_specs(options)?;
        let callees = callee_map(py, callees)?;
        let function = self.function.clone();
        let options = CompileOptions {
            opt_level: 3,
            keep_stages: true,
            bounds_checks: false,
        };
        let kernel = py
            .detach(|| kernel::compile(&function, &callees, &arguments, &specs, options))
            .map_err(|e| kernel_error(py, e))?;
        Ok(kernel.stages.clone())
    }

    /// How many specialisations are compiled.
    #[getter]
    fn cache_size(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The GPU stages for these arguments: `looppar`, `gpu` (kernels as
    /// `gpu.launch`), `host` (after outlining), and the device code (`ptx`
    /// or `amdgcn`).
    #[allow(clippy::too_many_arguments)] // the Python signature
    #[pyo3(signature = (args, options, callees, backend, chip, libdevice = None))]
    fn gpu_stages(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
        backend: &str,
        chip: String,
        libdevice: Option<String>,
    ) -> PyResult<Vec<(String, String)>> {
        let (arguments, _) = call_arguments(args)?;
        let specs = label_specs(options)?;
        let callees = callee_map(py, callees)?;
        let (target, code_stage) = match backend {
            "cuda" => (GpuTarget::Cuda { chip, libdevice }, "ptx"),
            "rocm" => (GpuTarget::Rocm { chip }, "amdgcn"),
            other => {
                return Err(PyValueError::new_err(format!(
                    "no GPU backend named {other:?}"
                )))
            }
        };
        let function = self.function.clone();
        let program = py
            .detach(|| {
                parla_compiler::gpu::compile(&function, &callees, &arguments, &specs, &target)
            })
            .map_err(|e| kernel_error(py, e))?;
        let mut stages = program.stages;
        stages.push(("host".to_string(), program.host));
        stages.push((code_stage.to_string(), program.device_code.join("\n")));
        Ok(stages)
    }

    /// Forgets every compiled specialisation.
    fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A kernel compiled from IR text by `compile_string`.
#[pyclass(module = "parla.parir", frozen)]
pub struct StringKernel {
    kernel: Kernel,
}

#[pymethods]
impl StringKernel {
    #[new]
    fn new(py: Python<'_>, name: String, code: String) -> PyResult<Self> {
        let kernel = py
            .detach(|| kernel::compile_ir(&code, &name, Vec::new(), CompileOptions::default()))
            .map_err(|e| kernel_error(py, e))?;
        Ok(Self { kernel })
    }

    /// Runs the kernel: its memref parameters take the array arguments in
    /// order (scalars were specialised into the code).
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let (_, arrays) = call_arguments(args)?;
        run(py, &self.kernel, &arrays)
    }
}
