//! The array parameters of an entry function in IR text (`compile_string`):
//! what each array passed to it must be. JIT functions are specialised on
//! their arguments and need no such check; code text was specialised on
//! someone else's, so a call with another shape, dtype, layout or number of
//! arrays would read and write outside them.

use crate::{frontend::ArrayInfo, kernel::KernelError};
use melior::ir::{
    attribute::{ArrayAttribute, TypeAttribute},
    block::BlockLike,
    operation::{OperationLike, WalkOrder, WalkResult},
    r#type::MemRefType,
    Attribute, AttributeLike, Module, OperationRef, RegionLike, ShapedTypeLike, Type, Value,
    ValueLike,
};

/// The memref type of one parameter of the entry function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayParameter {
    /// The type as written, for messages.
    pub text: String,
    /// The element type (`f32`, `i8`, ...): the storage type of a dtype.
    /// None at the `llvm` stage, whose pointers have no element type.
    pub element: Option<String>,
    /// Each dimension's size; None where dynamic (`?`) or unknown.
    pub shape: Vec<Option<i64>>,
    /// Each dimension's stride in elements; None where dynamic. A memref
    /// without a layout has the row-major strides of its shape.
    pub strides: Vec<Option<i64>>,
    /// The static offset in elements, None where dynamic. Arrays are passed
    /// from their first element, so only 0 and a dynamic offset fit.
    pub offset: Option<i64>,
}

/// The array parameters of function `entry` in `module`, in order. Arrays
/// are the only arguments code text takes (scalars were specialised into
/// it): a `func.func` takes memrefs, an `llvm.func` (the `llvm` stage)
/// their descriptors, each a run of two pointers, an offset, and a size and
/// a stride per dimension.
pub fn array_parameters(module: &Module, entry: &str) -> Result<Vec<ArrayParameter>, KernelError> {
    let (function, lowered) = entry_function(module, entry)?;
    let block = function
        .region(0)
        .ok()
        .and_then(|r| r.first_block())
        .ok_or_else(|| KernelError::BadEntry(format!("@{entry} has no body")))?;
    let types: Vec<Type> = (0..block.argument_count())
        .filter_map(|i| block.argument(i).ok().map(|a| a.r#type()))
        .collect();
    if lowered {
        let found = descriptors(entry, &types)?;
        return Ok(recorded_types(function)
            .filter(|recorded| {
                recorded.len() == found.len()
                    && recorded
                        .iter()
                        .zip(&found)
                        .all(|(r, f)| r.shape.len() == f.shape.len())
            })
            .unwrap_or(found));
    }
    types
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let memref = MemRefType::try_from(*input).map_err(|_| {
                KernelError::BadEntry(format!(
                    "parameter {index} of @{entry} has type {input}: compile_string runs functions \
                     whose parameters are all memrefs (the arrays, in order; scalars are constants \
                     in the code)"
                ))
            })?;
            Ok(parameter(&memref))
        })
        .collect()
}

/// The attribute in which the entry function keeps its parameters' memref
/// types through the lowering to LLVM, whose descriptors lose all but
/// their ranks.
const ARRAY_TYPES: &str = "parla.array_types";

