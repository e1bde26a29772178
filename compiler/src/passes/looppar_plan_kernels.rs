//! `looppar-plan-kernels`: decides, for each parallel loop whose body holds
//! sibling parallel loops of different parallelism, whether a GPU runs
//! them in one kernel (the smaller loops leave threads idle) or splits the
//! outer loop into one kernel per sibling (each extra kernel costs a
//! launch). The decision is recorded on the outer loop for the GPU
//! lowering: `kernels = "fused"` or `kernels = "split"`, with the two
//! estimates (`fused_cost`, `split_cost`).
//!
//! The model, in thread-operations: a sibling with `t` threads and a body
//! of `w` ops costs `t * w` when it runs in its own kernel, and
//! `t_max * w` in a fused kernel (every thread of the widest sibling is
//! occupied, working or idle); each kernel beyond the first adds
//! `LAUNCH_COST`. Parir's fixed rule (split unless every sibling fits one
//! block) is the special case of a large launch cost for small loops.

use super::rewrite;
use melior::{
    ir::{
        attribute::{IntegerAttribute, StringAttribute},
        operation::{
            OperationLike, OperationMutLike, OperationRef, OperationRefMut, WalkOrder, WalkResult,
        },
        r#type::IntegerType,
        BlockLike, RegionLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-plan-kernels",
    "Decide from a cost model whether sibling parallel loops of different parallelism share a GPU kernel or are split",
    run
);

/// What launching one more kernel costs, in thread-operations: about
/// 5 us of a GPU retiring ~2e4 thread-operations per microsecond.
pub const LAUNCH_COST: u64 = 100_000;

fn threads(op: OperationRef) -> Option<u64> {
    IntegerAttribute::try_from(op.attribute("threads").ok()?)
        .ok()
        .map(|i| i.value() as u64)
}

/// The ops in a loop's body, nested ones included: its work per thread.
fn work(op: OperationRef) -> u64 {
    let mut count = 0u64;
    op.walk(WalkOrder::PreOrder, |_| {
        count += 1;
        WalkResult::Advance
    });
    count.saturating_sub(1)
}

/// (fused cost, split cost) of sibling loops given as (threads, work).
pub fn costs(siblings: &[(u64, u64)]) -> (u64, u64) {
    let widest = siblings.iter().map(|(t, _)| *t).max().unwrap_or(0);
    // Saturating: thread counts go up to 2**63.
    let fused = siblings.iter().fold(0u64, |sum, (_, w)| {
        sum.saturating_add(widest.saturating_mul(*w))
    });
    let split = siblings
        .iter()
        .fold(0u64, |sum, (t, w)| sum.saturating_add(t.saturating_mul(*w)))
        .saturating_add(LAUNCH_COST.saturating_mul(siblings.len().saturating_sub(1) as u64));
    (fused, split)
}

fn run(root: OperationRef, _pass: ExternalPass) {
    for raw in rewrite::collect(root, "looppar.for") {
        // SAFETY: collected from the live IR; only attributes change.
        let outer = unsafe { rewrite::view(raw) };
        if threads(outer).is_none() {
            continue;
        }
        let Some(body) = outer.region(0).ok().and_then(|r| r.first_block()) else {
            continue;
        };
        let mut siblings = Vec::new();
        let mut current = body.first_operation();
        while let Some(op) = current {
            if rewrite::name_of(op) == "looppar.for" {
                if let Some(t) = threads(op) {
                    siblings.push((t, work(op)));
                }
            }
            current = op.next_in_block();
        }
        let distinct = siblings
            .iter()
            .map(|(t, _)| t)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if siblings.len() < 2 || distinct < 2 {
            continue;
        }
        let (fused, split) = costs(&siblings);
        // The reference borrows from the ContextRef: keep it alive.
        let context_ref = outer.context();
        let context = unsafe { context_ref.to_ref() };
        let i64_type = IntegerType::new(context, 64).into();
        let mut op = unsafe { OperationRefMut::from_raw(raw) };
        let decision = if split < fused { "split" } else { "fused" };
        op.set_attribute("kernels", StringAttribute::new(context, decision).into());
        op.set_attribute(
            "fused_cost",
            IntegerAttribute::new(i64_type, fused as i64).into(),
        );
        op.set_attribute(
            "split_cost",
            IntegerAttribute::new(i64_type, split as i64).into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_loops_stay_together_and_lopsided_large_ones_split() {
        // 32 and 1024 threads, 10 ops each: idling 992 threads is cheaper
        // than a launch.
        let (fused, split) = costs(&[(32, 10), (1024, 10)]);
        assert!(fused < split, "{fused} {split}");
        // 64 and 1,000,000 threads with heavy bodies: split.
        let (fused, split) = costs(&[(64, 500), (1_000_000, 500)]);
        assert!(split < fused, "{fused} {split}");
        // Thread counts up to 2**63 saturate instead of overflowing.
        let (fused, split) = costs(&[(32, 3), (i64::MAX as u64, 3), (i64::MAX as u64, 3)]);
        assert_eq!((fused, split), (u64::MAX, u64::MAX));
    }
}
