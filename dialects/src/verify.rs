//! Semantic verification: the rules of our dialects that IRDL cannot
//! state (terminators, value ranges, relations between operands, where an
//! op may appear).
//!
//! MLIR's own verifier runs first and checks everything the IRDL files
//! say; [`verify`] then walks the IR and checks each op of ours with the
//! rule of its dialect (`<dialect>/verify.rs`). Violations are reported as
//! MLIR error diagnostics at the op's location, so they reach the same
//! handlers (and `--verify-diagnostics`) as MLIR's own.

use melior::ir::{
    attribute::{
        ArrayAttribute, AttributeLike, DenseI64ArrayAttribute, FloatAttribute, IntegerAttribute,
        StringAttribute,
    },
    operation::{OperationLike, OperationRef, WalkOrder, WalkResult},
    Attribute, BlockLike, RegionLike, Value, ValueLike,
};
use std::ffi::CString;

/// One broken rule: which op, where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The op's name, e.g. `task.spawn`.
    pub op: String,
    /// The op's location as MLIR prints it, e.g. `loc("a.mlir":3:5)`.
    pub location: String,
    /// What is wrong, phrased like an MLIR verifier message.
    pub message: String,
}

/// The result of checking one op: `Err` carries the message.
pub(crate) type Check = Result<(), String>;

/// Calls `report(op, name, message)` for each op in `op` (itself included)
/// that breaks a rule of its dialect.
fn for_each_violation<'c: 'a, 'a>(
    op: &impl OperationLike<'c, 'a>,
    mut report: impl FnMut(OperationRef, &str, String),
) {
    op.walk(WalkOrder::PreOrder, |nested| {
        let name = nested.name();
        let name = name.as_string_ref().as_str().unwrap_or("");
        let result = match name.split_once('.') {
            Some(("task", op_name)) => crate::task::verify::check(op_name, nested),
            Some(("device", op_name)) => crate::device::verify::check(op_name, nested),
            Some(("looppar", op_name)) => crate::looppar::verify::check(op_name, nested),
            _ => Ok(()),
        };
        if let Err(message) = result {
            report(nested, name, message);
        }
        WalkResult::Advance
    });
}

/// Checks `op` and every op nested in it against the semantic rules of our
/// dialects, without emitting diagnostics. Run MLIR's verifier first: the
/// rules assume the structure that IRDL guarantees.
pub fn verify_semantics<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>) -> Vec<Violation> {
    let mut violations = Vec::new();
    for_each_violation(op, |nested, name, message| {
        violations.push(Violation {
            op: name.to_string(),
            location: nested.location().to_string(),
            message,
        })
    });
    violations
}

/// Verifies `op`: MLIR's verifier (structure, from IRDL and upstream
/// dialects), then our semantic rules. Every problem is emitted as an MLIR
/// error diagnostic; returns whether `op` is valid.
pub fn verify<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>) -> bool {
    if !op.verify() {
        return false;
    }
    let mut valid = true;
    for_each_violation(op, |nested, name, message| {
        valid = false;
        // MLIR's verifier phrases errors as "'op.name' op <message>".
        let text = CString::new(format!("'{name}' op {message}"))
            .unwrap_or_else(|_| CString::from(c"invalid op (message contained NUL)"));
        // SAFETY: the location belongs to a live context; the string is
        // NUL-terminated and outlives the call.
        unsafe { mlir_sys::mlirEmitError(nested.location().to_raw(), text.as_ptr()) };
    });
    valid
}

// ---------------------------------------------------------------------
// Helpers shared by the per-dialect rules.

/// The attribute `name` of `op`, if present.
pub(crate) fn attr<'c>(op: OperationRef<'c, '_>, name: &str) -> Option<Attribute<'c>> {
    op.attribute(name).ok()
}

/// An optional string attribute; an error if present with another kind.
pub(crate) fn opt_string(op: OperationRef, name: &str) -> Result<Option<String>, String> {
    match attr(op, name) {
        None => Ok(None),
        Some(a) => StringAttribute::try_from(a)
            .map(|s| Some(string_value(s)))
            .map_err(|_| format!("attribute '{name}' must be a string, got {a}")),
    }
}

