//! `looppar-atomic-updates`: makes an update of an array element,
//! `a[k] op= expr` with op one of `+ - * min max & | ^`, atomic inside a
//! parallel loop whose iterations may update the same element: a
//! histogram `h[bins[i]] += 1`, or `y[i % 7] += x[i]`.
//!
//! Such updates commute (`+= 2` then `+= 3` is `+= 3` then `+= 2`), so an
//! atomic update gives the loop's sequential result in any order of the
//! iterations (up to the rounding of float sums, as in any parallel
//! reduction). Other updates (`a[k] = a[k] * 2 + x[i]`) do not commute and
//! stay as they are.
//!
//! The pattern, in one block: `%old = memref.load M[I]`, `%new = op
//! %old, %expr` (either order for commutative ops, `%old` first for `-`),
//! `memref.store %new, M[I]`, each intermediate value used once, nothing
//! between the load and the store that writes memory; or the same in a
//! wider type (`float32 += float64`: extend, op, truncate back). It
//! becomes `memref.atomic_rmw` with the contribution in the element's
//! type (`-` as `+` of the negation); integer products become
//! `memref.generic_atomic_rmw` (a compare-and-swap loop). In a wider
//! type, integer `+ - * & | ^` wrap to the same value and float min/max
//! are exact; float sums round the contribution first (once more than the
//! sequential code, like the order of any parallel sum). Float products
//! (no atomic, and a compare-and-swap of floats does not lower) and
//! integer min/max in a wider type stay as they are.
//!
//! Under `debug`, the load and the store are each inside their bounds
//! check; the atomic update takes the store's place, inside its check.
//! The load's and the store's indices need not be one SSA value: an index
//! read from an array (`h[b[i]] = min(h[b[i]], x)`) is loaded twice, each
//! time under its own check, and the two loads are the same element when
//! nothing between them writes memory (`same_value`).
//!
//! An update needs no atomic when every parallel loop around it gives each
//! iteration its own element (an index affine in the loop variable:
//! `y[i] += ...`), when the element is in a buffer private to an
//! iteration, or when the loop is a reduction into that element
//! (`looppar-detect-reductions`), which its lowering parallelises.

use super::{looppar_check_races, looppar_detect_reductions, rewrite};
use melior::ir::ShapedTypeLike;
use melior::{
    ir::{
        operation::{
            OperationBuilder, OperationLike, OperationMutLike, OperationRef, OperationRefMut,
        },
        Block, BlockLike, Region, RegionLike, Value, ValueLike,
    },
    pass::ExternalPass,
};
use std::collections::{HashMap, HashSet};

external_pass!(
    "looppar-atomic-updates",
    "Make a[k] op= expr atomic in parallel loops whose iterations may update the same element",
    run,
    depends on [memref, arith]
);

/// The mark the front end sets on a store that updates an integer element
/// with a float (`h[k] += 0.5`, `h[k] = h[k] * 0.5`). Rounded at every
/// step, such updates give the written order's result only (`trunc(old +
/// c)` does not commute for mixed signs), so where parallel iterations may
/// share the element they are an error, as such reductions are; the mark
/// is removed either way.
pub(crate) const ROUNDED_UPDATE: &str = "parla.rounded_update";

/// Ops that only convert a value (a cast between widths or kinds).
const CONVERSIONS: &[&str] = &[
    "arith.extf",
    "arith.truncf",
    "arith.extsi",
    "arith.extui",
    "arith.trunci",
    "arith.sitofp",
    "arith.uitofp",
    "arith.fptosi",
    "arith.fptoui",
];

/// How an update combines the old value with the contribution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// Commutes; `memref.atomic_rmw` has it under this kind, if at all.
    Commutative(Option<&'static str>),
    /// `old - expr`: `+` of the negation.
    Subtract,
}

