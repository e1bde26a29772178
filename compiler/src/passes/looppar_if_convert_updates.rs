//! `looppar-if-convert-updates`: a conditional update of a local,
//! `if c: s += v` (`s = max(s, v)`, `*=`, an `else` that updates it the
//! same way, `elif` chains, several locals under one condition), becomes
//! an unconditional update by a value chosen under the condition, the
//! identity where no branch updates:
//!
//! ```text
//! scf.if %c {                          %v' = scf.if %c -> (f32) {
//!   ...                                  ...
//!   %old = memref.load %s[]              scf.yield %v
//!   %new = arith.addf %old, %v     =>  } else {
//!   memref.store %new, %s[]              scf.yield %identity
//! }                                    }
//!                                      %old = memref.load %s[]
//!                                      %new = arith.addf %old, %v'
//!                                      memref.store %new, %s[]
//! ```
//!
//! The result is the update `looppar-detect-reductions` recognises, so a
//! conditional sum in a parallel loop is a reduction (a block reduction on
//! GPUs, where the threads of a block share the loop), and sequential
//! loops become branch-free. The value is the one the program computes:
//! the identities are exact (`x + -0.0`, `x * 1`, `min(x, +inf)` and
//! integer extremes are `x` for every `x`, NaN and -0.0 included, as are
//! `x & -1`, `x | 0` and `x ^ 0`), the
//! branches run the same ops under the same condition, and only the load
//! of the local moves, below code that does not touch it.
//!
//! Locals are `memref.alloca` slots of no dimensions that only loads and
//! stores use (nothing aliases them). Elements of array parameters are
//! converted too where their indices are constants within the static
//! shape (`if x[i] > 0: y[0] += x[i]`, whose atomic updates from every
//! qualifying iteration become a reduction); other array elements stay as
//! written (their load could fault where the condition is false).
//! Combining ops whose identity is not exact (`minnumf`, which drops NaN)
//! and types with no atomic form stay too.

