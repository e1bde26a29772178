//! `parla.cuda`'s native side: the GPUs the runtime found, PTX modules
//! loaded by the driver, device memory and kernel launches. Driver errors
//! become `parla.cuda.CudaError` with the CUDA error's name.

use parla_runtime::cuda::{self, DeviceBuffer, GpuError, GpuKernel, GpuModule, LaunchShape};
use parla_runtime::gpu::{self, Vendor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use std::ffi::c_void;

pyo3::create_exception!(
    parla,
    CudaError,
    PyRuntimeError,
    "A CUDA driver call failed; `name` is the CUDA error, e.g. CUDA_ERROR_OUT_OF_MEMORY."
);

pyo3::create_exception!(
    parla,
    HipError,
    PyRuntimeError,
    "A HIP runtime call failed (AMD GPUs); `name` is the HIP error, e.g. hipErrorOutOfMemory."
);

pub(crate) fn to_py(error: GpuError) -> PyErr {
    // The runtime's error name, e.g. CUDA_ERROR_OUT_OF_MEMORY, as `.name`.
    let named = |err: PyErr, name: &str| {
        Python::attach(|py| {
            let _ = err.value(py).setattr("name", name);
        });
        err
    };
    match &error {
        GpuError::Cuda { name, .. } => named(CudaError::new_err(error.to_string()), name),
        GpuError::Hip { name, .. } => named(HipError::new_err(error.to_string()), name),
        GpuError::Unavailable(_) | GpuError::NoCompiler(_) => {
            PyRuntimeError::new_err(error.to_string())
        }
        GpuError::NoSuchDevice { .. } | GpuError::Launch(_) | GpuError::SourceCompile(_) => {
            PyValueError::new_err(error.to_string())
        }
    }
}

fn device(ordinal: usize) -> PyResult<&'static cuda::GpuDevice> {
    cuda::cuda().and_then(|c| c.device(ordinal)).map_err(to_py)
}

/// `(devices, reason)`: one dict per NVIDIA GPU (`ordinal`, `name`,
/// `arch`, `memory`), and why there are none when the list is empty.
#[pyfunction]
pub fn cuda_devices(py: Python<'_>) -> PyResult<(Vec<Py<PyDict>>, Option<String>)> {
    devices_of(py, Vendor::Nvidia)
}

