//! `looppar-detect-reductions`: marks loops whose body updates one
//! memory location, the same in every iteration, with a combining
//! operation: `acc = acc op expr` with op one of +, *, min, max, and the
//! bitwise &, |, ^ of integers (written `acc[...] += expr`, `acc[...] =
//! max(acc[...], expr)`, `acc[...] |= expr`, or produced by a slice
//! reduction). The loop gets `reduction = "add" | "mul" | "min" | "max" |
//! "and" | "or" | "xor"`: `looppar-check-races` accepts it, and
//! `looppar-to-scf` lowers an outermost parallel one to a parallel
//! reduction.
//!
//! The pattern, in the loop's body block: `%old = memref.load M[I]`,
//! `%new = op %old, %expr` (either operand order), `memref.store %new,
//! M[I]`, with the same index values `I`, all defined outside the loop,
//! `M` defined outside the loop, and no other access to `M[I]` in the
//! loop: other accesses to `M` are loads and stores of elements certainly
//! different (`y[0] += a; y[1] += b` are two reductions).
//!
//! A subtraction from the location (`acc -= expr`, `acc = acc - expr`)
//! is first rewritten as the sum `acc + (-expr)`, which is the same value
//! (IEEE subtraction is addition of the negation; integers wrap alike), so
//! that it too is a reduction the lowerings combine across threads.

use super::build::{insert, Builder};
use super::rewrite;
use crate::analysis::affine::affine;
use melior::{
    ir::{
        attribute::{IntegerAttribute, StringAttribute},
        operation::{OperationLike, OperationMutLike, OperationRef, OperationRefMut},
        BlockLike, RegionLike, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-detect-reductions",
    "Mark loops that combine into one memory location in every iteration (acc = acc op expr) as reductions",
    run
);

/// The reduction kind of a combining op, by name.
pub(crate) fn kind_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "arith.addf" | "arith.addi" => "add",
        "arith.mulf" | "arith.muli" => "mul",
        "arith.minimumf" | "arith.minnumf" | "arith.minsi" | "arith.minui" => "min",
        "arith.maximumf" | "arith.maxnumf" | "arith.maxsi" | "arith.maxui" => "max",
        "arith.andi" => "and",
        "arith.ori" => "or",
        "arith.xori" => "xor",
        _ => return None,
    })
}

/// A detected reduction in a loop body.
pub(crate) struct Pattern<'c, 'a> {
    pub load: OperationRef<'c, 'a>,
    pub combine: OperationRef<'c, 'a>,
    pub store: OperationRef<'c, 'a>,
    /// The value each iteration contributes.
    pub contribution: Value<'c, 'a>,
    pub kind: &'static str,
}

impl Pattern<'_, '_> {
    /// Removes the update (store, combine, load: users first).
    ///
    /// # Safety
    /// The ops must be live, and nothing else may use the load's or the
    /// combine's result (a pattern's contract).
    pub(crate) unsafe fn erase(&self) {
        unsafe {
            rewrite::erase(self.store.to_raw());
            rewrite::erase(self.combine.to_raw());
            rewrite::erase(self.load.to_raw());
        }
    }
}

/// How many uses `value` has.
pub(crate) fn uses(value: Value) -> usize {
    rewrite::users(value).len()
}

fn inside(value: Value, loop_op: OperationRef) -> bool {
    !crate::passes::looppar_simplify::defined_outside(value, loop_op)
}

/// Finds the (first) reduction pattern in `loop_op`'s body, if there is
/// one.
pub(crate) fn find<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Option<Pattern<'c, 'a>> {
    find_all(loop_op).into_iter().next()
}