use super::{build, looppar_check_races, looppar_detect_reductions, rewrite};
use melior::{
    ir::{
        operation::{OperationBuilder, OperationLike, OperationRef, WalkOrder},
        r#type::{MemRefType, ShapedTypeLike},
        Block, BlockLike, BlockRef, Region, RegionLike, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-if-convert-updates",
    "Turn conditional updates of a local (if c: s += v) into updates by a value chosen under the condition (the identity where no branch updates)",
    run,
    depends on [arith, scf]
);

fn run(root: OperationRef, pass: ExternalPass) {
    // Innermost first: a converted `elif` is an update of the enclosing
    // branch, which can then be converted in turn.
    for raw in rewrite::collect(root, "scf.if").into_iter().rev() {
        // SAFETY: collected from the live IR; an `scf.if` is erased only
        // when converted, after every `scf.if` nested in it was visited.
        let if_op = unsafe { rewrite::view(raw) };
        if let Err(message) = unsafe { convert(if_op) } {
            rewrite::emit_error(
                if_op.location(),
                &format!("looppar-if-convert-updates: {message}"),
            );
            pass.signal_failure();
            return;
        }
    }
}

/// The update of one local in a branch: `%old = load`, `%new = op %old,
/// %contribution`, `store %new`, all in the branch's block.
struct Update<'c, 'a> {
    slot: Value<'c, 'a>,
    /// The element's indices (none for a local).
    indices: Vec<Value<'c, 'a>>,
    load: OperationRef<'c, 'a>,
    combine: OperationRef<'c, 'a>,
    store: OperationRef<'c, 'a>,
    contribution: Value<'c, 'a>,
}

/// Whether `value` is a local that only loads and stores use: a
/// `memref.alloca` of no dimensions, defined outside `if_op` (so nothing
/// but its own loads and stores, which the pass counts, reads or writes
/// it, and the load can move below the branch).
fn is_local(value: Value, if_op: OperationRef) -> bool {
    crate::analysis::locals::is_scalar_local(value)
        && parla_dialects::values::op_result(value)
            .is_some_and(|r| !rewrite::is_nested_in(r.owner(), if_op))
}

/// Whether `store` writes an element of an array parameter at constant
/// indices within its static shape, with nothing defined in `if_op`: a
/// load of it cannot fault, so it may run whether or not the condition
/// holds. (Array parameters do not alias one another: the front end
/// compiles one array passed twice as one, and rejects overlapping views
/// that the function writes.)
fn is_known_element(store: OperationRef, slot: Value, if_op: OperationRef) -> bool {
    if parla_dialects::values::block_argument(slot).is_none() {
        return false;
    }
    let Ok(shape) = MemRefType::try_from(slot.r#type()) else {
        return false;
    };
    let indices: Vec<Value> = store.operands().skip(2).collect();
    indices.len() == shape.rank()
        && indices.iter().enumerate().all(|(axis, index)| {
            let constant = parla_dialects::values::op_result(*index).and_then(|r| {
                let op = r.owner();
                (rewrite::name_of(op) == "arith.constant" && !rewrite::is_nested_in(op, if_op))
                    .then(|| op.attribute("value").ok())
                    .flatten()
                    .and_then(|a| melior::ir::attribute::IntegerAttribute::try_from(a).ok())
                    .map(|i| i.value())
            });
            let size = match shape.dim_size(axis) {
                Ok(melior::ir::r#type::DimSize::Static(size)) => i64::try_from(size).ok(),
                _ => None,
            };
            matches!((constant, size), (Some(k), Some(n)) if (0..n).contains(&k))
        })
}

/// Whether `a` and `b` carry the same attributes (fastmath, overflow
/// flags): the merged update keeps one op's.
fn same_attributes(a: OperationRef, b: OperationRef) -> bool {
    // SAFETY: reads the attributes of two live ops.
    unsafe {
        let count = mlir_sys::mlirOperationGetNumAttributes(a.to_raw());
        if count != mlir_sys::mlirOperationGetNumAttributes(b.to_raw()) {
            return false;
        }
        (0..count).all(|i| {
            let named = mlir_sys::mlirOperationGetAttribute(a.to_raw(), i);
            let name = mlir_sys::mlirIdentifierStr(named.name);
            let other = mlir_sys::mlirOperationGetAttributeByName(b.to_raw(), name);
            !other.ptr.is_null() && mlir_sys::mlirAttributeEqual(named.attribute, other)
        })
    }
}

/// Combining ops with an exact identity (`build::partial_identity`).
fn exact_identity(name: &str) -> bool {
    matches!(
        name,
        "arith.addf"
            | "arith.addi"
            | "arith.mulf"
            | "arith.muli"
            | "arith.minimumf"
            | "arith.maximumf"
            | "arith.minsi"
            | "arith.minui"
            | "arith.maxsi"
            | "arith.maxui"
            | "arith.andi"
            | "arith.ori"
            | "arith.xori"
    )
}

/// How many ops nested in `block` (at any depth) use `value`.
fn accesses(block: BlockRef, value: Value) -> usize {
    let mut count = 0;
    let mut current = block.first_operation();
    while let Some(op) = current {
        op.walk(WalkOrder::PreOrder, |nested| {
            count += nested.operands().filter(|v| *v == value).count();
            melior::ir::operation::WalkResult::Advance
        });
        current = op.next_in_block();
    }
    count
}

/// The updates of locals in `block` (a branch of `if_op`) that nothing
/// else in it touches.
fn updates<'c, 'a>(block: BlockRef<'c, 'a>, if_op: OperationRef) -> Vec<Update<'c, 'a>> {
    let mut found = Vec::new();
    let mut current = block.first_operation();
    while let Some(store) = current {
        current = store.next_in_block();
        if rewrite::name_of(store) != "memref.store" {
            continue;
        }
        let (Ok(new), Ok(slot)) = (store.operand(0), store.operand(1)) else {
            continue;
        };
        let known = is_local(slot, if_op) || is_known_element(store, slot, if_op);
        if !known || !rewrite::has_atomic_form(new.r#type()) {
            continue;
        }
        let indices: Vec<Value> = store.operands().skip(2).collect();
        let Some(combine) = parla_dialects::values::op_result(new).map(|r| r.owner()) else {
            continue;
        };
        if !exact_identity(&rewrite::name_of(combine))
            || combine.block() != Some(block)
            || looppar_detect_reductions::uses(new) != 1
        {
            continue;
        }
        let (Ok(a), Ok(b)) = (combine.operand(0), combine.operand(1)) else {
            continue;
        };
        let loaded_here = |v: Value<'c, 'a>| {
            parla_dialects::values::op_result(v)
                .map(|r| r.owner())
                .filter(|load| {
                    rewrite::name_of(*load) == "memref.load"
                        && load.operand(0).ok() == Some(slot)
                        && load.operands().skip(1).eq(indices.iter().copied())
                        && load.block() == Some(block)
                        && looppar_detect_reductions::uses(v) == 1
                })
        };
        let (load, contribution) = match (loaded_here(a), loaded_here(b)) {
            (Some(_), Some(_)) => continue,
            (Some(load), None) => (load, b),
            (None, Some(load)) => (load, a),
            (None, None) => continue,
        };
        // The load and the store are the block's only accesses to the
        // local, so the load may move below the branch.
        if accesses(block, slot) != 2 {
            continue;
        }
        found.push(Update {
            slot,
            indices,
            load,
            combine,
            store,
            contribution,
        });
    }
    found
}

/// The block of region `index` of `if_op`, if the region has one.
fn branch<'c, 'a>(if_op: OperationRef<'c, 'a>, index: usize) -> Option<BlockRef<'c, 'a>> {
    if_op.region(index).ok()?.first_block()
}

/// An update of one local to convert: in the then branch (`then`), the
/// else branch (`otherwise`), or both with the same op.
struct Pair<'u, 'c, 'a> {
    then: Option<&'u Update<'c, 'a>>,
    otherwise: Option<&'u Update<'c, 'a>>,
}

impl<'u, 'c, 'a> Pair<'u, 'c, 'a> {
    /// The update that stays (moved below the branch).
    fn kept(&self) -> &'u Update<'c, 'a> {
        self.then
            .or(self.otherwise)
            .expect("a pair holds an update")
    }
}

