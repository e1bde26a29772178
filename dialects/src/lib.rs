//! The `task`, `device` and `looppar` MLIR dialects.
//!
//! Each dialect is defined in IRDL (`<name>/<name>.irdl.mlir`) and loaded
//! into a context at creation ([`create_context`]). MLIR's verifier checks
//! the structural constraints stated in IRDL; the rules IRDL cannot state
//! are checked by [`verify`]. Each dialect module has one typed builder per
//! op.

mod builder;
pub mod device;
mod error;
mod load;
pub mod looppar;
pub mod task;
pub mod values;
mod verify;

pub use error::DialectError;
pub use load::{create_context, load_dialects, register_upstream_dialects};
pub use verify::{verify, verify_semantics, Violation};