/// The text of a string attribute. (melior's `value()` cannot read the
/// empty string, whose data pointer MLIR leaves null.)
pub(crate) fn string_value(attribute: StringAttribute) -> String {
    // SAFETY: reads a live attribute; the bytes belong to the context.
    let raw = unsafe { mlir_sys::mlirStringAttrGetValue(attribute.to_raw()) };
    if raw.length == 0 || raw.data.is_null() {
        return String::new();
    }
    let bytes = unsafe { std::slice::from_raw_parts(raw.data as *const u8, raw.length) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// A required string attribute (IRDL already checked its presence and kind
/// where it is declared).
pub(crate) fn string(op: OperationRef, name: &str) -> Result<String, String> {
    opt_string(op, name)?.ok_or_else(|| format!("requires attribute '{name}'"))
}

/// An optional integer attribute; an error if present with another kind.
pub(crate) fn opt_int(op: OperationRef, name: &str) -> Result<Option<i64>, String> {
    let Some(a) = attr(op, name) else {
        return Ok(None);
    };
    let error = || format!("attribute '{name}' must be an integer, got {a}");
    let value = IntegerAttribute::try_from(a).map_err(|_| error())?.value();
    // A bool (`true` is the i1 -1), or an unsigned value past int64's
    // range, which reads as negative: neither is the integer meant.
    if let Ok(ty) = melior::ir::r#type::IntegerType::try_from(a.r#type()) {
        // (Narrower unsigned values read sign-extended: only ui64 wraps.)
        if ty.width() == 1 || (ty.is_unsigned() && ty.width() == 64 && value < 0) {
            return Err(error());
        }
    }
    Ok(Some(value))
}

/// A required integer attribute.
pub(crate) fn int(op: OperationRef, name: &str) -> Result<i64, String> {
    opt_int(op, name)?.ok_or_else(|| format!("requires attribute '{name}'"))
}

/// A required float attribute.
pub(crate) fn float(op: OperationRef, name: &str) -> Result<f64, String> {
    match attr(op, name) {
        None => Err(format!("requires attribute '{name}'")),
        Some(a) => FloatAttribute::try_from(a)
            .map(|f| f.value())
            .map_err(|_| format!("attribute '{name}' must be a float, got {a}")),
    }
}

/// Whether a unit attribute `name` is present; an error if `name` is
/// present with a value.
pub(crate) fn flag(op: OperationRef, name: &str) -> Result<bool, String> {
    match attr(op, name) {
        None => Ok(false),
        Some(a) if a.is_unit() => Ok(true),
        Some(a) => Err(format!(
            "attribute '{name}' must be a unit attribute, got {a}"
        )),
    }
}

/// A required `array<i64: ...>` attribute.
pub(crate) fn i64_array(op: OperationRef, name: &str) -> Result<Vec<i64>, String> {
    let a = attr(op, name).ok_or_else(|| format!("requires attribute '{name}'"))?;
    let array = DenseI64ArrayAttribute::try_from(a)
        .map_err(|_| format!("attribute '{name}' must be an array<i64: ...>, got {a}"))?;
    (0..array.len())
        .map(|i| array.element(i).map_err(|e| e.to_string()))
        .collect()
}

/// An optional array of strings.
pub(crate) fn opt_string_array(
    op: OperationRef,
    name: &str,
) -> Result<Option<Vec<String>>, String> {
    let Some(a) = attr(op, name) else {
        return Ok(None);
    };
    let error = || format!("attribute '{name}' must be an array of strings, got {a}");
    let array = ArrayAttribute::try_from(a).map_err(|_| error())?;
    (0..array.len())
        .map(|i| {
            let element = array.element(i).map_err(|_| error())?;
            StringAttribute::try_from(element)
                .map(string_value)
                .map_err(|_| error())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The name of `op`, e.g. `task.yield`.
pub(crate) fn op_name(op: OperationRef) -> String {
    op.name().as_string_ref().as_str().unwrap_or("").to_string()
}

/// The last op of the single block of region `index` of `op`.
pub(crate) fn terminator<'c, 'a>(
    op: OperationRef<'c, 'a>,
    index: usize,
) -> Option<OperationRef<'c, 'a>> {
    op.region(index).ok()?.first_block()?.terminator()
}

/// Checks that region `index` of `op` ends with `expected`, carrying at
/// most `max_values` operands.
pub(crate) fn ends_with(
    op: OperationRef,
    index: usize,
    region: &str,
    expected: &str,
    max_values: usize,
) -> Check {
    let Some(last) = terminator(op, index) else {
        return Err(format!(
            "expects its {region} region to end with '{expected}'"
        ));
    };
    let name = op_name(last);
    if name != expected {
        return Err(format!(
            "expects its {region} region to end with '{expected}', found '{name}'"
        ));
    }
    if last.operand_count() > max_values {
        return Err(format!(
            "expects '{expected}' in its {region} region to carry at most {max_values} value(s), found {}",
            last.operand_count()
        ));
    }
    Ok(())
}

/// That region `index` (named `region` in messages) has no block
/// arguments: nothing passes it values, and a pass that inlines it would
/// leave their uses dangling.
pub(crate) fn takes_no_arguments(op: OperationRef, index: usize, region: &str) -> Check {
    let arguments = op
        .region(index)
        .ok()
        .and_then(|r| r.first_block())
        .map_or(0, |block| block.argument_count());
    if arguments > 0 {
        return Err(format!(
            "expects its {region} region to take no arguments, found {arguments}"
        ));
    }
    Ok(())
}

/// The value of `value` when it is produced by `arith.constant` with an
/// integer or index attribute.
pub(crate) fn constant_int(value: Value) -> Option<i64> {
    let result = crate::values::op_result(value)?;
    let owner = result.owner();
    if op_name(owner) != "arith.constant" {
        return None;
    }
    IntegerAttribute::try_from(owner.attribute("value").ok()?)
        .ok()
        .map(|i| i.value())
}

/// The nearest enclosing op named `name`, if any.
pub(crate) fn enclosing<'c, 'a>(
    op: OperationRef<'c, 'a>,
    name: &str,
) -> Option<OperationRef<'c, 'a>> {
    let mut current = op.parent_operation();
    while let Some(parent) = current {
        if op_name(parent) == name {
            return Some(parent);
        }
        current = parent.parent_operation();
    }
    None
}

/// The type of `value` as MLIR prints it.
pub(crate) fn type_text(value: Value) -> String {
    value.r#type().to_string()
}