/// Converts `if_op` if its branches update locals that each other branch
/// updates with the same op or does not touch: every such local at once
/// (`if c: s += a; q += b`).
///
/// # Safety
/// `if_op` must be live; it is erased when converted.
unsafe fn convert(if_op: OperationRef) -> Result<(), String> {
    if if_op.result_count() != 0 || looppar_check_races::is_bounds_check(if_op) {
        return Ok(());
    }
    let Some(then_block) = branch(if_op, 0) else {
        return Ok(());
    };
    let else_block = branch(if_op, 1);
    let in_then = updates(then_block, if_op);
    let in_else = else_block.map(|b| updates(b, if_op)).unwrap_or_default();
    let mut pairs = Vec::new();
    for update in &in_then {
        match in_else
            .iter()
            .find(|u| u.slot == update.slot && u.indices == update.indices)
        {
            Some(other)
                if rewrite::name_of(other.combine) == rewrite::name_of(update.combine)
                    && same_attributes(other.combine, update.combine) =>
            {
                pairs.push(Pair {
                    then: Some(update),
                    otherwise: Some(other),
                })
            }
            Some(_) => {}
            None if else_block.is_none_or(|b| accesses(b, update.slot) == 0) => pairs.push(Pair {
                then: Some(update),
                otherwise: None,
            }),
            None => {}
        }
    }
    for update in &in_else {
        if accesses(then_block, update.slot) == 0 {
            pairs.push(Pair {
                then: None,
                otherwise: Some(update),
            });
        }
    }
    if pairs.is_empty() {
        return Ok(());
    }
    unsafe { rebuild(if_op, &pairs) }
}

