//! `looppar-to-scf`: lowers `looppar` control flow to `scf`.
//!
//! - A `looppar.for` with `threads` that no other parallel loop encloses
//!   becomes `scf.parallel` (then OpenMP, then the runtime's pool). Inner
//!   parallel loops become `scf.for`: on a CPU the outermost parallel loop
//!   already has every core busy.
//! - A parallel loop of at most `INLINE_TRIPS` iterations, known when
//!   compiling, whose body is straight-line code (no inner loops) on a
//!   CPU becomes `scf.for` too: it runs in well under a microsecond on the
//!   calling thread, where handing it to the worker pool costs more (a
//!   wake-up and a wait for a helper).
//! - Other `looppar.for` become `scf.for`; `looppar.while` becomes
//!   `scf.while`; `looppar.on_device` is inlined (on the CPU, "one thread
//!   of the device" is the calling thread).
//! - A sequential loop inside a GPU kernel is unrolled at most
//!   `KERNEL_LOOP_UNROLL` times. Fully unrolled, a loop of a few dozen
//!   iterations that every thread of a block runs (`m = max(m, x[i, j])`
//!   in block-level code) has all its loads in flight at once, and its
//!   registers spill. Loops around barriers are not: LLVM leaves loops of
//!   convergent calls as they are.

