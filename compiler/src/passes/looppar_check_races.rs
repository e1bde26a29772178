//! `looppar-check-races`: rejects parallel loops whose iterations
//! certainly conflict, instead of letting them compute wrong results.
//!
//! For each loop with `threads`, the indices of every `memref.store` and
//! `memref.load` in its body are read as affine forms (`analysis::affine`)
//! or, failing that, as functions of the loop variable alone
//! (`analysis::index_function`, e.g. `i % 7`). Conflicts are reported
//! when certain, and for the very same index read from the data where
//! nothing makes the updates commute (the data may repeat it):
//!
//! - a store whose element does not depend on the loop variable: every
//!   iteration writes the same element (a reduction the front end did not
//!   recognise, or a shared local);
//! - a store and another access to the same array that meet in two
//!   different iterations: solved exactly for affine indices
//!   (`analysis::dependence`: shifts, reversals, `x[2 * i]` against
//!   `x[i]`, `x[i]` against `x[0]`), and by evaluating indices that are
//!   other functions of the loop variable on the first and last
//!   iterations; affine indices that also use inner loops' variables
//!   (`x[i, j] = x[j, i]`) on the first iterations and inner values
//!   (`analysis::nest`: an inner loop with constant bounds runs all its
//!   values in every iteration);
//! - a store of an element chosen by the data (`h[b[i]]`) that the loop
//!   also reads, not made atomic (`h[b[i]] *= x[i]` on floats): the very
//!   same index from the data counts as shared, since nothing tells that
//!   the data never repeats it;
//! - a store under a condition to an element every iteration shares, of a
//!   value that differs between iterations (`if x[i] > 0: last = i`): a
//!   sequential loop keeps the last qualifying iteration's value, which
//!   parallel iterations cannot agree on. The same value from every writer
//!   (`found[0] = 1`) or a condition only one iteration meets (`i == 3`)
//!   is fine.
//!
//! Otherwise, an access is certain only if it runs in every iteration: accesses under
//! an `scf.if` (other than a bounds check's) or in a while loop are left
//! alone, and so are indices that depend on values computed in the loop
//! (a load, as in `y[idx[i]] = x[i]`), except a local's value stored
//! before its load in the same block (`analysis::locals`: `j = i + 1;
//! x[j] = x[i]` is `x[i + 1] = x[i]`). Buffers allocated inside the loop
//! (private locals) are skipped, and so are a detected reduction's load
//! and store of its location (`reduction` attribute,
//! `looppar-detect-reductions`' pattern): it is updated on purpose, but
//! the rest of the loop is checked (`y[0] += x[i]; z[0] = x[i]` races on
//! `z`).

use super::{looppar_detect_reductions, looppar_simplify::defined_outside, rewrite};
use crate::analysis::{
    affine::{affine, symbol_of, Affine, Symbol},
    dependence::{meeting_iterations, Equation},
    index_function::{index_function, IndexFunction},
    nest::{nest_meeting, Iterations},
};
use melior::{
    ir::{
        operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
        BlockLike, RegionLike, Value, ValueLike,
    },
    pass::ExternalPass,
};
use std::collections::{HashMap, HashSet};

external_pass!(
    "looppar-check-races",
    "Reject parallel loops whose iterations certainly write what other iterations read or write",
    run
);

/// How many of the first and of the last iterations the index functions
/// that are not affine are evaluated on.
const SAMPLED_ITERATIONS: i64 = 4096;

struct Access<'c, 'a> {
    op: OperationRef<'c, 'a>,
    memref: Value<'c, 'a>,
    is_store: bool,
    /// The kind of an atomic update (`looppar-atomic-updates`): `addf`,
    /// `maxs`, `arith.muli` for a compare-and-swap loop. Iterations may
    /// share its element with each other's atomic updates of the same
    /// kind, but not with plain reads and writes (`y[1] += v; z[i] = y[1]`
    /// reads a partial sum that depends on the order), nor with atomics of
    /// another kind (an add and a max do not commute).
    atomic: Option<String>,
    /// Runs in every iteration (no condition but bounds checks).
    certain: bool,
    /// The affine form of each index, when every index has one over the
    /// loop variable and loop-invariant values.
    forms: Option<Vec<Affine>>,
    /// Each index as a function of the loop variable alone.
    functions: Option<Vec<IndexFunction>>,
}

