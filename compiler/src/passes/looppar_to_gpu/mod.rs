//! `looppar-to-gpu`: maps parallel loops onto GPU kernels (`gpu.launch`),
//! following Parir's rules.
//!
//! - Each parallel loop that no other parallel loop encloses becomes one
//!   kernel; sequential loops around it stay on the host and launch it once
//!   per iteration.
//! - If its body holds parallel loops, the outer loop maps to blocks and
//!   the innermost ones (at any depth: under conditions and sequential
//!   loops too) to the threads of a block (the block size is the widest
//!   inner loop's thread count, rounded up to a multiple of 32, at most
//!   1024, or its `tpb`); parallel loops between the two levels run
//!   sequentially. The rest of the outer body, block-level code, runs in
//!   every thread of the block: its writes to global memory are done by
//!   thread 0, and barriers order it against the inner loops
//!   (`block_code`). A reduction over such an outer loop combines each
//!   block's result atomically, or runs in one block (products).
//! - Otherwise the loop maps to threads and blocks: `tpb` threads per
//!   block (default: its thread count rounded up to a multiple of 32, at
//!   most 1024) and as many blocks as needed, or, for large loops with
//!   short bodies, a quarter of them, each thread running four iterations
//!   whose ops are interleaved (`THREAD_ITERATIONS`).
//! - A loop that `looppar-plan-kernels` marked `kernels = "split"` is
//!   distributed over its inner parallel loops first: one kernel each.
//! - Every mapped loop is a grid- or block-stride loop, so any trip count
//!   is covered.
//! - An inner loop that is a detected reduction (`looppar-detect-reductions`)
//!   accumulates per thread, combines across the block with
//!   `gpu.all_reduce` (warp shuffles and shared memory), and updates the
//!   location once.
//! - `looppar.on_device` (`with parir.gpu:`) code runs on one GPU thread;
//!   parallel loops inside it become kernels of their own, in order.
//!
//! Loops that remain (sequential ones) are lowered by `looppar-to-scf`.

mod block_code;
mod host_locals;

use super::build::{insert, partial_identity, unroll_annotation, Builder};
use super::{looppar_detect_reductions, rewrite};
use melior::{
    ir::{
        attribute::{DenseI32ArrayAttribute, IntegerAttribute},
        operation::{
            OperationBuilder, OperationLike, OperationMutLike, OperationRef, OperationRefMut,
        },
        r#type::IntegerType,
        Attribute, Block, BlockLike, Identifier, Location, Region, RegionLike, Type, TypeLike,
        Value, ValueLike,
    },
    pass::ExternalPass,
};
use mlir_sys::MlirOperation;

external_pass!(
    "looppar-to-gpu",
    "Map parallel loops to GPU kernels (gpu.launch): outer parallel levels to blocks, the innermost to threads",
    run,
    depends on [gpu, scf, arith, memref, llvm]
);

/// A GPU block holds at most this many threads.
const MAX_BLOCK: u64 = 1024;

/// At most this many blocks share a reduction over the whole grid. Each
/// block ends with a block-wide combination and one atomic update of the
/// same address; past a few waves of resident blocks, more blocks only add
/// those, so larger reductions give each thread more elements of its
/// grid-stride loop instead.
const MAX_GRID_REDUCTION_BLOCKS: u64 = 1024;

/// How many iterations of a thread's reduction loop LLVM unrolls into one.
/// Each iteration's loads do not depend on the partial result, so unrolled
/// they are all in flight at once: a GPU's memory needs several megabytes
/// requested at a time to reach its bandwidth, more than one 4-byte load
/// per resident thread gives. Unrolling needs the trip count as an
/// expression, which the constant bounds and strides sunk into the kernel
/// (`gpu-launch-sink-index-computations`) make possible; a remainder loop
/// takes the last iterations.
const REDUCTION_UNROLL: u32 = 4;

/// How many iterations of a large flat loop (no inner loops, no
/// reduction) each thread runs: one 4-byte access per array per resident
/// thread is too little in flight for a GPU's memory, as for reductions
/// above. The copies of the body are interleaved op by op (for axpy: the
/// four loads of `x`, then of `y`, the arithmetic, the stores): iterations of
/// a parallel loop are independent, so their ops may run in any order
/// relative to one another, and ptxas, which cannot tell that a store of
/// one iteration does not feed a load of the next, keeps the order it is
/// given.
const THREAD_ITERATIONS: u64 = 4;

/// Loops with fewer threads than this keep one iteration per thread:
/// divided by `THREAD_ITERATIONS`, they would leave fewer than a few waves
/// of resident threads on large GPUs (an H100 holds 270,336).
const MIN_COARSENED_THREADS: u64 = 1 << 22;

/// Loop bodies of more ops than this are not unrolled (code size and
/// registers grow with each copy).
const MAX_UNROLLED_OPS: usize = 64;

/// Whether `op`, a parallel loop that maps to threads and blocks with no
/// inner parallel loops, gives each thread several iterations: a large,
/// non-reduction loop whose body is short and has no loops or barriers.
fn coarsened(op: OperationRef, body: melior::ir::BlockRef) -> bool {
    if op.has_attribute("reduction") || threads(op).is_none_or(|t| t < MIN_COARSENED_THREADS) {
        return false;
    }
    // At most THREAD_ITERATIONS rounds of the grid (whose blocks are
    // capped at 2^31 - 1): a loop with more iterations keeps its
    // grid-stride loop.
    let grid = coarsened_blocks(op).min(i32::MAX as u64) * block_size(op);
    if constant_bounds(op)
        .is_none_or(|(_, _, trips)| (trips as u64).div_ceil(grid.max(1)) > THREAD_ITERATIONS)
    {
        return false;
    }
    const LOOPS_AND_BARRIERS: &[&str] = &[
        "looppar.for",
        "looppar.on_device",
        "scf.for",
        "scf.while",
        "scf.parallel",
        "gpu.barrier",
    ];
    let mut ops = 0;
    for child in std::iter::successors(body.first_operation(), |op| op.next_in_block()) {
        if rewrite::contains_any(child, LOOPS_AND_BARRIERS) {
            return false;
        }
        child.walk(melior::ir::operation::WalkOrder::PreOrder, |_| {
            ops += 1;
            melior::ir::operation::WalkResult::Advance
        });
    }
    ops <= MAX_UNROLLED_OPS
}

/// The blocks of a coarsened loop: a quarter of those its threads need.
fn coarsened_blocks(op: OperationRef) -> u64 {
    threads(op)
        .unwrap_or(1)
        .max(1)
        .div_ceil(block_size(op))
        .div_ceil(THREAD_ITERATIONS)
}

/// A loop's lower bound, step and trip count, when its bounds and step are
/// constants (and the step positive).
fn constant_bounds(op: OperationRef) -> Option<(i64, i64, i64)> {
    let lower = rewrite::constant_value(op.operand(0).ok()?)?;
    let upper = rewrite::constant_value(op.operand(1).ok()?)?;
    let step = rewrite::constant_value(op.operand(2).ok()?)?.max(0);
    if step == 0 {
        return None;
    }
    // Bounds whose span does not fit an i64: no constant bounds here.
    let trips = if upper > lower {
        upper.checked_sub(lower)?.checked_add(step - 1)? / step
    } else {
        0
    };
    Some((lower, step, trips))
}

