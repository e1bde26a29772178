//! Compiling for GPUs: the `gpu`-level IR of a specialisation, and device
//! code (PTX for NVIDIA, AMDGCN assembly for AMD) from MLIR's `nvvm` and
//! `rocdl` targets. No GPU or vendor toolkit is needed to compile; code
//! objects to load on AMD GPUs are linked by `ld.lld` (LLVM's, or ROCm's).

use crate::{
    frontend::{self, Argument, CheckSite, Function, LabelSpec},
    jit::{run_pipeline, Engine, JitError, PackedFunction},
    kernel::KernelError,
    signature::{array_parameters, written_parameters, ArrayParameter},
    source,
};
use melior::{
    ir::{
        attribute::{ArrayAttribute, AttributeLike},
        operation::OperationLike,
        Module,
    },
    Context,
};
use std::{collections::HashMap, time::Instant};

/// Our passes, from the front end's IR to `gpu.launch` kernels and `scf`.
pub const LOOPPAR_TO_GPU: &str =
    "builtin.module(parla-verify,looppar-expand-slices,looppar-apply-parallel-spec,\
canonicalize,cse,looppar-check-bounds,looppar-if-convert-updates,looppar-detect-reductions,looppar-atomic-updates,looppar-check-races,looppar-simplify,cse,\
looppar-plan-kernels,looppar-to-gpu,looppar-to-scf,openmp-float-minmax,canonicalize,cse)";

/// From the outlined host module (device code embedded in `gpu.binary`
/// ops) to the LLVM dialect: `gpu.launch_func` becomes calls of the launch
/// entry points (`mgpu*`) that `parla_runtime::launch` implements.
pub const HOST_LOWERING: &str = "builtin.module(gpu-to-llvm,convert-scf-to-cf,expand-strided-metadata,\
finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,\
reconcile-unrealized-casts)";

/// The optimisation level of host code: loops that launch kernels.
const HOST_OPT_LEVEL: usize = 2;

/// Which device code to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuTarget {
    /// NVIDIA, e.g. `sm_90`; `libdevice` is the path of `libdevice.10.bc`
    /// (NVIDIA's math library), needed by kernels that call math
    /// functions.
    Cuda {
        chip: String,
        libdevice: Option<String>,
    },
    /// AMD, e.g. `gfx90a`.
    Rocm { chip: String },
}

/// What the device code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeUse {
    /// Reading: PTX, AMDGCN assembly.
    Print,
    /// Loading onto a device: PTX (the CUDA driver compiles it), AMDGPU code
    /// objects (HIP loads only linked ELF images).
    Load,
}

impl GpuTarget {
    /// From `gpu.launch` kernels to device code. Constants the kernels use
    /// (bounds, strides, block sizes) are first moved into them
    /// (`gpu-launch-sink-index-computations`): outlined as kernel
    /// parameters they would be unknown to LLVM, which then can neither fold
    /// index arithmetic nor compute the trip counts that unrolling needs.
    /// `convert-gpu-to-nvvm` leaves `math.trunc` (no libdevice pattern):
    /// `convert-math-to-llvm` makes it LLVM's intrinsic, which NVPTX has.
    /// With `disjoint_arguments` (code from the front end, whose array
    /// parameters never alias where one is written), kernels' pointer
    /// arguments are marked noalias (`gpu-noalias-kernel-arguments`).
    /// AMD kernels update 8- and 16-bit elements by compare-and-swap
    /// (`rocdl-cas-subword-atomics`: the AMDGPU backend cannot select some
    /// sub-word atomics).
    fn pipeline(&self, code_use: CodeUse, disjoint_arguments: bool) -> Result<String, KernelError> {
        let noalias = if disjoint_arguments {
            ",gpu-noalias-kernel-arguments"
        } else {
            ""
        };
        Ok(match self {
            GpuTarget::Cuda { chip, libdevice } => {
                let link = libdevice
                    .as_ref()
                    .map(|l| format!(" l={l}"))
                    .unwrap_or_default();
                let ptx = ptx_version(chip);
                format!(
                    "builtin.module(gpu-launch-sink-index-computations,gpu-kernel-outlining,nvvm-attach-target{{chip={chip} features=+ptx{ptx} O=3{link}}},\
gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,convert-math-to-llvm){noalias},gpu-module-to-binary{{format=isa}})"
                )
            }
            GpuTarget::Rocm { chip } => {
                let to_binary = match code_use {
                    CodeUse::Print => "format=isa".to_string(),
                    CodeUse::Load => format!("format=bin toolkit={}", rocm_toolkit()?),
                };
                format!(
                    "builtin.module(gpu-launch-sink-index-computations,gpu-kernel-outlining,rocdl-attach-target{{chip={chip} O=3}},\
gpu.module(rocdl-cas-subword-atomics,convert-scf-to-cf,convert-gpu-to-rocdl,rocdl-fold-workgroup-size){noalias},gpu-module-to-binary{{{to_binary}}})"
                )
            }
        })
    }
}

