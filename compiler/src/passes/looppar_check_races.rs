//! `looppar-check-races`: rejects parallel loops whose iterations
//! certainly conflict, instead of letting them compute wrong results.
//!
//! For each loop with `threads`, the indices of every `memref.store` and
//! `memref.load` in its body are read as affine forms of the loop variable
//! (`analysis::affine`). Two conflicts are reported, each certain (no
//! false alarms; accesses it cannot analyse are left alone):
//!
//! - a store whose element does not depend on the loop variable: every
//!   iteration writes the same element (a reduction the front end did not
//!   recognise, or a shared local);
//! - a store and another access to the same array whose indices differ by
//!   a fixed number of iterations `d` (0 < |d| < trip count): iteration `i`
//!   writes what iteration `i + d` reads or writes.
//!
//! Buffers allocated inside the loop (private locals) are skipped, and so
//! are loops the front end recognised as reductions (`reduction`
//! attribute): they update one element on purpose.

use super::rewrite;
use crate::analysis::affine::{affine, symbol_of, Affine};
use melior::{
    ir::{
        operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
        BlockLike, RegionLike, Value,
    },
    pass::ExternalPass,
};
use std::ffi::CString;

external_pass!(
    "looppar-check-races",
    "Reject parallel loops whose iterations certainly write what other iterations read or write",
    run
);

struct Access<'c, 'a> {
    op: OperationRef<'c, 'a>,
    memref: Value<'c, 'a>,
    indices: Vec<Value<'c, 'a>>,
    is_store: bool,
}

fn accesses<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Vec<Access<'c, 'a>> {
    let mut found = Vec::new();
    let Ok(region) = loop_op.region(0) else {
        return found;
    };
    let Some(block) = region.first_block() else {
        return found;
    };
    let mut raws = Vec::new();
    let mut current = block.first_operation();
    while let Some(op) = current {
        op.walk(WalkOrder::PreOrder, |nested| {
            raws.push(nested.to_raw());
            WalkResult::Advance
        });
        current = op.next_in_block();
    }
    for raw in raws {
        // SAFETY: collected from the live body just above.
        let op: OperationRef<'c, 'a> = unsafe { rewrite::view(raw) };
        let name = rewrite::name_of(op);
        let (memref_index, is_store) = match name.as_str() {
            "memref.load" => (0, false),
            "memref.store" => (1, true),
            _ => continue,
        };
        let operands: Vec<Value> = op.operands().collect();
        if operands.len() <= memref_index {
            continue;
        }
        found.push(Access {
            op,
            memref: operands[memref_index],
            indices: operands[memref_index + 1..].to_vec(),
            is_store,
        });
    }
    found
}

/// Whether `value` is defined inside `loop_op` (a private buffer).
fn defined_inside(value: Value, loop_op: OperationRef) -> bool {
    let Ok(result) = melior::ir::operation::OperationResult::try_from(value) else {
        return false;
    };
    let mut current = result.owner().parent_operation();
    while let Some(parent) = current {
        if parent == loop_op {
            return true;
        }
        current = parent.parent_operation();
    }
    false
}

fn constant_trips(loop_op: OperationRef) -> Option<i64> {
    let bound = |i| {
        loop_op
            .operand(i)
            .ok()
            .and_then(affine)
            .and_then(|a| a.coefficients.is_empty().then_some(a.constant))
    };
    let (lower, upper, step) = (bound(0)?, bound(1)?, bound(2)?);
    if step <= 0 {
        return None;
    }
    Some(((upper - lower) + step - 1).div_euclid(step).max(0))
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

/// The iteration distance between two accesses with these index forms, if
/// it is fixed and not zero.
fn distance(iv: usize, store: &[Affine], other: &[Affine]) -> Option<i64> {
    let mut distance: Option<i64> = None;
    for (s, o) in store.iter().zip(other) {
        let coefficient = s.coefficient(iv);
        if coefficient != o.coefficient(iv) {
            return None;
        }
        let (s_rest, o_rest) = (s.without(iv), o.without(iv));
        if s_rest.coefficients != o_rest.coefficients {
            return None; // not comparable: leave it alone
        }
        // s(i) = c*i + a and o(i') = c*i' + b meet when i' = i + (a - b)/c.
        let delta = s_rest.constant - o_rest.constant;
        match coefficient {
            0 if delta != 0 => return None, // different elements in every iteration
            0 => {}
            c => {
                if delta % c != 0 {
                    return None;
                }
                let d = delta / c;
                if distance.is_some_and(|known| known != d) {
                    return None;
                }
                distance = Some(d);
            }
        }
    }
    distance.filter(|d| *d != 0)
}

fn check<'c, 'a>(loop_op: OperationRef<'c, 'a>) -> Vec<(OperationRef<'c, 'a>, String)> {
    let mut problems = Vec::new();
    let recognised_reduction = loop_op.attribute("reduction").is_ok();
    if loop_op.attribute("threads").is_err()
        || recognised_reduction
        || constant_trips(loop_op).is_some_and(|t| t <= 1)
    {
        return problems;
    }
    let trips = constant_trips(loop_op);
    let Some(iv) = loop_op
        .region(0)
        .ok()
        .and_then(|r| r.first_block())
        .and_then(|b| b.argument(0).ok())
        .map(|a| symbol_of(a.into()))
    else {
        return problems;
    };
    let all = accesses(loop_op);
    let forms: Vec<Option<Vec<Affine>>> = all
        .iter()
        .map(|a| {
            a.indices
                .iter()
                .map(|v| affine(*v))
                .collect::<Option<Vec<_>>>()
        })
        .collect();
    for (n, store) in all.iter().enumerate() {
        // Bounds-check reports (debug=True) all write one error word on
        // purpose: any report will do.
        if !store.is_store
            || defined_inside(store.memref, loop_op)
            || store.op.has_attribute("parla.error_report")
        {
            continue;
        }
        let Some(store_form) = &forms[n] else {
            continue;
        };
        if store_form.iter().all(|f| f.coefficient(iv) == 0) {
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
        for (m, other) in all.iter().enumerate() {
            if m == n || other.memref != store.memref {
                continue;
            }
            let Some(other_form) = &forms[m] else {
                continue;
            };
            if other_form.len() != store_form.len() {
                continue;
            }
            let Some(d) = distance(iv, store_form, other_form) else {
                continue;
            };
            if trips.is_some_and(|t| d.abs() >= t) {
                continue;
            }
            let verb = if other.is_store { "writes" } else { "reads" };
            let sign = if d > 0 { "+" } else { "-" };
            problems.push((
                store.op,
                format!(
                    "iteration i of {} writes the element that iteration i {sign} {} {verb} at {}: \
                     its iterations depend on each other and would race",
                    loop_name(loop_op),
                    d.abs(),
                    location_text(other.op)
                ),
            ));
            break;
        }
    }
    problems
}

fn run(root: OperationRef, pass: ExternalPass) {
    let mut failed = false;
    for raw in rewrite::collect(root, "looppar.for") {
        // SAFETY: collected from the live IR; this pass changes nothing.
        let loop_op = unsafe { rewrite::view(raw) };
        for (op, message) in check(loop_op) {
            let text = CString::new(message).unwrap_or_default();
            // SAFETY: the location is live; the text is NUL-terminated.
            unsafe { mlir_sys::mlirEmitError(op.location().to_raw(), text.as_ptr()) };
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
        assert_eq!(
            distance(
                0,
                &[form(1, &[], 0), form(0, &[(5, 1)], 0)],
                &[form(1, &[], 1), form(0, &[(6, 1)], 0)]
            ),
            None
        );
    }
}