/// Records the memref types of `entry`'s parameters on it (before the
/// lowering to LLVM), so that calls of the `llvm` stage's text are checked
/// as fully as the other stages'.
pub fn record_array_types(module: &Module, entry: &str) {
    let Ok((function, false)) = entry_function(module, entry) else {
        return;
    };
    let Some(block) = function.region(0).ok().and_then(|r| r.first_block()) else {
        return;
    };
    let types: Vec<Attribute> = (0..block.argument_count())
        .filter_map(|i| block.argument(i).ok())
        .map(|a| TypeAttribute::new(a.r#type()).into())
        .collect();
    let context = function.context();
    // SAFETY: the module's context, alive while the module is.
    let context = unsafe { context.to_ref() };
    let array = ArrayAttribute::new(context, &types);
    let name = std::ffi::CString::new(ARRAY_TYPES).expect("no NUL");
    // SAFETY: a live op of the module; the attribute is of its context.
    unsafe {
        mlir_sys::mlirOperationSetDiscardableAttributeByName(
            function.to_raw(),
            mlir_sys::mlirStringRefCreateFromCString(name.as_ptr()),
            array.to_raw(),
        )
    };
}

/// The parameters [`record_array_types`] kept on `function`, when it has
/// them and they are all memrefs (edited text may have dropped or changed
/// them: then only the descriptors count).
fn recorded_types(function: OperationRef) -> Option<Vec<ArrayParameter>> {
    let array = ArrayAttribute::try_from(function.attribute(ARRAY_TYPES).ok()?).ok()?;
    (0..array.len())
        .map(|i| {
            let ty = TypeAttribute::try_from(array.element(i).ok()?)
                .ok()?
                .value();
            MemRefType::try_from(ty).ok().map(|m| parameter(&m))
        })
        .collect()
}

/// The arrays of an `llvm.func` that takes memref descriptors: their ranks
/// are known, not their element types or sizes.
fn descriptors(entry: &str, types: &[Type]) -> Result<Vec<ArrayParameter>, KernelError> {
    let texts: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let mut parameters = Vec::new();
    let mut at = 0;
    while at < texts.len() {
        let integers = texts[at..]
            .iter()
            .skip(2)
            .take_while(|t| *t == "i64")
            .count();
        let pointers = texts[at..].iter().take(2).all(|t| t == "!llvm.ptr");
        if !pointers || texts.len() - at < 3 || integers % 2 == 0 {
            return Err(KernelError::BadEntry(format!(
                "the parameters of @{entry} from {at} on ({}) are not a memref descriptor (two \
                 !llvm.ptr, an i64 offset, and an i64 size and stride per dimension): \
                 compile_string runs functions whose parameters are all arrays",
                texts[at..].join(", ")
            )));
        }
        let rank = integers / 2;
        parameters.push(ArrayParameter {
            text: format!("a memref descriptor of rank {rank}"),
            element: None,
            shape: vec![None; rank],
            strides: vec![None; rank],
            offset: None,
        });
        at += 2 + integers;
    }
    Ok(parameters)
}

/// The function `entry`, and whether it is an `llvm.func`. Under its
/// reserved name too: edited `llvm`-stage text, lowered after the rename.
fn entry_function<'c, 'a>(
    module: &'a Module<'c>,
    entry: &str,
) -> Result<(OperationRef<'c, 'a>, bool), KernelError> {
    // The reserved name first: lowered text may also declare a C routine
    // of the entry's own name (`erf`, which its code calls).
    let reserved = crate::symbols::reserved_entry_name(entry);
    for wanted in [reserved.as_str(), entry] {
        for op in crate::passes::rewrite::named_in(module.body(), wanted) {
            match op.name().as_string_ref().as_str() {
                Ok("func.func") => return Ok((op, false)),
                Ok("llvm.func") => return Ok((op, true)),
                _ => {}
            }
        }
    }
    Err(KernelError::BadEntry(format!(
        "the code has no function @{entry} (the name given to compile_string)"
    )))
}

fn parameter(memref: &MemRefType) -> ArrayParameter {
    let known = |value: i64| (!MemRefType::is_dynamic_stride_or_offset(value)).then_some(value);
    let shape = (0..memref.rank())
        .map(|d| match memref.dim_size(d) {
            Ok(melior::ir::r#type::DimSize::Static(size)) => i64::try_from(size).ok(),
            _ => None,
        })
        .collect();
    let (strides, offset) = memref.strides_and_offset();
    ArrayParameter {
        text: memref.to_string(),
        element: Some(memref.element().to_string()),
        shape,
        strides: strides.into_iter().map(known).collect(),
        offset: known(offset),
    }
}

impl ArrayParameter {
    /// Why an array of `info` cannot be passed here, or None if it can.
    /// Unit dimensions' strides are not compared: no index reads them.
    pub fn mismatch(&self, info: &ArrayInfo) -> Option<String> {
        let array = || {
            let name = info.dtype.name();
            let article = if name.starts_with('i') { "an" } else { "a" };
            format!(
                "{article} {name} array of shape {}",
                shape_text(&info.shape)
            )
        };
        if let Some(element) = self.element.as_ref().filter(|e| *e != info.dtype.storage()) {
            return Some(format!(
                "{} has {} elements, not {element}",
                array(),
                info.dtype.storage(),
            ));
        }
        if info.shape.len() != self.shape.len() {
            return Some(format!(
                "{} has {} dimension(s), not {}",
                array(),
                info.shape.len(),
                self.shape.len()
            ));
        }
        for (d, (size, expected)) in info.shape.iter().zip(&self.shape).enumerate() {
            if let Some(expected) = expected.filter(|e| e != size) {
                return Some(format!(
                    "{} has size {size} in dimension {d}, not {expected}",
                    array()
                ));
            }
        }
        for (d, (stride, expected)) in info.strides.iter().zip(&self.strides).enumerate() {
            if let Some(expected) = expected.filter(|e| info.shape[d] > 1 && e != stride) {
                return Some(format!(
                    "{} has stride {stride} (elements) in dimension {d}, not {expected}",
                    array()
                ));
            }
        }
        if self.offset.is_some_and(|o| o != 0) {
            return Some(format!(
                "the parameter's static offset is not 0, and arrays are passed from their first element ({})",
                array()
            ));
        }
        None
    }
}

fn shape_text(shape: &[i64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Checks a call's arrays against the entry's parameters: a ValueError's
/// message when they do not fit.
pub fn check_call<'a>(
    entry: &str,
    parameters: &[ArrayParameter],
    arrays: impl ExactSizeIterator<Item = &'a ArrayInfo>,
) -> Result<(), String> {
    if arrays.len() != parameters.len() {
        return Err(format!(
            "@{entry} takes {} array(s) (its memref parameters), but the call passes {}",
            parameters.len(),
            arrays.len()
        ));
    }
    for (index, (info, parameter)) in arrays.zip(parameters).enumerate() {
        if let Some(why) = parameter.mismatch(info) {
            return Err(format!(
                "array argument {index} does not fit @{entry}'s parameter {index} ({}): {why}",
                parameter.text
            ));
        }
    }
    Ok(())
}

/// For each array parameter of function `entry`, whether the function may
/// write it: stores and atomic updates into it, slice statements assigning
/// to it, and (conservatively) calls and views that pass it on. At the
/// `llvm` stage stores go through pointers taken apart from the memref
/// descriptors, which this does not follow: every array counts as
/// written. A function that cannot be found writes nothing it is known to.
pub fn written_parameters(module: &Module, entry: &str) -> Vec<bool> {
    let Some((function, lowered, parameters)) = entry_parameters(module, entry) else {
        return Vec::new();
    };
    if lowered {
        let types: Vec<Type> = parameters.iter().map(|p| p.r#type()).collect();
        return descriptors(entry, &types).map_or(Vec::new(), |arrays| vec![true; arrays.len()]);
    }
    let mut written = vec![false; parameters.len()];
    function.walk(WalkOrder::PreOrder, |op| {
        for target in written_operands(&op) {
            if let Some(index) = crate::passes::rewrite::memref_root(target)
                .and_then(|root| parameters.iter().position(|p| *p == root))
            {
                written[index] = true;
            }
        }
        WalkResult::Advance
    });
    written
}

/// The pairs of `entry`'s parameters (by index, the smaller first) that
/// reach one kernel launch (`gpu.launch_func`), directly or through views:
/// the kernel may have been compiled for distinct memory behind them. Every
/// pair where the entry is already lowered (its launches cannot be told).
pub fn launched_together(module: &Module, entry: &str) -> Vec<(usize, usize)> {
    let Some((function, lowered, parameters)) = entry_parameters(module, entry) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    if lowered {
        for i in 0..parameters.len() {
            pairs.extend((i + 1..parameters.len()).map(|j| (i, j)));
        }
        return pairs;
    }
    function.walk(WalkOrder::PreOrder, |op| {
        if op.name().as_string_ref().as_str() == Ok("gpu.launch_func") {
            let mut reached: Vec<usize> = op
                .operands()
                .filter_map(|operand| {
                    crate::passes::rewrite::memref_root(operand)
                        .and_then(|root| parameters.iter().position(|p| *p == root))
                })
                .collect();
            reached.sort_unstable();
            reached.dedup();
            for (n, &i) in reached.iter().enumerate() {
                for &j in &reached[n + 1..] {
                    if !pairs.contains(&(i, j)) {
                        pairs.push((i, j));
                    }
                }
            }
        }
        WalkResult::Advance
    });
    pairs
}

/// The entry function, whether it is lowered (`llvm.func`), and its
/// parameters; None when it cannot be found or has no body.
#[allow(clippy::type_complexity)]
fn entry_parameters<'c, 'a>(
    module: &'a Module<'c>,
    entry: &str,
) -> Option<(OperationRef<'c, 'a>, bool, Vec<Value<'c, 'a>>)> {
    let (function, lowered) = entry_function(module, entry).ok()?;
    let block = function.region(0).ok()?.first_block()?;
    let parameters = (0..block.argument_count())
        .filter_map(|i| block.argument(i).ok().map(Value::from))
        .collect();
    Some((function, lowered, parameters))
}

/// The memref (or view) operands `op` writes through.
fn written_operands<'c, 'a>(op: &OperationRef<'c, 'a>) -> Vec<Value<'c, 'a>> {
    let operand = |i| op.operand(i).ok();
    match op.name().as_string_ref().as_str().unwrap_or("") {
        "memref.store" | "memref.atomic_rmw" => operand(1).into_iter().collect(),
        "memref.generic_atomic_rmw" | "looppar.assign" | "memref.copy" => {
            // memref.copy writes its second operand; the others their first.
            let index = usize::from(op.name().as_string_ref().as_str() == Ok("memref.copy"));
            operand(index).into_iter().collect()
        }
        "func.call" | "gpu.launch_func" | "llvm.call" => op.operands().collect(),
        _ => Vec::new(),
    }
}
