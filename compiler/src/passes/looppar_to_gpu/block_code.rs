//! The block-level code of a kernel whose outer loop maps to blocks: the
//! outer loop's body except its inner parallel loops, whose iterations the
//! threads of the block share. Every thread of the block runs block-level
//! code, with the same values (nothing in it depends on the thread), so:
//!
//! - its writes to global memory are done by thread 0 alone
//!   ([`global_writes`]: stores, atomic updates, at any depth);
//! - barriers order it against the inner loops ([`synchronize`]): between
//!   two steps that touch global memory where either writes it, after
//!   every inner loop (its threads' writes; a block reduction's
//!   `gpu.all_reduce` reuses shared memory), and at the end of a
//!   block-level loop's body whose steps write. Parir's CUDA has a
//!   `__syncthreads()` in such places.
//!
//! Since every thread runs block-level code the same way, every barrier is
//! reached by all threads of the block or by none. One case breaks that:
//! a condition computed from memory that another block writes at the same
//! time (a race in the program, whose answer is not determined on a CPU
//! either) may differ between the threads of a block, and a barrier under
//! it would hang the block. So conditions and bounds read from memory that
//! steer code with barriers are agreed on first ([`agree_on_conditions`]).

use super::{all_reduce, defined_in};
use crate::passes::{build::Builder, rewrite};
use melior::ir::{
    operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
    BlockLike, BlockRef, RegionLike, ValueLike,
};
use mlir_sys::MlirOperation;

/// What a step of block-level code does with global memory.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Effect {
    reads: bool,
    /// Writes it (thread 0 alone, in block-level code).
    writes: bool,
    /// Is or holds an inner parallel loop.
    parallel: bool,
}

impl Effect {
    fn touches(self) -> bool {
        self.reads || self.writes || self.parallel
    }

    fn union(self, other: Effect) -> Effect {
        Effect {
            reads: self.reads || other.reads,
            writes: self.writes || other.writes,
            parallel: self.parallel || other.parallel,
        }
    }

    /// Whether `later` must wait for all threads to finish `self`: a write
    /// before or after an access, or an inner loop before anything (its
    /// threads' writes, and shared memory a block reduction reuses).
    fn conflicts_with(self, later: Effect) -> bool {
        (self.parallel && later.touches())
            || (self.writes && later.touches())
            || (later.writes && self.touches())
    }
}

/// The inner parallel loops of one kernel and its `gpu.launch`.
pub(super) struct Kernel<'k> {
    pub inner: &'k [MlirOperation],
    pub launch: MlirOperation,
}

impl Kernel<'_> {
    fn is_inner(&self, op: OperationRef) -> bool {
        self.inner.iter().any(|raw| raw.ptr == op.to_raw().ptr)
    }

    /// The global memory `op` itself writes or reads, if any.
    fn access(&self, op: OperationRef) -> Effect {
        let (memref, writes) = match written_memref(op) {
            Some(memref) => (Some(memref), true),
            None if rewrite::name_of(op) == "memref.load" => (op.operand(0).ok(), false),
            None => (None, false),
        };
        // SAFETY: the live launch that holds the code being looked at.
        let launch = unsafe { rewrite::view(self.launch) };
        match memref {
            Some(memref) if !defined_in(memref, launch) => Effect {
                reads: !writes,
                writes,
                parallel: false,
            },
            _ => Effect::default(),
        }
    }

    fn effect_of(&self, op: OperationRef) -> Effect {
        let mut effect = Effect::default();
        op.walk(WalkOrder::PreOrder, |nested| {
            effect = effect.union(self.access(nested));
            if self.is_inner(nested) {
                effect.parallel = true;
            }
            WalkResult::Advance
        });
        effect
    }
}

/// The memref `op` writes: stores and atomic updates.
fn written_memref<'c, 'a>(op: OperationRef<'c, 'a>) -> Option<melior::ir::Value<'c, 'a>> {
    let operand = match rewrite::name_of(op).as_str() {
        "memref.store" | "memref.atomic_rmw" => 1,
        "memref.generic_atomic_rmw" => 0,
        _ => return None,
    };
    op.operand(operand).ok()
}

/// Ops whose regions hold block-level code of their own.
fn is_control_flow(op: OperationRef) -> bool {
    matches!(
        rewrite::name_of(op).as_str(),
        "scf.if" | "scf.for" | "scf.while" | "scf.index_switch" | "looppar.for" | "looppar.while"
    )
}