fn threads(op: OperationRef) -> Option<u64> {
    IntegerAttribute::try_from(op.attribute("threads").ok()?)
        .ok()
        .map(|i| i.value() as u64)
}

fn tpb(op: OperationRef) -> Option<u64> {
    IntegerAttribute::try_from(op.attribute("tpb").ok()?)
        .ok()
        .map(|i| i.value() as u64)
}

/// Threads per block for a loop: its `tpb`, else its thread count rounded
/// up to a multiple of 32 (a whole warp), at most 1024.
fn block_size(op: OperationRef) -> u64 {
    tpb(op).unwrap_or_else(|| {
        let t = threads(op).unwrap_or(1).max(1);
        (t.div_ceil(32) * 32).min(MAX_BLOCK)
    })
}

/// `gpu.all_reduce`'s operation for a combining op.
fn all_reduce_op(combine: &str) -> Result<&'static str, String> {
    Ok(match combine {
        "arith.addf" | "arith.addi" => "add",
        "arith.mulf" | "arith.muli" => "mul",
        "arith.minimumf" => "minimumf",
        "arith.maximumf" => "maximumf",
        "arith.minnumf" => "minnumf",
        "arith.maxnumf" => "maxnumf",
        "arith.minsi" => "minsi",
        "arith.maxsi" => "maxsi",
        "arith.minui" => "minui",
        "arith.maxui" => "maxui",
        "arith.andi" => "and",
        "arith.ori" => "or",
        "arith.xori" => "xor",
        other => return Err(format!("no block reduction combines with {other}")),
    })
}

/// How a partial result of type `ty` crosses a block when warp shuffles
/// cannot move it (NVVM's shuffle takes 32-bit values only): the 32-bit
/// type, the op that widens to it for a combining op, and the op that
/// narrows back. Integers widen as the combining op reads them (unsigned
/// min/max zero-extend, the rest sign-extend; sums and products keep the
/// same low bits); f16/bf16 combine in f32. `None` for 32 and 64 bits.
#[allow(clippy::type_complexity)]
fn shuffle_type<'c>(
    b: &Builder<'c>,
    ty: Type<'c>,
) -> Option<(Type<'c>, fn(&str) -> &'static str, &'static str)> {
    if let Ok(integer) = IntegerType::try_from(ty) {
        if integer.width() >= 32 {
            return None;
        }
        let widen: fn(&str) -> &'static str = |combine| match combine {
            "arith.minui" | "arith.maxui" => "arith.extui",
            _ => "arith.extsi",
        };
        return Some((
            IntegerType::new(b.context, 32).into(),
            widen,
            "arith.trunci",
        ));
    }
    match ty.to_string().as_str() {
        "f16" | "bf16" => Some((Type::float32(b.context), |_| "arith.extf", "arith.truncf")),
        _ => None,
    }
}

/// Replaces the loop `raw` by an `scf.for` from `start` to its upper bound
/// by `stride`, taking over its body. Returns the new loop.
///
/// # Safety
/// `raw` must be a live `looppar.for`.
unsafe fn strided_loop<'c>(
    raw: MlirOperation,
    start: Value<'c, '_>,
    stride: Value<'c, '_>,
) -> Result<MlirOperation, String> {
    let op = unsafe { rewrite::view(raw) };
    let upper = op.operand(1).map_err(|e| e.to_string())?;
    let new =
        unsafe { rewrite::replace_with_regions(raw, "scf.for", &[start, upper, stride], &[])? };
    unsafe { rewrite::replace_terminator(new, 0, "scf.yield", &[])? };
    Ok(new)
}

/// Maps the parallel loop `raw` (constant bounds, in `kernel`) onto
/// `grid_threads` threads of thread id `id`, each running the iterations
/// `id + k * grid_threads`: the rounds that every thread has are copies of
/// the body interleaved op by op; the last, partial round (threads below
/// the remainder) is the loop itself, as a grid-stride loop from there.
///
/// # Safety
/// `raw` must be a live parallel `looppar.for` in `kernel` whose bounds
/// [`constant_bounds`] reads.
unsafe fn interleaved_iterations<'c>(
    b: &Builder<'c>,
    kernel: melior::ir::BlockRef<'c, '_>,
    raw: MlirOperation,
    id: Value<'c, '_>,
    grid_threads: u64,
) -> Result<(), String> {
    let op = unsafe { rewrite::view(raw) };
    let (lower, step, trips) =
        constant_bounds(op).ok_or("a coarsened loop without constant bounds")?;
    let grid = grid_threads as i64;
    let rounds = trips / grid;
    let remainder = trips % grid;
    // The iteration `lower + (id + offset) * step`, before the loop.
    let iteration_at = |offset: i64| -> Result<Value, String> {
        let offset = insert(kernel, op, b.index_constant(offset)?);
        let index = insert(
            kernel,
            op,
            b.build("arith.addi", &[id, offset], &[b.index], &[])?,
        );
        let scale = insert(kernel, op, b.index_constant(step)?);
        let scaled = insert(
            kernel,
            op,
            b.build("arith.muli", &[index, scale], &[b.index], &[])?,
        );
        let base = insert(kernel, op, b.index_constant(lower)?);
        Ok(insert(
            kernel,
            op,
            b.build("arith.addi", &[base, scaled], &[b.index], &[])?,
        ))
    };
    // The body's ops of each copy, in order.
    let mut copies: Vec<Vec<MlirOperation>> = Vec::new();
    for round in 0..rounds {
        let iteration = iteration_at(round * grid)?;
        // SAFETY: a clone of the live loop, inserted before it, whose body
        // moves out before the loop with its argument replaced; the
        // emptied clone is erased.
        unsafe {
            let clone = mlir_sys::mlirOperationClone(raw);
            mlir_sys::mlirBlockInsertOwnedOperationBefore(kernel.to_raw(), raw, clone);
            let body =
                mlir_sys::mlirRegionGetFirstBlock(mlir_sys::mlirOperationGetRegion(clone, 0));
            mlir_sys::mlirValueReplaceAllUsesOfWith(
                mlir_sys::mlirBlockGetArgument(body, 0),
                iteration.to_raw(),
            );
            let mut ops = Vec::new();
            let mut current = mlir_sys::mlirBlockGetFirstOperation(body);
            while !current.ptr.is_null() {
                let next = mlir_sys::mlirOperationGetNextInBlock(current);
                if next.ptr.is_null() {
                    break; // the terminator
                }
                mlir_sys::mlirOperationMoveBefore(current, raw);
                ops.push(current);
                current = next;
            }
            rewrite::erase(clone);
            copies.push(ops);
        }
    }
    // Op by op: the first op of every copy, then the second, ...
    let length = copies.first().map_or(0, Vec::len);
    for position in 0..length {
        for copy in &copies {
            // SAFETY: live ops of the kernel, moved within their block; each
            // copy keeps its own order, so every use stays after its value.
            unsafe { mlir_sys::mlirOperationMoveBefore(copy[position], raw) };
        }
    }
    if remainder == 0 {
        // SAFETY: the loop has no results; nothing else refers to it.
        unsafe { rewrite::erase(raw) };
        return Ok(());
    }
    let start = iteration_at(rounds * grid)?;
    let stride = insert(kernel, op, b.index_constant(grid * step)?);
    unsafe { strided_loop(raw, start, stride)? };
    Ok(())
}

