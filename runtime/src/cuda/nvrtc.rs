//! CUDA C++ to PTX with NVRTC, NVIDIA's runtime compiler, loaded when first
//! used (only `compile_string` with CUDA C++ needs it).
//!
//! NVRTC comes with the CUDA toolkit (`libnvrtc.so.<major>`) and in pip's
//! `nvidia-cuda-nvrtc` packages, neither of which is always on the dynamic
//! loader's path, so the library is looked for in several places
//! ([`candidates`]): `$PARLA_NVRTC` alone when set; else the loader's own
//! search for each CUDA major version, then the toolkit's `lib64` and the
//! pip packages' `lib` directories under the caller's Python paths.

use super::GpuError;
use std::ffi::{c_char, c_int, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

type Program = *mut std::ffi::c_void;
type Status = c_int;
const SUCCESS: Status = 0;

/// The NVRTC functions this module calls, from one loaded library.
struct Nvrtc {
    path: String,
    version: (c_int, c_int),
    create: unsafe extern "C" fn(
        *mut Program,
        *const c_char,
        *const c_char,
        c_int,
        *const *const c_char,
        *const *const c_char,
    ) -> Status,
    compile: unsafe extern "C" fn(Program, c_int, *const *const c_char) -> Status,
    ptx_size: unsafe extern "C" fn(Program, *mut usize) -> Status,
    ptx: unsafe extern "C" fn(Program, *mut c_char) -> Status,
    /// Since CUDA 11.1.
    cubin: Option<(
        unsafe extern "C" fn(Program, *mut usize) -> Status,
        unsafe extern "C" fn(Program, *mut c_char) -> Status,
    )>,
    log_size: unsafe extern "C" fn(Program, *mut usize) -> Status,
    log: unsafe extern "C" fn(Program, *mut c_char) -> Status,
    destroy: unsafe extern "C" fn(*mut Program) -> Status,
    error_string: unsafe extern "C" fn(Status) -> *const c_char,
    // Kept loaded for as long as the process runs: the functions above
    // point into it.
    _library: libloading::Library,
}

static NVRTC: OnceLock<Result<Nvrtc, String>> = OnceLock::new();

/// Where NVRTC is looked for, in order. `python_paths` are the
/// directories of the caller's `sys.path` (where pip puts
/// `nvidia/cuda_nvrtc/lib` and `nvidia/cu13/lib`).
pub fn candidates(python_paths: &[PathBuf]) -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os("PARLA_NVRTC") {
        return vec![PathBuf::from(path)];
    }
    let mut found: Vec<PathBuf> = [
        "libnvrtc.so",
        "libnvrtc.so.13",
        "libnvrtc.so.12",
        "libnvrtc.so.11",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let toolkits = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|root| PathBuf::from(root).join("lib64"))
        .chain([PathBuf::from("/usr/local/cuda/lib64")]);
    let packages = python_paths.iter().flat_map(|site| {
        [
            "nvidia/cu13/lib",
            "nvidia/cuda_nvrtc/lib",
            "nvidia/cu12/lib",
        ]
        .iter()
        .map(move |lib| site.join(lib))
    });
    for directory in toolkits.chain(packages) {
        found.extend(libraries_in(&directory));
    }
    found
}

/// The NVRTC libraries of `directory` (not its `-builtins` helpers or
/// `.alt` variants), newest major version first.
fn libraries_in(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut libraries: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libnvrtc.so"))
        })
        .collect();
    libraries.sort_by(|a, b| b.cmp(a));
    libraries
}

fn load(python_paths: &[PathBuf]) -> Result<&'static Nvrtc, GpuError> {
    NVRTC
        .get_or_init(|| {
            let candidates = candidates(python_paths);
            for candidate in &candidates {
                // SAFETY: loading NVRTC runs no initialisers with
                // requirements on the caller.
                if let Ok(library) = unsafe { libloading::Library::new(candidate) } {
                    return bind(library, candidate);
                }
            }
            Err(format!(
                "CUDA C++ needs NVRTC (libnvrtc.so), which was not found on this machine \
                 (looked for {} libraries; set PARLA_NVRTC to its path, or install \
                 nvidia-cuda-nvrtc-cu12); PTX and IR text need no compiler",
                candidates.len()
            ))
        })
        .as_ref()
        .map_err(|reason| GpuError::NoCompiler(reason.clone()))
}

