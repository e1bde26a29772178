//! `looppar-check-bounds`: rejects an array access whose index certainly
//! leaves its axis, where the index and the loops around it are known
//! when compiling (every call compiles with its shapes and scalar values),
//! instead of reading or writing memory outside the array.
//!
//! An index is read as an affine form (`analysis::affine`) of the
//! variables of the loops around the access. Each loop needs constant
//! bounds and at least one iteration, so that every corner of the
//! iteration space runs, and the access must run in every iteration:
//! between it and the function only loops, bounds checks (`debug`) and
//! `looppar.on_device` regions. The smallest and the largest value of the
//! form over that space are then reached, and either outside `[0, size)`
//! is an error naming the iteration that reaches it. An affine form's
//! extremes lie at corners, one per loop, so each axis is checked on its
//! own. Anything else (an index read from an array, a loop whose bounds
//! depend on another loop's variable, an access under a condition) is
//! left to `debug=True`'s run-time checks.
//!
//! A constant index counts from the end when negative (the front end
//! resolves those); one computed in a loop does not, so a negative value
//! is out of bounds, as the run-time checks also say.

use super::rewrite;
use crate::analysis::affine::{affine, symbol_of, Affine, Symbol};
use melior::{
    ir::{
        operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
        r#type::{DimSize, MemRefType},
        BlockLike, RegionLike, ShapedTypeLike, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-check-bounds",
    "Reject array accesses whose index certainly leaves its axis in some iteration",
    run
);

/// One loop around an access: its variable and the iterations it runs.
struct Loop<'c, 'a> {
    op: OperationRef<'c, 'a>,
    variable: Symbol,
    lower: i64,
    step: i64,
    trips: i64,
}

impl Loop<'_, '_> {
    /// The variable's value in iteration `t`.
    fn value(&self, t: i64) -> i128 {
        i128::from(self.lower) + i128::from(t) * i128::from(self.step)
    }
}

/// A constant operand of `op`.
fn constant_operand(op: OperationRef, index: usize) -> Option<i64> {
    op.operand(index)
        .ok()
        .and_then(affine)
        .and_then(|form| form.coefficients.is_empty().then_some(form.constant))
}

/// The loops around `op`, innermost first, when `op` runs in every
/// iteration of each and each runs at least once; None otherwise.
fn enclosing_loops<'c, 'a>(op: OperationRef<'c, 'a>) -> Option<Vec<Loop<'c, 'a>>> {
    let mut loops = Vec::new();
    for parent in rewrite::ancestors(op) {
        match rewrite::name_of(parent).as_str() {
            "func.func" => return Some(loops),
            "looppar.for" | "scf.for" => {
                let lower = constant_operand(parent, 0)?;
                let upper = constant_operand(parent, 1)?;
                let step = constant_operand(parent, 2)?.max(0);
                if step == 0 {
                    return None;
                }
                let trips = (i128::from(upper) - i128::from(lower) + i128::from(step) - 1)
                    .div_euclid(i128::from(step));
                let trips = i64::try_from(trips).ok().filter(|t| *t > 0)?;
                let variable = parent
                    .region(0)
                    .ok()?
                    .first_block()?
                    .argument(0)
                    .ok()
                    .map(|a| symbol_of(a.into()))?;
                loops.push(Loop {
                    op: parent,
                    variable,
                    lower,
                    step,
                    trips,
                });
            }
            "scf.if" if super::looppar_check_races::is_bounds_check(parent) => {}
            "looppar.on_device" => {}
            _ => return None,
        }
    }
    None
}

/// The memref and indices of an access op.
fn access<'c, 'a>(op: OperationRef<'c, 'a>) -> Option<(Value<'c, 'a>, Vec<Value<'c, 'a>>)> {
    let first = match rewrite::name_of(op).as_str() {
        "memref.load" => 0,
        "memref.store" => 1,
        _ => return None,
    };
    let operands: Vec<Value> = op.operands().collect();
    let memref = *operands.get(first)?;
    Some((memref, operands[first + 1..].to_vec()))
}

/// The value of `form` in the iterations `choice` picks (one per loop),
/// exactly; None where the code's own 64-bit arithmetic would wrap on the
/// way (its index is then not this value, and nothing is certain).
fn value_at(form: &Affine, loops: &[Loop], choice: &[i64]) -> Option<i64> {
    loops
        .iter()
        .zip(choice)
        .try_fold(i128::from(form.constant), |sum, (l, t)| {
            let term = i128::from(form.coefficient(l.variable)).checked_mul(l.value(*t))?;
            sum.checked_add(term)
                .filter(|v| i64::try_from(*v).is_ok() && i64::try_from(term).is_ok())
        })
        .and_then(|v| i64::try_from(v).ok())
}

/// The iterations (one per loop) where `form` is smallest, or largest.
fn extreme(form: &Affine, loops: &[Loop], largest: bool) -> Vec<i64> {
    loops
        .iter()
        .map(|l| {
            let rising = i128::from(form.coefficient(l.variable)) * i128::from(l.step) > 0;
            if rising == largest {
                l.trips - 1
            } else {
                0
            }
        })
        .collect()
}

fn location_text(op: OperationRef) -> String {
    match crate::diagnostics::position(op.location()) {
        Some(p) => format!("{}:{}:{}", p.file, p.line, p.column),
        None => op.location().to_string(),
    }
}

/// Where the out-of-bounds value is reached: the iteration of each loop
/// the index depends on, outermost first.
fn iteration_text(form: &Affine, loops: &[Loop], choice: &[i64]) -> String {
    let parts: Vec<String> = loops
        .iter()
        .zip(choice)
        .rev()
        .filter(|(l, _)| form.coefficient(l.variable) != 0)
        .map(|(l, t)| format!("iteration {t} of the loop at {}", location_text(l.op)))
        .collect();
    parts.join(", ")
}

/// The first index of `op` that certainly leaves its axis, as a message.
fn out_of_bounds(op: OperationRef) -> Option<String> {
    let (memref, indices) = access(op)?;
    let shape = MemRefType::try_from(memref.r#type()).ok()?;
    let loops = enclosing_loops(op)?;
    for (axis, index) in indices.iter().enumerate() {
        let Ok(DimSize::Static(size)) = shape.dim_size(axis) else {
            continue;
        };
        let Some(form) = affine(*index) else {
            continue;
        };
        let known = form
            .coefficients
            .keys()
            .all(|s| loops.iter().any(|l| l.variable == *s));
        if !known || form.coefficients.is_empty() {
            continue; // constant indices: checked by the front end
        }
        let size = i128::from(size);
        for largest in [false, true] {
            let choice = extreme(&form, &loops, largest);
            let Some(value) = value_at(&form, &loops, &choice).map(i128::from) else {
                continue;
            };
            if (0..size).contains(&value) {
                continue;
            }
            let hint = if value < 0 {
                "; only a constant index counts from the end, so write `% size` to wrap one computed in a loop"
            } else {
                ""
            };
            return Some(format!(
                "index {value} is out of bounds for axis {axis} with size {size} in {}{hint}",
                iteration_text(&form, &loops, &choice)
            ));
        }
    }
    None
}

fn run(root: OperationRef, pass: ExternalPass) {
    let mut failed = false;
    root.walk(WalkOrder::PreOrder, |op| {
        if let Some(message) = out_of_bounds(op) {
            rewrite::emit_error(op.location(), &message);
            failed = true;
        }
        WalkResult::Advance
    });
    if failed {
        pass.signal_failure();
    }
}
