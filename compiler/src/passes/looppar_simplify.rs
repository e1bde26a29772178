//! `looppar-simplify`: rewrites integer and index arithmetic with equality
//! saturation (`crate::egraph`) and hoists loop-invariant pure ops out of
//! `looppar.for` bodies.
//!
//! Each arithmetic expression whose value leaves the arithmetic (feeds a
//! load, a store, a loop bound, a comparison...) is read into an e-graph,
//! saturated under `egraph::LIMITS`, and replaced by the cheapest
//! equivalent, only when that is strictly cheaper: the pass never makes
//! code worse. Common subexpressions are then merged by `cse`, which the
//! compiler's pipeline runs next.

use super::rewrite;
use crate::egraph::{self, language::Arith};
use egg::{Id, RecExpr, Symbol};
use melior::ir::r#type::TypeLike;
use melior::{
    ir::{
        attribute::IntegerAttribute,
        operation::{OperationBuilder, OperationLike, OperationRef},
        BlockLike, Identifier, RegionLike, Type, Value, ValueLike,
    },
    pass::ExternalPass,
};
use std::collections::HashMap;

external_pass!(
    "looppar-simplify",
    "Simplify integer/index arithmetic with equality saturation and hoist loop-invariant ops out of looppar loops",
    run
);

const ARITH: [&str; 8] = [
    "arith.addi",
    "arith.subi",
    "arith.muli",
    "arith.divsi",
    "arith.remsi",
    "arith.shli",
    "arith.minsi",
    "arith.maxsi",
];

fn is_arith(op: OperationRef) -> bool {
    ARITH.contains(&rewrite::name_of(op).as_str())
}

/// Reads the expression computing `value` (of type `ty`) into `expr`.
fn read<'c: 'a, 'a>(
    value: Value<'c, 'a>,
    ty: Type<'c>,
    expr: &mut RecExpr<Arith>,
    leaves: &mut HashMap<Symbol, Value<'c, 'a>>,
    depth: usize,
) -> Id {
    let leaf = |expr: &mut RecExpr<Arith>, leaves: &mut HashMap<Symbol, Value<'c, 'a>>| {
        let symbol = Symbol::from(format!("v{}", value.to_raw().ptr as usize));
        leaves.insert(symbol, value);
        expr.add(Arith::Symbol(symbol))
    };
    let Some(result) = parla_dialects::values::op_result(value) else {
        return leaf(expr, leaves);
    };
    let op = result.owner();
    if let Some(constant) = rewrite::integer_constant(op) {
        return expr.add(Arith::Num(constant));
    }
    if !is_arith(op) || value.r#type() != ty || depth > 32 {
        return leaf(expr, leaves);
    }
    let (Ok(a), Ok(b)) = (op.operand(0), op.operand(1)) else {
        return leaf(expr, leaves);
    };
    let a = read(a, ty, expr, leaves, depth + 1);
    let b = read(b, ty, expr, leaves, depth + 1);
    expr.add(match rewrite::name_of(op).as_str() {
        "arith.addi" => Arith::Add([a, b]),
        "arith.subi" => Arith::Sub([a, b]),
        "arith.muli" => Arith::Mul([a, b]),
        "arith.divsi" => Arith::Div([a, b]),
        "arith.remsi" => Arith::Rem([a, b]),
        "arith.shli" => Arith::Shl([a, b]),
        "arith.minsi" => Arith::Min([a, b]),
        _ => Arith::Max([a, b]),
    })
}

