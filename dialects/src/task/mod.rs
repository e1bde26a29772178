//! The `task` dialect: a Parla task graph (task spaces, spawns with
//! dependencies, placement and resources, awaits). See
//! `docs/dialects/task.md`.

pub mod ops;
pub(crate) mod verify;

use crate::{builder::parse_type, DialectError};
use melior::{ir::Type, Context};

/// `!task.space`: a namespace of task ids.
pub fn space_type(context: &Context) -> Result<Type<'_>, DialectError> {
    parse_type(context, "!task.space", "!task.space")
}

/// `!task.handle`: one task.
pub fn handle_type(context: &Context) -> Result<Type<'_>, DialectError> {
    parse_type(context, "!task.handle", "!task.handle")
}

/// `!task.group`: a rectangular set of tasks of one space.
pub fn group_type(context: &Context) -> Result<Type<'_>, DialectError> {
    parse_type(context, "!task.group", "!task.group")
}
