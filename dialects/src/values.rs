//! Telling op results from block arguments.
//!
//! melior's `TryFrom` conversions between them print the value into their
//! error when it is of the other kind, and printing a value builds the
//! printer's state for, and verifies, the whole function around it: code
//! that asked that of every operand took time quadratic in the size of the
//! function (seconds for a few hundred checked accesses). These test the
//! kind first and convert only values of that kind.

use melior::ir::{block::BlockArgument, operation::OperationResult, Value, ValueLike};

/// `value` as the result of an op, if it is one.
pub fn op_result<'c, 'a>(value: Value<'c, 'a>) -> Option<OperationResult<'c, 'a>> {
    if value.is_operation_result() {
        OperationResult::try_from(value).ok()
    } else {
        None
    }
}

/// `value` as an argument of a block, if it is one.
pub fn block_argument<'c, 'a>(value: Value<'c, 'a>) -> Option<BlockArgument<'c, 'a>> {
    if value.is_block_argument() {
        BlockArgument::try_from(value).ok()
    } else {
        None
    }
}
