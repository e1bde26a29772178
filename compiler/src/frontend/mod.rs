//! The front end of JIT functions: a Python syntax tree in, `looppar` IR
//! of one specialisation out.
//!
//! 1. `syntax`: the Python `ast` as plain data (built by the Python layer).
//! 2. `ast`: the checked front-end AST; unsupported constructs are
//!    rejected here with file:line:col (`namespaces`: what `parir.`,
//!    `math.` and `np.` functions mean; `loop_exits`: loops
//!    without `continue` and `break`).
//! 3. `emit`: at call time, the IR for the call's argument kinds, dtypes,
//!    shapes, scalar values and parallel specification.

pub mod assignment;
pub mod ast;
pub mod emit;
pub mod error;
pub mod loop_exits;
pub mod namespaces;
pub mod spec;
mod stack;
pub mod syntax;
pub mod types;

pub use ast::{convert, Function};
pub use emit::{emit, CheckKind, CheckSite, Emitted, Target};
pub use error::{CompileError, Source, Span};
pub use namespaces::Namespace;
pub use spec::{Argument, ArrayInfo, LabelSpec};
pub use types::DType;