/// The "toolkit" directory MLIR's ROCDL target links code objects with: it
/// runs `<toolkit>/llvm/bin/ld.lld` and finds the device libraries in
/// `<toolkit>/amdgcn/bitcode`. A ROCm install (`$ROCM_PATH`, `/opt/rocm`)
/// has both; without one, a directory in the user's cache links to LLVM's
/// own `ld.lld` (and to the device libraries, when a ROCm install has them).
fn rocm_toolkit() -> Result<String, KernelError> {
    static TOOLKIT: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    TOOLKIT
        .get_or_init(find_rocm_toolkit)
        .clone()
        .map_err(KernelError::MissingLibrary)
}

fn find_rocm_toolkit() -> Result<String, String> {
    use std::path::{Path, PathBuf};
    let rocm = std::env::var("ROCM_PATH").unwrap_or_else(|_| "/opt/rocm".to_string());
    let rocm = Path::new(&rocm);
    if rocm.join("llvm/bin/ld.lld").is_file() {
        return Ok(rocm.display().to_string());
    }
    // LLVM's linker: the one of the LLVM this compiler is built on, else
    // any on PATH.
    let llvm_prefix = option_env!("MLIR_SYS_220_PREFIX").unwrap_or("/usr/lib/llvm-22");
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("ld.lld"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let lld = std::iter::once(Path::new(llvm_prefix).join("bin/ld.lld"))
        .chain(on_path)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "loading kernels on AMD GPUs needs LLVM's linker ld.lld (Debian: lld-22; or a ROCm install in \
             $ROCM_PATH); none was found"
                .to_string()
        })?;
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let toolkit = cache.join("parla").join("rocm-toolkit");
    let link = |target: &Path, at: &Path| -> std::io::Result<()> {
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Replaced each time: the linker found may have moved.
        let fresh = at.with_extension(format!("new{}", std::process::id()));
        let _ = std::fs::remove_file(&fresh);
        std::os::unix::fs::symlink(target, &fresh)?;
        std::fs::rename(&fresh, at)
    };
    let made = link(&lld, &toolkit.join("llvm/bin/ld.lld")).and_then(|()| {
        let device_libraries = rocm.join("amdgcn");
        if device_libraries.is_dir() {
            link(&device_libraries, &toolkit.join("amdgcn"))?;
        }
        Ok(())
    });
    made.map_err(|e| {
        format!(
            "cannot prepare {} for linking AMD GPU code: {e}",
            toolkit.display()
        )
    })?;
    Ok(toolkit.display().to_string())
}

impl GpuTarget {
    /// The name of the device code's stage: `ptx`, `amdgcn`.
    pub fn code_stage(&self) -> &'static str {
        match self {
            GpuTarget::Cuda { .. } => "ptx",
            GpuTarget::Rocm { .. } => "amdgcn",
        }
    }
}

/// The NVIDIA chips this compiler targets, with the PTX ISA version each
/// needs at least (8.0 is what CUDA 12.0 drivers and later load). Checked
/// before LLVM sees a chip: LLVM stops the process on one it cannot target.
const CUDA_CHIPS: [(&str, u32); 20] = [
    ("sm_60", 80),
    ("sm_61", 80),
    ("sm_62", 80),
    ("sm_70", 80),
    ("sm_72", 80),
    ("sm_75", 80),
    ("sm_80", 80),
    ("sm_86", 80),
    ("sm_87", 80),
    ("sm_89", 80),
    ("sm_90", 80),
    ("sm_90a", 80),
    ("sm_100", 86),
    ("sm_100a", 86),
    ("sm_101", 86),
    ("sm_101a", 86),
    ("sm_120", 87),
    ("sm_120a", 87),
    ("sm_103", 88),
    ("sm_121", 88),
];

/// The AMD chips this compiler targets.
const ROCM_CHIPS: [&str; 4] = ["gfx908", "gfx90a", "gfx942", "gfx950"];

