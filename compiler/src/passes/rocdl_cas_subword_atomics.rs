//! `rocdl-cas-subword-atomics`: turns `memref.atomic_rmw` of 8- and 16-bit
//! elements into `memref.generic_atomic_rmw`, a compare-and-swap loop.
//!
//! LLVM's AMDGPU backend widens sub-word atomic updates to masked 32-bit
//! ones, except where it has first proved the update idempotent (`|= 0`,
//! `+= 0` from a contribution it folds away): that one reaches instruction
//! selection as an 8-bit atomic add of 0, which it cannot select, and LLVM
//! aborts the process. A compare-and-swap loop of a sub-word element is
//! widened to a 32-bit `cmpswap` on every path, so AMD kernels take that
//! form for every sub-word update. NVIDIA's backend handles both forms and
//! keeps the native atomics.

use super::rewrite;
use melior::{
    ir::{
        attribute::IntegerAttribute,
        operation::{OperationBuilder, OperationLike, OperationRef},
        Block, BlockLike, Region, RegionLike, Type, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "rocdl-cas-subword-atomics",
    "Turn memref.atomic_rmw of 8- and 16-bit elements into compare-and-swap loops (memref.generic_atomic_rmw)",
    run,
    depends on [memref, arith]
);

/// The op combining the current value with the operand for each
/// `arith::AtomicRMWKind`, by number; None for `assign`, which stores the
/// operand.
fn combining_op(kind: i64) -> Result<Option<&'static str>, String> {
    const OPS: [Option<&str>; 16] = [
        Some("arith.addf"),
        Some("arith.addi"),
        Some("arith.andi"),
        None,
        Some("arith.maximumf"),
        Some("arith.maxnumf"),
        Some("arith.maxsi"),
        Some("arith.maxui"),
        Some("arith.minimumf"),
        Some("arith.minnumf"),
        Some("arith.minsi"),
        Some("arith.minui"),
        Some("arith.mulf"),
        Some("arith.muli"),
        Some("arith.ori"),
        Some("arith.xori"),
    ];
    usize::try_from(kind)
        .ok()
        .and_then(|k| OPS.get(k).copied())
        .ok_or_else(|| format!("unknown atomic kind {kind}"))
}

/// Whether elements of `ty` are narrower than the 32-bit word of AMD's
/// atomics.
fn is_subword(ty: Type) -> bool {
    match melior::ir::r#type::IntegerType::try_from(ty) {
        Ok(integer) => integer.width() < 32,
        Err(_) => matches!(ty.to_string().as_str(), "f16" | "bf16"),
    }
}

/// `op` (a sub-word `memref.atomic_rmw`) as a compare-and-swap loop.
fn rewrite_atomic(op: OperationRef) -> Result<(), String> {
    let location = op.location();
    let operand = op.operand(0).map_err(|e| e.to_string())?;
    let element = operand.r#type();
    let kind = op
        .attribute("kind")
        .ok()
        .and_then(|k| IntegerAttribute::try_from(k).ok())
        .ok_or("memref.atomic_rmw without an integer kind")?
        .value();
    let body = Block::new(&[(element, location)]);
    let current: Value = body.argument(0).map_err(|e| e.to_string())?.into();
    let new = match combining_op(kind)? {
        Some(name) => body
            .append_operation(
                OperationBuilder::new(name, location)
                    .add_operands(&[current, operand])
                    .add_results(&[element])
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .result(0)
            .map_err(|e| e.to_string())?
            .into(),
        None => operand,
    };
    body.append_operation(
        OperationBuilder::new("memref.atomic_yield", location)
            .add_operands(&[new])
            .build()
            .map_err(|e| e.to_string())?,
    );
    let region = Region::new();
    region.append_block(body);
    let location_operands: Vec<Value> = op.operands().skip(1).collect();
    let loop_op = OperationBuilder::new("memref.generic_atomic_rmw", location)
        .add_operands(&location_operands)
        .add_regions([region])
        .add_results(&[element])
        .build()
        .map_err(|e| e.to_string())?;
    let block = op.block().ok_or("memref.atomic_rmw outside a block")?;
    let loop_op = block.insert_operation_before(op, loop_op);
    // SAFETY: both values are live; the old op is erased once unused.
    unsafe {
        let old = op.result(0).map_err(|e| e.to_string())?;
        let replacement = loop_op.result(0).map_err(|e| e.to_string())?;
        mlir_sys::mlirValueReplaceAllUsesOfWith(old.to_raw(), replacement.to_raw());
        rewrite::erase(op.to_raw());
    }
    Ok(())
}

fn run(root: OperationRef, pass: ExternalPass) {
    for raw in rewrite::collect(root, "memref.atomic_rmw") {
        // SAFETY: collected from the live IR; each op is visited once.
        let op = unsafe { rewrite::view(raw) };
        let Ok(operand) = op.operand(0) else { continue };
        if !is_subword(operand.r#type()) {
            continue;
        }
        if let Err(e) = rewrite_atomic(op) {
            rewrite::emit_error(op.location(), &format!("rocdl-cas-subword-atomics: {e}"));
            pass.signal_failure();
            return;
        }
    }
}