/// Emits `expr` before `before`; returns the value of its root.
fn write<'c: 'a, 'a>(
    expr: &RecExpr<Arith>,
    ty: Type<'c>,
    leaves: &HashMap<Symbol, Value<'c, 'a>>,
    before: OperationRef<'c, 'a>,
) -> Option<Value<'c, 'a>> {
    let block = before.block()?;
    let location = before.location();
    let context = before.context();
    // SAFETY: the context outlives this pass run.
    let context = unsafe { context.to_ref() };
    let mut values: Vec<Value<'c, 'a>> = Vec::with_capacity(expr.as_ref().len());
    for node in expr.as_ref() {
        let op = match node {
            Arith::Symbol(symbol) => {
                values.push(*leaves.get(symbol)?);
                continue;
            }
            Arith::Num(n) => OperationBuilder::new("arith.constant", location).add_attributes(&[(
                Identifier::new(context, "value"),
                IntegerAttribute::new(ty, *n).into(),
            )]),
            other => {
                let name = match other {
                    Arith::Add(_) => "arith.addi",
                    Arith::Sub(_) => "arith.subi",
                    Arith::Mul(_) => "arith.muli",
                    Arith::Div(_) => "arith.divsi",
                    Arith::Rem(_) => "arith.remsi",
                    Arith::Shl(_) => "arith.shli",
                    Arith::Min(_) => "arith.minsi",
                    _ => "arith.maxsi",
                };
                let operands: Vec<Value> = other
                    .children()
                    .iter()
                    .map(|id| values[usize::from(*id)])
                    .collect();
                OperationBuilder::new(name, location).add_operands(&operands)
            }
        };
        let op = op.add_results(&[ty]).build().ok()?;
        let value = block
            .insert_operation_before(before, op)
            .result(0)
            .ok()?
            .into();
        values.push(value);
    }
    values.last().copied()
}

use egg::Language;