impl GpuTarget {
    /// Whether the compiler can target this chip; the error names the ones
    /// it can.
    pub fn check(&self) -> Result<(), KernelError> {
        let (chip, known): (&str, Vec<&str>) = match self {
            GpuTarget::Cuda { chip, .. } => (chip, CUDA_CHIPS.iter().map(|(c, _)| *c).collect()),
            GpuTarget::Rocm { chip } => (chip, ROCM_CHIPS.to_vec()),
        };
        if known.contains(&chip) {
            Ok(())
        } else {
            Err(KernelError::UnsupportedTarget(format!(
                "cannot compile for {chip}: the architectures supported are {}",
                known.join(", ")
            )))
        }
    }
}

/// The PTX ISA version to emit for `chip` (checked to be known).
fn ptx_version(chip: &str) -> u32 {
    CUDA_CHIPS
        .iter()
        .find(|(c, _)| *c == chip)
        .map_or(80, |(_, version)| *version)
}

/// A specialisation compiled for a GPU: the IR stages and the device code.
/// Times are seconds from the start of the compilation to when a stage
/// was ready.
#[derive(Debug, Clone)]
pub struct GpuProgram {
    /// (stage, IR text, time): `looppar`, `gpu` (kernels as `gpu.launch`).
    pub stages: Vec<(String, String, f64)>,
    /// The device code of each kernel module: PTX or AMDGCN assembly (for
    /// AMD executables, a line that describes the code object loaded).
    pub device_code: Vec<String>,
    pub device_code_seconds: f64,
    /// The host function after outlining: `gpu.launch_func` calls.
    pub host: String,
    /// When the host code was ready: outlined, or for executables
    /// JIT-compiled.
    pub host_seconds: f64,
    /// The host function's name; its memref parameters take the array
    /// arguments in order (after the error word, with bounds checks).
    pub entry: String,
    /// With bounds checks: where each check is. The host function's first
    /// parameter is then a one-element i64 buffer in device memory, into
    /// which a failing access stores 1 + its check's index (and is
    /// skipped).
    pub checks: Option<Vec<CheckSite>>,
    /// For each array parameter of the host function (the error word
    /// included): whether it may be written. Arrays it writes must be writable.
    pub written: Vec<bool>,
}

impl GpuProgram {
    /// Every stage with its text and time, in the order they are made:
    /// the passes' (`looppar`, `gpu`), the device code as `code_stage`
    /// (`ptx`, `amdgcn`), then `host`.
    pub fn all_stages(&self, code_stage: &str) -> Vec<(String, String, f64)> {
        let mut stages = self.stages.clone();
        stages.push((
            code_stage.to_string(),
            self.device_code.join("\n"),
            self.device_code_seconds,
        ));
        stages.push(("host".to_string(), self.host.clone(), self.host_seconds));
        stages
    }
}

/// A specialisation ready to run: its host code JIT-compiled, launching its
/// kernels through the runtime.
pub struct GpuExecutable {
    pub program: GpuProgram,
    /// Kept alive for `entry` (and the device code it embeds).
    _engine: Engine,
    /// The host function; its memref parameters take device addresses.
    pub entry: PackedFunction,
    /// For code text (`compile_string`): the host function's parameters,
    /// which each call's arrays are checked against.
    pub parameters: Option<Vec<ArrayParameter>>,
    /// For code text that embeds its device code (`print_compiled`'s
    /// 'host' stage, compiled from Python for distinct arrays: noalias
    /// kernel arguments): the pairs of parameters that reach one kernel,
    /// which the very same array may not take both of.
    pub launched_together: Vec<(usize, usize)>,
}

// SAFETY: the engine is immutable once built; the entry is a plain function.
unsafe impl Send for GpuExecutable {}
unsafe impl Sync for GpuExecutable {}

/// A fresh context for each compilation: the upstream GPU conversions
/// choose their patterns from the dialects loaded in the context, so a
/// context shared across targets (NVVM, then ROCDL) lowers the same kernel
/// differently depending on what was compiled before. A context costs a few
/// milliseconds, next to tens for a compilation.
fn fresh_context() -> Result<Context, KernelError> {
    parla_dialects::create_context()
        .map_err(|e| KernelError::InvalidIr(format!("cannot load our dialects: {e}")))
}

/// Compiles `function` for `arguments` and `spec` into kernels for `target`
/// (with `bounds_checks`, as [`compile_executable`] does).
pub fn compile(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    target: &GpuTarget,
    bounds_checks: bool,
) -> Result<GpuProgram, KernelError> {
    let context = &fresh_context()?;
    let (program, _) = compile_in(
        context,
        function,
        callees,
        arguments,
        spec,
        target,
        CodeUse::Print,
        bounds_checks,
    )?;
    Ok(program)
}

