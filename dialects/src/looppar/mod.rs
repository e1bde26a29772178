//! The `looppar` dialect: labelled loop nests, slice statements and the
//! parallel specification of each label (Parir's API, as IR). See
//! `docs/dialects/looppar.md`.

pub mod ops;
pub(crate) mod verify;

use crate::{builder::parse_type, DialectError};
use melior::{ir::Type, Context};

/// `!looppar.view<element, rank>`: a slice of an array with `rank` ranging
/// dimensions.
pub fn view_type<'c>(
    context: &'c Context,
    element: Type<'c>,
    rank: usize,
) -> Result<Type<'c>, DialectError> {
    parse_type(
        context,
        "!looppar.view",
        &format!("!looppar.view<{element}, {rank} : i64>"),
    )
}

/// The element type and rank of a `!looppar.view`, read from its printed
/// form; `None` for other types.
pub fn view_parts(r#type: Type) -> Option<(String, usize)> {
    let text = r#type.to_string();
    let inner = text
        .strip_prefix("!looppar.view<")?
        .strip_suffix(" : i64>")?;
    let (element, rank) = inner.rsplit_once(", ")?;
    Some((element.to_string(), rank.trim().parse().ok()?))
}

/// A slice reduction's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceKind {
    Sum,
    Prod,
    Min,
    Max,
}

impl ReduceKind {
    /// The name used in the `kind` attribute.
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "sum",
            ReduceKind::Prod => "prod",
            ReduceKind::Min => "min",
            ReduceKind::Max => "max",
        }
    }
}

/// How one dimension of a `looppar.slice` is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SliceDim {
    /// A single index (one operand).
    Point,
    /// The whole dimension, `:`.
    Full,
    /// `lower:upper` (two operands).
    Range,
}

impl SliceDim {
    /// The code used in the `kinds` attribute.
    pub fn code(self) -> i64 {
        match self {
            SliceDim::Point => 0,
            SliceDim::Full => 1,
            SliceDim::Range => 2,
        }
    }
}

/// The parallel specification of one label: `parir.threads(n)` with
/// `.tpb(k)` and `.reduce()`, or `parir.seq()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parallelism {
    Threads {
        threads: u64,
        threads_per_block: Option<u64>,
        reduce: bool,
    },
    Sequential,
}