/// Roots: arithmetic results used by something other than arithmetic of
/// the same type.
fn roots(root: OperationRef) -> Vec<mlir_sys::MlirOperation> {
    // The combines of detected reductions stay as they are (`p[0] *= 2`
    // as a shift would no longer be a product the lowering reduces); their
    // contributions are roots instead.
    let mut combines = Vec::new();
    for raw in rewrite::collect(root, "looppar.for") {
        // SAFETY: collected from the live IR.
        let loop_op = unsafe { rewrite::view(raw) };
        if loop_op.has_attribute("reduction") {
            for pattern in super::looppar_detect_reductions::find_all(loop_op) {
                combines.push(pattern.combine.to_raw().ptr);
            }
        }
    }
    let mut found = Vec::new();
    for name in ARITH {
        for raw in rewrite::collect(root, name) {
            // SAFETY: collected from the live IR.
            let op = unsafe { rewrite::view(raw) };
            if combines.contains(&raw.ptr) {
                let contributions = op.operands().filter_map(|v| {
                    parla_dialects::values::op_result(v)
                        .map(|r| r.owner())
                        .filter(|owner| is_arith(*owner))
                });
                for owner in contributions {
                    if !found
                        .iter()
                        .any(|f: &mlir_sys::MlirOperation| f.ptr == owner.to_raw().ptr)
                    {
                        found.push(owner.to_raw());
                    }
                }
                continue;
            }
            let Ok(result) = op.result(0) else { continue };
            let value: Value = result.into();
            let feeds_other = rewrite::users(value).into_iter().any(|(user, _)| {
                !is_arith(user)
                    || user
                        .result(0)
                        .map(|r| r.r#type() != value.r#type())
                        .unwrap_or(true)
            });
            if feeds_other {
                found.push(raw);
            }
        }
    }
    found
}

fn simplify_expressions(root: OperationRef) {
    for raw in roots(root) {
        // SAFETY: roots are only replaced (not erased) while iterating.
        let op = unsafe { rewrite::view(raw) };
        let Ok(result) = op.result(0) else { continue };
        let value: Value = result.into();
        let ty = value.r#type();
        // The e-graph computes in 64 bits: narrower integers would not
        // wrap where the code does.
        if !(ty.is_index() || ty.is_integer() && is_64_bits(ty)) {
            continue;
        }
        let mut expr = RecExpr::default();
        let mut leaves = HashMap::new();
        read(value, ty, &mut expr, &mut leaves, 0);
        let (best, best_cost, original_cost) = egraph::simplify(&expr);
        if best_cost >= original_cost {
            continue; // never worse, and no churn when equal
        }
        if let Some(new) = write(&best, ty, &leaves, op) {
            // SAFETY: both values are live and of one type.
            unsafe { mlir_sys::mlirValueReplaceAllUsesOfWith(value.to_raw(), new.to_raw()) };
        }
    }
    erase_dead_arithmetic(root);
}

/// Removes arithmetic (and constants) whose results are unused.
fn erase_dead_arithmetic(root: OperationRef) {
    loop {
        let mut erased = false;
        for name in ARITH.iter().chain(["arith.constant"].iter()) {
            for raw in rewrite::collect(root, name) {
                // SAFETY: collected from the live IR; erased once.
                let op = unsafe { rewrite::view(raw) };
                let unused = op.results().all(|r| {
                    unsafe { mlir_sys::mlirValueGetFirstUse(r.to_raw()) }
                        .ptr
                        .is_null()
                });
                if unused {
                    unsafe { rewrite::erase(raw) };
                    erased = true;
                }
            }
        }
        if !erased {
            return;
        }
    }
}

/// Pure scalar ops (`arith`, `math`): they can leave a loop when their
/// operands are defined outside it, and be duplicated freely.
pub(crate) fn pure_scalar(op: OperationRef) -> bool {
    let name = rewrite::name_of(op);
    (name.starts_with("arith.") || name.starts_with("math.")) && op.region_count() == 0
}

pub(crate) fn defined_outside(value: Value, loop_op: OperationRef) -> bool {
    use mlir_sys::*;
    // SAFETY: reads the live IR through the C API.
    unsafe {
        let raw = value.to_raw();
        let mut current = if mlirValueIsAOpResult(raw) {
            mlirOperationGetParentOperation(mlirOpResultGetOwner(raw))
        } else {
            mlirBlockGetParentOperation(mlirBlockArgumentGetOwner(raw))
        };
        if mlirValueIsAOpResult(raw) && mlirOpResultGetOwner(raw).ptr == loop_op.to_raw().ptr {
            return false;
        }
        while !current.ptr.is_null() {
            if current.ptr == loop_op.to_raw().ptr {
                return false;
            }
            current = mlirOperationGetParentOperation(current);
        }
    }
    true
}

fn is_64_bits(ty: Type) -> bool {
    melior::ir::r#type::IntegerType::try_from(ty).is_ok_and(|i| i.width() == 64)
}

/// Whether `op` may run where its loop might not (before it: a loop of no
/// iterations must not divide by a zero it never reached). Integer
/// division and remainder only by a constant other than 0 and -1.
fn speculatable(op: OperationRef) -> bool {
    const DIVISIONS: [&str; 7] = [
        "arith.divsi",
        "arith.divui",
        "arith.remsi",
        "arith.remui",
        "arith.ceildivsi",
        "arith.ceildivui",
        "arith.floordivsi",
    ];
    if !DIVISIONS.contains(&rewrite::name_of(op).as_str()) {
        return true;
    }
    op.operand(1)
        .ok()
        .and_then(rewrite::constant_value)
        .is_some_and(|d| d != 0 && d != -1)
}

/// Moves loop-invariant pure ops of each loop body before the loop,
/// innermost loops first so that hoisted ops keep moving out.
fn hoist_invariants(root: OperationRef) {
    let mut loops = rewrite::collect(root, "looppar.for");
    loops.reverse();
    for raw in loops {
        // SAFETY: loops are not erased by this pass.
        let loop_op = unsafe { rewrite::view(raw) };
        let Ok(region) = loop_op.region(0) else {
            continue;
        };
        let Some(block) = region.first_block() else {
            continue;
        };
        loop {
            let mut moved = false;
            let mut current = block.first_operation();
            while let Some(op) = current {
                let next = op.next_in_block();
                if pure_scalar(op)
                    && speculatable(op)
                    && op.operands().all(|v| defined_outside(v, loop_op))
                {
                    // SAFETY: both ops are live; the op's operands dominate the loop.
                    unsafe { mlir_sys::mlirOperationMoveBefore(op.to_raw(), raw) };
                    moved = true;
                }
                current = next;
            }
            if !moved {
                break;
            }
        }
    }
}

fn run(root: OperationRef, _pass: ExternalPass) {
    simplify_expressions(root);
    // After: what the rewrites produced may be invariant too.
    hoist_invariants(root);
}