/// Replaces `if_op` by the loads of the pairs' locals, an `scf.if`
/// yielding each branch's contribution to each (the identity in a branch
/// without its update), and the combines and stores.
///
/// # Safety
/// `if_op` must be live and hold the pairs' updates; it is erased.
unsafe fn rebuild<'c, 'a>(
    if_op: OperationRef<'c, 'a>,
    pairs: &[Pair<'_, 'c, 'a>],
) -> Result<(), String> {
    // The `ContextRef` must outlive the `&Context` made from it.
    let context_ref = if_op.context();
    let context = unsafe { context_ref.to_ref() };
    let location = if_op.location();
    let block = if_op.block().ok_or("a condition outside a block")?;
    let builder = build::Builder::new(context, location);
    let types: Vec<_> = pairs
        .iter()
        .map(|p| p.kept().contribution.r#type())
        .collect();
    // Yielded by a branch that does not update (none when both do).
    let mut identities = Vec::new();
    for (pair, ty) in pairs.iter().zip(&types) {
        let identity = if pair.then.is_some() && pair.otherwise.is_some() {
            None
        } else {
            let combine = rewrite::name_of(pair.kept().combine);
            let kind =
                looppar_detect_reductions::kind_of(&combine).ok_or("an unknown combining op")?;
            let value = build::partial_identity(context, kind, &combine, *ty);
            Some(build::insert(
                block,
                if_op,
                builder.build("arith.constant", &[], &[*ty], &[("value", value)])?,
            ))
        };
        identities.push(identity);
    }
    let condition = if_op.operand(0).map_err(|e| e.to_string())?;
    let regions = vec![Region::new(), Region::new()];
    for region in &regions {
        region.append_block(Block::new(&[]));
    }
    let chosen = OperationBuilder::new("scf.if", location)
        .add_operands(&[condition])
        .add_results(&types)
        .add_regions_vec(regions)
        .build()
        .map_err(|e| format!("cannot build scf.if: {e}"))?;
    let chosen = block.insert_operation_before(if_op, chosen);
    let chosen_raw = chosen.to_raw();
    for index in 0..2 {
        let old = branch(if_op, index);
        let target = branch(chosen, index).ok_or("a new branch without a block")?;
        let mut yielded = Vec::new();
        let mut skipped = Vec::new();
        for (pair, identity) in pairs.iter().zip(&identities) {
            let here = if index == 0 {
                pair.then
            } else {
                pair.otherwise
            };
            match (here, identity) {
                (Some(u), _) => {
                    yielded.push(u.contribution);
                    skipped.extend([
                        u.load.to_raw().ptr,
                        u.combine.to_raw().ptr,
                        u.store.to_raw().ptr,
                    ]);
                }
                (None, Some(identity)) => yielded.push(*identity),
                (None, None) => {
                    return Err("a branch with neither an update nor an identity".into())
                }
            }
        }
        let yield_op = OperationBuilder::new("scf.yield", location)
            .add_operands(&yielded)
            .build()
            .map_err(|e| format!("cannot build scf.yield: {e}"))?;
        let yield_op = target.append_operation(yield_op);
        let Some(old) = old else { continue };
        let terminator = old.terminator().map(|t| t.to_raw().ptr);
        let mut current = old.first_operation().map(|o| o.to_raw());
        while let Some(raw) = current {
            // SAFETY: ops of the live old branch.
            let next = unsafe { rewrite::view(raw) }
                .next_in_block()
                .map(|o| o.to_raw());
            if Some(raw.ptr) != terminator && !skipped.contains(&raw.ptr) {
                unsafe { mlir_sys::mlirOperationMoveBefore(raw, yield_op.to_raw()) };
            }
            current = next;
        }
    }
    // Each kept combine takes its chosen value, in order below the branch;
    // an update in the other branch too is no longer needed.
    let mut after = chosen_raw;
    for (index, pair) in pairs.iter().enumerate() {
        let kept = pair.kept();
        let position = (0..kept.combine.operand_count())
            .find(|&i| kept.combine.operand(i).ok() == Some(kept.contribution))
            .ok_or("a combine without its contribution")?;
        // Load, combine and store together below the branch (which does
        // not touch the local), the update looppar-atomic-updates and
        // looppar-detect-reductions recognise.
        unsafe {
            mlir_sys::mlirOperationMoveAfter(kept.load.to_raw(), after);
            mlir_sys::mlirOperationMoveAfter(kept.combine.to_raw(), kept.load.to_raw());
            mlir_sys::mlirOperationSetOperand(
                kept.combine.to_raw(),
                position as isize,
                chosen.result(index).map_err(|e| e.to_string())?.to_raw(),
            );
            mlir_sys::mlirOperationMoveAfter(kept.store.to_raw(), kept.combine.to_raw());
        }
        after = kept.store.to_raw();
        if let (Some(_), Some(other)) = (pair.then, pair.otherwise) {
            unsafe {
                rewrite::erase(other.store.to_raw());
                rewrite::erase(other.combine.to_raw());
                rewrite::erase(other.load.to_raw());
            }
        }
    }
    unsafe { rewrite::erase(if_op.to_raw()) };
    Ok(())
}