/// The kind of update an atomic op makes: its `kind` attribute, or the
/// combining op of a compare-and-swap loop; None for other ops.
fn atomic_kind(op: OperationRef) -> Option<String> {
    match rewrite::name_of(op).as_str() {
        "memref.atomic_rmw" => Some(
            op.attribute("kind")
                .map(|kind| kind.to_string())
                .unwrap_or_default(),
        ),
        "memref.generic_atomic_rmw" => Some(
            op.region(0)
                .ok()
                .and_then(|r| r.first_block())
                .and_then(|b| b.first_operation())
                .map(rewrite::name_of)
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

/// Every op nested in `loop_op`'s body, outermost first.
fn nested_ops<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Vec<OperationRef<'c, 'a>> {
    let mut raws = Vec::new();
    if let Some(block) = loop_op.region(0).ok().and_then(|r| r.first_block()) {
        let mut current = block.first_operation();
        while let Some(op) = current {
            op.walk(WalkOrder::PreOrder, |nested| {
                raws.push(nested.to_raw());
                WalkResult::Advance
            });
            current = op.next_in_block();
        }
    }
    // SAFETY: collected from the live body just above.
    raws.into_iter()
        .map(|raw| unsafe { rewrite::view(raw) })
        .collect()
}

/// The values that change from one iteration to the next, other than the
/// loop variable: results of ops in the body and arguments of its blocks,
/// except inner loops' variables (which take the same values in every
/// iteration).
fn varying_values(ops: &[OperationRef]) -> HashSet<Symbol> {
    let mut varying = HashSet::new();
    for op in ops {
        varying.extend(op.results().map(|r| symbol_of(r.into())));
        let name = rewrite::name_of(*op);
        let induction_variables = match name.as_str() {
            "looppar.for" | "scf.for" => 1,
            "scf.parallel" => usize::MAX,
            _ => 0,
        };
        for (r, region) in op.regions().enumerate() {
            let mut block = region.first_block();
            while let Some(b) = block {
                for index in 0..b.argument_count() {
                    let inner_variable = r == 0 && index < induction_variables;
                    if let (Ok(argument), false) = (b.argument(index), inner_variable) {
                        varying.insert(symbol_of(argument.into()));
                    }
                }
                block = b.next_in_region();
            }
        }
    }
    varying
}

/// Whether `op` is an `scf.if` that guards an access with a bounds check
/// (`debug`): its else branch reports the failure.
pub(crate) fn is_bounds_check(op: OperationRef) -> bool {
    let Some(otherwise) = op.region(1).ok().and_then(|r| r.first_block()) else {
        return false;
    };
    let mut current = otherwise.first_operation();
    while let Some(inner) = current {
        if inner.has_attribute("parla.error_report") {
            return true;
        }
        current = inner.next_in_block();
    }
    false
}

/// Whether `op` runs in every iteration of `loop_op`: no condition or
/// while loop between them.
fn runs_every_iteration(op: OperationRef, loop_op: OperationRef) -> bool {
    for parent in rewrite::ancestors(op) {
        if parent == loop_op {
            return true;
        }
        match rewrite::name_of(parent).as_str() {
            "scf.if" if !is_bounds_check(parent) => return false,
            "scf.while" | "scf.index_switch" | "scf.execute_region" => return false,
            _ => {}
        }
    }
    true
}

fn accesses<'c, 'a>(loop_op: OperationRef<'c, 'a>, iv: Symbol) -> Vec<Access<'c, 'a>> {
    let ops = nested_ops(loop_op);
    let varying = varying_values(&ops);
    let mut found = Vec::new();
    for op in ops {
        let name = rewrite::name_of(op);
        let (memref_index, is_store) = match name.as_str() {
            "memref.load" => (0, false),
            "memref.store" | "memref.atomic_rmw" => (1, true),
            "memref.generic_atomic_rmw" => (0, true),
            _ => continue,
        };
        let operands: Vec<Value> = op.operands().collect();
        if operands.len() <= memref_index {
            continue;
        }
        let indices = &operands[memref_index + 1..];
        let forms = indices
            .iter()
            .map(|v| affine(*v))
            .collect::<Option<Vec<_>>>()
            .filter(|forms| {
                forms.iter().all(|f| {
                    f.coefficients
                        .keys()
                        .all(|s| *s == iv || !varying.contains(s))
                })
            });
        let functions = indices
            .iter()
            .map(|v| index_function(*v, iv))
            .collect::<Option<Vec<_>>>();
        found.push(Access {
            op,
            memref: operands[memref_index],
            is_store,
            atomic: atomic_kind(op),
            certain: runs_every_iteration(op, loop_op),
            forms,
            functions,
        });
    }
    found
}

/// The variables of the loops with constant bounds inside `loop_op`, and
/// the values each takes: in every iteration of `loop_op`, all of them.
fn inner_loops(loop_op: OperationRef) -> HashMap<Symbol, Iterations> {
    nested_ops(loop_op)
        .into_iter()
        .filter(|op| matches!(rewrite::name_of(*op).as_str(), "looppar.for" | "scf.for"))
        .filter_map(|op| Some((loop_variable(op)?, iterations(op).1?)))
        .collect()
}

/// The loop variable of `loop_op`, as a symbol.
fn loop_variable(loop_op: OperationRef) -> Option<Symbol> {
    loop_op
        .region(0)
        .ok()
        .and_then(|r| r.first_block())
        .and_then(|b| b.argument(0).ok())
        .map(|a| symbol_of(a.into()))
}

/// Whether an access with `indices` inside `loop_op` touches a different
/// element in every iteration: some index is an affine form with a
/// non-zero coefficient on the loop variable, over values that are the
/// same in every iteration.
pub(crate) fn private_to_iterations(loop_op: OperationRef, indices: &[Value]) -> bool {
    let Some(iv) = loop_variable(loop_op) else {
        return false;
    };
    let varying = varying_values(&nested_ops(loop_op));
    indices.iter().any(|index| {
        affine(*index).is_some_and(|form| {
            form.coefficient(iv) != 0
                && form
                    .coefficients
                    .keys()
                    .all(|s| *s == iv || !varying.contains(s))
        })
    })
}

/// Whether `value` is defined inside `loop_op` (a private buffer).
pub(crate) fn defined_inside(value: Value, loop_op: OperationRef) -> bool {
    parla_dialects::values::op_result(value)
        .is_some_and(|result| rewrite::is_nested_in(result.owner(), loop_op))
}

fn iterations(loop_op: OperationRef) -> (Option<i64>, Option<Iterations>) {
    let bound = |i| {
        loop_op
            .operand(i)
            .ok()
            .and_then(affine)
            .and_then(|a| a.coefficients.is_empty().then_some(a.constant))
    };
    let (Some(lower), Some(upper), Some(step)) = (bound(0), bound(1), bound(2)) else {
        return (None, None);
    };
    if step <= 0 {
        return (None, None);
    }
    let trips = (i128::from(upper) - i128::from(lower) + i128::from(step) - 1)
        .div_euclid(i128::from(step))
        .max(0);
    let Ok(trips) = i64::try_from(trips) else {
        return (None, None);
    };
    (Some(trips), Some(Iterations { lower, step, trips }))
}

fn location_text(op: OperationRef) -> String {
    let position = crate::diagnostics::position(op.location());
    match position {
        Some(p) => format!("{}:{}:{}", p.file, p.line, p.column),
        None => op.location().to_string(),
    }
}

fn loop_name(loop_op: OperationRef) -> String {
    let label = rewrite::string_attribute(loop_op, "label").unwrap_or_default();
    let place = location_text(loop_op);
    if label.is_empty() {
        format!("the parallel loop at {place}")
    } else {
        format!("the parallel loop '{label}' at {place}")
    }
}

/// The parts of two index forms that do not depend on the loop variable
/// are the same (so they differ by a constant), in every dimension.
fn comparable(iv: Symbol, store: &[Affine], other: &[Affine]) -> bool {
    store.len() == other.len()
        && store
            .iter()
            .zip(other)
            .all(|(s, o)| s.without(iv).coefficients == o.without(iv).coefficients)
}

/// The iteration distance between two accesses with comparable index
/// forms, if it is the same in every dimension and not zero.
fn distance(iv: Symbol, store: &[Affine], other: &[Affine]) -> Option<i64> {
    let mut distance: Option<i64> = None;
    for (s, o) in store.iter().zip(other) {
        let coefficient = s.coefficient(iv);
        if coefficient != o.coefficient(iv) {
            return None;
        }
        // s(i) = c*i + a and o(i') = c*i' + b meet when i' = i + (a - b)/c.
        let delta = s.without(iv).constant.checked_sub(o.without(iv).constant)?;
        match coefficient {
            0 if delta != 0 => return None, // different elements in every iteration
            0 => {}
            c => {
                if delta.checked_rem(c)? != 0 {
                    return None;
                }
                let d = delta.checked_div(c)?;
                if distance.is_some_and(|known| known != d) {
                    return None;
                }
                distance = Some(d);
            }
        }
    }
    // Not zero, and with an absolute value (`i64::MIN` has none).
    distance.filter(|d| *d != 0 && *d != i64::MIN)
}

/// The equations, in iteration numbers, of comparable affine accesses:
/// `a * (lower + step * t) + c = b * (lower + step * t') + e`.
fn equations(
    iv: Symbol,
    store: &[Affine],
    other: &[Affine],
    space: Iterations,
) -> Option<Vec<Equation>> {
    store
        .iter()
        .zip(other)
        .map(|(s, o)| {
            let (a, b) = (s.coefficient(iv), o.coefficient(iv));
            let offset = |c: i64| c.checked_mul(space.lower);
            let k = o
                .without(iv)
                .constant
                .checked_sub(s.without(iv).constant)?
                .checked_sub(offset(a)?)?
                .checked_add(offset(b)?)?;
            Some(Equation {
                a: a.checked_mul(space.step)?,
                b: b.checked_mul(space.step)?,
                k,
            })
        })
        .collect()
}

/// Where the index functions of the store and another access meet, on the
/// sampled iterations: `(t, t')`, t the store's.
fn sampled_meeting(
    store: &[IndexFunction],
    other: &[IndexFunction],
    space: Iterations,
    same: bool,
) -> Option<(i64, i64)> {
    let at = |functions: &[IndexFunction], t: i64| -> Option<Vec<i64>> {
        let v = space.value(t)?;
        functions.iter().map(|f| f.at(v)).collect()
    };
    let mut written: HashMap<Vec<i64>, i64> = HashMap::new();
    for t in space.sampled(SAMPLED_ITERATIONS) {
        let element = at(store, t)?;
        if let Some(&first) = written.get(&element) {
            if same {
                return Some((first, t));
            }
        } else {
            written.insert(element, t);
        }
    }
    if same {
        return None;
    }
    space.sampled(SAMPLED_ITERATIONS).find_map(|t| {
        at(other, t)
            .and_then(|e| written.get(&e).copied())
            .filter(|&w| w != t)
            .map(|w| (w, t))
    })
}

fn check<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Vec<(OperationRef<'c, 'a>, String)> {
    let mut problems = Vec::new();
    // A detected reduction updates its location on purpose (and nothing
    // else in the loop touches it); the rest of the body is checked, also
    // where the updates were made atomic (an inner loop's `y[0] += ...`,
    // which the outer loop shares) and in the front end's own reduction
    // loops (chunks combined atomically, private accumulators).
    let reduced: Vec<_> = if loop_op.has_attribute("reduction") {
        looppar_detect_reductions::find_all(loop_op)
            .iter()
            .flat_map(|p| [p.load, p.store])
            .collect()
    } else {
        Vec::new()
    };
    let (trips, space) = iterations(loop_op);
    if loop_op.attribute("threads").is_err() || trips.is_some_and(|t| t <= 1) {
        return problems;
    }
    let Some(iv) = loop_variable(loop_op) else {
        return problems;
    };
    let mut all = accesses(loop_op, iv);
    all.retain(|access| !reduced.contains(&access.op));
    let inner = inner_loops(loop_op);
    let meet = Meet {
        iv,
        trips,
        space,
        inner: &inner,
    };
    problems.extend(mixed_atomic_updates(&all, loop_op, &meet));
    for store in &all {
        // Bounds-check reports (debug=True) all write one error word on
        // purpose: any report will do.
        if !store.is_store
            || defined_inside(store.memref, loop_op)
            || store.op.has_attribute("parla.error_report")
        {
            continue;
        }
        if let Some(message) = conditional_shared_write(store, loop_op, iv) {
            problems.push((store.op, message));
            continue;
        }
        if store.atomic.is_none() {
            // A plain store (under a condition or not) to an element that
            // iterations update atomically: whichever runs last wins.
            let atomic = all.iter().find(|other| {
                other.atomic.is_some()
                    && other.memref == store.memref
                    && may_meet(store, other, &meet)
            });
            if let Some(atomic) = atomic {
                problems.push((
                    store.op,
                    format!(
                        "{} writes an element here that its iterations also update atomically at {}: \
                         the result depends on the order in which iterations run, so they race; \
                         run the loop sequentially (leave its label out of the specification), \
                         or give each iteration its own element",
                        loop_name(loop_op),
                        location_text(atomic.op)
                    ),
                ));
                continue;
            }
        }
        if let Some(message) = unshareable_update_from_data(store, &all, loop_op) {
            problems.push((store.op, message));
            continue;
        }
        if !store.certain {
            continue;
        }
        if let (Some(form), None) = (&store.forms, &store.atomic) {
            if form.iter().all(|f| f.coefficient(iv) == 0) {
                problems.push((
                    store.op,
                    format!(
                        "{} writes the same memory (an array element, or a variable assigned before the loop) in every iteration, \
                         so its iterations race: write a reduction into an array element as a[...] += expr, \
                         or give each iteration its own element",
                        loop_name(loop_op)
                    ),
                ));
                continue;
            }
        }
        for other in &all {
            // Atomics against atomics: `mixed_atomic_updates` below.
            let both_atomic = store.atomic.is_some() && other.atomic.is_some();
            // A plain store meeting an atomic one is reported at the plain
            // store, above.
            let plain_store = other.is_store && other.atomic.is_none();
            if other.memref != store.memref
                || !other.certain
                || both_atomic
                || (store.atomic.is_some() && plain_store)
            {
                continue;
            }
            let same = std::ptr::eq(other, store);
            let verb = if other.is_store { "writes" } else { "reads" };
            let found = match (&store.forms, &other.forms) {
                (Some(s), Some(o)) if !same && comparable(iv, s, o) => {
                    if let Some(d) =
                        distance(iv, s, o).filter(|d| trips.is_none_or(|t| d.abs() < t))
                    {
                        let sign = if d > 0 { "+" } else { "-" };
                        Some(format!(
                            "iteration i of {} writes the element that iteration i {sign} {} {verb} at {}: \
                             its iterations depend on each other and would race",
                            loop_name(loop_op),
                            d.abs(),
                            location_text(other.op)
                        ))
                    } else {
                        space
                            .and_then(|space| {
                                meeting_iterations(&equations(iv, s, o, space)?, space.trips)
                            })
                            .map(|(t, u)| witness(loop_op, t, u, verb, other.op))
                    }
                }
                // Affine on both sides but not comparable (inner loops'
                // variables in other places: `x[i, j] = x[j, i]`), or the
                // same affine store: evaluated where inner loops run.
                (Some(s), Some(o)) => space
                    .and_then(|space| nest_meeting(iv, s, o, space, &inner, same))
                    .map(|(t, u)| witness(loop_op, t, u, verb, other.op)),
                _ => match (&store.functions, &other.functions, space) {
                    (Some(s), Some(o), Some(space)) if s.len() == o.len() => {
                        sampled_meeting(s, o, space, same)
                            .map(|(t, u)| witness(loop_op, t, u, verb, other.op))
                    }
                    _ => None,
                },
            };
            if let Some(message) = found {
                problems.push((store.op, message));
                break;
            }
        }
    }
    problems
}

/// A plain store of an element chosen by the data that the loop also
/// reads (`h[b[i]] *= x[i]` on floats, `h[b[i]] = x[i] - h[b[i]]`): an
/// update `looppar-atomic-updates` could not make atomic, so wherever the
/// data repeats an index, iterations lose each other's updates. As for
/// atomics of different kinds, the very same index from the data counts
/// as shared: nothing tells that it never repeats.
fn unshareable_update_from_data(
    store: &Access,
    all: &[Access],
    loop_op: OperationRef,
) -> Option<String> {
    let from_data = store.forms.is_none() && store.functions.is_none();
    if store.atomic.is_some() || !from_data {
        return None;
    }
    // Another index gives each iteration its own elements (`h[i, b[j]]`).
    let indices: Vec<Value> = store.op.operands().skip(2).collect();
    if private_to_iterations(loop_op, &indices) {
        return None;
    }
    let read = all.iter().find(|other| {
        !other.is_store
            && other.atomic.is_none()
            && other.memref == store.memref
            && same_indices(store.op, other.op)
    })?;
    Some(format!(
        "{} updates an element chosen by the data here (read at {}) in a way that cannot be made atomic: \
         wherever the data repeats an index, iterations would lose each other's updates, so they race; \
         write it as one atomic update, `a[k] op= v` with `+ - min max & | ^` (or `*` on integers), run \
         the loop sequentially (leave its label out of the specification), or write the results to \
         another array",
        loop_name(loop_op),
        location_text(read.op)
    ))
}

/// Atomic updates of different kinds (an add and a max) that iterations
/// may make to one element: each is atomic, but they do not commute, so
/// the result depends on the order in which iterations interleave. A
/// condition on either does not help: the iterations it lets through
/// still race with the others.
fn mixed_atomic_updates<'c, 'a>(
    all: &[Access<'c, 'a>],
    loop_op: OperationRef<'c, 'a>,
    meet: &Meet,
) -> Vec<(OperationRef<'c, 'a>, String)> {
    let atomics: Vec<&Access> = all.iter().filter(|a| a.atomic.is_some()).collect();
    let mut problems = Vec::new();
    for (n, first) in atomics.iter().enumerate() {
        let clash = atomics[n + 1..].iter().find(|second| {
            second.memref == first.memref
                && second.atomic != first.atomic
                && may_meet(first, second, meet)
        });
        if let Some(second) = clash {
            problems.push((
                first.op,
                format!(
                    "{} updates one element atomically in two ways that do not commute, here and at {} \
                     (an add and a max, say; with an index from the data, wherever it repeats): the result \
                     depends on the order in which iterations run, so they race; run the loop sequentially \
                     (leave its label out of the specification), or give each iteration its own element",
                    loop_name(loop_op),
                    location_text(second.op)
                ),
            ));
        }
    }
    problems
}

/// What the meeting of two accesses of one loop is decided over.
struct Meet<'m> {
    iv: Symbol,
    trips: Option<i64>,
    space: Option<Iterations>,
    /// The inner loops' variables and their values (`inner_loops`).
    inner: &'m HashMap<Symbol, Iterations>,
}

/// Whether two accesses may touch one element in different iterations
/// (or the same element in every iteration), as far as their indices
/// tell: false when nothing certain is known, except for the very same
/// indices computed from the data (`k = b[i]`), which iterations may
/// share whenever the data repeats.
fn may_meet(first: &Access, second: &Access, meet: &Meet) -> bool {
    let Meet {
        iv,
        trips,
        space,
        inner,
    } = *meet;
    let from_data = first.forms.is_none() && first.functions.is_none();
    if from_data && same_indices(first.op, second.op) {
        return true;
    }
    match (&first.forms, &second.forms) {
        (Some(s), Some(o)) if comparable(iv, s, o) => {
            let shared = |forms: &[Affine]| forms.iter().all(|f| f.coefficient(iv) == 0);
            let same_element = s.iter().zip(o).all(|(a, b)| a.constant == b.constant);
            (shared(s) && shared(o) && same_element)
                || distance(iv, s, o).is_some_and(|d| trips.is_none_or(|t| d.abs() < t))
                || space
                    .and_then(|space| meeting_iterations(&equations(iv, s, o, space)?, space.trips))
                    .is_some()
        }
        (Some(s), Some(o)) => {
            space.is_some_and(|space| nest_meeting(iv, s, o, space, inner, false).is_some())
        }
        _ => match (&first.functions, &second.functions, space) {
            (Some(s), Some(o), Some(space)) if s.len() == o.len() => {
                sampled_meeting(s, o, space, false).is_some()
            }
            _ => false,
        },
    }
}

/// Whether two accesses' indices are the same computation: the same
/// values, or loads of one location (a local `k = b[i]` read twice) and
/// casts of such.
fn same_indices(first: OperationRef, second: OperationRef) -> bool {
    // The operands before the indices: the stored value and the memref.
    let leading = |op: OperationRef| match rewrite::name_of(op).as_str() {
        "memref.store" | "memref.atomic_rmw" => 2,
        _ => 1,
    };
    let (m, n) = (leading(first), leading(second));
    first.operand_count() - m == second.operand_count() - n
        && first
            .operands()
            .skip(m)
            .zip(second.operands().skip(n))
            .all(|(x, y)| same_value(x, y, 0))
}

fn same_value<'c, 'a>(a: Value<'c, 'a>, b: Value<'c, 'a>, depth: usize) -> bool {
    if a == b {
        return true;
    }
    if depth > 8 {
        return false;
    }
    let (Some(x), Some(y)) = (
        parla_dialects::values::op_result(a),
        parla_dialects::values::op_result(b),
    ) else {
        return false;
    };
    let (x, y) = (x.owner(), y.owner());
    let name = rewrite::name_of(x);
    let follows = matches!(
        name.as_str(),
        "memref.load" | "arith.index_cast" | "arith.index_castui" | "arith.extsi" | "arith.extui"
    );
    follows
        && name == rewrite::name_of(y)
        && x.operand_count() == y.operand_count()
        && x.operands()
            .zip(y.operands())
            .all(|(p, q)| same_value(p, q, depth + 1))
}

/// A store under a condition to an element that every iteration shares,
/// of a value that differs between iterations (`if x[i] > 0: last = i`):
/// the sequential loop keeps the last qualifying iteration's value, which
/// parallel iterations cannot agree on. Not reported when the value is
/// the same in every iteration (`found[0] = 1`: any order gives the same
/// result) or when a condition lets only one iteration through
/// (`if i == 3:`).
fn conditional_shared_write<'c, 'a>(
    store: &Access<'c, 'a>,
    loop_op: OperationRef<'c, 'a>,
    iv: Symbol,
) -> Option<String> {
    let shared = store
        .forms
        .as_ref()
        .is_some_and(|forms| forms.iter().all(|f| f.coefficient(iv) == 0));
    // Atomic updates of one kind combine in any order to the same result
    // (mixed kinds on one element: `mixed_atomic_updates`).
    if store.certain || !shared || store.atomic.is_some() {
        return None;
    }
    let guards = guarding_conditions(store.op, loop_op)?;
    let varying = varying_values(&nested_ops(loop_op));
    if guards.iter().any(|guard| {
        guard
            .operand(0)
            .is_ok_and(|condition| admits_one_iteration(condition, iv, &varying, loop_op))
    }) {
        return None;
    }
    let value = store.op.operand(0).ok()?;
    if !differs_between_iterations(value, loop_op, iv) {
        return None;
    }
    // The condition's own location: the `scf.if` carries the statement's.
    let condition = guards.first()?.operand(0).ok()?;
    let place = parla_dialects::values::op_result(condition)
        .map(|r| format!(" at {}", location_text(r.owner())))
        .unwrap_or_default();
    Some(format!(
        "{} writes the same memory (an array element, or a variable assigned before the loop) \
         in every iteration where the condition{} holds, and what it writes differs between iterations: \
         when more than one iteration qualifies they race, while a sequential loop keeps the last one's value. \
         Keep the largest or smallest value with y[0] = max(y[0], value) (or min), \
         or give each iteration its own element",
        loop_name(loop_op),
        place
    ))
}

/// The `scf.if` ops (other than bounds checks) between `op` and
/// `loop_op`; None when a while loop or another kind of region comes
/// between them.
fn guarding_conditions<'c, 'a>(
    op: OperationRef<'c, 'a>,
    loop_op: OperationRef<'c, 'a>,
) -> Option<Vec<OperationRef<'c, 'a>>> {
    let mut conditions = Vec::new();
    for parent in rewrite::ancestors(op) {
        if parent == loop_op {
            return Some(conditions);
        }
        match rewrite::name_of(parent).as_str() {
            "scf.if" if is_bounds_check(parent) => {}
            "scf.if" => conditions.push(parent),
            "scf.for" | "looppar.for" => {}
            _ => return None,
        }
    }
    None
}

/// Whether `condition` holds in at most one iteration of `loop_op`:
/// `iv_form == invariant`, alone or as one side of an `and`.
fn admits_one_iteration(
    condition: Value,
    iv: Symbol,
    varying: &HashSet<Symbol>,
    loop_op: OperationRef,
) -> bool {
    let Some(result) = parla_dialects::values::op_result(condition) else {
        return false;
    };
    let op = result.owner();
    let operand = |i| op.operand(i).ok();
    match rewrite::name_of(op).as_str() {
        "arith.andi" => [0, 1]
            .into_iter()
            .any(|i| operand(i).is_some_and(|c| admits_one_iteration(c, iv, varying, loop_op))),
        "arith.cmpi" => {
            let equality = op
                .attribute("predicate")
                .ok()
                .and_then(|a| melior::ir::attribute::IntegerAttribute::try_from(a).ok())
                .is_some_and(|p| p.value() == 0);
            let (Some(lhs), Some(rhs)) = (operand(0), operand(1)) else {
                return false;
            };
            let pins = |moving: Value, fixed: Value| {
                affine(moving).is_some_and(|form| {
                    form.coefficient(iv) != 0
                        && form
                            .coefficients
                            .keys()
                            .all(|s| *s == iv || !varying.contains(s))
                }) && !differs_between_iterations(fixed, loop_op, iv)
            };
            equality && (pins(lhs, rhs) || pins(rhs, lhs))
        }
        _ => false,
    }
}

/// Whether `value` may differ from one iteration of `loop_op` to the
/// next: it depends on the loop variable, on an element read at an index
/// that does, or on a value carried through a block of the body.
/// Constants, arguments and inner loops' variables do not.
fn differs_between_iterations(value: Value, loop_op: OperationRef, iv: Symbol) -> bool {
    let mut pending = vec![value.to_raw()];
    let mut seen = HashSet::new();
    while let Some(raw) = pending.pop() {
        if !seen.insert(raw.ptr as usize) {
            continue;
        }
        if seen.len() > 4096 {
            return true; // too much to follow: it may differ
        }
        // SAFETY: every value here is an operand of the live loop body.
        let value = unsafe { Value::from_raw(raw) };
        if symbol_of(value) == iv {
            return true;
        }
        if defined_outside(value, loop_op) {
            continue;
        }
        if let Some(argument) = parla_dialects::values::block_argument(value) {
            let inner_variable = argument.owner().parent_operation().is_some_and(|o| {
                matches!(rewrite::name_of(o).as_str(), "scf.for" | "looppar.for")
                    && argument.argument_number() == 0
            });
            if !inner_variable {
                return true;
            }
            continue;
        }
        let Some(result) = parla_dialects::values::op_result(value) else {
            return true;
        };
        let op = result.owner();
        let name = rewrite::name_of(op);
        if name == "memref.load" {
            // A local's value stored before it in the block; otherwise the
            // element read, not its memory: indices only.
            match crate::analysis::locals::stored_value(op) {
                Some(stored) => pending.push(stored.to_raw()),
                None => pending.extend(op.operands().skip(1).map(|v| v.to_raw())),
            }
            continue;
        }
        pending.extend(op.operands().map(|v| v.to_raw()));
        // A region op's results come from what its regions yield.
        if op.region_count() > 0 {
            op.walk(WalkOrder::PreOrder, |nested| {
                if rewrite::name_of(nested) == "scf.yield" {
                    pending.extend(nested.operands().map(|v| v.to_raw()));
                }
                WalkResult::Advance
            });
        }
    }
    false
}

/// The message for a store in iteration `t` whose element iteration `u`
/// also accesses (`verb`) at `other`.
fn witness(loop_op: OperationRef, t: i64, u: i64, verb: &str, other: OperationRef) -> String {
    format!(
        "iteration {t} of {} writes the element that iteration {u} {verb} at {} (counting iterations from 0): \
         its iterations depend on each other and would race",
        loop_name(loop_op),
        location_text(other)
    )
}

fn run(root: OperationRef, pass: ExternalPass) {
    let mut failed = false;
    for raw in rewrite::collect(root, "looppar.for") {
        // SAFETY: collected from the live IR; this pass changes nothing.
        let loop_op = unsafe { rewrite::view(raw) };
        for (op, message) in check(loop_op) {
            rewrite::emit_error(op.location(), &message);
            failed = true;
        }
    }
    if failed {
        pass.signal_failure();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn form(iv: i64, rest: &[(usize, i64)], constant: i64) -> Affine {
        let mut coefficients: BTreeMap<usize, i64> = rest.iter().copied().collect();
        if iv != 0 {
            coefficients.insert(0, iv);
        }
        Affine {
            constant,
            coefficients,
        }
    }

    #[test]
    fn distances() {
        // Writing x[i], reading x[i + 1]: iteration i - 1 reads what i writes.
        assert_eq!(
            distance(0, &[form(1, &[], 0)], &[form(1, &[], 1)]),
            Some(-1)
        );
        // x[2i] vs x[2i + 1]: never the same element.
        assert_eq!(distance(0, &[form(2, &[], 0)], &[form(2, &[], 1)]), None);
        // x[i, j] vs x[i, j]: the same iteration.
        assert_eq!(
            distance(
                0,
                &[form(1, &[], 0), form(0, &[(5, 1)], 0)],
                &[form(1, &[], 0), form(0, &[(5, 1)], 0)]
            ),
            None
        );
        // Writing x[i, 0], reading x[i - 2, 0]: iteration i + 2 reads it.
        assert_eq!(
            distance(
                0,
                &[form(1, &[], 0), form(0, &[], 0)],
                &[form(1, &[], -2), form(0, &[], 0)]
            ),
            Some(2)
        );
        // x[i, j] vs x[i + 1, k]: unknown relation between j and k.
        assert!(!comparable(
            0,
            &[form(1, &[], 0), form(0, &[(5, 1)], 0)],
            &[form(1, &[], 1), form(0, &[(6, 1)], 0)]
        ));
    }
}
