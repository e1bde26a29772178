//! Scalar locals: the front end keeps each Python local in a rank-0
//! `memref.alloca` slot, stored where it is assigned and loaded where it
//! is read. Analyses of index values see through such a load to the value
//! stored last before it in the same block (`j = i + 1; x[j] = ...` is
//! `x[i + 1]`), which is exact: nothing can write the slot in between.

use melior::ir::{
    operation::{OperationLike, OperationRef},
    r#type::MemRefType,
    BlockLike, ShapedTypeLike, Value, ValueLike,
};

use crate::passes::rewrite::{name_of, users};

/// How far into its block a load may be for its store to be looked for.
const SEARCH_LIMIT: usize = 4096;

/// Whether `value` is a local slot: a `memref.alloca` of no dimensions
/// that only loads read and stores write (as their memref), so that no
/// other op, view or call can reach it.
pub fn is_scalar_local(value: Value) -> bool {
    let Some(result) = parla_dialects::values::op_result(value) else {
        return false;
    };
    if name_of(result.owner()) != "memref.alloca"
        || !MemRefType::try_from(value.r#type()).is_ok_and(|t| t.rank() == 0)
    {
        return false;
    }
    users(value)
        .into_iter()
        .all(|(user, position)| match name_of(user).as_str() {
            "memref.load" => position == 0,
            "memref.store" => position == 1,
            _ => false,
        })
}

/// Whether `op` or an op nested in it stores to `slot`.
fn stores_to(op: OperationRef, slot: Value) -> bool {
    let mut found = false;
    op.walk(melior::ir::operation::WalkOrder::PreOrder, |nested| {
        if name_of(nested) == "memref.store" && nested.operand(1).is_ok_and(|m| m == slot) {
            found = true;
            return melior::ir::operation::WalkResult::Interrupt;
        }
        melior::ir::operation::WalkResult::Advance
    });
    found
}

/// The value a `memref.load` of a local slot reads, when a store earlier
/// in the load's block wrote it and no op between them (nor any op nested
/// in those) stores to the slot again. None otherwise (the value comes
/// from another block, a branch, an earlier iteration).
pub fn stored_value<'c, 'a>(load: OperationRef<'c, 'a>) -> Option<Value<'c, 'a>> {
    if name_of(load) != "memref.load" || load.operand_count() != 1 {
        return None;
    }
    let slot = load.operand(0).ok()?;
    if !is_scalar_local(slot) {
        return None;
    }
    // Forwards from the block's start (ops know only their next one):
    // the last store so far, forgotten at an op whose regions store.
    let block = load.block()?;
    let mut stored = None;
    let mut current = block.first_operation();
    for _ in 0..SEARCH_LIMIT {
        let op = current?;
        if op == load {
            return stored;
        }
        if name_of(op) == "memref.store" && op.operand(1).is_ok_and(|m| m == slot) {
            stored = op.operand(0).ok();
        } else if op.region_count() > 0 && stores_to(op, slot) {
            stored = None;
        }
        current = op.next_in_block();
    }
    None
}
