//! CUDA C++ to PTX with NVRTC, NVIDIA's runtime compiler, loaded when first
//! used (only `compile_string` with CUDA C++ needs it).

use super::GpuError;
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions};

/// Compiles CUDA C++ `source` to PTX for `arch` (e.g. `sm_90`).
pub fn compile_cuda_cpp(source: &str, arch: &str) -> Result<String, GpuError> {
    // SAFETY: only tries to load the library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(GpuError::Unavailable(
            "CUDA C++ needs NVRTC (libnvrtc.so), which was not found on this machine; \
             PTX and IR text need no compiler"
                .into(),
        ));
    }
    let options = CompileOptions {
        options: vec![format!("--gpu-architecture={arch}")],
        ..Default::default()
    };
    compile_ptx_with_opts(source, options)
        .map(|ptx| ptx.to_src())
        .map_err(|error| match error {
            CompileError::CompileError { log, .. } => {
                GpuError::SourceCompile(log.to_string_lossy().into_owned())
            }
            other => GpuError::SourceCompile(other.to_string()),
        })
}