/// The reduction patterns in `loop_op`'s body, each into its own location
/// (`s += x[j]; q += x[j] * x[j]`), in body order. The lowerings combine
/// every one (a CPU's `scf.parallel` reduces each, GPU blocks reduce each
/// and combine them across the grid; an inner loop runs sequentially on a
/// CPU).
pub(crate) fn find_all<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Vec<Pattern<'c, 'a>> {
    let mut found = Vec::new();
    let Some((body, stores)) = stores_to_outer_locations(loop_op) else {
        return found;
    };
    for store in stores {
        let operands: Vec<Value> = store.operands().collect();
        let (new, memref, indices) = (operands[0], operands[1], &operands[2..]);
        let Some(combine) = parla_dialects::values::op_result(new).map(|r| r.owner()) else {
            continue;
        };
        let Some(kind) = kind_of(&rewrite::name_of(combine)) else {
            continue;
        };
        // Combined across threads by atomics and shuffles, which other
        // types do not have (looppar-atomic-updates then names the type).
        if !rewrite::has_atomic_form(new.r#type()) {
            continue;
        }
        if combine.block() != Some(body) || uses(new) != 1 {
            continue;
        }
        let (Ok(a), Ok(b)) = (combine.operand(0), combine.operand(1)) else {
            continue;
        };
        let is_old = |v: Value<'c, 'a>| loaded_once(v, memref, indices, body);
        let (load, contribution) = match (is_old(a), is_old(b)) {
            (Some(load), _) => (load, b),
            (None, Some(load)) => (load, a),
            _ => continue,
        };
        // No other access to the location in the loop: other ops on its
        // memref access elements certainly different from it (`y[0] += a;
        // y[1] += b`).
        let mut others = 0;
        loop_op.walk(melior::ir::operation::WalkOrder::PreOrder, |op| {
            let name = rewrite::name_of(op);
            if name.starts_with("memref.")
                && op != store
                && op != load
                && op.operands().any(|v| v == memref)
                && !accesses_another_element(op, memref, indices)
            {
                others += 1;
            }
            melior::ir::operation::WalkResult::Advance
        });
        if others == 0 {
            found.push(Pattern {
                load,
                combine,
                store,
                contribution,
                kind,
            });
        }
    }
    found
}

/// `loop_op`'s body block and the stores in it (not nested deeper) to a
/// location the loop does not define: its memref and indices come from
/// outside, the same in every iteration.
fn stores_to_outer_locations<'c, 'a>(
    loop_op: OperationRef<'c, 'a>,
) -> Option<(melior::ir::BlockRef<'c, 'a>, Vec<OperationRef<'c, 'a>>)> {
    let body = loop_op.region(0).ok()?.first_block()?;
    let mut stores = Vec::new();
    let mut current = body.first_operation();
    while let Some(op) = current {
        if rewrite::name_of(op) == "memref.store" {
            let operands: Vec<Value> = op.operands().collect();
            if !operands[1..].iter().any(|v| inside(*v, loop_op)) {
                stores.push(op);
            }
        }
        current = op.next_in_block();
    }
    Some((body, stores))
}

/// The load that `value` is, when it reads `memref[indices]` in `body`
/// and has no other use than one op.
fn loaded_once<'c, 'a>(
    value: Value<'c, 'a>,
    memref: Value<'c, 'a>,
    indices: &[Value<'c, 'a>],
    body: melior::ir::BlockRef<'c, 'a>,
) -> Option<OperationRef<'c, 'a>> {
    let load = parla_dialects::values::op_result(value)?.owner();
    let operands: Vec<Value> = load.operands().collect();
    let matches = rewrite::name_of(load) == "memref.load"
        && operands.first() == Some(&memref)
        && operands[1..] == *indices
        && load.block() == Some(body)
        && uses(value) == 1;
    matches.then_some(load)
}

