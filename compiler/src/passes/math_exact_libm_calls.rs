//! `math-exact-libm-calls`: turns `math.expm1` and `math.log1p` of f32/f64
//! into calls of the C library's `expm1`/`log1p` (`expm1f`/`log1pf`).
//!
//! `convert-math-to-llvm` lowers them as `exp(x) - 1` and `log(1 + x)`,
//! which lose every digit for small `x` (`expm1(1e-10)` comes out as
//! `1.00000008e-10`): the very inputs these functions exist for. The CPU
//! pipeline runs this pass first; the GPU lowerings call the vendors'
//! exact device functions already.

use super::rewrite;
use melior::{
    ir::{
        attribute::{FlatSymbolRefAttribute, StringAttribute, TypeAttribute},
        operation::{OperationBuilder, OperationLike, OperationRef},
        r#type::FunctionType,
        Attribute, BlockLike, Identifier, Region, RegionLike, Type, Value, ValueLike,
    },
    pass::ExternalPass,
};

external_pass!(
    "math-exact-libm-calls",
    "Lower math.expm1 and math.log1p of f32/f64 to calls of the C library's functions, which keep their precision near zero",
    run,
    depends on [func]
);

/// The math ops and the C functions (double, float) that compute them.
const FUNCTIONS: [(&str, &str, &str); 2] = [
    ("math.expm1", "expm1", "expm1f"),
    ("math.log1p", "log1p", "log1pf"),
];

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err(message) = rewrite_all(root) {
        rewrite::emit_error(
            root.location(),
            &format!("math-exact-libm-calls: {message}"),
        );
        pass.signal_failure();
    }
}

fn rewrite_all(root: OperationRef) -> Result<(), String> {
    for (op_name, double, float) in FUNCTIONS {
        for raw in rewrite::collect(root, op_name) {
            // SAFETY: collected from the live IR; each op is visited once
            // and only it is erased.
            let op = unsafe { rewrite::view(raw) };
            let result = op.result(0).map_err(|e| e.to_string())?;
            let callee = match result.r#type().to_string().as_str() {
                "f64" => double,
                "f32" => float,
                // Vectors and other widths keep the upstream lowering.
                _ => continue,
            };
            declare(root, callee, result.r#type())?;
            let context_ref = op.context();
            // SAFETY: the context outlives this pass run.
            let context = unsafe { context_ref.to_ref() };
            let operands: Vec<Value> = op.operands().collect();
            let call = OperationBuilder::new("func.call", op.location())
                .add_operands(&operands)
                .add_results(&[result.r#type()])
                .add_attributes(&[(
                    Identifier::new(context, "callee"),
                    FlatSymbolRefAttribute::new(context, callee).into(),
                )])
                .build()
                .map_err(|e| format!("cannot build the call of {callee}: {e}"))?;
            let block = op.block().ok_or("a math op outside a block")?;
            let call = block.insert_operation_before(op, call);
            let called = call.result(0).map_err(|e| e.to_string())?;
            // SAFETY: both values are live; the math op is unused once its
            // uses move.
            unsafe {
                mlir_sys::mlirValueReplaceAllUsesOfWith(result.to_raw(), called.to_raw());
                rewrite::erase(raw);
            }
        }
    }
    Ok(())
}

/// Declares `func.func private @name(ty) -> ty` in `module` (read-only
/// memory, as every math op), unless it is declared already.
fn declare(module: OperationRef, name: &str, ty: Type) -> Result<(), String> {
    let body = module
        .region(0)
        .ok()
        .and_then(|region| region.first_block())
        .ok_or("the pass runs on a module")?;
    let declared = rewrite::named_in(body, name).any(|op| rewrite::name_of(op) == "func.func");
    if declared {
        return Ok(());
    }
    let context_ref = module.context();
    // SAFETY: the context outlives this pass run.
    let context = unsafe { context_ref.to_ref() };
    let signature: Type = FunctionType::new(context, &[ty], &[ty]).into();
    let declaration = OperationBuilder::new("func.func", module.location())
        .add_attributes(&[
            (
                Identifier::new(context, "sym_name"),
                StringAttribute::new(context, name).into(),
            ),
            (
                Identifier::new(context, "function_type"),
                TypeAttribute::new(signature).into(),
            ),
            (
                Identifier::new(context, "sym_visibility"),
                StringAttribute::new(context, "private").into(),
            ),
            (
                Identifier::new(context, "llvm.readnone"),
                Attribute::unit(context),
            ),
        ])
        .add_regions([Region::new()])
        .build()
        .map_err(|e| format!("cannot declare {name}: {e}"))?;
    match body.first_operation() {
        Some(first) => body.insert_operation_before(first, declaration),
        None => body.append_operation(declaration),
    };
    Ok(())
}
