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
//! reached by all threads of the block or by none.

use super::defined_in;
use crate::passes::{build::Builder, rewrite};
use melior::ir::{
    operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
    BlockLike, BlockRef, RegionLike,
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
        let (operand, writes) = match rewrite::name_of(op).as_str() {
            "memref.store" | "memref.atomic_rmw" => (1, true),
            "memref.generic_atomic_rmw" => (0, true),
            "memref.load" => (0, false),
            _ => return Effect::default(),
        };
        // SAFETY: the live launch that holds the code being looked at.
        let launch = unsafe { rewrite::view(self.launch) };
        match op.operand(operand) {
            Ok(memref) if !defined_in(memref, launch) => Effect {
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
            let inner_loops = is_loop(op);
            for region in op.regions() {
                let mut nested = region.first_block();
                while let Some(nested_block) = nested {
                    synchronize(b, kernel, nested_block, inner_loops)?;
                    nested = nested_block.next_in_region();
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
