//! Small IR surgery helpers for our passes, on MLIR's C API: collecting
//! ops, replacing an op by a new one that takes over its regions, erasing.

use melior::ir::{
    operation::{OperationBuilder, OperationLike, OperationRef},
    Attribute, BlockLike, Identifier, Location, Operation, Region, RegionLike, Value, ValueLike,
};
use mlir_sys::MlirOperation;

/// Every op named `name` nested in `root` (pre-order).
pub fn collect(root: OperationRef, name: &str) -> Vec<MlirOperation> {
    let mut found = Vec::new();
    root.walk(melior::ir::operation::WalkOrder::PreOrder, |op| {
        if op.name().as_string_ref().as_str() == Ok(name) {
            found.push(op.to_raw());
        }
        melior::ir::operation::WalkResult::Advance
    });
    found
}

/// Whether `root` or an op nested in it is named one of `names`.
pub fn contains_any(root: OperationRef, names: &[&str]) -> bool {
    let mut found = false;
    root.walk(melior::ir::operation::WalkOrder::PreOrder, |op| {
        found = op
            .name()
            .as_string_ref()
            .as_str()
            .is_ok_and(|name| names.contains(&name));
        if found {
            melior::ir::operation::WalkResult::Interrupt
        } else {
            melior::ir::operation::WalkResult::Advance
        }
    });
    found
}

/// The ops of `block` (not nested ones) whose symbol is `name`, in order:
/// a module's functions and declarations of that name.
pub fn named_in<'c, 'a, 'n>(
    block: melior::ir::BlockRef<'c, 'a>,
    name: &'n str,
) -> impl Iterator<Item = OperationRef<'c, 'a>> + 'n
where
    'a: 'n,
{
    std::iter::successors(block.first_operation(), |op| op.next_in_block())
        .filter(move |op| string_attribute(*op, "sym_name").as_deref() == Some(name))
}

/// The value of `op` if it is an integer (or index) `arith.constant`.
pub fn integer_constant(op: OperationRef) -> Option<i64> {
    if name_of(op) != "arith.constant" {
        return None;
    }
    melior::ir::attribute::IntegerAttribute::try_from(op.attribute("value").ok()?)
        .ok()
        .map(|i| i.value())
}

/// The ops that use `value`, each with the operand number it takes it as,
/// in use-list order (an op using it twice is listed twice).
pub fn users<'c, 'a>(value: Value<'c, 'a>) -> Vec<(OperationRef<'c, 'a>, usize)> {
    let mut found = Vec::new();
    // SAFETY: walks the use list of a live value; each owner is live.
    unsafe {
        let mut current = mlir_sys::mlirValueGetFirstUse(value.to_raw());
        while !mlir_sys::mlirOpOperandIsNull(current) {
            found.push((
                view(mlir_sys::mlirOpOperandGetOwner(current)),
                mlir_sys::mlirOpOperandGetOperandNumber(current) as usize,
            ));
            current = mlir_sys::mlirOpOperandGetNextUse(current);
        }
    }
    found
}

/// The integer (or index) `value` holds if an `arith.constant` defines it.
pub fn constant_value(value: Value) -> Option<i64> {
    integer_constant(parla_dialects::values::op_result(value)?.owner())
}

/// Ops whose memref result views (part of) their first operand's memory.
pub const MEMREF_VIEWS: &[&str] = &[
    "looppar.slice",
    "memref.subview",
    "memref.cast",
    "memref.reinterpret_cast",
    "memref.collapse_shape",
    "memref.expand_shape",
    "memref.transpose",
    "memref.view",
];

/// The memref whose memory `value` views, through [`MEMREF_VIEWS`] ops:
/// `value` itself when no view op defines it. None past 64 views.
pub fn memref_root<'c: 'a, 'a>(mut value: Value<'c, 'a>) -> Option<Value<'c, 'a>> {
    for _ in 0..64 {
        let Some(result) = parla_dialects::values::op_result(value) else {
            return Some(value);
        };
        let owner = result.owner();
        if !MEMREF_VIEWS.contains(&name_of(owner).as_str()) {
            return Some(value);
        }
        value = owner.operand(0).ok()?;
    }
    None
}

/// A borrowed view of a raw op.
///
/// # Safety
/// `raw` must be a live op.
pub unsafe fn view<'c, 'a>(raw: MlirOperation) -> OperationRef<'c, 'a> {
    unsafe { OperationRef::from_raw(raw) }
}

pub fn name_of(op: OperationRef) -> String {
    op.name().as_string_ref().as_str().unwrap_or("").to_string()
}

/// The value of string attribute `name` of `op`, if it has one.
pub fn string_attribute(op: OperationRef, name: &str) -> Option<String> {
    let attribute = op.attribute(name).ok()?;
    melior::ir::attribute::StringAttribute::try_from(attribute)
        .ok()
        .map(|s| s.value().to_string())
}

/// Removes `op` from its block and destroys it.
///
/// # Safety
/// `op` must be live, in a block, and unused.
pub unsafe fn erase(op: MlirOperation) {
    unsafe {
        mlir_sys::mlirOperationRemoveFromParent(op);
        mlir_sys::mlirOperationDestroy(op);
    }
}

