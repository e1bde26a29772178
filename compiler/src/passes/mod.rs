//! Our passes. Each has one name, used for its flag, its file
//! (`passes/<name with underscores>.rs`) and its lit test.

/// Defines a pass's `INFO` and `create` from its flag, summary and `run`
/// function (`fn run(OperationRef, ExternalPass)`).
///
/// `depends on [gpu, scf]` names the dialects whose ops the pass creates:
/// MLIR loads them before any pass runs. A dialect loaded while a pass is
/// creating ops (e.g. by parsing one of its attributes) re-registers its op
/// names and leaves the ops already built dangling.
macro_rules! external_pass {
    ($name:literal, $summary:literal, $run:path $(, depends on [$($dialect:ident),*])?) => {
        pub(super) const INFO: super::PassInfo = super::PassInfo {
            name: $name,
            summary: $summary,
            anchor: "",
            create,
        };

        /// The pass's identity for MLIR (its address).
        #[repr(align(8))]
        struct PassId;
        static PASS_ID: PassId = PassId;

        /// `$run`, with a panic turned into the pass's failure.
        fn guarded(root: melior::ir::operation::OperationRef, pass: melior::pass::ExternalPass) {
            super::run_guarded(INFO.name, root, pass, $run)
        }

        fn create() -> melior::pass::Pass {
            melior::pass::create_external(
                guarded,
                melior::ir::r#type::TypeId::create(&PASS_ID),
                INFO.name,
                INFO.name,
                INFO.summary,
                INFO.anchor,
                &[$($(melior::dialect::DialectHandle::$dialect()),*)?],
            )
        }
    };
}

pub(crate) mod build;
mod gpu_noalias_kernel_arguments;
mod looppar_apply_parallel_spec;
pub(crate) mod looppar_atomic_updates;
mod looppar_check_bounds;
mod looppar_check_races;
mod looppar_detect_reductions;
mod looppar_expand_slices;
mod looppar_if_convert_updates;
mod looppar_plan_kernels;
pub(crate) mod looppar_simplify;
mod looppar_to_gpu;
mod looppar_to_scf;
mod math_exact_libm_calls;
mod openmp_float_minmax;
mod parla_verify;
pub mod rewrite;
mod rocdl_cas_subword_atomics;
mod rocdl_fold_workgroup_size;

use melior::{
    ir::operation::{OperationLike, OperationRef},
    pass::{ExternalPass, Pass},
};

/// Runs a pass; a panic (a bug: passes report bad input as diagnostics)
/// becomes an error diagnostic and the pass's failure, since unwinding
/// into MLIR's C++ would abort the process (and a Python interpreter).
pub(crate) fn run_guarded(
    name: &str,
    root: OperationRef,
    pass: ExternalPass,
    run: fn(OperationRef, ExternalPass),
) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(root, pass)));
    if let Err(payload) = outcome {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        rewrite::emit_error(root.location(), &format!("{name}: internal error: {what}"));
        pass.signal_failure();
    }
}

/// What the registry knows about one pass.
#[derive(Clone, Copy)]
pub struct PassInfo {
    /// The flag and pipeline name, e.g. `parla-verify`.
    pub name: &'static str,
    /// One line for `--help`.
    pub summary: &'static str,
    /// The op the pass runs on (`""` for any op).
    pub anchor: &'static str,
    /// Creates a fresh instance.
    pub create: fn() -> Pass,
}

/// Every pass of the project, in the order `--help` lists them.
pub const PASSES: &[PassInfo] = &[
    gpu_noalias_kernel_arguments::INFO,
    looppar_apply_parallel_spec::INFO,
    looppar_atomic_updates::INFO,
    looppar_check_bounds::INFO,
    looppar_check_races::INFO,
    looppar_detect_reductions::INFO,
    looppar_expand_slices::INFO,
    looppar_if_convert_updates::INFO,
    looppar_plan_kernels::INFO,
    looppar_simplify::INFO,
    looppar_to_gpu::INFO,
    looppar_to_scf::INFO,
    math_exact_libm_calls::INFO,
    openmp_float_minmax::INFO,
    parla_verify::INFO,
    rocdl_cas_subword_atomics::INFO,
    rocdl_fold_workgroup_size::INFO,
];

/// The pass named `name`, if it is ours.
pub fn lookup(name: &str) -> Option<&'static PassInfo> {
    PASSES.iter().find(|info| info.name == name)
}