/// `(ordinal, why)` of each NVIDIA GPU that the driver reports but that
/// could not be set up (one another process holds in exclusive mode): the
/// others are used.
#[pyfunction]
pub fn unusable_cuda_devices() -> Vec<(usize, String)> {
    cuda::cuda()
        .map(|c| {
            c.unusable()
                .iter()
                .map(|(ordinal, error)| (*ordinal, error.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// As [`cuda_devices`], for AMD GPUs (found through HIP in builds with the
/// `rocm` feature; otherwise the reason says how to get them).
#[pyfunction]
pub fn amd_devices(py: Python<'_>) -> PyResult<(Vec<Py<PyDict>>, Option<String>)> {
    devices_of(py, Vendor::Amd)
}

fn devices_of(py: Python<'_>, vendor: Vendor) -> PyResult<(Vec<Py<PyDict>>, Option<String>)> {
    match gpu::devices(vendor) {
        Ok(found) => {
            let mut list = Vec::new();
            for d in found {
                let entry = PyDict::new(py);
                entry.set_item("ordinal", d.ordinal())?;
                entry.set_item("name", d.name())?;
                entry.set_item("arch", d.arch())?;
                entry.set_item("memory", d.memory())?;
                list.push(entry.unbind());
            }
            Ok((list, None))
        }
        Err(GpuError::Unavailable(reason)) => Ok((Vec::new(), Some(reason))),
        Err(other) => Err(to_py(other)),
    }
}

/// A launch's grid or block from 1 to 3 sizes, each from 1 to 2^32 - 1
/// (what the driver's parameters hold; the device's own limits are
/// checked by the launch).
pub(crate) fn dims(v: &[Bound<'_, PyAny>], what: &str) -> PyResult<(u32, u32, u32)> {
    let sizes = v
        .iter()
        .map(|size| size.extract::<u32>().ok().filter(|&s| s > 0))
        .collect::<Option<Vec<u32>>>();
    match sizes {
        Some(sizes) if (1..=3).contains(&sizes.len()) => Ok((
            sizes[0],
            *sizes.get(1).unwrap_or(&1),
            *sizes.get(2).unwrap_or(&1),
        )),
        _ => {
            let given: Vec<String> = v
                .iter()
                .map(|size| {
                    size.repr()
                        .map_or_else(|_| "?".to_string(), |r| r.to_string())
                })
                .collect();
            Err(PyValueError::new_err(format!(
                "{what} takes 1 to 3 sizes, each an integer from 1 to {}, got ({})",
                u32::MAX,
                given.join(", ")
            )))
        }
    }
}

/// PTX loaded onto one GPU.
#[pyclass(module = "parla._parla", frozen)]
pub struct PtxModule {
    module: GpuModule,
    ordinal: usize,
}

#[pymethods]
impl PtxModule {
    #[new]
    #[pyo3(signature = (ptx, device=0))]
    fn new(py: Python<'_>, ptx: &str, device: usize) -> PyResult<Self> {
        let target = self::device(device)?;
        let module = py.detach(|| target.load_ptx(ptx)).map_err(to_py)?;
        Ok(Self {
            module,
            ordinal: device,
        })
    }

    /// Launches kernel `name` with `grid` and `block` (1 to 3 sizes each)
    /// and `args`, each an object with the buffer protocol holding one
    /// parameter's bytes (a NumPy scalar: `np.float32(2)`, `np.uint64(ptr)`);
    /// waits for it to finish. Inside a GPU task on this GPU it runs on the
    /// task's stream, elsewhere after the default stream's work.
    #[pyo3(signature = (name, grid, block, args, shared_bytes=0))]
    fn launch(
        &self,
        py: Python<'_>,
        name: &str,
        grid: Vec<Bound<'_, PyAny>>,
        block: Vec<Bound<'_, PyAny>>,
        args: &Bound<'_, PyTuple>,
        shared_bytes: u32,
    ) -> PyResult<()> {
        let shape = LaunchShape {
            grid: dims(&grid, "grid")?,
            block: dims(&block, "block")?,
            shared_bytes,
        };
        // Each parameter's bytes, kept alive (and 8-byte aligned) for the launch.
        let mut values: Vec<Vec<u64>> = Vec::new();
        for (n, arg) in args.iter().enumerate() {
            let bytes = arg
                .call_method0("tobytes")
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "argument {n} must be a NumPy scalar (e.g. np.float32(2.0), np.uint64(pointer)), got {}",
                        crate::type_name(&arg)
                    ))
                })?
                .cast_into::<PyBytes>()?;
            let bytes = bytes.as_bytes();
            let mut words = vec![0u64; bytes.len().div_ceil(8).max(1)];
            // SAFETY: `words` holds at least `bytes.len()` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    words.as_mut_ptr() as *mut u8,
                    bytes.len(),
                )
            };
            values.push(words);
        }
        let kernel: GpuKernel = self.module.kernel(name).map_err(to_py)?;
        let target = device(self.ordinal)?;
        // Inside a GPU task on this GPU: on the task's stream, after the
        // work the task queued there (CuPy's current stream is the task's).
        // (An address: raw pointers do not cross into the detached code.)
        let task_stream = crate::gpu_call::task_gpu()
            .filter(|(ordinal, _)| *ordinal == self.ordinal)
            .map(|(_, stream)| stream);
        py.detach(|| {
            let mut pointers: Vec<*mut c_void> = values
                .iter_mut()
                .map(|w| w.as_mut_ptr() as *mut c_void)
                .collect();
            if let Some(stream) = task_stream {
                let stream = stream as cuda::RawStream;
                // SAFETY: as below; the task's stream lives while it runs.
                return unsafe {
                    kernel.launch_on(target, stream, shape, &mut pointers)?;
                    target.synchronize_stream(stream)
                };
            }
            // After the work queued on the default stream (CuPy's, Torch's,
            // and the copies into DeviceArrays): pool streams do not wait
            // for it by themselves.
            let stream = target.stream_after_default()?;
            // SAFETY: the caller states the kernel's parameters; device
            // addresses are theirs to keep alive, and we wait below.
            unsafe { kernel.launch(&stream, shape, &mut pointers)? };
            stream
                .synchronize()
                .map_err(|e| GpuError::from_driver("cuStreamSynchronize", e))
        })
        .map_err(to_py)
    }

    /// Whether the module has a kernel `name`.
    fn has_kernel(&self, name: &str) -> bool {
        self.module.kernel(name).is_ok()
    }
}

