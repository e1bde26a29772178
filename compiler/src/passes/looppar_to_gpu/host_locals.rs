//! Locals of `with parir.gpu:` code that the host keeps: the scalars of
//! the control that stays on the host (sequential loops and conditions
//! around parallel loops).
//!
//! A loop with `break` or `continue` keeps its exit flag and its counter
//! in stack slots (`looppar.while` reading them in its condition). Such a
//! slot is read and written only by that host control, with values the
//! host knows (constants, bounds, its own loads), so it stays a host slot
//! and its loads and stores host code. One-thread kernels could not keep
//! it: a value a kernel computes cannot steer the host.

use super::block_code;
use crate::passes::{looppar_simplify, rewrite};
use melior::ir::{
    operation::{OperationLike, OperationRef},
    r#type::MemRefType,
    ShapedTypeLike, Value, ValueLike,
};
use mlir_sys::MlirOperation;
use parla_dialects::values;

/// Where an op runs in GPU code, as far as locals are concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Outside `looppar.on_device` and outside parallel loops.
    Host,
    /// Directly in `looppar.on_device` code, or in the loops and
    /// conditions of it that hold parallel loops (which stay on the host).
    DeviceBlockControl,
    /// In a kernel: a parallel loop, or sequential `with parir.gpu:` code.
    Kernel,
}

fn level(op: OperationRef) -> Level {
    let ancestors: Vec<OperationRef> = rewrite::ancestors(op).collect();
    if ancestors.iter().any(|a| rewrite::is_parallel_loop(*a)) {
        return Level::Kernel;
    }
    match ancestors
        .iter()
        .position(|a| rewrite::name_of(*a) == "looppar.on_device")
    {
        None => Level::Host,
        // Every op between `op` and the block holds a parallel loop, or
        // `op` is one of the block's own.
        Some(block)
            if ancestors[..block]
                .iter()
                .all(|a| block_code::holds_parallel_loop(*a)) =>
        {
            Level::DeviceBlockControl
        }
        Some(_) => Level::Kernel,
    }
}

/// Whether `op` is a load or store of a stack slot of no dimensions (its
/// memref operand only: a slot stored as a value escapes).
fn scalar_access_of(op: OperationRef, slot: Value) -> bool {
    match rewrite::name_of(op).as_str() {
        "memref.load" => op.operand_count() == 1,
        "memref.store" => op.operand_count() == 2 && op.operand(0).ok() != Some(slot),
        _ => false,
    }
}

/// The parallel loop, launched by a device block's host control, that
/// holds `op`, if any.
fn launching_loop<'c, 'a>(op: OperationRef<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    let outermost = rewrite::ancestors(op)
        .filter(|a| rewrite::is_parallel_loop(*a))
        .last()?;
    (level(outermost) == Level::DeviceBlockControl).then_some(outermost)
}

/// Whether `op`, a load of `slot` in a kernel, reads a value the host can
/// read before the launch and pass to the kernel: it is in a parallel loop
/// that a device block's host control launches, and nothing in that loop
/// stores to the slot.
fn load_before_launch(op: OperationRef, slot: Value) -> bool {
    rewrite::name_of(op) == "memref.load"
        && launching_loop(op).is_some_and(|kernel| {
            rewrite::users(slot).iter().all(|(user, _)| {
                rewrite::name_of(*user) != "memref.store" || !rewrite::is_nested_in(*user, kernel)
            })
        })
}

/// Whether the host knows `value`, stored by host control of a device
/// block, when `host` are the slots kept on the host.
fn host_known(value: Value, host: &[MlirOperation]) -> bool {
    let Some(result) = values::op_result(value) else {
        // Block arguments: of the host control the store is in, or of
        // the function.
        return true;
    };
    let owner = result.owner();
    match level(owner) {
        Level::Host => true,
        Level::Kernel => false,
        Level::DeviceBlockControl => {
            if rewrite::name_of(owner) == "memref.load" && owner.operand_count() == 1 {
                return owner
                    .operand(0)
                    .ok()
                    .and_then(values::op_result)
                    .is_some_and(|r| host.iter().any(|h| h.ptr == r.owner().to_raw().ptr));
            }
            looppar_simplify::pure_scalar(owner)
                && owner.operands().all(|operand| host_known(operand, host))
        }
    }
}

/// The stack slots (`memref.alloca` without operands, of no dimensions)
/// in `root` that some device block's host control uses and that only
/// host code and host control write, with values the host knows. Their
/// loads in the parallel loops that the host control launches move
/// before those loops, so that only the host reads them.
pub(super) fn host_slots(root: OperationRef) -> Vec<MlirOperation> {
    let mut candidates: Vec<MlirOperation> = rewrite::collect(root, "memref.alloca")
        .into_iter()
        .filter(|raw| {
            // SAFETY: collected from the live IR.
            let alloca = unsafe { rewrite::view(*raw) };
            let Ok(slot) = alloca.result(0) else {
                return false;
            };
            let slot: Value = slot.into();
            let users = rewrite::users(slot);
            alloca.operand_count() == 0
                && MemRefType::try_from(slot.r#type()).is_ok_and(|m| m.rank() == 0)
                && users
                    .iter()
                    .any(|(u, _)| level(*u) == Level::DeviceBlockControl)
                && users.iter().all(|(u, _)| {
                    scalar_access_of(*u, slot)
                        && (level(*u) != Level::Kernel || load_before_launch(*u, slot))
                })
        })
        .collect();
    // Drop slots given a value the host does not know until none is left.
    loop {
        let kept: Vec<MlirOperation> = candidates
            .iter()
            .copied()
            .filter(|raw| {
                let alloca = unsafe { rewrite::view(*raw) };
                let Ok(slot) = alloca.result(0) else {
                    return false;
                };
                rewrite::users(slot.into()).iter().all(|(user, _)| {
                    rewrite::name_of(*user) != "memref.store"
                        || level(*user) == Level::Host
                        || user
                            .operand(0)
                            .is_ok_and(|stored| host_known(stored, &candidates))
                })
            })
            .collect();
        if kept.len() == candidates.len() {
            break;
        }
        candidates = kept;
    }
    for raw in &candidates {
        let alloca = unsafe { rewrite::view(*raw) };
        let Ok(slot) = alloca.result(0) else { continue };
        for (user, _) in rewrite::users(slot.into()) {
            if let Some(kernel) = launching_loop(user) {
                // SAFETY: a load of the slot (`load_before_launch`), moved
                // before the loop around it; its operand, the slot,
                // dominates the loop.
                unsafe { mlir_sys::mlirOperationMoveBefore(user.to_raw(), kernel.to_raw()) };
            }
        }
    }
    candidates
}

/// Whether `op` loads or stores one of the `host` slots.
pub(super) fn accesses(op: OperationRef, host: &[MlirOperation]) -> bool {
    let memref = match rewrite::name_of(op).as_str() {
        "memref.load" => op.operand(0),
        "memref.store" => op.operand(1),
        _ => return false,
    };
    memref
        .ok()
        .and_then(values::op_result)
        .is_some_and(|r| host.iter().any(|h| h.ptr == r.owner().to_raw().ptr))
}
