//! Creating a context with the upstream dialects the project uses and our
//! three IRDL dialects.

use crate::DialectError;
use melior::{
    dialect::{DialectHandle, DialectRegistry},
    ir::Module,
    utility::load_irdl_dialects,
    Context,
};

/// The IRDL definitions, in load order (`task` refers to `device`
/// attributes only in its docs, so order is free; keep it stable).
const DEFINITIONS: [(&str, &str); 3] = [
    ("task", include_str!("task/task.irdl.mlir")),
    ("device", include_str!("device/device.irdl.mlir")),
    ("looppar", include_str!("looppar/looppar.irdl.mlir")),
];

extern "C" {
    /// Defined in `cpp/native_ops.cpp`.
    fn parlaRegisterNativeOps(context: mlir_sys::MlirContext) -> bool;
}

/// Registers the upstream dialects that the project's IR uses into
/// `registry`. Only these are linked into our binaries' dialect registry.
pub fn register_upstream_dialects(registry: &DialectRegistry) {
    use mlir_sys::*;
    // SAFETY: each getter returns a static dialect description; inserting
    // it into a live registry only records it.
    unsafe {
        for handle in [
            mlirGetDialectHandle__func__(),
            mlirGetDialectHandle__arith__(),
            mlirGetDialectHandle__math__(),
            mlirGetDialectHandle__memref__(),
            mlirGetDialectHandle__scf__(),
            mlirGetDialectHandle__cf__(),
            mlirGetDialectHandle__index__(),
            mlirGetDialectHandle__gpu__(),
            mlirGetDialectHandle__llvm__(),
            mlirGetDialectHandle__nvvm__(),
            mlirGetDialectHandle__rocdl__(),
            mlirGetDialectHandle__vector__(),
            // Needed to parse our own dialect definitions.
            mlirGetDialectHandle__irdl__(),
        ] {
            DialectHandle::from_raw(handle).insert_dialect(registry);
        }
    }
}

/// Loads the `task`, `device` and `looppar` dialects into `context`.
/// Idempotent: loading twice leaves the context as after the first time.
pub fn load_dialects(context: &Context) -> Result<(), DialectError> {
    if context.is_registered_operation("task.spawn") {
        return Ok(());
    }
    for (dialect, source) in DEFINITIONS {
        let module = Module::parse(context, source).ok_or(DialectError::IrdlParse { dialect })?;
        if !load_irdl_dialects(&module) {
            return Err(DialectError::IrdlLoad { dialect });
        }
    }
    // SAFETY: the context is alive for the call; the function only reads
    // the loaded dialects and registers two ops.
    if unsafe { parlaRegisterNativeOps(context.to_raw()) } {
        Ok(())
    } else {
        Err(DialectError::NativeOps)
    }
}

/// Creates a context with the upstream dialects registered and loaded, and
/// the project's dialects loaded.
pub fn create_context() -> Result<Context, DialectError> {
    let registry = DialectRegistry::new();
    register_upstream_dialects(&registry);
    // The dialect extensions (e.g. each dialect's conversion to LLVM, which
    // convert-gpu-to-nvvm collects) come with the full registration;
    // dialects still load only when IR uses them.
    melior::utility::register_all_dialects(&registry);
    let context = Context::new();
    context.append_dialect_registry(&registry);
    for dialect in ["builtin", "func", "arith", "memref", "scf", "irdl"] {
        context.get_or_load_dialect(dialect);
    }
    load_dialects(&context)?;
    // Translating the LLVM dialect (and nvvm/rocdl) to LLVM IR, for the JIT
    // and for GPU device code.
    melior::utility::register_all_llvm_translations(&context);
    Ok(context)
}