fn is_loop(op: OperationRef) -> bool {
    matches!(
        rewrite::name_of(op).as_str(),
        "scf.for" | "scf.while" | "looppar.for" | "looppar.while"
    )
}

fn is_while(op: OperationRef) -> bool {
    matches!(rewrite::name_of(op).as_str(), "scf.while" | "looppar.while")
}

/// What the steps of `block` do, together.
fn block_effect(kernel: &Kernel, block: BlockRef) -> Effect {
    let mut effect = Effect::default();
    let mut current = block.first_operation();
    while let Some(op) = current {
        effect = effect.union(kernel.effect_of(op));
        current = op.next_in_block();
    }
    effect
}

/// A block-level while loop: its condition and its body run one after the
/// other, so a body that writes (or holds inner loops) starts with a
/// barrier when the condition touched memory: a thread that read the
/// condition late must not see the body's writes, or it would leave the
/// loop while the others stay, and their barriers would not pair up.
fn synchronize_while<'c>(
    b: &Builder<'c>,
    kernel: &Kernel,
    op: OperationRef<'c, '_>,
) -> Result<(), String> {
    let block_of = |index: usize| -> Result<BlockRef<'c, '_>, String> {
        op.region(index)
            .map_err(|e| e.to_string())?
            .first_block()
            .ok_or_else(|| "a while loop without a block".to_string())
    };
    let (condition, body) = (block_of(0)?, block_of(1)?);
    synchronize(b, kernel, condition, false)?;
    let (reads, runs) = (block_effect(kernel, condition), block_effect(kernel, body));
    if reads.touches() && (runs.writes || runs.parallel) {
        let first = body.first_operation().ok_or("an empty loop body")?;
        body.insert_operation_before(first, b.build("gpu.barrier", &[], &[], &[])?);
    }
    synchronize(b, kernel, body, true)
}

/// Inserts the barriers of block-level code into `block` (and the blocks
/// of its control flow); `loops` when `block` is the body of a loop whose
/// iterations run one after another in every thread.
pub(super) fn synchronize<'c>(
    b: &Builder<'c>,
    kernel: &Kernel,
    block: BlockRef<'c, '_>,
    loops: bool,
) -> Result<(), String> {
    let barrier = |before: OperationRef<'c, '_>| -> Result<(), String> {
        block.insert_operation_before(before, b.build("gpu.barrier", &[], &[], &[])?);
        Ok(())
    };
    let terminator = block.terminator().ok_or("a block without terminator")?;
    // What the steps since the last barrier did, and the whole block.
    let mut pending = Effect::default();
    let mut whole = Effect::default();
    let mut current = block.first_operation();
    while let Some(op) = current {
        current = op.next_in_block();
        if op == terminator {
            break;
        }
        let effect = kernel.effect_of(op);
        if !effect.touches() {
            continue;
        }
        whole = whole.union(effect);
        if (effect.writes || effect.parallel) && !kernel.is_inner(op) && is_control_flow(op) {
            if is_while(op) {
                synchronize_while(b, kernel, op)?;
            } else {
                let inner_loops = is_loop(op);
                for region in op.regions() {
                    let mut nested = region.first_block();
                    while let Some(nested_block) = nested {
                        synchronize(b, kernel, nested_block, inner_loops)?;
                        nested = nested_block.next_in_region();
                    }
                }
            }
        }
        if pending.conflicts_with(effect) {
            barrier(op)?;
            pending = Effect::default();
        }
        pending = pending.union(effect);
        if effect.parallel {
            barrier(
                op.next_in_block()
                    .ok_or("an inner loop without successor")?,
            )?;
            pending = Effect::default();
        }
    }
    // The next iteration's first steps against this one's last.
    if loops && (whole.writes || whole.parallel) && pending.touches() {
        barrier(terminator)?;
    }
    Ok(())
}

/// The writes to global memory in the block-level code of `body` (not in
/// the inner loops): thread 0 does them.
pub(super) fn global_writes(kernel: &Kernel, body: BlockRef) -> Vec<MlirOperation> {
    let mut writes = Vec::new();
    let mut current = body.first_operation();
    while let Some(op) = current {
        op.walk(WalkOrder::PreOrder, |nested| {
            if kernel.is_inner(nested) {
                return WalkResult::Skip;
            }
            if kernel.access(nested).writes {
                writes.push(nested.to_raw());
                // The body of an atomic update is not code of its own.
                return WalkResult::Skip;
            }
            WalkResult::Advance
        });
        current = op.next_in_block();
    }
    writes
}