/// `lower + id * step` and `count * step` for mapping iterations onto
/// `count` workers, inserted before `before`.
fn start_and_stride<'c, 'a>(
    b: &Builder<'c>,
    block: melior::ir::BlockRef<'c, 'a>,
    before: OperationRef<'c, 'a>,
    loop_op: OperationRef<'c, 'a>,
    id: Value<'c, 'a>,
    count: Value<'c, 'a>,
) -> Result<(Value<'c, 'a>, Value<'c, 'a>), String> {
    let lower = loop_op.operand(0).map_err(|e| e.to_string())?;
    let step = loop_op.operand(2).map_err(|e| e.to_string())?;
    let offset = insert(
        block,
        before,
        b.build("arith.muli", &[id, step], &[b.index], &[])?,
    );
    let start = insert(
        block,
        before,
        b.build("arith.addi", &[lower, offset], &[b.index], &[])?,
    );
    let stride = insert(
        block,
        before,
        b.build("arith.muli", &[count, step], &[b.index], &[])?,
    );
    Ok((start, stride))
}

/// Wraps `store` (in a kernel) in `if thread == 0`.
///
/// # Safety
/// `store` must be a live op in a block; `is_first` must dominate it.
unsafe fn single_writer<'c>(
    b: &Builder<'c>,
    store: MlirOperation,
    is_first: Value<'c, '_>,
) -> Result<(), String> {
    let store_op = unsafe { rewrite::view(store) };
    let used = (0..store_op.result_count()).any(|i| {
        store_op
            .result(i)
            .is_ok_and(|r| looppar_detect_reductions::uses(r.into()) > 0)
    });
    if used {
        return Err(format!(
            "the old value of an atomic update ({}) that one thread of a block makes for all \
             is used: not supported on GPUs",
            rewrite::name_of(store_op)
        ));
    }
    let block = store_op.block().ok_or("a store outside a block")?;
    let then = Region::new();
    let then_block = Block::new(&[]);
    then_block.append_operation(b.build("scf.yield", &[], &[], &[])?);
    then.append_block(then_block);
    let guard = OperationBuilder::new("scf.if", b.location)
        .add_operands(&[is_first])
        .add_regions([then, Region::new()])
        .build()
        .map_err(|e| e.to_string())?;
    let guard = block.insert_operation_before(store_op, guard);
    let then_block = guard
        .region(0)
        .map_err(|e| e.to_string())?
        .first_block()
        .ok_or("no then block")?;
    let terminator = then_block.terminator().ok_or("no yield")?;
    unsafe { mlir_sys::mlirOperationMoveBefore(store, terminator.to_raw()) };
    Ok(())
}

/// Who shares the iterations of a reduction loop.
#[derive(Clone, Copy)]
enum Workers<'c, 'a> {
    /// The threads of a block (an inner parallel loop).
    Block {
        thread: Value<'c, 'a>,
        block_dim: Value<'c, 'a>,
    },
    /// Every thread of the grid (the outermost parallel loop).
    Grid {
        id: Value<'c, 'a>,
        count: Value<'c, 'a>,
    },
}

/// `memref.atomic_rmw`'s kind (`arith::AtomicRMWKind`) for a combining op
/// that LLVM has an atomic for (GPUs without the instruction get a
/// compare-and-swap loop from LLVM). Products have none.
fn atomic_kind(combine: &str) -> Option<i64> {
    Some(match combine {
        "arith.addf" => 0,
        "arith.addi" => 1,
        "arith.maximumf" => 4,
        "arith.maxsi" => 6,
        "arith.maxui" => 7,
        "arith.minimumf" => 8,
        "arith.minsi" => 10,
        "arith.minui" => 11,
        "arith.andi" => 2,
        "arith.ori" => 14,
        "arith.xori" => 15,
        _ => return None,
    })
}

/// `location = location combine value`, atomically.
fn atomic_update<'c>(
    b: &Builder<'c>,
    combine: &str,
    value: Value<'c, '_>,
    location: &[Value<'c, '_>],
) -> Result<melior::ir::Operation<'c>, String> {
    let kind = atomic_kind(combine).ok_or_else(|| format!("no atomic form of {combine}"))?;
    let ty = value.r#type();
    let mut operands = vec![value];
    operands.extend_from_slice(location);
    let kind = IntegerAttribute::new(IntegerType::new(b.context, 64).into(), kind).into();
    b.build("memref.atomic_rmw", &operands, &[ty], &[("kind", kind)])
}

