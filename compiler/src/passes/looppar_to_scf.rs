//! `looppar-to-scf`: lowers `looppar` control flow to `scf`.
//!
//! - A `looppar.for` with `threads` that no other parallel loop encloses
//!   becomes `scf.parallel` (then OpenMP, then the runtime's pool). Inner
//!   parallel loops become `scf.for`: on a CPU the outermost parallel loop
//!   already has every core busy.
//! - Other `looppar.for` become `scf.for`; `looppar.while` becomes
//!   `scf.while`; `looppar.on_device` is inlined (on the CPU, "one thread
//!   of the device" is the calling thread).

use super::rewrite;
use melior::{
    ir::{
        attribute::DenseI32ArrayAttribute,
        operation::{OperationLike, OperationRef},
        Identifier, Value,
    },
    pass::ExternalPass,
};

external_pass!(
    "looppar-to-scf",
    "Lower looppar loops to scf: the outermost parallel loop to scf.parallel, the rest to scf.for/scf.while",
    run
);

fn is_parallel(op: OperationRef) -> bool {
    rewrite::name_of(op) == "looppar.for" && op.attribute("threads").is_ok()
}

fn has_parallel_ancestor(op: OperationRef) -> bool {
    let mut current = op.parent_operation();
    while let Some(parent) = current {
        if is_parallel(parent) {
            return true;
        }
        current = parent.parent_operation();
    }
    false
}

fn lower(root: OperationRef) -> Result<(), String> {
    let loops = rewrite::collect(root, "looppar.for");
    // Decide before changing anything: ancestry is still intact.
    let decisions: Vec<_> = loops
        .iter()
        .map(|raw| {
            // SAFETY: collected from the live IR.
            let op = unsafe { rewrite::view(*raw) };
            (*raw, is_parallel(op) && !has_parallel_ancestor(op))
        })
        .collect();
    for (raw, parallel) in decisions {
        // SAFETY: loops are only replaced once; the views are fresh.
        let op = unsafe { rewrite::view(raw) };
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
            let new = unsafe { rewrite::replace_with_regions(raw, "scf.for", &operands, &[])? };
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

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err(message) = lower(root) {
        let text = std::ffi::CString::new(format!("looppar-to-scf: {message}")).unwrap_or_default();
        // SAFETY: the location is live; the message is NUL-terminated.
        unsafe { mlir_sys::mlirEmitError(root.location().to_raw(), text.as_ptr()) };
        pass.signal_failure();
    }
}
