//! Lowering to LLVM and running in-process with MLIR's ExecutionEngine.
//!
//! Parallel loops (`scf.parallel`) lower through the `omp` dialect to the
//! OpenMP runtime ABI, which `parla_runtime::parallel` implements on the
//! runtime's worker pool; the engine binds those symbols to it.

use crate::{
    diagnostics::{Capture, Message},
    pipeline::{build_pipeline, module_pass_manager, PipelineError},
};
use melior::{ir::Module, Context, StringRef};
use std::ffi::c_void;
use thiserror::Error;

/// The passes from `scf`/`memref`/`arith`/`math`/`func` to the LLVM dialect,
/// with parallel loops becoming OpenMP regions.
pub const CPU_LOWERING: &str = "builtin.module(\
math-exact-libm-calls,\
convert-scf-to-openmp,\
openmp-float-minmax,\
func.func(lower-affine),\
expand-strided-metadata,\
finalize-memref-to-llvm,\
convert-scf-to-cf,\
convert-openmp-to-llvm,\
convert-math-to-llvm,\
convert-math-to-libm,\
convert-arith-to-llvm,\
convert-index-to-llvm,\
convert-func-to-llvm,\
convert-cf-to-llvm,\
reconcile-unrealized-casts)";

/// A failure to lower or to JIT-compile.
#[derive(Debug, Error)]
pub enum JitError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("lowering to LLVM failed:\n{}", format_messages(.0))]
    Lowering(Vec<Message>),
    #[error("the execution engine could not compile the module:\n{}", format_messages(.0))]
    Engine(Vec<Message>),
    #[error("the compiled module has no function `{0}`")]
    MissingFunction(String),
}

fn format_messages(messages: &[Message]) -> String {
    messages
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `pipeline` (textual) on `module`, collecting diagnostics.
pub fn run_pipeline(
    context: &Context,
    module: &mut Module,
    pipeline: &str,
) -> Result<(), JitError> {
    let capture = Capture::new(context);
    let manager = module_pass_manager(context);
    build_pipeline(&manager, pipeline)?;
    if manager.run(module).is_err() {
        return Err(JitError::Lowering(capture.take()));
    }
    Ok(())
}

/// Lowers a module of upstream dialects to the LLVM dialect.
pub fn lower_to_llvm(context: &Context, module: &mut Module) -> Result<(), JitError> {
    run_pipeline(context, module, CPU_LOWERING)
}

/// A JIT-compiled module. Independent of the MLIR context it came from.
pub struct Engine {
    raw: mlir_sys::MlirExecutionEngine,
}

// SAFETY: a compiled engine is immutable; looking up symbols is
// thread-safe in LLVM's ORC JIT.
unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

/// A function compiled with MLIR's packed calling convention: one pointer
/// per argument (memrefs expanded into their fields), each pointing at the
/// value.
pub type PackedFunction = unsafe extern "C" fn(*mut *mut c_void);

impl Engine {
    /// JIT-compiles a module already lowered to the LLVM dialect, at
    /// `opt_level` (0-3), binding the OpenMP ABI to the runtime's pool.
    pub fn new(context: &Context, module: &Module, opt_level: usize) -> Result<Engine, JitError> {
        Self::with_symbols(context, module, opt_level, &[])
    }

    /// [`Engine::new`], also binding `symbols` (name, address): e.g. the
    /// runtime's GPU launch entry points for compiled host code. Global
    /// constructors run after every symbol is bound.
    pub fn with_symbols(
        context: &Context,
        module: &Module,
        opt_level: usize,
        symbols: &[(&str, *mut c_void)],
    ) -> Result<Engine, JitError> {
        melior::utility::register_all_llvm_translations(context);
        let capture = Capture::new(context);
        // SAFETY: the module is valid and lowered; no shared libraries.
        let raw = unsafe {
            mlir_sys::mlirExecutionEngineCreate(
                module.to_raw(),
                opt_level as i32,
                0,
                std::ptr::null(),
                false,
                false,
            )
        };
        if raw.ptr.is_null() {
            return Err(JitError::Engine(capture.take()));
        }
        let engine = Engine { raw };
        let openmp = parla_runtime::parallel::openmp_symbols();
        let runtime = crate::symbols::compiler_runtime_symbols();
        for &(name, address) in openmp.iter().chain(&runtime).chain(symbols) {
            let name = StringRef::new(name);
            // SAFETY: the engine is alive; the addresses are functions with
            // the ABI's signatures.
            unsafe {
                mlir_sys::mlirExecutionEngineRegisterSymbol(engine.raw, name.to_raw(), address)
            };
        }
        // SAFETY: every symbol the module's constructors call is bound.
        unsafe { mlir_sys::mlirExecutionEngineInitialize(engine.raw) };
        Ok(engine)
    }

    /// The packed entry point of function `name`.
    pub fn packed(&self, name: &str) -> Result<PackedFunction, JitError> {
        let symbol = StringRef::new(name);
        // SAFETY: the engine is alive; a null result means no such function.
        let address =
            unsafe { mlir_sys::mlirExecutionEngineLookupPacked(self.raw, symbol.to_raw()) };
        if address.is_null() {
            return Err(JitError::MissingFunction(name.to_string()));
        }
        // SAFETY: packed wrappers have exactly this signature.
        Ok(unsafe { std::mem::transmute::<*mut c_void, PackedFunction>(address) })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: created by mlirExecutionEngineCreate, dropped once.
        unsafe { mlir_sys::mlirExecutionEngineDestroy(self.raw) }
    }
}

/// A strided memref descriptor as the packed convention expands it:
/// allocated pointer, aligned pointer, offset, sizes, strides (in
/// elements).
#[derive(Debug, Clone)]
pub struct MemrefArgument {
    pub data: *mut c_void,
    pub offset: i64,
    pub sizes: Vec<i64>,
    pub strides: Vec<i64>,
}

/// Storage for the packed arguments of one call.
#[derive(Default)]
pub struct PackedArguments {
    /// Every scalar word of every argument, in order.
    words: Vec<u64>,
}

impl PackedArguments {
    pub fn with_capacity(words: usize) -> Self {
        Self {
            words: Vec::with_capacity(words),
        }
    }

    pub fn push_memref(&mut self, memref: &MemrefArgument) {
        self.words.push(memref.data as u64);
        self.words.push(memref.data as u64);
        self.words.push(memref.offset as u64);
        self.words.extend(memref.sizes.iter().map(|&s| s as u64));
        self.words.extend(memref.strides.iter().map(|&s| s as u64));
    }

    pub fn push_i64(&mut self, value: i64) {
        self.words.push(value as u64);
    }

    pub fn push_f64(&mut self, value: f64) {
        self.words.push(value.to_bits());
    }

    /// Pushes the raw bits of a scalar that fits in 8 bytes (stored in the
    /// low bytes, as a little-endian value).
    pub fn push_bits(&mut self, bits: u64) {
        self.words.push(bits);
    }

    /// Calls `function` with the arguments pushed so far.
    ///
    /// # Safety
    /// The arguments must match the function's signature.
    pub unsafe fn call(&mut self, function: PackedFunction) {
        let mut pointers: Vec<*mut c_void> = self
            .words
            .iter_mut()
            .map(|word| word as *mut u64 as *mut c_void)
            .collect();
        unsafe { function(pointers.as_mut_ptr()) }
    }
}