/// Rewrites each `store (old - expr)` into the location `old` was loaded
/// from, in `loop_op`'s body, as `store (old + (-expr))`: the same value,
/// and the sum `find_all` recognises.
fn subtractions_as_sums(loop_op: OperationRef) -> Result<(), String> {
    let Some((body, stores)) = stores_to_outer_locations(loop_op) else {
        return Ok(());
    };
    for store in stores {
        let operands: Vec<Value> = store.operands().collect();
        let (new, memref, indices) = (operands[0], operands[1], &operands[2..]);
        let Some(subtract) = parla_dialects::values::op_result(new).map(|r| r.owner()) else {
            continue;
        };
        let float = match rewrite::name_of(subtract).as_str() {
            "arith.subf" => true,
            "arith.subi" => false,
            _ => continue,
        };
        if subtract.block() != Some(body) || uses(new) != 1 {
            continue;
        }
        let (Ok(old), Ok(expr)) = (subtract.operand(0), subtract.operand(1)) else {
            continue;
        };
        if loaded_once(old, memref, indices, body).is_none() {
            continue;
        }
        // `to_ref` borrows the ContextRef itself: it must outlive the
        // reference, so it is not a temporary.
        let context_ref = subtract.context();
        // SAFETY: the context outlives this pass run.
        let context = unsafe { context_ref.to_ref() };
        let make = Builder::new(context, subtract.location());
        let ty = new.r#type();
        let negated = if float {
            insert(
                body,
                subtract,
                make.build("arith.negf", &[expr], &[ty], &[])?,
            )
        } else {
            let zero = make.build(
                "arith.constant",
                &[],
                &[ty],
                &[("value", IntegerAttribute::new(ty, 0).into())],
            )?;
            let zero = insert(body, subtract, zero);
            insert(
                body,
                subtract,
                make.build("arith.subi", &[zero, expr], &[ty], &[])?,
            )
        };
        let add = if float { "arith.addf" } else { "arith.addi" };
        let sum = insert(
            body,
            subtract,
            make.build(add, &[old, negated], &[ty], &[])?,
        );
        // SAFETY: the store is live; the subtraction's only use was its
        // value operand, now the sum, so it is unused when erased.
        unsafe {
            mlir_sys::mlirOperationSetOperand(store.to_raw(), 0, sum.to_raw());
            rewrite::erase(subtract.to_raw());
        }
    }
    Ok(())
}

/// Whether `op` is an access (a load, a store, an atomic update) of
/// `memref` at an element certainly not `indices`' (in some dimension its
/// index differs from `indices`' by a nonzero constant: `y[0]` and
/// `y[1]`, `y[k]` and `y[k + 1]`).
fn accesses_another_element(op: OperationRef, memref: Value, indices: &[Value]) -> bool {
    let operands: Vec<Value> = op.operands().collect();
    let theirs = match rewrite::name_of(op).as_str() {
        "memref.load" | "memref.generic_atomic_rmw" if operands.first() == Some(&memref) => {
            &operands[1..]
        }
        "memref.store" | "memref.atomic_rmw" if operands.get(1) == Some(&memref) => &operands[2..],
        _ => return false,
    };
    theirs.len() == indices.len()
        && theirs.iter().zip(indices).any(|(a, b)| {
            matches!((affine(*a), affine(*b)), (Some(a), Some(b)) if a.difference(&b).is_some_and(|d| d != 0))
        })
}

fn run(root: OperationRef, pass: ExternalPass) {
    for raw in rewrite::collect(root, "looppar.for") {
        // SAFETY: collected from the live IR; only attributes change.
        let loop_op = unsafe { rewrite::view(raw) };
        if loop_op.has_attribute("reduction") {
            continue;
        }
        if let Err(message) = subtractions_as_sums(loop_op) {
            rewrite::emit_error(
                loop_op.location(),
                &format!("looppar-detect-reductions: {message}"),
            );
            pass.signal_failure();
            return;
        }
        if let Some(pattern) = find(loop_op) {
            let context = loop_op.context();
            let context = unsafe { context.to_ref() };
            let mut op = unsafe { OperationRefMut::from_raw(raw) };
            op.set_attribute(
                "reduction",
                StringAttribute::new(context, pattern.kind).into(),
            );
        }
    }
}
