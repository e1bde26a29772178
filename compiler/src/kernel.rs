//! Compiling one specialisation of a JIT function to native code: emit
//! `looppar` IR, run our passes and the lowering, JIT with LLVM.

use crate::{
    frontend::{self, Argument, CompileError, Function, LabelSpec},
    jit::{self, Engine, JitError, PackedFunction},
    signature::{array_parameters, written_parameters, ArrayParameter},
    source,
};
use melior::{ir::Module, Context};
use std::{collections::HashMap, time::Instant};
use thiserror::Error;

/// Our passes, from the front end's IR to `scf`.
pub const LOOPPAR_LOWERING: &str = "builtin.module(parla-verify,looppar-expand-slices,looppar-apply-parallel-spec,\
canonicalize,cse,looppar-check-bounds,looppar-if-convert-updates,looppar-detect-reductions,looppar-atomic-updates,looppar-check-races,looppar-simplify,cse,looppar-to-scf,canonicalize,cse)";

/// The IR stages `print_compiled` can show, in pipeline order.
pub const STAGES: [&str; 3] = ["looppar", "scf", "llvm"];

#[derive(Debug, Error)]
pub enum KernelError {
    /// An error in the user's code.
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Jit(#[from] JitError),
    /// IR text (from `compile_string`) that does not parse or verify.
    #[error("the IR does not parse or verify:\n{0}")]
    InvalidIr(String),
    /// Device code that needs a vendor library this machine lacks.
    #[error("{0}")]
    MissingLibrary(String),
    /// A GPU architecture the compiler cannot target.
    #[error("{0}")]
    UnsupportedTarget(String),
    /// Code text whose entry function is missing or cannot take arrays.
    #[error("{0}")]
    BadEntry(String),
}

/// A compiled specialisation.
pub struct Kernel {
    /// Kept alive for `entry`.
    _engine: Engine,
    pub entry: PackedFunction,
    /// For each memref parameter, in order: the argument it comes from
    /// (index, and dict key).
    pub arrays: Vec<(usize, Option<String>)>,
    /// The IR after each stage, when asked for, with the time spent so far.
    pub stages: Vec<(String, String, f64)>,
    /// With bounds checks (`debug`): where each check is. The entry then
    /// takes an error word (`memref<1xi64>`) before the arrays.
    pub checks: Option<Vec<frontend::emit::CheckSite>>,
    /// For code text (`compile_string`): the entry's parameters, which
    /// each call's arrays are checked against. JIT specialisations were
    /// compiled for their arguments and need no check.
    pub parameters: Option<Vec<ArrayParameter>>,
    /// For each array parameter of the entry (the error word included):
    /// whether the function may write it. Arrays it writes must be writable.
    pub written: Vec<bool>,
}

// SAFETY: the engine is immutable once built; the entry is a plain function.
unsafe impl Send for Kernel {}
unsafe impl Sync for Kernel {}

thread_local! {
    // Creating a context (and loading our dialects) costs ~2 ms: one per
    // thread, reused by every compilation on it.
    static CONTEXT: Context = {
        let context = parla_dialects::create_context().expect("our IRDL dialects load");
        melior::utility::register_all_llvm_translations(&context);
        context
    };
}

/// Options of one compilation.
#[derive(Debug, Clone, Copy)]
pub struct CompileOptions {
    pub opt_level: usize,
    /// Keep the IR of every stage (for `print_compiled` and `debug=True`).
    pub keep_stages: bool,
    /// Check every array access against the array's bounds.
    pub bounds_checks: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            opt_level: 3,
            keep_stages: false,
            bounds_checks: false,
        }
    }
}

/// Compiles `function` for `arguments` under `spec`.
pub fn compile(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    options: CompileOptions,
) -> Result<Kernel, KernelError> {
    let started = Instant::now();
    let emitted = frontend::emit(
        function,
        callees,
        arguments,
        spec,
        frontend::Target::Cpu,
        options.bounds_checks,
    )?;
    CONTEXT.with(|context| {
        let buffer = format!("<ir of {}>", function.name);
        let module = source::parse_module(context, &emitted.text, &buffer).map_err(|messages| {
            KernelError::InvalidIr(format!(
                "{}\n{}",
                crate::diagnostics::render(&messages),
                emitted.text
            ))
        })?;
        let mut kernel = finish(
            context,
            module,
            &emitted.entry,
            emitted.arrays,
            started,
            options,
            Some(emitted.text.clone()),
        )
        .map_err(|error| in_user_code(error, function))?;
        kernel.checks = emitted.checks;
        Ok(kernel)
    })
}

/// Compiles IR text (any stage: `looppar`, `scf` or the LLVM dialect) and
/// returns function `entry`; `arrays` says which arguments its memref
/// parameters come from.
pub fn compile_ir(
    text: &str,
    entry: &str,
    arrays: Vec<(usize, Option<String>)>,
    options: CompileOptions,
) -> Result<Kernel, KernelError> {
    let started = Instant::now();
    CONTEXT.with(|context| {
        let module = source::parse_module(context, text, "<compile_string>")
            .map_err(|m| KernelError::InvalidIr(crate::diagnostics::render(&m)))?;
        let parameters = array_parameters(&module, entry)?;
        let mut kernel = finish(context, module, entry, arrays, started, options, None)?;
        kernel.parameters = Some(parameters);
        Ok(kernel)
    })
}

/// A pass error at a position in the user's file is an error in the user's
/// code (e.g. a race): report it as one, with the source line.
pub(crate) fn in_user_code(error: KernelError, function: &Function) -> KernelError {
    let KernelError::Jit(JitError::Lowering(messages)) = &error else {
        return error;
    };
    let first = messages.iter().find(|m| {
        m.position
            .as_ref()
            .is_some_and(|p| p.file == function.source.file)
    });
    match first.and_then(|m| m.position.as_ref().map(|p| (m, p))) {
        Some((message, position)) => KernelError::Compile(function.source.error(
            frontend::Span {
                line: position.line,
                column: position.column,
            },
            message.text.clone(),
        )),
        None => error,
    }
}

fn finish(
    context: &Context,
    mut module: Module,
    entry: &str,
    arrays: Vec<(usize, Option<String>)>,
    started: Instant,
    options: CompileOptions,
    first_stage: Option<String>,
) -> Result<Kernel, KernelError> {
    let mut stages = Vec::new();
    let elapsed = || started.elapsed().as_secs_f64();
    let written = written_parameters(&module, entry);
    if options.keep_stages {
        stages.push((
            "looppar".to_string(),
            first_stage.unwrap_or_else(|| module.as_operation().to_string()),
            elapsed(),
        ));
    }
    jit::run_pipeline(context, &mut module, LOOPPAR_LOWERING)?;
    if options.keep_stages {
        stages.push((
            "scf".to_string(),
            module.as_operation().to_string(),
            elapsed(),
        ));
    }
    crate::signature::record_array_types(&module, entry);
    let entry = crate::symbols::reserve_entry_symbol(&module, entry);
    jit::lower_to_llvm(context, &mut module)?;
    if options.keep_stages {
        stages.push((
            "llvm".to_string(),
            module.as_operation().to_string(),
            elapsed(),
        ));
    }
    let engine = Engine::new(context, &module, options.opt_level)?;
    let entry = engine.packed(&entry)?;
    Ok(Kernel {
        _engine: engine,
        entry,
        arrays,
        stages,
        checks: None,
        parameters: None,
        written,
    })
}
