//! `parla._parla`: the private native module. It converts between Python
//! and the Rust crates and nothing else; the public API is the Python
//! package `parla`.
//!
//! Architecture invariant: only this crate knows about pyo3 and the GIL.

mod arrays;
mod body;
mod cuda;
mod current;
mod gpu_call;
mod gpu_string;
mod ir;
mod parir;
mod runtime;
mod spawn;
mod specialisations;
mod tasks;

use pyo3::prelude::*;

/// The name of `value`'s type, for messages.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The version of the native module; equals the package version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _parla(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(ir::verify_ir, m)?)?;
    m.add("IRError", m.py().get_type::<ir::IRError>())?;
    m.add("_ReversedViews", m.py().get_type::<parir::ReversedViews>())?;

    m.add_class::<tasks::Task>()?;
    m.add_class::<tasks::TaskSpace>()?;
    m.add_class::<tasks::TaskList>()?;
    m.add_class::<tasks::WaitFor>()?;
    m.add_class::<spawn::Spawner>()?;
    m.add_class::<runtime::Runtime>()?;
    m.add_function(wrap_pyfunction!(spawn::spawn, m)?)?;
    m.add_function(wrap_pyfunction!(tasks::await_result, m)?)?;
    m.add_function(wrap_pyfunction!(current::get_current_task, m)?)?;
    m.add_function(wrap_pyfunction!(current::current_device, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::active_runtime, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::join_detached_workers, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::device_table, m)?)?;
    m.add(
        "DependencyError",
        m.py().get_type::<tasks::DependencyError>(),
    )?;
    m.add("DeadlockError", m.py().get_type::<runtime::DeadlockError>())?;
    m.add_function(wrap_pyfunction!(cuda::cuda_devices, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::unusable_cuda_devices, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::amd_devices, m)?)?;
    m.add_class::<cuda::PtxModule>()?;
    m.add_class::<cuda::DeviceArray>()?;
    m.add("CudaError", m.py().get_type::<cuda::CudaError>())?;
    m.add("HipError", m.py().get_type::<cuda::HipError>())?;
    m.add_class::<parir::ParsedFunction>()?;
    m.add_class::<parir::StringKernel>()?;
    m.add_class::<gpu_string::GpuIrKernel>()?;
    m.add_class::<gpu_string::RawKernel>()?;
    m.add_function(wrap_pyfunction!(gpu_string::gpu_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_string::nvrtc_library, m)?)?;
    Ok(())
}
