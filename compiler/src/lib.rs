//! The compiler: our passes, their registry, and textual pass pipelines
//! that mix our passes with upstream MLIR ones.
//!
//! Architecture invariant: the compiler builds and transforms IR and
//! produces artifacts; it never launches or schedules anything.

pub mod analysis;
pub mod diagnostics;
pub mod egraph;
pub mod frontend;
pub mod gpu;
pub mod jit;
pub mod kernel;
pub mod passes;
pub mod pipeline;
pub mod signature;
pub mod source;
pub mod symbols;

pub use pipeline::{
    add_pass, build_pipeline, module_pass_manager, register_upstream_passes, PipelineError,
};