fn combine_of(name: &str) -> Option<Combine> {
    use Combine::*;
    Some(match name {
        "arith.addf" => Commutative(Some("addf")),
        "arith.addi" => Commutative(Some("addi")),
        // Float products have no atomic (and no compare-and-swap form:
        // see the module doc): they are not updates this pass can make.
        "arith.muli" => Commutative(None),
        "arith.maximumf" => Commutative(Some("maximumf")),
        "arith.minimumf" => Commutative(Some("minimumf")),
        "arith.maxnumf" => Commutative(Some("maxnumf")),
        "arith.minnumf" => Commutative(Some("minnumf")),
        "arith.maxsi" => Commutative(Some("maxs")),
        "arith.minsi" => Commutative(Some("mins")),
        "arith.maxui" => Commutative(Some("maxu")),
        "arith.minui" => Commutative(Some("minu")),
        "arith.ori" => Commutative(Some("ori")),
        "arith.andi" => Commutative(Some("andi")),
        "arith.xori" => Commutative(Some("xori")),
        "arith.subf" | "arith.subi" => Subtract,
        _ => return None,
    })
}

/// A matched update: the ops from the load to the store, in order.
struct Update<'c, 'a> {
    /// The `memref.load`, or under `debug` the bounds check around it
    /// (an `scf.if` whose result is the loaded value).
    load: OperationRef<'c, 'a>,
    /// The ops from the load to the store: the combining op, with an
    /// extension before it and a truncation after it when widened.
    chain: Vec<OperationRef<'c, 'a>>,
    combine: OperationRef<'c, 'a>,
    how: Combine,
    /// The combining op's operand that is not the old value.
    contribution: Value<'c, 'a>,
    /// The op runs in a wider type than the element's.
    widened: bool,
}

fn single_use(value: Value) -> bool {
    looppar_detect_reductions::uses(value) == 1
}

fn defining_op<'c, 'a>(value: Value<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    parla_dialects::values::op_result(value).map(|r| r.owner())
}

/// Follows conversions back from `value` (each used once, in `block`):
/// the ops passed, nearest first, and where they start.
fn through_conversions<'c, 'a>(
    mut value: Value<'c, 'a>,
    block: &melior::ir::BlockRef<'c, 'a>,
) -> (Vec<OperationRef<'c, 'a>>, Value<'c, 'a>) {
    let mut passed = Vec::new();
    while let Some(op) = defining_op(value) {
        if !CONVERSIONS.contains(&rewrite::name_of(op).as_str())
            || op.block().as_ref() != Some(block)
            || !single_use(value)
        {
            break;
        }
        passed.push(op);
        let Ok(source) = op.operand(0) else { break };
        value = source;
    }
    (passed, value)
}

/// The op that stands for `op` in the enclosing block: `op` itself, or
/// under `debug` the bounds check whose then-block holds only `op` (and a
/// yield).
fn guard_or_self<'c, 'a>(op: OperationRef<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    let block = op.block()?;
    let Some(parent) = op.parent_operation() else {
        return Some(op);
    };
    let guarded = rewrite::name_of(parent) == "scf.if"
        && looppar_check_races::is_bounds_check(parent)
        && block.first_operation() == Some(op)
        && op.next_in_block().is_some_and(|next| {
            rewrite::name_of(next) == "scf.yield" && next.next_in_block().is_none()
        });
    Some(if guarded { parent } else { op })
}

/// The `memref.load` that produced `value`, directly or through the bounds
/// check around it (`debug`), and the op that stands for it in the block.
fn loaded_by<'c, 'a>(value: Value<'c, 'a>) -> Option<(OperationRef<'c, 'a>, OperationRef<'c, 'a>)> {
    let op = defining_op(value)?;
    match rewrite::name_of(op).as_str() {
        "memref.load" => Some((op, op)),
        "scf.if" if looppar_check_races::is_bounds_check(op) && op.result_count() == 1 => {
            let then = op.region(0).ok()?.first_block()?;
            let load = then.first_operation()?;
            let yielded = load.next_in_block()?;
            let is_load_then_yield = rewrite::name_of(load) == "memref.load"
                && rewrite::name_of(yielded) == "scf.yield"
                && yielded.operand(0).ok()? == load.result(0).ok()?.into();
            is_load_then_yield.then_some((load, op))
        }
        _ => None,
    }
}

