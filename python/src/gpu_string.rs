//! `parir.compile_string` for GPUs: IR text (the `gpu` or `host` stage of
//! `print_compiled`, edited) called like the JIT function on NVIDIA or AMD
//! GPUs, and PTX or CUDA C++ (through NVRTC) called like a CUDA kernel,
//! with a grid and a block.

use crate::{
    arrays::{array_view, call_arguments, ArrayView, Location},
    cuda::{dims, to_py},
    gpu_call::{self, Staging},
};
use parla_compiler::gpu::{executable_from_ir, GpuExecutable, GpuTarget};
use parla_runtime::cuda::{self, GpuError, GpuModule, LaunchShape, PerDevice, RawStream};
use parla_runtime::gpu::Vendor;
use pyo3::{
    exceptions::{PyTypeError, PyValueError},
    prelude::*,
    types::{PyBool, PyFloat, PyInt, PyTuple},
};
use std::ffi::c_void;
use std::path::PathBuf;

/// IR text compiled for a GPU.
#[pyclass(module = "parla.parir", frozen)]
pub struct GpuIrKernel {
    name: String,
    executable: GpuExecutable,
    vendor: Vendor,
}

#[pymethods]
impl GpuIrKernel {
    /// `backend` is 'cuda' or 'rocm'; `arch` the chip to compile for.
    #[new]
    #[pyo3(signature = (name, code, backend, arch, libdevice = None))]
    fn new(
        py: Python<'_>,
        name: String,
        code: String,
        backend: &str,
        arch: String,
        libdevice: Option<String>,
    ) -> PyResult<Self> {
        let target = crate::parir::gpu_target_named(backend, arch, libdevice)?;
        let vendor = match target {
            GpuTarget::Cuda { .. } => Vendor::Nvidia,
            GpuTarget::Rocm { .. } => Vendor::Amd,
        };
        let executable = py
            .detach(|| executable_from_ir(&code, &name, &target))
            .map_err(|e| crate::parir::kernel_error(py, e))?;
        Ok(Self {
            name,
            executable,
            vendor,
        })
    }

    /// The device code (PTX, or a line per AMD code object), one module
    /// per entry.
    #[getter]
    fn device_code(&self) -> Vec<String> {
        self.executable.program.device_code.clone()
    }

    /// Runs the host function: its memref parameters take the array
    /// arguments in order.
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let (_, arrays) = call_arguments(args, &[])?;
        crate::parir::check_parameters(&self.name, self.executable.parameters.as_deref(), &arrays)?;
        for &(i, j) in &self.executable.launched_together {
            if let (Some(a), Some(b)) = (arrays.get(i), arrays.get(j)) {
                if a.is_same_array(b) {
                    return Err(PyValueError::new_err(format!(
                        "arrays {i} and {j} are the same array, passed to one kernel whose device code was \
                         compiled for distinct arrays (print_compiled's 'host' stage); pass a copy, or the \
                         'gpu' stage, which is compiled again"
                    )));
                }
            }
        }
        let placement = gpu_call::placement(&arrays, self.vendor)?;
        gpu_call::run(
            py,
            &self.executable,
            &arrays,
            &placement,
            &crate::parir::positional_name,
        )
    }
}

/// The directories of `sys.path`, where pip puts NVIDIA's NVRTC package.
fn python_paths(py: Python<'_>) -> PyResult<Vec<PathBuf>> {
    let paths: Vec<Bound<'_, PyAny>> = py.import("sys")?.getattr("path")?.extract()?;
    Ok(paths
        .iter()
        .filter_map(|p| p.extract::<PathBuf>().ok())
        .collect())
}

/// `(path, (major, minor))` of the NVRTC library that CUDA C++ compiles
/// with; RuntimeError saying why when there is none.
#[pyfunction]
pub fn nvrtc_library(py: Python<'_>) -> PyResult<(String, (i32, i32))> {
    let python_paths = python_paths(py)?;
    cuda::nvrtc::library(&python_paths).map_err(to_py)
}

/// A kernel of PTX text (or CUDA C++ compiled to PTX), loaded onto each
/// GPU the first time it runs there.
#[pyclass(module = "parla.parir", frozen)]
pub struct RawKernel {
    name: String,
    ptx: String,
    /// The CUDA C++ the PTX was compiled from, and where NVRTC was found:
    /// compiled again to machine code for a driver too old for the PTX.
    source: Option<(String, Vec<PathBuf>)>,
    loaded: PerDevice<GpuModule>,
}

/// One kernel parameter's bytes, or an array (passed as its device
/// address).
enum Parameter {
    Value(u64),
    Array(usize),
}