/// Whether `op` holds a parallel loop (other than itself).
pub(super) fn holds_parallel_loop(op: OperationRef) -> bool {
    let mut found = false;
    op.walk(WalkOrder::PreOrder, |nested| {
        if nested != op && rewrite::is_parallel_loop(nested) {
            found = true;
            return WalkResult::Interrupt;
        }
        WalkResult::Advance
    });
    found
}

/// The innermost parallel loops inside `body` (the body of an outermost
/// parallel loop), at any depth, and the parallel loops between them and
/// the outermost.
pub(super) fn levels(body: BlockRef) -> (Vec<MlirOperation>, Vec<MlirOperation>) {
    let mut inner = Vec::new();
    let mut middle = Vec::new();
    let mut current = body.first_operation();
    while let Some(child) = current {
        child.walk(WalkOrder::PreOrder, |op| {
            if !rewrite::is_parallel_loop(op) {
                return WalkResult::Advance;
            }
            if holds_parallel_loop(op) {
                middle.push(op.to_raw());
                WalkResult::Advance
            } else {
                inner.push(op.to_raw());
                WalkResult::Skip
            }
        });
        current = child.next_in_block();
    }
    (inner, middle)
}

/// A write, in an inner loop of the outermost parallel loop `raw`, to a
/// local of the block-level code other than as the inner loop's reduction
/// (`if x[i, j] > 0.5: s += x[i, j]`, `if ...: found = 1`): each thread of
/// the block keeps a copy of its own of such a local, so the update would
/// reach one copy in each thread instead of the block's value.
///
/// # Safety
/// `raw` must be a live outermost parallel `looppar.for`.
pub(super) unsafe fn copies_updated_by_threads<'c, 'a>(
    raw: MlirOperation,
) -> Option<(OperationRef<'c, 'a>, String)> {
    // SAFETY: the caller's contract.
    let outer: OperationRef<'c, 'a> = unsafe { rewrite::view(raw) };
    let body = outer.region(0).ok()?.first_block()?;
    let (inner, _) = levels(body);
    for loop_raw in inner {
        // SAFETY: a live loop inside `outer`.
        let inner_loop: OperationRef<'c, 'a> = unsafe { rewrite::view(loop_raw) };
        let reduction_stores: Vec<_> = if inner_loop.has_attribute("reduction") {
            crate::passes::looppar_detect_reductions::find_all(inner_loop)
                .iter()
                .map(|pattern| pattern.store.to_raw().ptr)
                .collect()
        } else {
            Vec::new()
        };
        let mut found = None;
        inner_loop.walk(WalkOrder::PreOrder, |op| {
            let Some(memref) = written_memref(op) else {
                return WalkResult::Advance;
            };
            let local = parla_dialects::values::op_result(memref)
                .is_some_and(|r| rewrite::name_of(r.owner()) == "memref.alloca");
            if local
                && defined_in(memref, outer)
                && !defined_in(memref, inner_loop)
                && !reduction_stores.contains(&op.to_raw().ptr)
            {
                found = Some(op.to_raw());
                return WalkResult::Interrupt;
            }
            WalkResult::Advance
        });
        if found.is_some() {
            // The loop, which always has the user's line (the update may
            // be one the front end made).
            return Some((
                inner_loop,
                "on a GPU the threads of a block share this parallel loop's iterations, and each keeps \
                 its own copy of a variable assigned before the loop: update such a variable only as a \
                 reduction of the whole loop body (s += x[i, j], also under conditions: if x[i, j] > \
                 0.5: s += x[i, j]; found = max(found, 1)), or keep it in an array element"
                    .to_string(),
            ));
        }
    }
    None
}

/// Whether `op` holds code that every thread of the block must reach:
/// barriers and block reductions.
fn holds_barriers(op: OperationRef) -> bool {
    let mut found = false;
    op.walk(WalkOrder::PreOrder, |nested| {
        if matches!(
            rewrite::name_of(nested).as_str(),
            "gpu.barrier" | "gpu.all_reduce"
        ) {
            found = true;
            return WalkResult::Interrupt;
        }
        WalkResult::Advance
    });
    found
}

/// Whether block-level `value` may differ between the threads of a block:
/// it is computed from memory (which a racing block may change between
/// two threads' reads). Block arguments (loop variables of block-level
/// loops) and block reductions' results are the same in every thread.
fn read_from_memory(value: melior::ir::Value, depth: usize) -> bool {
    let Some(result) = parla_dialects::values::op_result(value) else {
        return false;
    };
    let owner = result.owner();
    match rewrite::name_of(owner).as_str() {
        "memref.load" | "memref.atomic_rmw" | "memref.generic_atomic_rmw" => true,
        "gpu.all_reduce" | "arith.constant" => false,
        // Deeper than any condition the front end writes: assume the worst.
        _ if depth > 64 => true,
        _ => owner.operands().any(|v| read_from_memory(v, depth + 1)),
    }
}