use super::build::unroll_annotation;
use super::{looppar_detect_reductions, openmp_float_minmax, rewrite};
use crate::analysis::affine::affine;
use melior::{
    ir::{
        attribute::DenseI32ArrayAttribute,
        operation::{OperationLike, OperationMutLike, OperationRef},
        Identifier, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-to-scf",
    "Lower looppar loops to scf: the outermost parallel loop to scf.parallel, the rest to scf.for/scf.while",
    run,
    depends on [scf, arith, memref]
);

/// How many times LLVM may unroll a sequential loop in a GPU kernel
/// (fewer iterations unroll fully).
const KERNEL_LOOP_UNROLL: u32 = 4;

/// The most iterations of a parallel loop of straight-line code that run
/// on the calling thread (see the module comment).
const INLINE_TRIPS: i128 = 64;

/// Whether `op`, a parallel loop outside GPU kernels and no reduction,
/// is small enough to run on the calling thread: a constant trip count of
/// at most [`INLINE_TRIPS`] and no loop inside.
fn runs_inline(op: OperationRef) -> bool {
    if op.has_attribute("reduction")
        || rewrite::ancestors(op).any(|a| rewrite::name_of(a) == "gpu.launch")
    {
        return false;
    }
    let constant = |index: usize| -> Option<i128> {
        let form = affine(op.operand(index).ok()?)?;
        form.coefficients
            .is_empty()
            .then_some(i128::from(form.constant))
    };
    let (Some(lower), Some(upper), Some(step)) = (constant(0), constant(1), constant(2)) else {
        return false;
    };
    let trips = if step > 0 {
        ((upper - lower).max(0) + step - 1) / step
    } else {
        i128::MAX
    };
    // (The loop itself is the one looppar.for that may be there.)
    let inner_loops = rewrite::collect(op, "looppar.for").len() > 1
        || rewrite::contains_any(
            op,
            &["looppar.while", "scf.for", "scf.while", "scf.parallel"],
        );
    trips <= INLINE_TRIPS && !inner_loops
}

fn lower(root: OperationRef) -> Result<(), String> {
    let loops = rewrite::collect(root, "looppar.for");
    let context = root.context();
    let context = unsafe { context.to_ref() };
    // Decide before changing anything: ancestry is still intact.
    for raw in &loops {
        // SAFETY: collected from the live IR; only attributes change.
        let op = unsafe { rewrite::view(*raw) };
        if rewrite::is_parallel_loop(op)
            && rewrite::has_parallel_ancestor(op)
            && op.has_attribute("reduction")
        {
            allow_reassociation(op, context)?;
        }
    }
    let decisions: Vec<_> = loops
        .iter()
        .map(|raw| {
            // SAFETY: collected from the live IR.
            let op = unsafe { rewrite::view(*raw) };
            // A loop around barriers (block-level code around inner
            // parallel loops) is left as it is: LLVM does not unroll loops
            // of convergent calls, and says so on stderr.
            let unrolled = rewrite::ancestors(op).any(|a| rewrite::name_of(a) == "gpu.launch")
                && !rewrite::contains_any(op, &["gpu.barrier", "gpu.all_reduce", "gpu.shuffle"]);
            (
                *raw,
                rewrite::is_parallel_loop(op)
                    && !rewrite::has_parallel_ancestor(op)
                    && !runs_inline(op),
                unrolled,
            )
        })
        .collect();
    for (raw, parallel, unrolled) in decisions {
        // SAFETY: loops are only replaced once; the views are fresh.
        let op = unsafe { rewrite::view(raw) };
        if parallel && op.has_attribute("reduction") {
            let patterns = looppar_detect_reductions::find_all(op);
            if !patterns.is_empty() {
                unsafe { parallel_reduction(raw, patterns)? };
                continue;
            }
        }
        let operands: Vec<Value> = op.operands().collect();
        let context = op.context();
        let context = unsafe { context.to_ref() };
        if parallel {
            let sizes = DenseI32ArrayAttribute::new(context, &[1, 1, 1, 0]);
            let new = unsafe {
                rewrite::replace_with_regions(
                    raw,
                    "scf.parallel",
                    &operands,
                    &[(
                        Identifier::new(context, "operandSegmentSizes"),
                        sizes.into(),
                    )],
                )?
            };
            unsafe { rewrite::replace_terminator(new, 0, "scf.reduce", &[])? };
        } else {
            let annotation = if unrolled {
                vec![unroll_annotation(context, KERNEL_LOOP_UNROLL)?]
            } else {
                Vec::new()
            };
            let new =
                unsafe { rewrite::replace_with_regions(raw, "scf.for", &operands, &annotation)? };
            unsafe { rewrite::replace_terminator(new, 0, "scf.yield", &[])? };
        }
    }
    for raw in rewrite::collect(root, "looppar.while") {
        let new = unsafe { rewrite::replace_with_regions(raw, "scf.while", &[], &[])? };
        unsafe {
            rewrite::replace_terminator(new, 0, "scf.condition", &[])?;
            rewrite::replace_terminator(new, 1, "scf.yield", &[])?;
        }
    }
    for raw in rewrite::collect(root, "looppar.on_device") {
        unsafe { rewrite::inline_region(raw)? };
    }
    Ok(())
}

/// An inner parallel loop that is a reduction runs sequentially on a CPU
/// (`scf.for`), but its iterations may combine in any order, as threads do
/// on GPUs and as the front end's own reduction nests are emitted: float
/// sums and products into a local (`s += x[i, j]`) may reassociate, which
/// lets LLVM vectorise them.
fn allow_reassociation(loop_op: OperationRef, context: &melior::Context) -> Result<(), String> {
    for pattern in looppar_detect_reductions::find_all(loop_op) {
        if let Some(reassoc) = reassociation(context, &rewrite::name_of(pattern.combine))? {
            // SAFETY: the combine is live; only an attribute changes.
            let mut combine = unsafe {
                melior::ir::operation::OperationRefMut::from_raw(pattern.combine.to_raw())
            };
            combine.set_attribute("fastmath", reassoc);
        }
    }
    Ok(())
}

/// A parallel loop whose body reduces into locations (one or several,
/// `y[0] += x[i]; z[0] += x[i] * x[i]`) becomes `scf.parallel` with a
/// reduction per location: the location's value before the loop is the
/// initial value, each iteration contributes its value, and the result is
/// stored after the loop.
///
/// # Safety
/// `raw` must be the live loop that `patterns` were found in.
unsafe fn parallel_reduction(
    raw: mlir_sys::MlirOperation,
    patterns: Vec<looppar_detect_reductions::Pattern>,
) -> Result<(), String> {
    use melior::ir::{operation::OperationBuilder, BlockLike, Region, RegionLike};
    let loop_op = unsafe { rewrite::view(raw) };
    // The reference borrows from the ContextRef: keep it alive.
    let context_ref = loop_op.context();
    let context = unsafe { context_ref.to_ref() };
    let location = loop_op.location();
    let block = loop_op.block().ok_or("the loop is not in a block")?;
    let locations: Vec<Vec<Value>> = patterns
        .iter()
        .map(|p| p.load.operands().collect())
        .collect();
    let types: Vec<_> = patterns.iter().map(|p| p.contribution.r#type()).collect();
    let mut operands: Vec<Value> = loop_op.operands().collect();
    // Each location's value before the loop.
    for (location_operands, ty) in locations.iter().zip(&types) {
        let initial = OperationBuilder::new("memref.load", location)
            .add_operands(location_operands)
            .add_results(&[*ty])
            .build()
            .map_err(|e| e.to_string())?;
        operands.push(
            block
                .insert_operation_before(loop_op, initial)
                .result(0)
                .map_err(|e| e.to_string())?
                .into(),
        );
    }
    let parallel = OperationBuilder::new("scf.parallel", location)
        .add_operands(&operands)
        .add_attributes(&[(
            Identifier::new(context, "operandSegmentSizes"),
            DenseI32ArrayAttribute::new(context, &[1, 1, 1, patterns.len() as i32]).into(),
        )])
        .add_results(&types)
        .add_regions([Region::new()])
        .build()
        .map_err(|e| e.to_string())?;
    let parallel = block.insert_operation_before(loop_op, parallel);
    // The reduced values go back to their locations after the loop.
    let mut after = parallel;
    for (index, location_operands) in locations.iter().enumerate() {
        let result: Value = parallel.result(index).map_err(|e| e.to_string())?.into();
        let mut store_operands = vec![result];
        store_operands.extend_from_slice(location_operands);
        let store = OperationBuilder::new("memref.store", location)
            .add_operands(&store_operands)
            .build()
            .map_err(|e| e.to_string())?;
        after = block.insert_operation_after(after, store);
    }
    // The body: without the loads/combines/stores, ending in scf.reduce.
    let contributions: Vec<Value> = patterns.iter().map(|p| p.contribution).collect();
    let mut regions = Vec::new();
    for (pattern, ty) in patterns.iter().zip(&types) {
        regions.push(combiner(
            context,
            location,
            &rewrite::name_of(pattern.combine),
            *ty,
        )?);
    }
    unsafe {
        for pattern in &patterns {
            pattern.erase();
        }
        mlir_sys::mlirRegionTakeBody(
            parallel.region(0).map_err(|e| e.to_string())?.to_raw(),
            loop_op.region(0).map_err(|e| e.to_string())?.to_raw(),
        );
    }
    let body = parallel.region(0).map_err(|e| e.to_string())?;
    let body = body.first_block().ok_or("an empty loop body")?;
    let terminator = body.terminator().ok_or("a body without terminator")?;
    let reduce = OperationBuilder::new("scf.reduce", location)
        .add_operands(&contributions)
        .add_regions_vec(regions)
        .build()
        .map_err(|e| e.to_string())?;
    body.insert_operation_before(terminator, reduce);
    unsafe {
        rewrite::erase(terminator.to_raw());
        rewrite::erase(raw);
    }
    Ok(())
}

/// The region of `scf.reduce` that combines two values of `ty` with
/// `combine_name`. Min and max combine as compare-and-select, the form the
/// OpenMP lowering recognises; + and * as themselves. Float compares carry
/// a mark for `openmp-float-minmax`, which restores NaN propagation and
/// infinite identities after that lowering.
fn combiner<'c>(
    context: &'c melior::Context,
    location: melior::ir::Location<'c>,
    combine_name: &str,
    ty: melior::ir::Type<'c>,
) -> Result<melior::ir::Region<'c>, String> {
    use melior::ir::{operation::OperationBuilder, Block, BlockLike, Region, RegionLike};
    let combiner = Block::new(&[(ty, location), (ty, location)]);
    let (a, b): (Value, Value) = (
        combiner.argument(0).map_err(|e| e.to_string())?.into(),
        combiner.argument(1).map_err(|e| e.to_string())?.into(),
    );
    let compare = match combine_name {
        "arith.maximumf" | "arith.maxnumf" => Some(("arith.cmpf", 2)), // ogt
        "arith.minimumf" | "arith.minnumf" => Some(("arith.cmpf", 4)), // olt
        "arith.maxsi" => Some(("arith.cmpi", 4)),                      // sgt
        "arith.minsi" => Some(("arith.cmpi", 2)),                      // slt
        "arith.maxui" => Some(("arith.cmpi", 8)),                      // ugt
        "arith.minui" => Some(("arith.cmpi", 6)),                      // ult
        _ => None,
    };
    let combined: Value = match compare {
        Some((name, predicate)) => {
            let i64_type = melior::ir::r#type::IntegerType::new(context, 64).into();
            let mut attributes = vec![(
                Identifier::new(context, "predicate"),
                melior::ir::attribute::IntegerAttribute::new(i64_type, predicate).into(),
            )];
            if name == "arith.cmpf" {
                attributes.push((
                    Identifier::new(context, openmp_float_minmax::MARK),
                    melior::ir::attribute::Attribute::unit(context),
                ));
            }
            let condition: Value = combiner
                .append_operation(
                    OperationBuilder::new(name, location)
                        .add_operands(&[a, b])
                        .add_attributes(&attributes)
                        .add_results(&[melior::ir::r#type::IntegerType::new(context, 1).into()])
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .result(0)
                .map_err(|e| e.to_string())?
                .into();
            combiner
                .append_operation(
                    OperationBuilder::new("arith.select", location)
                        .add_operands(&[condition, a, b])
                        .add_results(&[ty])
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .result(0)
                .map_err(|e| e.to_string())?
                .into()
        }
        None => combiner
            .append_operation(
                OperationBuilder::new(combine_name, location)
                    .add_operands(&[a, b])
                    // The threads combine in any order already; so may
                    // each thread's part of the loop, where the OpenMP
                    // lowering inlines the combiner: it then vectorises.
                    .add_attributes(
                        &reassociation(context, combine_name)?
                            .map(|a| (Identifier::new(context, "fastmath"), a))
                            .into_iter()
                            .collect::<Vec<_>>(),
                    )
                    .add_results(&[ty])
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .result(0)
            .map_err(|e| e.to_string())?
            .into(),
    };
    combiner.append_operation(
        OperationBuilder::new("scf.reduce.return", location)
            .add_operands(&[combined])
            .build()
            .map_err(|e| e.to_string())?,
    );
    let region = Region::new();
    region.append_block(combiner);
    Ok(region)
}

/// For a float sum or product, the `fastmath` attribute that lets it
/// reassociate (None for other combines).
fn reassociation<'c>(
    context: &'c melior::Context,
    combine_name: &str,
) -> Result<Option<melior::ir::Attribute<'c>>, String> {
    if !matches!(combine_name, "arith.addf" | "arith.mulf") {
        return Ok(None);
    }
    melior::ir::Attribute::parse(context, "#arith.fastmath<reassoc>")
        .map(Some)
        .ok_or_else(|| "cannot build the fastmath attribute".to_string())
}

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err(message) = lower(root) {
        rewrite::emit_error(root.location(), &format!("looppar-to-scf: {message}"));
        pass.signal_failure();
    }
}