/// Device memory holding a copy of a host array; a GPU array to other
/// libraries through `__cuda_array_interface__`.
#[pyclass(module = "parla._parla")]
pub struct DeviceArray {
    buffer: DeviceBuffer,
    ordinal: usize,
    shape: Vec<usize>,
    /// NumPy's dtype string, e.g. `<f4`.
    typestr: String,
}

#[pymethods]
impl DeviceArray {
    /// Copies the bytes of `data` (a NumPy array)
    /// to GPU `device`.
    #[new]
    #[pyo3(signature = (data, device=0))]
    fn new(data: &Bound<'_, PyAny>, device: usize) -> PyResult<Self> {
        let target = self::device(device)?;
        let shape: Vec<usize> = data
            .getattr("shape")
            .and_then(|s| s.extract())
            .map_err(|_| PyTypeError::new_err("DeviceArray takes a NumPy array"))?;
        let typestr: String = data.getattr("dtype")?.getattr("str")?.extract()?;
        let bytes = data
            .call_method0("tobytes")
            .map_err(|_| PyTypeError::new_err("DeviceArray takes a NumPy array"))?
            .cast_into::<PyBytes>()?;
        let host = bytes.as_bytes();
        let buffer = target.alloc(host.len()).map_err(to_py)?;
        // SAFETY: the buffer holds host.len() bytes.
        unsafe { target.copy_to_device(buffer.pointer(), host) }.map_err(to_py)?;
        // A copy from pageable memory may return before its transfer ends:
        // the array is ready when made, as its interface says.
        target.synchronize().map_err(to_py)?;
        Ok(Self {
            buffer,
            ordinal: device,
            shape,
            typestr,
        })
    }

    /// The array as CuPy, Torch and Numba (and Parir calls) take it: a
    /// C-contiguous array at `pointer`, ready (copied synchronously).
    #[getter]
    fn __cuda_array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let interface = PyDict::new(py);
        interface.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        interface.set_item("typestr", &self.typestr)?;
        interface.set_item("data", (self.buffer.pointer(), false))?;
        interface.set_item("strides", py.None())?;
        interface.set_item("version", 3)?;
        interface.set_item("stream", py.None())?;
        Ok(interface)
    }

    /// A NumPy copy of the contents (waits for the GPU's work on it).
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let bytes = self.to_bytes(py)?;
        let numpy = py.import("numpy")?;
        numpy
            .call_method1("frombuffer", (bytes, self.typestr.as_str()))?
            .call_method1("reshape", (PyTuple::new(py, &self.shape)?,))?
            .call_method0("copy")
    }

    /// The device address, for kernel arguments.
    #[getter]
    fn pointer(&self) -> u64 {
        self.buffer.pointer()
    }

    #[getter]
    fn nbytes(&self) -> usize {
        self.buffer.bytes()
    }

    /// The contents, as bytes (waits for the GPU's work on it, on any
    /// stream).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let target = device(self.ordinal)?;
        let (pointer, bytes) = (self.buffer.pointer(), self.buffer.bytes());
        let host = py
            .detach(|| {
                target.synchronize()?;
                let mut host = vec![0u8; bytes];
                // SAFETY: the buffer holds that many bytes.
                unsafe { target.copy_to_host(&mut host, pointer) }?;
                Ok(host)
            })
            .map_err(|e: GpuError| to_py(e))?;
        Ok(PyBytes::new(py, &host))
    }
}
