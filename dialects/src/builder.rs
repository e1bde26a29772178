//! Small helpers shared by the typed op builders.

use crate::DialectError;
use melior::{
    ir::{operation::OperationBuilder, Attribute, Identifier, Operation, Type},
    Context,
};

/// Parses `text` as a type for the builder of `op`.
pub(crate) fn parse_type<'c>(
    context: &'c Context,
    op: &'static str,
    text: &str,
) -> Result<Type<'c>, DialectError> {
    Type::parse(context, text).ok_or_else(|| DialectError::Syntax {
        op,
        text: text.to_string(),
    })
}

/// Parses `text` as an attribute for the builder of `op`.
pub(crate) fn parse_attribute<'c>(
    context: &'c Context,
    op: &'static str,
    text: &str,
) -> Result<Attribute<'c>, DialectError> {
    Attribute::parse(context, text).ok_or_else(|| DialectError::Syntax {
        op,
        text: text.to_string(),
    })
}

/// A named attribute.
pub(crate) fn named<'c>(
    context: &'c Context,
    name: &str,
    attribute: Attribute<'c>,
) -> (Identifier<'c>, Attribute<'c>) {
    (Identifier::new(context, name), attribute)
}

/// Builds the op, naming it in the error.
pub(crate) fn finish<'c>(
    op: &'static str,
    builder: OperationBuilder<'c>,
) -> Result<Operation<'c>, DialectError> {
    builder
        .build()
        .map_err(|source| DialectError::Build { op, source })
}

/// `operandSegmentSizes` for ops with more than one variadic operand group.
pub(crate) fn segment_sizes<'c>(
    context: &'c Context,
    sizes: &[usize],
) -> (Identifier<'c>, Attribute<'c>) {
    let sizes: Vec<i32> = sizes.iter().map(|&n| n as i32).collect();
    named(
        context,
        "operandSegmentSizes",
        melior::ir::attribute::DenseI32ArrayAttribute::new(context, &sizes).into(),
    )
}