/// [`compile`], then the host code lowered and JIT-compiled, its launches
/// bound to the runtime's entry points. With `bounds_checks`, every array
/// access in the kernels is checked (see [`GpuProgram::checks`]).
pub fn compile_executable(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    target: &GpuTarget,
    bounds_checks: bool,
) -> Result<GpuExecutable, KernelError> {
    let started = Instant::now();
    let context = &fresh_context()?;
    let (program, mut module) = compile_in(
        context,
        function,
        callees,
        arguments,
        spec,
        target,
        CodeUse::Load,
        bounds_checks,
    )?;
    executable(context, &mut module, program, started)
}

/// An executable from IR text at the `gpu` stage (kernels as `gpu.launch`)
/// or the `host` stage (after outlining, device code embedded), e.g. edited
/// output of `print_compiled`. Its function `entry` takes the arrays.
pub fn executable_from_ir(
    text: &str,
    entry: &str,
    target: &GpuTarget,
) -> Result<GpuExecutable, KernelError> {
    let started = Instant::now();
    let context = &fresh_context()?;
    let mut module = source::parse_module(context, text, "<compile_string>")
        .map_err(|m| KernelError::InvalidIr(crate::diagnostics::render(&m)))?;
    let parameters = array_parameters(&module, entry)?;
    let written = written_parameters(&module, entry);
    let outlined = !crate::passes::rewrite::collect(module.as_operation(), "gpu.binary").is_empty();
    let device_code = if outlined {
        let objects = embedded_objects(&module);
        let loadable = objects.iter().all(|object| object.starts_with(b"\x7fELF"));
        if matches!(target, GpuTarget::Rocm { .. }) && !loadable {
            return Err(KernelError::UnsupportedTarget(
                "this IR embeds AMDGCN assembly (print_compiled's 'host' stage), which AMD GPUs cannot load: \
                 pass the 'gpu' stage, which is compiled and linked into a code object"
                    .into(),
            ));
        }
        describe_code(objects)
    } else {
        device_code(context, &mut module, target, CodeUse::Load, false)?
    };
    let device_code_seconds = started.elapsed().as_secs_f64();
    let program = GpuProgram {
        stages: vec![("gpu".to_string(), text.to_string(), 0.0)],
        device_code,
        device_code_seconds,
        host: module.as_operation().to_string(),
        host_seconds: device_code_seconds,
        entry: entry.to_string(),
        checks: None,
        written,
    };
    // Read before the host code is lowered, which hides its launches.
    let launched_together = if outlined {
        crate::signature::launched_together(&module, entry)
    } else {
        Vec::new()
    };
    let mut executable = executable(context, &mut module, program, started)?;
    executable.parameters = Some(parameters);
    executable.launched_together = launched_together;
    Ok(executable)
}

/// The host code lowered and JIT-compiled. Its launches call the runtime's
/// entry points (`parla_runtime::launch`), bound here as the OpenMP
/// ones are for CPU code: the compiler binds them and never calls them.
fn executable(
    context: &Context,
    module: &mut Module,
    mut program: GpuProgram,
    started: Instant,
) -> Result<GpuExecutable, KernelError> {
    let entry = crate::symbols::reserve_entry_symbol(module, &program.entry);
    run_pipeline(context, module, HOST_LOWERING)?;
    let launches = parla_runtime::launch::symbols();
    let engine = Engine::with_symbols(context, module, HOST_OPT_LEVEL, &launches)?;
    let entry = engine.packed(&entry)?;
    program.host_seconds = started.elapsed().as_secs_f64();
    Ok(GpuExecutable {
        program,
        _engine: engine,
        entry,
        parameters: None,
        launched_together: Vec::new(),
    })
}

#[allow(clippy::too_many_arguments)]
fn compile_in<'c>(
    context: &'c Context,
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    target: &GpuTarget,
    code_use: CodeUse,
    bounds_checks: bool,
) -> Result<(GpuProgram, Module<'c>), KernelError> {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_secs_f64();
    let emitted = frontend::emit(
        function,
        callees,
        arguments,
        spec,
        frontend::Target::Gpu,
        bounds_checks,
    )?;
    let buffer = format!("<ir of {}>", function.name);
    let mut module = source::parse_module(context, &emitted.text, &buffer).map_err(|m| {
        KernelError::InvalidIr(format!(
            "{}\n{}",
            crate::diagnostics::render(&m),
            emitted.text
        ))
    })?;
    let mut stages = vec![("looppar".to_string(), emitted.text.clone(), elapsed())];
    let written = written_parameters(&module, &emitted.entry);
    run_pipeline(context, &mut module, LOOPPAR_TO_GPU)
        .map_err(|e| crate::kernel::in_user_code(KernelError::Jit(e), function))?;
    stages.push((
        "gpu".to_string(),
        module.as_operation().to_string(),
        elapsed(),
    ));
    let device_code = device_code(context, &mut module, target, code_use, true)?;
    let device_code_seconds = elapsed();
    let program = GpuProgram {
        stages,
        device_code,
        device_code_seconds,
        host: module.as_operation().to_string(),
        host_seconds: device_code_seconds,
        entry: emitted.entry,
        checks: emitted.checks,
        written,
    };
    Ok((program, module))
}