/// Makes the conditions and bounds of block-level control flow that holds
/// barriers the same in every thread, where they are read from memory:
/// the block agrees on one value (any thread's true, the largest bound)
/// with a block reduction, followed by a barrier before its shared memory
/// is used again.
pub(super) fn agree_on_conditions<'c>(
    b: &Builder<'c>,
    kernel: &Kernel,
    body: BlockRef<'c, '_>,
) -> Result<(), String> {
    // (op, operand index) pairs to replace, found before any change.
    let mut steering: Vec<(MlirOperation, usize)> = Vec::new();
    let mut current = body.first_operation();
    while let Some(child) = current {
        child.walk(WalkOrder::PreOrder, |op| {
            if kernel.is_inner(op) {
                return WalkResult::Skip;
            }
            let (holder, operands) = match rewrite::name_of(op).as_str() {
                "scf.if" => (Some(op), vec![0]),
                "looppar.for" => (Some(op), vec![0, 1, 2]),
                "looppar.condition" | "scf.condition" => (op.parent_operation(), vec![0]),
                _ => (None, Vec::new()),
            };
            if holder.is_some_and(holds_barriers) {
                for index in operands {
                    if op.operand(index).is_ok_and(|v| read_from_memory(v, 0)) {
                        steering.push((op.to_raw(), index));
                    }
                }
            }
            WalkResult::Advance
        });
        current = child.next_in_block();
    }
    for (raw, index) in steering {
        // SAFETY: collected from the live block-level code above.
        let op = unsafe { rewrite::view(raw) };
        let block = op.block().ok_or("control flow outside a block")?;
        let value = op.operand(index).map_err(|e| e.to_string())?;
        let agreed = agreed_value(b, block, op, value)?;
        // SAFETY: replaces one operand of a live op with a value that
        // dominates it (built just before it).
        unsafe { mlir_sys::mlirOperationSetOperand(raw, index as isize, agreed.to_raw()) };
    }
    Ok(())
}

/// The block's common value of `value` (an `i1` condition, or an index or
/// integer bound), computed before `before`.
fn agreed_value<'c, 'a>(
    b: &Builder<'c>,
    block: BlockRef<'c, 'a>,
    before: OperationRef<'c, 'a>,
    value: melior::ir::Value<'c, 'a>,
) -> Result<melior::ir::Value<'c, 'a>, String> {
    use crate::passes::build::insert;
    use melior::ir::{r#type::IntegerType, TypeLike};
    let ty = value.r#type();
    let i32_type = IntegerType::new(b.context, 32).into();
    let i64_type = IntegerType::new(b.context, 64).into();
    let (wide, operation) = if ty.is_index() {
        let cast = b.build("arith.index_cast", &[value], &[i64_type], &[])?;
        (insert(block, before, cast), "maxsi")
    } else if IntegerType::try_from(ty).is_ok_and(|i| i.width() == 1) {
        let cast = b.build("arith.extui", &[value], &[i32_type], &[])?;
        (insert(block, before, cast), "or")
    } else if IntegerType::try_from(ty).is_ok_and(|i| i.width() == 32 || i.width() == 64) {
        (value, "maxsi")
    } else {
        return Err(format!("cannot agree on a block-level value of type {ty}"));
    };
    let agreed = insert(block, before, all_reduce(b, operation, wide)?);
    block.insert_operation_before(before, b.build("gpu.barrier", &[], &[], &[])?);
    if ty.is_index() {
        Ok(insert(
            block,
            before,
            b.build("arith.index_cast", &[agreed], &[ty], &[])?,
        ))
    } else if wide != value {
        let zero = insert(
            block,
            before,
            b.build(
                "arith.constant",
                &[],
                &[i32_type],
                &[(
                    "value",
                    melior::ir::attribute::IntegerAttribute::new(i32_type, 0).into(),
                )],
            )?,
        );
        // predicate 1: ne
        let predicate = melior::ir::attribute::IntegerAttribute::new(i64_type, 1).into();
        Ok(insert(
            block,
            before,
            b.build(
                "arith.cmpi",
                &[agreed, zero],
                &[ty],
                &[("predicate", predicate)],
            )?,
        ))
    } else {
        Ok(agreed)
    }
}