#[pymethods]
impl RawKernel {
    /// `code` is PTX, or CUDA C++ when `cuda_cpp` (compiled by NVRTC for
    /// `arch`).
    #[new]
    #[pyo3(signature = (name, code, cuda_cpp, arch))]
    fn new(
        py: Python<'_>,
        name: String,
        code: String,
        cuda_cpp: bool,
        arch: String,
    ) -> PyResult<Self> {
        let (ptx, source) = if cuda_cpp {
            let python_paths = python_paths(py)?;
            let ptx = py
                .detach(|| cuda::nvrtc::compile_cuda_cpp(&code, &arch, &python_paths))
                .map_err(to_py)?;
            (ptx, Some((code, python_paths)))
        } else {
            (code, None)
        };
        Ok(Self {
            name,
            ptx,
            source,
            loaded: PerDevice::default(),
        })
    }

    #[getter]
    fn ptx(&self) -> &str {
        &self.ptx
    }

    /// Launches the kernel with `grid` and `block` (1 to 3 sizes each).
    /// Arrays (GPU arrays in place, host arrays copied in and back) are
    /// passed as their device address; Python ints as 64-bit integers,
    /// floats as doubles, NumPy scalars as their type.
    #[pyo3(signature = (args, grid, block, shared_bytes = 0))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        grid: Vec<Bound<'_, PyAny>>,
        block: Vec<Bound<'_, PyAny>>,
        shared_bytes: u32,
    ) -> PyResult<()> {
        let shape = LaunchShape {
            grid: dims(&grid, "grid")?,
            block: dims(&block, "block")?,
            shared_bytes,
        };
        let mut arrays: Vec<ArrayView> = Vec::new();
        let mut parameters = Vec::new();
        for (n, arg) in args.iter().enumerate() {
            parameters.push(parameter(&arg, n, &mut arrays)?);
        }
        let placement = gpu_call::placement(&arrays, Vendor::Nvidia)?;
        let device = placement.device.as_cuda().expect("placed on an NVIDIA GPU");
        let module = self.module_on(py, device)?;
        let kernel = module.kernel(&self.name).map_err(to_py)?;
        let staging = Staging::new(py, &placement, &arrays, None)?;
        let mut values: Vec<u64> = parameters
            .iter()
            .map(|p| match p {
                Parameter::Value(bits) => *bits,
                Parameter::Array(index) => staging.pointers[*index] as u64,
            })
            .collect();
        let launched = {
            let mut pointers: Vec<*mut c_void> = values
                .iter_mut()
                .map(|v| v as *mut u64 as *mut c_void)
                .collect();
            // SAFETY: the caller states the kernel's parameters; arrays stay
            // alive until the staging waits (host arrays) or the caller's
            // objects go (GPU arrays).
            unsafe { kernel.launch_on(device, placement.stream as RawStream, shape, &mut pointers) }
        };
        staging.finish(py, launched)
    }
}

impl RawKernel {
    fn module_on(&self, py: Python<'_>, device: &cuda::GpuDevice) -> PyResult<GpuModule> {
        py.detach(|| {
            self.loaded.get_or_try_insert(device.ordinal, || {
                match (device.load_ptx(&self.ptx), &self.source) {
                    (Err(GpuError::Cuda { name, .. }), Some((source, python_paths)))
                        if name == "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" =>
                    {
                        let cubin = cuda::nvrtc::compile_cuda_cpp_to_cubin(
                            source,
                            &device.arch(),
                            python_paths,
                        )?;
                        device.load_cubin(&cubin)
                    }
                    (loaded, _) => loaded,
                }
            })
        })
        .map_err(to_py)
    }
}

fn parameter(arg: &Bound<'_, PyAny>, n: usize, arrays: &mut Vec<ArrayView>) -> PyResult<Parameter> {
    if arg.is_instance_of::<PyBool>() {
        return Ok(Parameter::Value(arg.extract::<bool>()? as u64));
    }
    if arg.is_instance_of::<PyInt>() {
        return Ok(Parameter::Value(arg.extract::<i64>()? as u64));
    }
    if arg.is_instance_of::<PyFloat>() {
        return Ok(Parameter::Value(arg.extract::<f64>()?.to_bits()));
    }
    let view = array_view(arg).map_err(|_| {
        PyTypeError::new_err(format!(
            "kernel argument {n} must be an int, a float, a NumPy scalar or an array"
        ))
    })?;
    if !view.info.shape.is_empty() {
        arrays.push(view);
        return Ok(Parameter::Array(arrays.len() - 1));
    }
    let Location::Host = view.location else {
        return Err(PyTypeError::new_err(format!(
            "kernel argument {n} is a 0-d GPU array: pass the value as a NumPy scalar"
        )));
    };
    let mut bits = 0u64;
    // SAFETY: a 0-d host array holds one element of at most 8 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(
            view.data as *const u8,
            (&mut bits as *mut u64).cast::<u8>(),
            view.info.dtype.bytes(),
        )
    };
    Ok(Parameter::Value(bits))
}

/// Waits for every kernel launched on every GPU (`parir.sync()`).
#[pyfunction]
pub fn gpu_synchronize(py: Python<'_>) -> PyResult<()> {
    gpu_call::synchronize_all(py)
}