fn bind(library: libloading::Library, path: &Path) -> Result<Nvrtc, String> {
    let path = path.display().to_string();
    macro_rules! function {
        ($name:literal) => {
            // SAFETY: the type is NVRTC's published signature of the symbol.
            *unsafe { library.get($name) }.map_err(|e| format!("{path} is not NVRTC: {e}"))?
        };
    }
    let version_of: unsafe extern "C" fn(*mut c_int, *mut c_int) -> Status =
        function!(b"nvrtcVersion\0");
    let mut version = (0, 0);
    // SAFETY: writes two ints.
    unsafe { version_of(&mut version.0, &mut version.1) };
    Ok(Nvrtc {
        version,
        create: function!(b"nvrtcCreateProgram\0"),
        compile: function!(b"nvrtcCompileProgram\0"),
        ptx_size: function!(b"nvrtcGetPTXSize\0"),
        ptx: function!(b"nvrtcGetPTX\0"),
        // SAFETY: the types are NVRTC's published signatures.
        cubin: unsafe { library.get(b"nvrtcGetCUBINSize\0") }
            .and_then(|size| Ok((*size, *unsafe { library.get(b"nvrtcGetCUBIN\0") }?)))
            .ok(),
        log_size: function!(b"nvrtcGetProgramLogSize\0"),
        log: function!(b"nvrtcGetProgramLog\0"),
        destroy: function!(b"nvrtcDestroyProgram\0"),
        error_string: function!(b"nvrtcGetErrorString\0"),
        path,
        _library: library,
    })
}

/// The NVRTC library that CUDA C++ compiles with, and its version, or why
/// there is none.
pub fn library(python_paths: &[PathBuf]) -> Result<(String, (i32, i32)), GpuError> {
    load(python_paths).map(|n| (n.path.clone(), n.version))
}

/// A program being compiled, destroyed when dropped.
struct ProgramHandle<'a> {
    nvrtc: &'a Nvrtc,
    program: Program,
}

impl Drop for ProgramHandle<'_> {
    fn drop(&mut self) {
        // SAFETY: made by nvrtcCreateProgram, destroyed once.
        unsafe { (self.nvrtc.destroy)(&mut self.program) };
    }
}

impl Nvrtc {
    fn failed(&self, call: &str, status: Status) -> GpuError {
        // SAFETY: NVRTC returns a static string for every status.
        let text = unsafe { CStr::from_ptr((self.error_string)(status)) };
        GpuError::SourceCompile(format!("{call} failed: {}", text.to_string_lossy()))
    }

    fn check(&self, call: &str, status: Status) -> Result<(), GpuError> {
        if status == SUCCESS {
            Ok(())
        } else {
            Err(self.failed(call, status))
        }
    }

    /// Reads the `size_of` bytes of an output through `read`.
    fn bytes(
        &self,
        program: Program,
        size_of: unsafe extern "C" fn(Program, *mut usize) -> Status,
        read: unsafe extern "C" fn(Program, *mut c_char) -> Status,
        call: &str,
    ) -> Result<Vec<u8>, GpuError> {
        let mut size = 0usize;
        // SAFETY: a live program; writes one size_t.
        self.check(call, unsafe { size_of(program, &mut size) })?;
        let mut buffer = vec![0u8; size.max(1)];
        // SAFETY: the buffer holds `size` bytes, as NVRTC asked for.
        self.check(call, unsafe { read(program, buffer.as_mut_ptr().cast()) })?;
        buffer.truncate(size);
        Ok(buffer)
    }

    /// Reads a NUL-terminated string through `read`.
    fn text(
        &self,
        program: Program,
        size_of: unsafe extern "C" fn(Program, *mut usize) -> Status,
        read: unsafe extern "C" fn(Program, *mut c_char) -> Status,
        call: &str,
    ) -> Result<String, GpuError> {
        let buffer = self.bytes(program, size_of, read, call)?;
        let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
        Ok(String::from_utf8_lossy(&buffer[..end]).into_owned())
    }
}

/// NVRTC's target option for `arch` (`sm_90` or `compute_90`): a virtual
/// architecture makes PTX, a real one machine code (a cubin).
fn target_arch(arch: &str, real: bool) -> String {
    let number = arch
        .strip_prefix("sm_")
        .or_else(|| arch.strip_prefix("compute_"))
        .unwrap_or(arch);
    let kind = if real { "sm" } else { "compute" };
    format!("--gpu-architecture={kind}_{number}")
}

