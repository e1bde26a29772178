//! `openmp-float-minmax`: gives the float min/max reductions that
//! `looppar-to-scf` built the semantics of `arith.maximumf` /
//! `arith.minimumf` once `convert-scf-to-openmp` has turned them into
//! OpenMP reductions.
//!
//! `convert-scf-to-openmp` recognises a min/max combiner only in its
//! compare-and-select form, and gives it the largest finite value as
//! identity. Both are wrong for floats: `select(a > b, a, b)` drops a NaN
//! that comes second, and a reduction over `-inf` values would end at
//! `-FLT_MAX`. So `looppar-to-scf` marks its compare with
//! `looppar.float_minmax`, and this pass, run right after the conversion,
//! turns every marked compare-and-select back into `maximumf`/`minimumf`
//! (NaN propagates, as in numpy's `max`, the slices' and the GPU's
//! reductions) and sets the identity of the reductions that use it to
//! `-inf`/`+inf`. Float sums start at -0.0 instead of the conversion's
//! +0.0, which would turn a sum of -0.0s into +0.0. The GPU pipeline runs
//! it after `looppar-to-scf` too, for reductions that stay `scf.parallel`
//! inside kernels.

use super::{looppar_detect_reductions, rewrite};
use melior::{
    ir::{
        attribute::FloatAttribute,
        operation::{OperationBuilder, OperationLike, OperationRef},
        BlockLike, RegionLike, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "openmp-float-minmax",
    "Make the float min/max reductions marked by looppar-to-scf propagate NaN, with -inf/+inf identities, after convert-scf-to-openmp",
    run,
    depends on [arith, llvm]
);

/// The attribute `looppar-to-scf` puts on the compare of a float min/max
/// combiner.
pub(super) const MARK: &str = "looppar.float_minmax";

/// `arith.cmpf` predicates (`arith::CmpFPredicate`).
const OGT: i64 = 2;
const OLT: i64 = 4;

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err(message) = rewrite_all(root) {
        rewrite::emit_error(root.location(), &format!("openmp-float-minmax: {message}"));
        pass.signal_failure();
    }
}

fn rewrite_all(root: OperationRef) -> Result<(), String> {
    for raw in rewrite::collect(root, "arith.cmpf") {
        // SAFETY: collected from the live IR; each compare is visited once
        // and only it and its select are erased.
        let compare = unsafe { rewrite::view(raw) };
        if compare.attribute(MARK).is_err() {
            continue;
        }
        let is_max = match predicate(compare)? {
            OGT => true,
            OLT => false,
            other => return Err(format!("a marked compare with predicate {other}")),
        };
        if let Some(declaration) = compare
            .parent_operation()
            .filter(|parent| rewrite::name_of(*parent) == "omp.declare_reduction")
        {
            set_identity(declaration, is_max)?;
        }
        unsafe { replace_with_minmax(compare, is_max)? };
    }
    // Float sums start at -0.0, the exact identity of IEEE addition (the
    // conversion gives +0.0, which turns a sum of -0.0s into +0.0).
    for raw in rewrite::collect(root, "omp.declare_reduction") {
        // SAFETY: collected from the live IR; only an attribute changes.
        let declaration = unsafe { rewrite::view(raw) };
        let adds = declaration
            .region(2)
            .ok()
            .and_then(|combiner| combiner.first_block())
            .and_then(|block| block.first_operation())
            .is_some_and(|op| matches!(rewrite::name_of(op).as_str(), "llvm.fadd" | "arith.addf"));
        if adds {
            set_initial_value(declaration, -0.0)?;
        }
    }
    Ok(())
}

fn predicate(compare: OperationRef) -> Result<i64, String> {
    let attribute = compare
        .attribute("predicate")
        .map_err(|_| "a compare without predicate".to_string())?;
    melior::ir::attribute::IntegerAttribute::try_from(attribute)
        .map(|a| a.value())
        .map_err(|_| "a compare whose predicate is not an integer".to_string())
}

/// Replaces `select(compare(a, b), a, b)` by `maximumf(a, b)` or
/// `minimumf(a, b)`.
///
/// # Safety
/// `compare` must be live; it and its select are erased.
unsafe fn replace_with_minmax(compare: OperationRef, is_max: bool) -> Result<(), String> {
    let operands: Vec<Value> = compare.operands().collect();
    let condition: Value = compare.result(0).map_err(|e| e.to_string())?.into();
    // Both lowerings copy the combiner op by op: the select follows.
    let select = compare
        .next_in_block()
        .ok_or("a marked compare at the end of its block")?;
    let select_operands: Vec<Value> = select.operands().collect();
    if rewrite::name_of(select) != "arith.select"
        || looppar_detect_reductions::uses(condition) != 1
        || select_operands.len() != 3
        || select_operands[0] != condition
        || select_operands[1] != operands[0]
        || select_operands[2] != operands[1]
    {
        return Err("a marked compare that does not choose between its operands".into());
    }
    let chosen = select.result(0).map_err(|e| e.to_string())?;
    let name = if is_max {
        "arith.maximumf"
    } else {
        "arith.minimumf"
    };
    let combined = OperationBuilder::new(name, select.location())
        .add_operands(&operands)
        .add_results(&[chosen.r#type()])
        .build()
        .map_err(|e| e.to_string())?;
    let block = select.block().ok_or("a select outside a block")?;
    let combined = block.insert_operation_before(select, combined);
    let combined = combined.result(0).map_err(|e| e.to_string())?;
    // SAFETY: both values are live; the select and then the compare are
    // unused once the select's uses move.
    unsafe {
        mlir_sys::mlirValueReplaceAllUsesOfWith(chosen.to_raw(), combined.to_raw());
        rewrite::erase(select.to_raw());
        rewrite::erase(compare.to_raw());
    }
    Ok(())
}

/// Sets the float constant that the init region of `declaration` yields to
/// `-inf` (max) or `+inf` (min).
fn set_identity(declaration: OperationRef, is_max: bool) -> Result<(), String> {
    let infinity = if is_max {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    set_initial_value(declaration, infinity)
}

/// Sets the value a reduction's private copies start from.
fn set_initial_value(declaration: OperationRef, start: f64) -> Result<(), String> {
    // Regions of omp.declare_reduction: alloc, init, combiner, atomic,
    // cleanup.
    let init = declaration.region(1).map_err(|e| e.to_string())?;
    let block = init
        .first_block()
        .ok_or("a reduction declaration without init block")?;
    let terminator = block
        .terminator()
        .ok_or("an init region without terminator")?;
    let yielded = terminator
        .operand(0)
        .map_err(|_| "an init region that yields nothing".to_string())?;
    let constant = block
        .first_operation()
        .into_iter()
        .flat_map(|first| std::iter::successors(Some(first), |op| op.next_in_block()))
        .find(|op| {
            op.result(0).is_ok_and(|r| {
                Value::from(r) == yielded && rewrite::name_of(*op) == "llvm.mlir.constant"
            })
        })
        .ok_or("an init region that does not yield a constant")?;
    let context_ref = declaration.context();
    // SAFETY: the context outlives this pass run.
    let context = unsafe { context_ref.to_ref() };
    let value = FloatAttribute::new(context, yielded.r#type(), start);
    // SAFETY: `constant` is live; the attribute has the constant's type.
    unsafe {
        mlir_sys::mlirOperationSetAttributeByName(
            constant.to_raw(),
            melior::StringRef::new("value").to_raw(),
            melior::ir::attribute::AttributeLike::to_raw(&value),
        );
    }
    Ok(())
}
