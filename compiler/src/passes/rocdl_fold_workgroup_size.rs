//! `rocdl-fold-workgroup-size`: replaces `rocdl.workgroup.dim.{x,y,z}` in a
//! kernel whose block size is known (`gpu.known_block_size`, set by kernel
//! outlining) by constants.
//!
//! LLVM translates `rocdl.workgroup.dim` into a call to the ROCm device
//! library (`__ockl_get_local_size`), which makes every kernel that asks
//! for its block size (`gpu.all_reduce` does) need a ROCm installation to
//! link. Our kernels' block sizes are constants, so after this pass AMD
//! code needs the device library only for math functions.

use super::rewrite;
use melior::{
    ir::{
        attribute::{DenseI32ArrayAttribute, IntegerAttribute},
        operation::{OperationBuilder, OperationLike, OperationRef},
        BlockLike, Identifier, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "rocdl-fold-workgroup-size",
    "Replace rocdl.workgroup.dim ops in kernels of known block size (gpu.known_block_size) by constants",
    run,
    depends on [llvm]
);

const DIMENSIONS: [&str; 3] = [
    "rocdl.workgroup.dim.x",
    "rocdl.workgroup.dim.y",
    "rocdl.workgroup.dim.z",
];

/// The `gpu.known_block_size` of the function around `op`, if any.
fn known_block_size(op: OperationRef) -> Option<[i32; 3]> {
    let attribute =
        rewrite::ancestors(op).find_map(|p| p.attribute("gpu.known_block_size").ok())?;
    let sizes = DenseI32ArrayAttribute::try_from(attribute).ok()?;
    if sizes.len() != 3 {
        return None;
    }
    Some([
        sizes.element(0).ok()?,
        sizes.element(1).ok()?,
        sizes.element(2).ok()?,
    ])
}

fn run(root: OperationRef, _pass: ExternalPass) {
    for (axis, name) in DIMENSIONS.iter().enumerate() {
        for raw in rewrite::collect(root, name) {
            // SAFETY: collected from the live IR; each op is visited once.
            let op = unsafe { rewrite::view(raw) };
            let Some(sizes) = known_block_size(op) else {
                continue;
            };
            let Ok(result) = op.result(0) else { continue };
            // The reference borrows from the ContextRef: keep it alive.
            let context_ref = op.context();
            let context = unsafe { context_ref.to_ref() };
            let value = IntegerAttribute::new(result.r#type(), i64::from(sizes[axis]));
            let Ok(constant) = OperationBuilder::new("llvm.mlir.constant", op.location())
                .add_results(&[result.r#type()])
                .add_attributes(&[(Identifier::new(context, "value"), value.into())])
                .build()
            else {
                continue;
            };
            let Some(block) = op.block() else { continue };
            let constant = block.insert_operation_before(op, constant);
            // SAFETY: both values are live; the old op has no other results.
            unsafe {
                if let Ok(folded) = constant.result(0) {
                    mlir_sys::mlirValueReplaceAllUsesOfWith(result.to_raw(), folded.to_raw());
                }
                rewrite::erase(raw);
            }
        }
    }
}