/// Compiles CUDA C++ `source` with `option`; the program to read the
/// output of.
fn compile<'a>(
    nvrtc: &'a Nvrtc,
    source: &str,
    option: String,
) -> Result<ProgramHandle<'a>, GpuError> {
    let source = CString::new(source)
        .map_err(|_| GpuError::SourceCompile("the CUDA C++ contains a NUL character".into()))?;
    let name = c"kernel.cu";
    let mut program: Program = std::ptr::null_mut();
    // SAFETY: the strings live across the call; no headers.
    let created = unsafe {
        (nvrtc.create)(
            &mut program,
            source.as_ptr(),
            name.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    nvrtc.check("nvrtcCreateProgram", created)?;
    let program = ProgramHandle { nvrtc, program };
    let options = [CString::new(option).expect("no NUL in an arch name")];
    let pointers: Vec<*const c_char> = options.iter().map(|o| o.as_ptr()).collect();
    // SAFETY: a live program; `options` outlives the call.
    let compiled =
        unsafe { (nvrtc.compile)(program.program, pointers.len() as c_int, pointers.as_ptr()) };
    if compiled != SUCCESS {
        let log = nvrtc.text(
            program.program,
            nvrtc.log_size,
            nvrtc.log,
            "nvrtcGetProgramLog",
        )?;
        return Err(match log.trim() {
            "" => nvrtc.failed("nvrtcCompileProgram", compiled),
            log => GpuError::SourceCompile(log.to_string()),
        });
    }
    Ok(program)
}

/// Compiles CUDA C++ `source` to PTX for `arch` (e.g. `sm_90`).
/// `python_paths` are where pip's NVRTC packages may be (see [`candidates`]).
pub fn compile_cuda_cpp(
    source: &str,
    arch: &str,
    python_paths: &[PathBuf],
) -> Result<String, GpuError> {
    let nvrtc = load(python_paths)?;
    let program = compile(nvrtc, source, target_arch(arch, false))?;
    nvrtc.text(program.program, nvrtc.ptx_size, nvrtc.ptx, "nvrtcGetPTX")
}

/// Compiles CUDA C++ `source` to machine code for `arch` (e.g. `sm_90`):
/// for a driver older than the NVRTC, which cannot load the newer PTX that
/// NVRTC writes (`CUDA_ERROR_UNSUPPORTED_PTX_VERSION`) but runs machine
/// code of the same CUDA major version.
pub fn compile_cuda_cpp_to_cubin(
    source: &str,
    arch: &str,
    python_paths: &[PathBuf],
) -> Result<Vec<u8>, GpuError> {
    let nvrtc = load(python_paths)?;
    let (size_of, read) = nvrtc.cubin.ok_or_else(|| {
        GpuError::NoCompiler(format!(
            "{} (NVRTC {}.{}) cannot make machine code; NVRTC 11.1 or later can",
            nvrtc.path, nvrtc.version.0, nvrtc.version.1
        ))
    })?;
    let program = compile(nvrtc, source, target_arch(arch, true))?;
    nvrtc.bytes(program.program, size_of, read, "nvrtcGetCUBIN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptx_takes_virtual_architectures_and_cubins_real_ones() {
        assert_eq!(target_arch("sm_90", false), "--gpu-architecture=compute_90");
        assert_eq!(
            target_arch("compute_80", false),
            "--gpu-architecture=compute_80"
        );
        assert_eq!(target_arch("sm_90", true), "--gpu-architecture=sm_90");
        assert_eq!(target_arch("compute_80", true), "--gpu-architecture=sm_80");
    }

    #[test]
    fn cuda_cpp_compiles_to_ptx_and_to_machine_code() {
        // The project's environment has pip's NVRTC (scripts/setup.sh).
        let venv_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
        let sites: Vec<PathBuf> = std::fs::read_dir(&venv_lib)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path().join("site-packages")))
                    .collect()
            })
            .unwrap_or_default();
        if let Err(reason) = library(&sites) {
            eprintln!("skipped: {reason}");
            return;
        }
        let source =
            r#"extern "C" __global__ void scale(float *x, float a) { x[threadIdx.x] *= a; }"#;
        let ptx = compile_cuda_cpp(source, "sm_90", &sites).unwrap();
        assert!(
            ptx.contains(".entry scale") && ptx.contains(".target sm_90"),
            "{ptx}"
        );
        let cubin = compile_cuda_cpp_to_cubin(source, "sm_90", &sites).unwrap();
        assert_eq!(&cubin[..4], b"\x7fELF");
        let error = compile_cuda_cpp_to_cubin("not C++", "sm_90", &sites).unwrap_err();
        assert!(matches!(error, GpuError::SourceCompile(_)), "{error}");
    }

    #[test]
    fn pip_and_toolkit_directories_are_searched_newest_first() {
        let site = std::env::temp_dir().join(format!("parla-nvrtc-{}", std::process::id()));
        let lib = site.join("nvidia/cuda_nvrtc/lib");
        std::fs::create_dir_all(&lib).unwrap();
        for name in [
            "libnvrtc.so.11",
            "libnvrtc.so.12",
            "libnvrtc-builtins.so.12.9",
        ] {
            std::fs::write(lib.join(name), b"").unwrap();
        }
        let found = candidates(std::slice::from_ref(&site));
        std::fs::remove_dir_all(&site).unwrap();
        if std::env::var_os("PARLA_NVRTC").is_some() {
            return;
        }
        let ours: Vec<_> = found.iter().filter(|p| p.starts_with(&site)).collect();
        assert_eq!(
            ours,
            [&lib.join("libnvrtc.so.12"), &lib.join("libnvrtc.so.11")]
        );
        assert_eq!(found[0], PathBuf::from("libnvrtc.so"));
    }
}