/// An inner parallel loop that is a reduction: per-thread partial results
/// over a block-stride loop (one per reduction of the body: `s += x[j];
/// q += x[j] * x[j]`), each combined across the block by
/// `gpu.all_reduce`, then applied to its location (by thread 0 when the
/// location is global memory). Over the whole grid, each block's results
/// are combined into the locations atomically, or, where one has no
/// atomic form, the grid is one block.
///
/// # Safety
/// `raw` must be a live `looppar.for` inside a kernel.
unsafe fn block_reduction<'c>(
    b: &Builder<'c>,
    raw: MlirOperation,
    workers: Workers<'c, '_>,
    is_first: Value<'c, '_>,
    kernel: OperationRef<'c, '_>,
) -> Result<bool, String> {
    let op = unsafe { rewrite::view(raw) };
    let patterns = looppar_detect_reductions::find_all(op);
    if patterns.is_empty() {
        return Ok(false);
    }
    let block = op.block().ok_or("a loop outside a block")?;
    // What each reduction needs once its ops are gone from the body.
    struct Reduced<'c, 'a> {
        ty: melior::ir::Type<'c>,
        combine: String,
        location: Vec<Value<'c, 'a>>,
        contribution: Value<'c, 'a>,
    }
    let mut reduced = Vec::new();
    let mut inits = Vec::new();
    for pattern in &patterns {
        let ty = pattern.contribution.r#type();
        let combine = rewrite::name_of(pattern.combine);
        inits.push(insert(
            block,
            op,
            b.build(
                "arith.constant",
                &[],
                &[ty],
                &[(
                    "value",
                    partial_identity(b.context, pattern.kind, &combine, ty),
                )],
            )?,
        ));
        reduced.push(Reduced {
            ty,
            location: pattern.load.operands().collect(),
            contribution: pattern.contribution,
            combine,
        });
    }
    let (worker, count) = match workers {
        Workers::Block { thread, block_dim } => (thread, block_dim),
        Workers::Grid { id, count } => (id, count),
    };
    let (start, stride) = start_and_stride(b, block, op, op, worker, count)?;
    let upper = op.operand(1).map_err(|e| e.to_string())?;
    // The per-thread loop, carrying the partial results.
    let mut operands = vec![start, upper, stride];
    operands.extend_from_slice(&inits);
    let types: Vec<_> = reduced.iter().map(|r| r.ty).collect();
    let partial_loop = OperationBuilder::new("scf.for", b.location)
        .add_operands(&operands)
        .add_results(&types)
        .add_regions([Region::new()])
        .add_attributes(&[unroll_annotation(b.context, REDUCTION_UNROLL)?])
        .build()
        .map_err(|e| e.to_string())?;
    let partial_loop = block.insert_operation_before(op, partial_loop);
    unsafe {
        for pattern in &patterns {
            pattern.erase();
        }
        mlir_sys::mlirRegionTakeBody(
            partial_loop.region(0).map_err(|e| e.to_string())?.to_raw(),
            op.region(0).map_err(|e| e.to_string())?.to_raw(),
        );
    }
    let body = partial_loop
        .region(0)
        .map_err(|e| e.to_string())?
        .first_block()
        .ok_or("no body")?;
    let terminator = body.terminator().ok_or("no terminator")?;
    let mut nexts = Vec::new();
    for r in &reduced {
        let accumulator: Value = unsafe {
            Value::from_raw(mlir_sys::mlirBlockAddArgument(
                body.to_raw(),
                r.ty.to_raw(),
                b.location.to_raw(),
            ))
        };
        nexts.push(insert(
            body,
            terminator,
            b.build(&r.combine, &[accumulator, r.contribution], &[r.ty], &[])?,
        ));
    }
    body.insert_operation_before(terminator, b.build("scf.yield", &nexts, &[], &[])?);
    unsafe { rewrite::erase(terminator.to_raw()) };
    let mut stores = Vec::new();
    for (index, r) in reduced.iter().enumerate() {
        let partial: Value = partial_loop
            .result(index)
            .map_err(|e| e.to_string())?
            .into();
        // Across the block, in a type that warp shuffles move.
        let shuffled = shuffle_type(b, r.ty);
        let partial = match shuffled {
            Some((wide, widen, _)) => insert(
                block,
                op,
                b.build(widen(&r.combine), &[partial], &[wide], &[])?,
            ),
            None => partial,
        };
        let mut total = insert(
            block,
            op,
            all_reduce(b, all_reduce_op(&r.combine)?, partial)?,
        );
        if let Some((_, _, narrow)) = shuffled {
            total = insert(block, op, b.build(narrow, &[total], &[r.ty], &[])?);
        }
        if let (Workers::Grid { .. }, true) = (workers, atomic_kind(&r.combine).is_some()) {
            // One atomic update per block, by its thread 0.
            let update = atomic_update(b, &r.combine, total, &r.location)?;
            let update = block.insert_operation_before(op, update);
            stores.push((update.to_raw(), true));
            continue;
        }
        // Applied once to the location.
        let old = insert(
            block,
            op,
            b.build("memref.load", &r.location, &[r.ty], &[])?,
        );
        let new = insert(block, op, b.build(&r.combine, &[old, total], &[r.ty], &[])?);
        let mut store_operands = vec![new];
        store_operands.extend_from_slice(&r.location);
        let store =
            block.insert_operation_before(op, b.build("memref.store", &store_operands, &[], &[])?);
        stores.push((store.to_raw(), !defined_in(r.location[0], kernel)));
    }
    unsafe {
        rewrite::erase(raw);
        for (store, global) in stores {
            if global {
                single_writer(b, store, is_first)?;
            }
        }
    }
    Ok(true)
}