/// Whether `op`, between an update's load and its store, cannot write
/// memory (bounds checks around loads only report into the error word,
/// which nothing here reads).
fn writes_no_memory(op: OperationRef) -> bool {
    let name = rewrite::name_of(op);
    if name == "scf.if" && looppar_check_races::is_bounds_check(op) {
        return op
            .result(0)
            .ok()
            .is_some_and(|result| loaded_by(result.into()).is_some());
    }
    !(op.region_count() > 0
        || name.contains("store")
        || name.contains("atomic")
        || name.ends_with("call")
        || name.starts_with("looppar.")
        || name == "memref.copy")
}

/// How deep `same_value` follows operands.
const SAME_VALUE_DEPTH: usize = 6;

/// Whether `a` and `b` certainly hold the same value: one SSA value, the
/// same pure `arith` op of such values, or loads of the same element with
/// nothing between them that writes memory. Under `debug` each access
/// loads its index inside its own bounds check, so `h[b[i]] =
/// min(h[b[i]], x)` reads `b[i]` twice, once for the load of `h` and once
/// for the store.
fn same_value(a: Value, b: Value, depth: usize) -> bool {
    if a == b {
        return true;
    }
    if depth == 0 {
        return false;
    }
    let (Some(op_a), Some(op_b)) = (defining_op(a), defining_op(b)) else {
        return false;
    };
    if let (Some((load_a, at_a)), Some((load_b, at_b))) = (loaded_by(a), loaded_by(b)) {
        let operands_a: Vec<Value> = load_a.operands().collect();
        let operands_b: Vec<Value> = load_b.operands().collect();
        return at_a.block() == at_b.block()
            && operands_a.len() == operands_b.len()
            && operands_a[0] == operands_b[0]
            && operands_a[1..]
                .iter()
                .zip(&operands_b[1..])
                .all(|(x, y)| same_value(*x, *y, depth - 1))
            && (nothing_writes_between(at_a, at_b) || nothing_writes_between(at_b, at_a));
    }
    let name = rewrite::name_of(op_a);
    let pure = name.starts_with("arith.") && op_a.region_count() == 0;
    let results_a: Vec<_> = op_a.results().map(|r| r.r#type()).collect();
    let results_b: Vec<_> = op_b.results().map(|r| r.r#type()).collect();
    pure && name == rewrite::name_of(op_b)
        && parla_dialects::values::op_result(a).map(|r| r.result_number())
            == parla_dialects::values::op_result(b).map(|r| r.result_number())
        && results_a == results_b
        && attributes(op_a) == attributes(op_b)
        && op_a.operand_count() == op_b.operand_count()
        && op_a
            .operands()
            .zip(op_b.operands())
            .all(|(x, y)| same_value(x, y, depth - 1))
}

/// An op's attributes, by name.
fn attributes<'c>(op: OperationRef<'c, '_>) -> Vec<(String, melior::ir::Attribute<'c>)> {
    let mut all: Vec<_> = op
        .attributes()
        .map(|(name, value)| {
            (
                name.as_string_ref().as_str().unwrap_or("").to_string(),
                value,
            )
        })
        .collect();
    all.sort_by(|x, y| x.0.cmp(&y.0));
    all
}

/// Whether `first` precedes `last` in their block and nothing from
/// `first` up to `last` writes memory.
fn nothing_writes_between(first: OperationRef, last: OperationRef) -> bool {
    let mut current = Some(first);
    while let Some(op) = current {
        if op == last {
            return true;
        }
        if !writes_no_memory(op) {
            return false;
        }
        current = op.next_in_block();
    }
    false
}

fn match_update<'c, 'a>(store: OperationRef<'c, 'a>) -> Option<Update<'c, 'a>> {
    let anchor = guard_or_self(store)?;
    let block = anchor.block()?;
    let operands: Vec<Value> = store.operands().collect();
    let (stored, memref, indices) = (*operands.first()?, *operands.get(1)?, &operands[2..]);
    let (after, combined) = through_conversions(stored, &block);
    let combine = defining_op(combined)?;
    let how = combine_of(&rewrite::name_of(combine))?;
    if combine.block().as_ref() != Some(&block) || !single_use(combined) {
        return None;
    }
    let (Ok(a), Ok(b)) = (combine.operand(0), combine.operand(1)) else {
        return None;
    };
    let old_value =
        |v: Value<'c, 'a>| -> Option<(Vec<OperationRef<'c, 'a>>, OperationRef<'c, 'a>)> {
            let (before, source) = through_conversions(v, &block);
            let (load, stand_in) = loaded_by(source)?;
            let load_operands: Vec<Value> = load.operands().collect();
            (stand_in.block().as_ref() == Some(&block)
                && single_use(source)
                && load_operands.first() == Some(&memref)
                && load_operands.len() == indices.len() + 1
                && load_operands[1..]
                    .iter()
                    .zip(indices)
                    .all(|(a, b)| same_value(*a, *b, SAME_VALUE_DEPTH)))
            .then_some((before, stand_in))
        };
    let (before, load, contribution) = match (old_value(a), how) {
        (Some((before, load)), _) => (before, load, b),
        (None, Combine::Commutative(_)) => {
            let (before, load) = old_value(b)?;
            (before, load, a)
        }
        (None, Combine::Subtract) => return None,
    };
    // The store follows the load, and nothing between them writes memory.
    if !nothing_writes_between(load.next_in_block()?, anchor) {
        return None;
    }
    let widened = match (before.as_slice(), after.as_slice()) {
        ([], []) => false,
        ([extend], [truncate]) => {
            let integer = match (
                rewrite::name_of(*extend).as_str(),
                rewrite::name_of(*truncate).as_str(),
            ) {
                // Float min/max are exact, sums rounded once more.
                ("arith.extf", "arith.truncf") => false,
                ("arith.extsi" | "arith.extui", "arith.trunci") => true,
                _ => return None,
            };
            // Integer min/max in a wider type are not the element's.
            let integer_extremum = matches!(
                rewrite::name_of(combine).as_str(),
                "arith.maxsi" | "arith.minsi" | "arith.maxui" | "arith.minui"
            );
            if integer && integer_extremum {
                return None;
            }
            true
        }
        _ => return None,
    };
    let mut chain: Vec<OperationRef> = before;
    chain.push(combine);
    chain.extend(after);
    Some(Update {
        load,
        chain,
        combine,
        how,
        contribution,
        widened,
    })
}

/// The stores of each reduction loop's detected patterns, found once per
/// loop (a body's patterns are looked up for every update in it).
#[derive(Default)]
struct ReductionStores(HashMap<usize, HashSet<usize>>);

impl ReductionStores {
    /// Whether `store` is the update of one of `loop_op`'s reductions.
    fn reduces_into(&mut self, loop_op: OperationRef, store: OperationRef) -> bool {
        let key = loop_op.to_raw().ptr as usize;
        self.0
            .entry(key)
            .or_insert_with(|| {
                looppar_detect_reductions::find_all(loop_op)
                    .iter()
                    .map(|p| p.store.to_raw().ptr as usize)
                    .collect()
            })
            .contains(&(store.to_raw().ptr as usize))
    }
}

/// Whether iterations of a parallel loop around `store` may update the
/// same element.
fn shared_between_iterations(store: OperationRef, reductions: &mut ReductionStores) -> bool {
    let operands: Vec<Value> = store.operands().collect();
    let (memref, indices) = (operands[1], &operands[2..]);
    for op in rewrite::ancestors(store) {
        if rewrite::is_parallel_loop(op) {
            if looppar_check_races::defined_inside(memref, op) {
                return false; // each iteration's own buffer
            }
            let reduction_into_it =
                op.has_attribute("reduction") && reductions.reduces_into(op, store);
            if !reduction_into_it && !looppar_check_races::private_to_iterations(op, indices) {
                return true;
            }
        }
    }
    false
}

/// Replaces the update by an atomic one.
///
/// # Safety
/// `store` and the ops of `update` must be live; they are erased.
unsafe fn make_atomic(store: OperationRef, update: Update) -> Result<(), String> {
    let location = store.location();
    let block = store.block().ok_or("a store outside a block")?;
    let operands: Vec<Value> = store.operands().collect();
    let (memref, indices) = (operands[1], &operands[2..]);
    let element = operands[0].r#type();
    let context_ref = store.context();
    // SAFETY: the context outlives this pass run.
    let context = unsafe { context_ref.to_ref() };
    let is_float = {
        use melior::ir::r#type::TypeLike;
        element.is_f16() || element.is_bf16() || element.is_f32() || element.is_f64()
    };
    // The contribution in the element's type.
    let mut contribution = update.contribution;
    if update.widened {
        let truncate = if is_float {
            "arith.truncf"
        } else {
            "arith.trunci"
        };
        contribution = insert_value(
            &block,
            store,
            OperationBuilder::new(truncate, location)
                .add_operands(&[contribution])
                .add_results(&[element]),
        )?;
    }
    let combine = rewrite::name_of(update.combine);
    if update.how == Combine::Subtract {
        // `old - expr` as `old + (-expr)`: exact for floats, the same
        // wrapped value for integers.
        contribution = if is_float {
            insert_value(
                &block,
                store,
                OperationBuilder::new("arith.negf", location)
                    .add_operands(&[contribution])
                    .add_results(&[element]),
            )?
        } else {
            let zero = insert_value(
                &block,
                store,
                OperationBuilder::new("arith.constant", location)
                    .add_attributes(&[(
                        melior::ir::Identifier::new(context, "value"),
                        melior::ir::attribute::IntegerAttribute::new(element, 0).into(),
                    )])
                    .add_results(&[element]),
            )?;
            insert_value(
                &block,
                store,
                OperationBuilder::new("arith.subi", location)
                    .add_operands(&[zero, contribution])
                    .add_results(&[element]),
            )?
        };
    }
    let native = match update.how {
        Combine::Commutative(kind) => kind,
        Combine::Subtract => Some(if is_float { "addf" } else { "addi" }),
    };
    let atomic = match native {
        Some(kind) => {
            let i64_type = melior::ir::r#type::IntegerType::new(context, 64).into();
            let kind_attribute: melior::ir::Attribute =
                melior::ir::attribute::IntegerAttribute::new(i64_type, atomic_kind_number(kind)?)
                    .into();
            let mut atomic_operands = vec![contribution, memref];
            atomic_operands.extend_from_slice(indices);
            OperationBuilder::new("memref.atomic_rmw", location)
                .add_operands(&atomic_operands)
                .add_attributes(&[(melior::ir::Identifier::new(context, "kind"), kind_attribute)])
                .add_results(&[element])
                .build()
                .map_err(|e| e.to_string())?
        }
        None if combine == "arith.muli" => {
            // A compare-and-swap loop (integers only: see the module doc).
            let body = Block::new(&[(element, location)]);
            let current: Value = body.argument(0).map_err(|e| e.to_string())?.into();
            let product: Value = body
                .append_operation(
                    OperationBuilder::new("arith.muli", location)
                        .add_operands(&[current, contribution])
                        .add_results(&[element])
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .result(0)
                .map_err(|e| e.to_string())?
                .into();
            body.append_operation(
                OperationBuilder::new("memref.atomic_yield", location)
                    .add_operands(&[product])
                    .build()
                    .map_err(|e| e.to_string())?,
            );
            let region = Region::new();
            region.append_block(body);
            let mut atomic_operands = vec![memref];
            atomic_operands.extend_from_slice(indices);
            OperationBuilder::new("memref.generic_atomic_rmw", location)
                .add_operands(&atomic_operands)
                .add_regions([region])
                .add_results(&[element])
                .build()
                .map_err(|e| e.to_string())?
        }
        None => return Err(format!("no atomic form of {combine}")),
    };
    block.insert_operation_before(store, atomic);
    // SAFETY: the store, then the chain from its end, then the load: each
    // is unused once the ones after it are gone.
    unsafe {
        rewrite::erase(store.to_raw());
        for op in update.chain.iter().rev() {
            rewrite::erase(op.to_raw());
        }
        rewrite::erase(update.load.to_raw());
    }
    Ok(())
}

/// The value of `arith::AtomicRMWKind` `kind` (the op's `kind` attribute).
fn atomic_kind_number(kind: &str) -> Result<i64, String> {
    const KINDS: [&str; 16] = [
        "addf", "addi", "andi", "assign", "maximumf", "maxnumf", "maxs", "maxu", "minimumf",
        "minnumf", "mins", "minu", "mulf", "muli", "ori", "xori",
    ];
    KINDS
        .iter()
        .position(|k| *k == kind)
        .map(|p| p as i64)
        .ok_or_else(|| format!("no atomic kind {kind}"))
}

/// Whether the elements `store` writes have an atomic form
/// ([`rewrite::has_atomic_form`]). An update that must be atomic and
/// cannot be is an error: left plain, parallel iterations would lose
/// updates.
fn atomic_element(store: OperationRef) -> Result<(), String> {
    let memref = store.operand(1).map_err(|e| e.to_string())?.r#type();
    let element = melior::ir::r#type::MemRefType::try_from(memref)
        .map_err(|e| e.to_string())?
        .element();
    if rewrite::has_atomic_form(element) {
        Ok(())
    } else {
        Err(format!(
            "iterations of a parallel loop may update the same element, which needs an atomic \
             update, and elements of type {element} have none"
        ))
    }
}

/// Builds `builder`'s op before `anchor` and returns its result.
fn insert_value<'c, 'a>(
    block: &melior::ir::BlockRef<'c, 'a>,
    anchor: OperationRef<'c, 'a>,
    builder: OperationBuilder<'c>,
) -> Result<Value<'c, 'a>, String> {
    let op = builder.build().map_err(|e| e.to_string())?;
    let op = block.insert_operation_before(anchor, op);
    Ok(op.result(0).map_err(|e| e.to_string())?.into())
}

fn run(root: OperationRef, pass: ExternalPass) {
    // Decided before anything changes, so that the patterns found stay
    // those of the IR as it came (making one update atomic changes no
    // other update's decision).
    let mut reductions = ReductionStores::default();
    for raw in rewrite::collect(root, "memref.store") {
        // SAFETY: collected from the live IR; only an attribute changes.
        let mut marked = unsafe { OperationRefMut::from_raw(raw) };
        let store = unsafe { rewrite::view(raw) };
        if marked.remove_attribute(ROUNDED_UPDATE).is_ok()
            && shared_between_iterations(store, &mut reductions)
        {
            rewrite::emit_error(
                store.location(),
                "this update rounds a float into an integer element at every step, which gives the \
                 written order's result only, and parallel iterations may share the element: \
                 accumulate in a float array, or convert the contribution to an integer first",
            );
            pass.signal_failure();
            return;
        }
    }
    let shared: Vec<_> = rewrite::collect(root, "memref.store")
        .into_iter()
        .filter(|&raw| {
            // SAFETY: collected from the live IR, which nothing changes
            // while deciding.
            let store = unsafe { rewrite::view(raw) };
            !store.has_attribute("parla.error_report")
                && match_update(store).is_some()
                && shared_between_iterations(store, &mut reductions)
        })
        .collect();
    for raw in shared {
        // SAFETY: each store is visited once and only its own update is
        // erased.
        let store = unsafe { rewrite::view(raw) };
        let made = match_update(store)
            .ok_or_else(|| {
                "the update matched before another became atomic, and no longer".to_string()
            })
            .and_then(|update| atomic_element(store).map(|()| update))
            .and_then(|update| unsafe { make_atomic(store, update) });
        if let Err(message) = made {
            rewrite::emit_error(
                store.location(),
                &format!("looppar-atomic-updates: {message}"),
            );
            pass.signal_failure();
            return;
        }
    }
}