/// Compiles `gpu`-level IR text to device code for `target`.
pub fn compile_ir(text: &str, target: &GpuTarget) -> Result<Vec<String>, KernelError> {
    let context = &fresh_context()?;
    let mut module = source::parse_module(context, text, "<gpu ir>")
        .map_err(|m| KernelError::InvalidIr(crate::diagnostics::render(&m)))?;
    device_code(context, &mut module, target, CodeUse::Print, false)
}

/// `gpu`-level IR text compiled to what is loaded onto a device: PTX text
/// for NVIDIA, linked code objects (ELF) for AMD.
pub fn loadable_code(text: &str, target: &GpuTarget) -> Result<Vec<Vec<u8>>, KernelError> {
    let context = &fresh_context()?;
    let mut module = source::parse_module(context, text, "<gpu ir>")
        .map_err(|m| KernelError::InvalidIr(crate::diagnostics::render(&m)))?;
    device_code(context, &mut module, target, CodeUse::Load, false)?;
    Ok(embedded_objects(&module))
}

fn device_code(
    context: &Context,
    module: &mut Module,
    target: &GpuTarget,
    code_use: CodeUse,
    disjoint_arguments: bool,
) -> Result<Vec<String>, KernelError> {
    target.check()?;
    run_pipeline(context, module, &target.pipeline(code_use, disjoint_arguments)?).map_err(|error| {
        let mentions = |needle: &str| match &error {
            JitError::Lowering(messages) => messages.iter().any(|m| m.to_string().contains(needle)),
            _ => false,
        };
        match target {
            GpuTarget::Cuda { libdevice: None, .. } if mentions("__nv_") => KernelError::MissingLibrary(
                "math functions on NVIDIA GPUs need libdevice.10.bc (from the nvidia-cuda-nvcc-cu12 wheel, \
                 or PARLA_LIBDEVICE); none was found"
                    .into(),
            ),
            GpuTarget::Rocm { .. } if mentions("amdgcn bitcode path") => KernelError::MissingLibrary(
                "math functions on AMD GPUs need the ROCm device libraries ($ROCM_PATH/amdgcn/bitcode); \
                 none were found"
                    .into(),
            ),
            _ => KernelError::Jit(error),
        }
    })?;
    Ok(embedded_code(module))
}

/// The device code embedded in the module's `gpu.binary` ops: text (PTX,
/// assembly) as it is, a line that describes each binary (code objects).
fn embedded_code(module: &Module) -> Vec<String> {
    describe_code(embedded_objects(module))
}

/// Device code objects as text: PTX and assembly as they are, a line that
/// describes each binary.
fn describe_code(objects: Vec<Vec<u8>>) -> Vec<String> {
    objects
        .into_iter()
        .map(|bytes| match bytes.as_slice() {
            [0x7f, b'E', b'L', b'F', ..] => format!(
                "; an ELF code object of {} bytes (print_compiled shows the assembly)",
                bytes.len()
            ),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        })
        .collect()
}

/// The bytes of each object of the module's `gpu.binary` ops.
fn embedded_objects(module: &Module) -> Vec<Vec<u8>> {
    let mut code = Vec::new();
    for raw in crate::passes::rewrite::collect(module.as_operation(), "gpu.binary") {
        // SAFETY: collected from the live module.
        let binary = unsafe { crate::passes::rewrite::view(raw) };
        let Ok(objects) = binary.attribute("objects") else {
            continue;
        };
        let Ok(objects) = ArrayAttribute::try_from(objects) else {
            continue;
        };
        for i in 0..objects.len() {
            let Ok(object) = objects.element(i) else {
                continue;
            };
            // SAFETY: reads a live attribute of the kind checked first.
            unsafe {
                if !mlir_sys::mlirAttributeIsAGPUObjectAttr(object.to_raw()) {
                    continue;
                }
                let text = mlir_sys::mlirGPUObjectAttrGetObject(object.to_raw());
                let bytes = if text.length == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(text.data as *const u8, text.length)
                };
                code.push(bytes.to_vec());
            }
        }
    }
    code
}