/// `gpu.all_reduce` of `value` over the threads of a block, with
/// `operation` (`add`, `maximumf`, `or`, ...); every thread reaches it.
fn all_reduce<'c>(
    b: &Builder<'c>,
    operation: &str,
    value: Value<'c, '_>,
) -> Result<melior::ir::Operation<'c>, String> {
    let reduce_op = Attribute::parse(b.context, &format!("#gpu<all_reduce_op {operation}>"))
        .ok_or("cannot build the all_reduce operation")?;
    OperationBuilder::new("gpu.all_reduce", b.location)
        .add_operands(&[value])
        .add_results(&[value.r#type()])
        .add_attributes(&[
            (Identifier::new(b.context, "op"), reduce_op),
            (
                Identifier::new(b.context, "uniform"),
                Attribute::unit(b.context),
            ),
        ])
        .add_regions([Region::new()])
        .build()
        .map_err(|e| e.to_string())
}

/// Whether `value` is defined inside `op`.
fn defined_in(value: Value, op: OperationRef) -> bool {
    !super::looppar_simplify::defined_outside(value, op)
}

/// `looppar-plan-kernels`' decision: a parallel loop marked
/// `kernels = "split"` is distributed over its inner parallel loops, one
/// copy of the loop (one kernel) per inner loop, in order. Iterations of a
/// parallel loop are independent, so running the first inner loop for every
/// iteration before the second keeps the meaning. Only a body of inner
/// parallel loops and pure scalar ops (which each copy recomputes) is
/// split; anything else (stores, locals, sequential loops) stays fused.
/// Returns the loops to make kernels of.
///
/// # Safety
/// `raw` must be a live outermost parallel `looppar.for`.
unsafe fn split_as_planned(raw: MlirOperation) -> Vec<MlirOperation> {
    let op = unsafe { rewrite::view(raw) };
    if rewrite::string_attribute(op, "kernels").as_deref() != Some("split") {
        return vec![raw];
    }
    let Some(body) = op.region(0).ok().and_then(|r| r.first_block()) else {
        return vec![raw];
    };
    let terminator = body.terminator().map(|t| t.to_raw().ptr);
    let mut inner_count = 0;
    let mut current = body.first_operation();
    while let Some(child) = current {
        if rewrite::is_parallel_loop(child) {
            inner_count += 1;
        } else if Some(child.to_raw().ptr) != terminator
            && !super::looppar_simplify::pure_scalar(child)
        {
            return vec![raw];
        }
        current = child.next_in_block();
    }
    if inner_count < 2 {
        return vec![raw];
    }
    let Some(host) = op.block() else {
        return vec![raw];
    };
    let mut copies = Vec::new();
    for keep in 0..inner_count {
        // SAFETY: clones a live op and inserts the clone before it.
        let copy = unsafe { mlir_sys::mlirOperationClone(raw) };
        unsafe { mlir_sys::mlirBlockInsertOwnedOperationBefore(host.to_raw(), raw, copy) };
        let copy_ref = unsafe { rewrite::view(copy) };
        let Some(copy_body) = copy_ref.region(0).ok().and_then(|r| r.first_block()) else {
            continue;
        };
        let mut index = 0;
        let mut current = copy_body.first_operation();
        let mut dropped = Vec::new();
        while let Some(child) = current {
            if rewrite::is_parallel_loop(child) {
                if index != keep {
                    dropped.push(child.to_raw());
                }
                index += 1;
            }
            current = child.next_in_block();
        }
        for child in dropped {
            unsafe { rewrite::erase(child) };
        }
        copies.push(copy);
    }
    unsafe { rewrite::erase(raw) };
    copies
}

/// An empty `gpu.launch` of `blocks` x `threads` (one-dimensional) before
/// `before` in `host`: the launch, its body and the body's terminator.
#[allow(clippy::type_complexity)]
fn new_launch<'c, 'a>(
    b: &Builder<'c>,
    host: melior::ir::BlockRef<'c, 'a>,
    before: OperationRef<'c, 'a>,
    blocks: u64,
    threads: u64,
) -> Result<
    (
        OperationRef<'c, 'a>,
        melior::ir::BlockRef<'c, 'a>,
        OperationRef<'c, 'a>,
    ),
    String,
> {
    let grid = insert(host, before, b.index_constant(blocks as i64)?);
    let block = insert(host, before, b.index_constant(threads as i64)?);
    let one = insert(host, before, b.index_constant(1)?);
    let region = Region::new();
    // Block and thread ids, then grid and block sizes, each x, y, z.
    region.append_block(Block::new(&[(b.index, b.location); 12]));
    let launch = OperationBuilder::new("gpu.launch", b.location)
        .add_operands(&[grid, one, one, block, one, one])
        .add_attributes(&[(
            Identifier::new(b.context, "operandSegmentSizes"),
            DenseI32ArrayAttribute::new(b.context, &[0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]).into(),
        )])
        .add_regions([region])
        .build()
        .map_err(|e| e.to_string())?;
    let launch = host.insert_operation_before(before, launch);
    let kernel = launch
        .region(0)
        .map_err(|e| e.to_string())?
        .first_block()
        .ok_or("no launch body")?;
    let terminator = kernel.append_operation(b.build("gpu.terminator", &[], &[], &[])?);
    Ok((launch, kernel, terminator))
}

/// The innermost parallel loops inside the body of an outermost one
/// ([`block_code::levels`]): they map to the threads of a block. Parallel
/// loops between them and the outermost run as sequential block-level code
/// (a grid has one level of blocks).
///
/// # Safety
/// `body` must be the live body of an outermost parallel `looppar.for`.
unsafe fn inner_loops(body: melior::ir::BlockRef) -> Vec<MlirOperation> {
    let (inner, middle) = block_code::levels(body);
    for raw in middle {
        // SAFETY: a live loop of the body; only attributes change.
        let mut op = unsafe { OperationRefMut::from_raw(raw) };
        for name in ["threads", "tpb", "reduce", "reduction", "kernels"] {
            let _ = op.remove_attribute(name);
        }
    }
    inner
}

/// Replaces the outermost parallel loop `raw` by a kernel.
///
/// # Safety
/// `raw` must be a live outermost parallel `looppar.for`.
unsafe fn kernel_for_loop(raw: MlirOperation) -> Result<(), String> {
    let op = unsafe { rewrite::view(raw) };
    // The reference borrows from the ContextRef: keep it alive.
    let context_ref = op.context();
    let context = unsafe { context_ref.to_ref() };
    let b = Builder::new(context, op.location());
    let body = op
        .region(0)
        .map_err(|e| e.to_string())?
        .first_block()
        .ok_or("no loop body")?;
    let inner = unsafe { inner_loops(body) };
    // A reduction over the whole grid combines its blocks' results
    // atomically; one without an atomic form (a product) runs in one
    // block. So does a reduction whose update, with inner loops, is not
    // one combination of the location at the top of the body.
    let patterns = looppar_detect_reductions::find_all(op);
    let atomic_patterns = !patterns.is_empty()
        && patterns
            .iter()
            .all(|p| atomic_kind(&rewrite::name_of(p.combine)).is_some());
    let single_block = op.has_attribute("reduction")
        && !atomic_patterns
        && (!patterns.is_empty() || !inner.is_empty());
    let coarsen = inner.is_empty() && coarsened(op, body);
    let (blocks, block_threads) = if inner.is_empty() {
        let per_block = block_size(op);
        let needed = threads(op).unwrap_or(1).max(1).div_ceil(per_block);
        let blocks = if single_block {
            1
        } else if op.has_attribute("reduction") {
            needed.min(MAX_GRID_REDUCTION_BLOCKS)
        } else if coarsen {
            coarsened_blocks(op)
        } else {
            needed
        };
        (blocks, per_block)
    } else {
        let widest = inner
            .iter()
            .map(|r| block_size(unsafe { rewrite::view(*r) }))
            .max()
            .unwrap_or(32);
        let blocks = if single_block {
            1
        } else {
            threads(op).unwrap_or(1).max(1)
        };
        (blocks, widest)
    };
    let host = op.block().ok_or("a loop outside a block")?;
    let (launch, kernel, terminator) =
        new_launch(&b, host, op, blocks.min(i32::MAX as u64), block_threads)?;
    let argument = |i: usize| -> Result<Value, String> {
        Ok(kernel.argument(i).map_err(|e| e.to_string())?.into())
    };
    let (block_id, thread) = (argument(0)?, argument(3)?);
    // The grid's shape is known here: constants in place of gpu.grid_dim and
    // gpu.block_dim give constant strides, and AMD GPUs would otherwise
    // query them through the ROCm device library.
    let grid_dim = insert(
        kernel,
        terminator,
        b.index_constant(blocks.min(i32::MAX as u64) as i64)?,
    );
    let block_dim = insert(kernel, terminator, b.index_constant(block_threads as i64)?);
    // Move the loop into the kernel, then map it.
    unsafe { mlir_sys::mlirOperationMoveBefore(raw, terminator.to_raw()) };
    let loop_ref = unsafe { rewrite::view(raw) };
    // Block-level code (with inner loops): every thread of a block runs
    // it; one writes, and barriers order it against the inner loops.
    let block_level = block_code::Kernel {
        inner: &inner,
        launch: launch.to_raw(),
    };
    let mut block_writes = Vec::new();
    if !inner.is_empty() {
        if op.has_attribute("reduction") && !single_block {
            // The blocks combine into the locations atomically (the
            // patterns moved into the kernel with the loop).
            for pattern in patterns {
                let combine = rewrite::name_of(pattern.combine);
                let location: Vec<Value> = pattern.load.operands().collect();
                let update = atomic_update(&b, &combine, pattern.contribution, &location)?;
                body.insert_operation_before(pattern.store, update);
                unsafe { pattern.erase() };
            }
        }
        block_writes = block_code::global_writes(&block_level, body);
        block_code::synchronize(&b, &block_level, body, false)?;
        block_code::agree_on_conditions(&b, &block_level, body)?;
    }
    let zero = insert(kernel, loop_ref, b.index_constant(0)?);
    let is_first = insert(
        kernel,
        loop_ref,
        b.build(
            "arith.cmpi",
            &[thread, zero],
            &[IntegerType::new(context, 1).into()],
            // predicate 0: eq
            &[(
                "predicate",
                IntegerAttribute::new(IntegerType::new(context, 64).into(), 0).into(),
            )],
        )?,
    );
    let inner_is_empty = inner.is_empty();
    if inner_is_empty {
        let global = insert(
            kernel,
            loop_ref,
            b.build("arith.muli", &[block_id, block_dim], &[b.index], &[])?,
        );
        let id = insert(
            kernel,
            loop_ref,
            b.build("arith.addi", &[global, thread], &[b.index], &[])?,
        );
        let count = insert(
            kernel,
            loop_ref,
            b.build("arith.muli", &[grid_dim, block_dim], &[b.index], &[])?,
        );
        if loop_ref.has_attribute("reduction")
            && unsafe { block_reduction(&b, raw, Workers::Grid { id, count }, is_first, launch)? }
        {
            return Ok(());
        }
        if coarsen {
            let grid_threads = blocks.min(i32::MAX as u64) * block_threads;
            unsafe { interleaved_iterations(&b, kernel, raw, id, grid_threads)? };
        } else {
            let (start, stride) = start_and_stride(&b, kernel, loop_ref, loop_ref, id, count)?;
            unsafe { strided_loop(raw, start, stride)? };
        }
    } else {
        let (start, stride) = start_and_stride(&b, kernel, loop_ref, loop_ref, block_id, grid_dim)?;
        unsafe { strided_loop(raw, start, stride)? };
    }
    // Inner parallel loops: over the threads of the block.
    for child in inner {
        let child_op = unsafe { rewrite::view(child) };
        if child_op.has_attribute("reduction")
            && unsafe {
                block_reduction(
                    &b,
                    child,
                    Workers::Block { thread, block_dim },
                    is_first,
                    launch,
                )?
            }
        {
            continue;
        }
        let block = child_op.block().ok_or("no block")?;
        let (start, stride) = start_and_stride(&b, block, child_op, child_op, thread, block_dim)?;
        unsafe { strided_loop(child, start, stride)? };
    }
    // Global writes of the block-level code: one thread does them.
    for write in block_writes {
        unsafe { single_writer(&b, write, is_first)? };
    }
    Ok(())
}

/// An error lowering `with parir.gpu:` code: at the op it concerns where
/// there is one (the loop a GPU-computed value bounds), else at the block.
struct Located {
    at: Option<MlirOperation>,
    message: String,
}

impl From<String> for Located {
    fn from(message: String) -> Self {
        Located { at: None, message }
    }
}

impl From<&str> for Located {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

/// `with parir.gpu:`: runs of sequential code become one-thread kernels;
/// parallel loops inside become kernels of their own (in place), and so
/// do those in sequential loops and conditions inside it, which stay on
/// the host (as sequential loops around a parallel one do elsewhere).
///
/// # Safety
/// `raw` must be a live `looppar.on_device`.
unsafe fn kernels_for_device_block(
    raw: MlirOperation,
    host_slots: &[MlirOperation],
) -> Result<Vec<MlirOperation>, Located> {
    let op = unsafe { rewrite::view(raw) };
    // The reference borrows from the ContextRef: keep it alive.
    let context_ref = op.context();
    let context = unsafe { context_ref.to_ref() };
    let b = Builder::new(context, op.location());
    let body = op
        .region(0)
        .map_err(|e| e.to_string())?
        .first_block()
        .ok_or("no body")?;
    let parallel_loops = unsafe { device_code_to_kernels(&b, body, host_slots)? };
    unsafe { place_device_locals(body, host_slots)? };
    // Everything but the body's terminator moves out, in order.
    let body_terminator = body.terminator().map(|t| t.to_raw().ptr);
    let mut current = body.first_operation();
    while let Some(child) = current {
        current = child.next_in_block();
        if Some(child.to_raw().ptr) != body_terminator {
            unsafe { mlir_sys::mlirOperationMoveBefore(child.to_raw(), raw) };
        }
    }
    unsafe { rewrite::erase(raw) };
    Ok(parallel_loops)
}

/// Moves each local of a `with parir.gpu:` block (a `memref.alloca` at
/// the top of `body`, after [`device_code_to_kernels`]) into the one
/// kernel that uses it; kernels share no stack, so a local that several
/// use (code on both sides of a parallel loop, or the loop itself: `s =
/// 0.0`, a loop summing into it, `y[0] = s`) lives in device memory of
/// the call.
///
/// # Safety
/// `body` must be a live block of device code turned into kernels.
unsafe fn place_device_locals(
    body: melior::ir::BlockRef,
    host_slots: &[MlirOperation],
) -> Result<(), String> {
    let mut locals = Vec::new();
    let mut current = body.first_operation();
    while let Some(op) = current {
        if rewrite::name_of(op) == "memref.alloca"
            && op.operand_count() == 0
            && !host_slots.iter().any(|h| h.ptr == op.to_raw().ptr)
        {
            locals.push(op.to_raw());
        }
        current = op.next_in_block();
    }
    for raw in locals {
        let local = unsafe { rewrite::view(raw) };
        let Ok(slot) = local.result(0) else { continue };
        // The kernel (one-thread launch, or a parallel loop to be one) of
        // each use.
        let mut kernels: Vec<MlirOperation> = Vec::new();
        for (user, _) in rewrite::users(slot.into()) {
            let kernel = std::iter::once(user)
                .chain(rewrite::ancestors(user))
                .find(|op| rewrite::name_of(*op) == "gpu.launch" || rewrite::is_parallel_loop(*op))
                .map(|op| op.to_raw());
            match kernel {
                Some(k) if !kernels.iter().any(|seen| seen.ptr == k.ptr) => kernels.push(k),
                Some(_) => {}
                None => return Err("a local of `with parir.gpu:` code is used on the host".into()),
            }
        }
        match kernels.as_slice() {
            [] => unsafe { rewrite::erase(raw) },
            [kernel] if rewrite::name_of(unsafe { rewrite::view(*kernel) }) == "gpu.launch" => {
                let launch = unsafe { rewrite::view(*kernel) };
                let entry = launch
                    .region(0)
                    .map_err(|e| e.to_string())?
                    .first_block()
                    .ok_or("a launch without a body")?;
                let first = entry.first_operation().ok_or("an empty launch")?;
                unsafe { mlir_sys::mlirOperationMoveBefore(raw, first.to_raw()) };
            }
            _ => unsafe { device_memory_for(raw, body)? },
        }
    }
    Ok(())
}

/// Replaces the local `alloca` (at the top of `body`), which several
/// kernels use, by device memory: allocated where it was, in the call's
/// stream order, and freed at the end of `body`, after the kernels.
///
/// # Safety
/// `alloca` must be a live `memref.alloca` of `body`, used only in kernels.
unsafe fn device_memory_for(
    alloca: MlirOperation,
    body: melior::ir::BlockRef,
) -> Result<(), String> {
    let local = unsafe { rewrite::view(alloca) };
    let context_ref = local.context();
    let context = unsafe { context_ref.to_ref() };
    let b = Builder::new(context, local.location());
    let token =
        Type::parse(context, "!gpu.async.token").ok_or("cannot build the async token type")?;
    let ty = local.result(0).map_err(|e| e.to_string())?.r#type();
    let block = local.block().ok_or("a local outside a block")?;
    let start = insert(block, local, b.build("gpu.wait", &[], &[token], &[])?);
    let segments = DenseI32ArrayAttribute::new(context, &[1, 0, 0]);
    let allocation = block.insert_operation_before(
        local,
        b.build(
            "gpu.alloc",
            &[start],
            &[ty, token],
            &[("operandSegmentSizes", segments.into())],
        )?,
    );
    let memory: Value = allocation.result(0).map_err(|e| e.to_string())?.into();
    let ready: Value = allocation.result(1).map_err(|e| e.to_string())?.into();
    block.insert_operation_before(local, b.build("gpu.wait", &[ready], &[], &[])?);
    unsafe {
        mlir_sys::mlirValueReplaceAllUsesOfWith(
            local.result(0).map_err(|e| e.to_string())?.to_raw(),
            memory.to_raw(),
        );
        rewrite::erase(alloca);
    }
    let end = body
        .terminator()
        .ok_or("device code without a terminator")?;
    let before = insert(body, end, b.build("gpu.wait", &[], &[token], &[])?);
    let freed = insert(
        body,
        end,
        b.build("gpu.dealloc", &[before, memory], &[token], &[])?,
    );
    body.insert_operation_before(end, b.build("gpu.wait", &[freed], &[], &[])?);
    Ok(())
}

/// Turns the code of `body` (in `with parir.gpu:`) into host code: each
/// run of sequential code into a one-thread kernel where the run was;
/// parallel loops stay, to become kernels (returned); loops and
/// conditions that hold parallel loops stay on the host, their bodies
/// turned the same way.
///
/// # Safety
/// `body` must be a live block of device code.
unsafe fn device_code_to_kernels<'c>(
    b: &Builder<'c>,
    body: melior::ir::BlockRef<'c, '_>,
    host_slots: &[MlirOperation],
) -> Result<Vec<MlirOperation>, Located> {
    let terminator = body.terminator().ok_or("device code without terminator")?;
    let mut ops = Vec::new();
    let mut current = body.first_operation();
    while let Some(child) = current {
        if child != terminator {
            ops.push(child.to_raw());
        }
        current = child.next_in_block();
    }
    let mut parallel_loops = Vec::new();
    let mut run: Vec<MlirOperation> = Vec::new();
    // Ops that run on the GPU (in one-thread kernels).
    let mut device_values: Vec<MlirOperation> = Vec::new();
    let flush = |run: &mut Vec<MlirOperation>,
                 before: OperationRef<'c, '_>|
     -> Result<(), Located> {
        if run.is_empty() {
            return Ok(());
        }
        let (launch, _, kernel_end) = new_launch(b, body, before, 1, 1)?;
        for moved in run.drain(..) {
            unsafe { mlir_sys::mlirOperationMoveBefore(moved, kernel_end.to_raw()) };
        }
        // A value one GPU thread computed cannot steer the host.
        let mut escaped = None;
        launch.walk(melior::ir::operation::WalkOrder::PreOrder, |inner| {
            for i in 0..inner.result_count() {
                let Ok(result) = inner.result(i) else {
                    continue;
                };
                for (owner, _) in rewrite::users(result.into()) {
                    if owner != launch && !rewrite::is_nested_in(owner, launch) {
                        escaped.get_or_insert(owner.to_raw());
                    }
                }
            }
            melior::ir::operation::WalkResult::Advance
        });
        if let Some(user) = escaped {
            return Err(Located {
                at: Some(user),
                message: "a value that `with parir.gpu:` code computes on the GPU bounds or steers a \
                          loop or condition around a parallel loop, which runs on the host; compute \
                          it from the arguments instead"
                    .into(),
            });
        }
        Ok(())
    };
    for raw_child in ops {
        let child = unsafe { rewrite::view(raw_child) };
        if rewrite::name_of(child) == "memref.alloca" {
            // A local of the block: placed once its kernels are known
            // (`place_device_locals`).
            continue;
        }
        if rewrite::is_parallel_loop(child) {
            flush(&mut run, child)?;
            parallel_loops.push(raw_child);
        } else if block_code::holds_parallel_loop(child) {
            flush(&mut run, child)?;
            for region in child.regions() {
                let mut block = region.first_block();
                while let Some(inner) = block {
                    parallel_loops.extend(unsafe { device_code_to_kernels(b, inner, host_slots)? });
                    block = inner.next_in_region();
                }
            }
        } else if host_locals::accesses(child, host_slots) {
            // The host's own locals (`host_locals`).
        } else if super::looppar_simplify::pure_scalar(child)
            && child.operands().all(|operand| {
                !device_values.iter().any(|d: &MlirOperation| {
                    parla_dialects::values::op_result(operand)
                        .is_some_and(|r| r.owner().to_raw().ptr == d.ptr)
                })
            })
        {
            // Arithmetic on what the host knows (bounds, indices) stays
            // there: kernels and host loops can both use it.
        } else {
            device_values.push(raw_child);
            run.push(raw_child);
        }
    }
    flush(&mut run, terminator)?;
    Ok(parallel_loops)
}

/// Moves the fixed-size stack slots of a kernel (`memref.alloca` without
/// operands, e.g. a promoted accumulator) to its entry: one slot per thread
/// instead of a stack allocation per loop iteration, which AMD GPUs cannot
/// do at all.
///
/// # Safety
/// `launch` must be a live `gpu.launch`.
unsafe fn hoist_allocas(launch: MlirOperation) {
    let launch_ref = unsafe { rewrite::view(launch) };
    let Some(entry) = launch_ref.region(0).ok().and_then(|r| r.first_block()) else {
        return;
    };
    let Some(first) = entry.first_operation() else {
        return;
    };
    for raw in rewrite::collect(launch_ref, "memref.alloca") {
        let alloca = unsafe { rewrite::view(raw) };
        let in_entry = alloca.block().map(|b| b.to_raw().ptr) == Some(entry.to_raw().ptr);
        if alloca.operand_count() == 0 && !in_entry {
            unsafe { mlir_sys::mlirOperationMoveBefore(raw, first.to_raw()) };
        }
    }
}

/// Values a kernel uses that the host computes in memory it owns (a
/// stack slot): a kernel cannot reach host memory.
fn host_memory_in_kernels<'c, 'a>(
    root: OperationRef<'c, 'a>,
) -> Option<(OperationRef<'c, 'a>, String)> {
    let mut problem = None;
    for raw in rewrite::collect(root, "gpu.launch") {
        let launch = unsafe { rewrite::view(raw) };
        launch.walk(melior::ir::operation::WalkOrder::PreOrder, |inner| {
            for operand in inner.operands() {
                if let Some(result) = parla_dialects::values::op_result(operand) {
                    let owner = result.owner();
                    if rewrite::name_of(owner) == "memref.alloca" && !defined_in(operand, launch) && problem.is_none() {
                        problem = Some((
                            unsafe { rewrite::view(inner.to_raw()) },
                            "a GPU kernel uses a variable that lives in host memory (assigned outside its parallel loop; \
                             in `with parir.gpu:` code too, where each run of code between parallel loops is a kernel \
                             of its own); keep such values in an array argument"
                                .to_string(),
                        ));
                    }
                }
            }
            melior::ir::operation::WalkResult::Advance
        });
    }
    problem
}

/// Host code that reports a failed check (`debug=True`: a slice bound out
/// of its axis, found before a loop's kernel) stores into the error word,
/// which is device memory: each such store becomes a one-thread kernel.
///
/// # Safety
/// `root` must be live; runs after the kernels are formed.
unsafe fn reports_on_the_device(root: OperationRef) -> Result<(), String> {
    for raw in rewrite::collect(root, "memref.store") {
        let op = unsafe { rewrite::view(raw) };
        if !op.has_attribute("parla.error_report")
            || rewrite::ancestors(op).any(|a| rewrite::name_of(a) == "gpu.launch")
        {
            continue;
        }
        // The reference borrows from the ContextRef: keep it alive.
        let context_ref = op.context();
        let context = unsafe { context_ref.to_ref() };
        let b = Builder::new(context, op.location());
        let host = op.block().ok_or("a store outside a block")?;
        let (_, _, terminator) = new_launch(&b, host, op, 1, 1)?;
        // SAFETY: a live store, moved into the launch just built before it;
        // its operands are defined above the launch, which sees them.
        unsafe { mlir_sys::mlirOperationMoveBefore(raw, terminator.to_raw()) };
    }
    Ok(())
}

/// Whether `value`, a memref, is (a view of) an argument of the function:
/// an array argument, whose memory is the GPU's. It follows every memref
/// op of a memref operand, more than `rewrite::memref_root`'s views: a
/// refusal of host code errs on the side of refusing.
fn is_argument_memory(value: Value) -> bool {
    let mut value = value;
    loop {
        if let Some(argument) = parla_dialects::values::block_argument(value) {
            return argument
                .owner()
                .parent_operation()
                .is_some_and(|op| rewrite::name_of(op) == "func.func");
        }
        let Some(result) = parla_dialects::values::op_result(value) else {
            return false;
        };
        let producer = result.owner();
        let name = rewrite::name_of(producer);
        if !name.starts_with("memref.")
            || !producer.result(0).is_ok_and(|r| r.r#type().is_mem_ref())
            || ["memref.alloc", "memref.alloca"].contains(&name.as_str())
        {
            return false;
        }
        // A view (subview, cast, reshape): of its first operand.
        let Ok(base) = producer.operand(0) else {
            return false;
        };
        if !base.r#type().is_mem_ref() {
            return false;
        }
        value = base;
    }
}

/// The first op outside every kernel that reads or writes an array
/// argument: the host cannot reach GPU memory (every such access of the
/// function must be inside a kernel; the front end puts one that NumPy
/// evaluates before a statement's writes into `with parir.gpu:` code).
fn device_memory_on_host<'c, 'a>(root: OperationRef<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    const ACCESSES: &[&str] = &[
        "memref.load",
        "memref.store",
        "memref.atomic_rmw",
        "memref.generic_atomic_rmw",
    ];
    let mut found = None;
    root.walk(melior::ir::operation::WalkOrder::PreOrder, |op| {
        let name = rewrite::name_of(op);
        if name == "gpu.launch" || name == "gpu.module" {
            return melior::ir::operation::WalkResult::Skip;
        }
        if found.is_none() && ACCESSES.contains(&name.as_str()) {
            let memref = op.operands().find(|v| v.r#type().is_mem_ref());
            if memref.is_some_and(is_argument_memory) {
                found = Some(unsafe { rewrite::view(op.to_raw()) });
            }
        }
        melior::ir::operation::WalkResult::Advance
    });
    found
}

/// The first parallel loop or `looppar.on_device` already inside GPU code
/// (a `gpu.launch` or a `gpu.func`): it would become a launch from inside
/// a kernel, which GPUs cannot run.
fn looppar_in_device_code<'c, 'a>(root: OperationRef<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    let mut found = None;
    root.walk(melior::ir::operation::WalkOrder::PreOrder, |op| {
        let name = rewrite::name_of(op);
        let is_looppar =
            name == "looppar.on_device" || (name == "looppar.for" && rewrite::is_parallel_loop(op));
        if found.is_none() && is_looppar {
            let mut parent = op.parent_operation();
            while let Some(ancestor) = parent {
                if matches!(
                    rewrite::name_of(ancestor).as_str(),
                    "gpu.launch" | "gpu.func"
                ) {
                    // SAFETY: an op of the live IR under `root`.
                    found = Some(unsafe { rewrite::view(op.to_raw()) });
                    break;
                }
                parent = ancestor.parent_operation();
            }
        }
        melior::ir::operation::WalkResult::Advance
    });
    found
}

fn lower<'c, 'a>(root: OperationRef<'c, 'a>) -> Result<(), (Option<Location<'c>>, String)> {
    if let Some(op) = looppar_in_device_code(root) {
        return Err((
            Some(op.location()),
            "a parallel loop inside GPU code (a gpu.launch or gpu.func) would launch a kernel \
             from a kernel; run it sequentially there, or move it out"
                .to_string(),
        ));
    }
    let mut loops = Vec::new();
    let host_slots = host_locals::host_slots(root);
    for raw in rewrite::collect(root, "looppar.on_device") {
        let location = unsafe { rewrite::view(raw) }.location();
        loops.extend(
            unsafe { kernels_for_device_block(raw, &host_slots) }.map_err(|error| {
                // SAFETY: an op of the block being lowered, still in the IR.
                let at = error.at.map(|op| unsafe { rewrite::view(op) }.location());
                (Some(at.unwrap_or(location)), error.message)
            })?,
        );
    }
    for raw in rewrite::collect(root, "looppar.for") {
        let op = unsafe { rewrite::view(raw) };
        if rewrite::is_parallel_loop(op)
            && !rewrite::has_parallel_ancestor(op)
            && !loops.iter().any(|l| l.ptr == raw.ptr)
        {
            loops.push(raw);
        }
    }
    let mut kernels = Vec::new();
    for raw in loops {
        kernels.extend(unsafe { split_as_planned(raw) });
    }
    for raw in &kernels {
        if let Some((op, message)) = unsafe { block_code::copies_updated_by_threads(*raw) } {
            return Err((Some(op.location()), message));
        }
    }
    for raw in kernels {
        unsafe { kernel_for_loop(raw) }.map_err(|m| (None, m))?;
    }
    for launch in rewrite::collect(root, "gpu.launch") {
        unsafe { hoist_allocas(launch) };
    }
    if let Some((op, message)) = host_memory_in_kernels(root) {
        return Err((Some(op.location()), message));
    }
    unsafe { reports_on_the_device(root) }.map_err(|m| (None, m))?;
    if let Some(op) = device_memory_on_host(root) {
        return Err((
            Some(op.location()),
            "on a GPU this array element would be read on the host before the kernels run \
             (a slice bound, a loop bound, or a condition tested once around a parallel loop, such as \
             one that guards the element a reduction updates), but the array is in the GPU's memory: \
             pass the value as an int or a NumPy scalar (known when compiling)"
                .to_string(),
        ));
    }
    // gpu.launch_func (after outlining) needs the module to say so.
    if rewrite::name_of(root) == "builtin.module" {
        // The reference borrows from the ContextRef: keep it alive.
        let context_ref = root.context();
        let context = unsafe { context_ref.to_ref() };
        let mut module = unsafe { OperationRefMut::from_raw(root.to_raw()) };
        module.set_attribute("gpu.container_module", Attribute::unit(context));
    }
    Ok(())
}

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err((location, message)) = lower(root) {
        let location = location.unwrap_or_else(|| root.location());
        rewrite::emit_error(location, &format!("looppar-to-gpu: {message}"));
        pass.signal_failure();
    }
}