/// Builds `name` with `operands`, `attributes` and as many empty regions as
/// `old` has, inserts it before `old`, moves `old`'s region bodies into it,
/// and erases `old` (which must have no results in use). Returns the new
/// op.
///
/// # Safety
/// `old` must be live and its results unused.
pub unsafe fn replace_with_regions<'c>(
    old: MlirOperation,
    name: &str,
    operands: &[Value<'c, '_>],
    attributes: &[(Identifier<'c>, Attribute<'c>)],
) -> Result<MlirOperation, String> {
    let old_ref: OperationRef<'c, '_> = unsafe { view(old) };
    let location: Location<'c> = old_ref.location();
    let regions: Vec<Region<'c>> = (0..old_ref.region_count()).map(|_| Region::new()).collect();
    let new: Operation<'c> = OperationBuilder::new(name, location)
        .add_operands(operands)
        .add_attributes(attributes)
        .add_regions_vec(regions)
        .build()
        .map_err(|e| format!("cannot build {name}: {e}"))?;
    let block = old_ref.block().ok_or("the op is not in a block")?;
    let new_ref = block.insert_operation_before(old_ref, new);
    for index in 0..old_ref.region_count() {
        let (Ok(target), Ok(source)) = (new_ref.region(index), old_ref.region(index)) else {
            return Err("region count mismatch".into());
        };
        unsafe { mlir_sys::mlirRegionTakeBody(target.to_raw(), source.to_raw()) };
    }
    let raw = new_ref.to_raw();
    unsafe { erase(old) };
    Ok(raw)
}

/// Replaces the terminator of the single block of region `index` of `op`
/// by a new op `name` with the same operands (and `attributes`).
///
/// # Safety
/// `op` must be live.
pub unsafe fn replace_terminator<'c>(
    op: MlirOperation,
    index: usize,
    name: &str,
    attributes: &[(Identifier<'c>, Attribute<'c>)],
) -> Result<(), String> {
    let op_ref: OperationRef<'c, '_> = unsafe { view(op) };
    let region = op_ref.region(index).map_err(|e| e.to_string())?;
    let block = region.first_block().ok_or("a region without a block")?;
    let terminator = block.terminator().ok_or("a block without a terminator")?;
    let operands: Vec<Value> = terminator.operands().collect();
    let new = OperationBuilder::new(name, terminator.location())
        .add_operands(&operands)
        .add_attributes(attributes)
        .build()
        .map_err(|e| format!("cannot build {name}: {e}"))?;
    block.insert_operation_before(terminator, new);
    unsafe { erase(terminator.to_raw()) };
    Ok(())
}

/// Moves the ops of the single block of `op`'s region 0 (but its
/// terminator) before `op`, then erases `op`.
///
/// # Safety
/// `op` must be live and its results unused; its block must have no
/// arguments.
pub unsafe fn inline_region(op: MlirOperation) -> Result<(), String> {
    let op_ref: OperationRef<'_, '_> = unsafe { view(op) };
    let region = op_ref.region(0).map_err(|e| e.to_string())?;
    let block = region.first_block().ok_or("a region without a block")?;
    let terminator = block.terminator().map(|t| t.to_raw().ptr);
    let mut current = block.first_operation().map(|o| o.to_raw());
    while let Some(raw) = current {
        if Some(raw.ptr) == terminator {
            break;
        }
        let next = unsafe { view(raw) }.next_in_block().map(|o| o.to_raw());
        unsafe { mlir_sys::mlirOperationMoveBefore(raw, op) };
        current = next;
    }
    unsafe { erase(op) };
    Ok(())
}

/// A `looppar.for` with a parallel specification (`threads`).
pub fn is_parallel_loop(op: OperationRef) -> bool {
    name_of(op) == "looppar.for" && op.attribute("threads").is_ok()
}

/// The ops enclosing `op`, innermost first.
pub fn ancestors<'c, 'a>(op: OperationRef<'c, 'a>) -> impl Iterator<Item = OperationRef<'c, 'a>> {
    std::iter::successors(op.parent_operation(), |parent| parent.parent_operation())
}

/// Whether `op` is nested (at any depth) in `ancestor`.
pub fn is_nested_in(op: OperationRef, ancestor: OperationRef) -> bool {
    ancestors(op).any(|parent| parent == ancestor)
}

/// Whether a parallel `looppar.for` encloses `op`.
pub fn has_parallel_ancestor(op: OperationRef) -> bool {
    ancestors(op).any(is_parallel_loop)
}

/// Emits an error diagnostic `text` at `location` (a NUL in the text, which
/// MLIR's C API cannot take, is shown as `\0`).
pub fn emit_error(location: melior::ir::Location, text: &str) {
    let text = std::ffi::CString::new(text.replace('\0', "\\0")).expect("no NUL left");
    // SAFETY: the location is live; the text is NUL-terminated.
    unsafe { mlir_sys::mlirEmitError(location.to_raw(), text.as_ptr()) };
}

/// Whether values of `ty` have atomic updates and cross-thread reductions
/// on every target: integers of 8 to 64 bits and floats (not `index`,
/// whose width the target decides, nor `i1` or vectors).
pub fn has_atomic_form(ty: melior::ir::Type) -> bool {
    match melior::ir::r#type::IntegerType::try_from(ty) {
        Ok(integer) => matches!(integer.width(), 8 | 16 | 32 | 64) && integer.is_signless(),
        Err(_) => matches!(ty.to_string().as_str(), "f16" | "bf16" | "f32" | "f64"),
    }
}
