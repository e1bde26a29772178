//! Rules of the `looppar` dialect that IRDL cannot state.

use super::view_parts;
use crate::verify::{
    constant_int, enclosing, ends_with, flag, i64_array, op_name, opt_int, opt_string,
    opt_string_array, string, takes_no_arguments, terminator, type_text, Check,
};
use melior::ir::{
    operation::{OperationLike, OperationRef},
    r#type::{DimSize, MemRefType, TypeLike},
    BlockLike, RegionLike, ShapedTypeLike, Type, Value, ValueLike,
};

pub(crate) fn check(name: &str, op: OperationRef) -> Check {
    match name {
        "for" => check_for(op),
        "while" => {
            takes_no_arguments(op, 0, "before")?;
            takes_no_arguments(op, 1, "after")?;
            ends_with(op, 0, "before", "looppar.condition", 1)?;
            ends_with(op, 1, "after", "looppar.yield", 0)
        }
        "condition" => {
            let parent = op
                .parent_operation()
                .ok_or("must end a 'looppar.while' region")?;
            let in_before = parent
                .region(0)
                .ok()
                .and_then(|r| r.first_block())
                .and_then(|b| b.terminator())
                .is_some_and(|t| t == op);
            if op_name(parent) != "looppar.while" || !in_before {
                return Err("must end the 'before' region of a 'looppar.while'".into());
            }
            Ok(())
        }
        "parallelize" => check_parallelize(op),
        "slice" => check_slice(op),
        "map" => check_map(op),
        "element" => check_element(op),
        "reduce" => check_reduce(op),
        "assign" => check_assign(op),
        "on_device" => {
            if enclosing(op, "looppar.on_device").is_some() {
                return Err("cannot be nested in another 'looppar.on_device'".into());
            }
            takes_no_arguments(op, 0, "body")?;
            ends_with(op, 0, "body", "looppar.yield", 0)
        }
        "yield" => {
            let parent = op.parent_operation().ok_or("must be inside a looppar op")?;
            match op_name(parent).as_str() {
                "looppar.for" | "looppar.while" | "looppar.map" | "looppar.on_device" => Ok(()),
                other => Err(format!(
                    "must end the region of 'looppar.for', 'looppar.while', 'looppar.map' or 'looppar.on_device', not '{other}'"
                )),
            }
        }
        _ => Ok(()),
    }
}

fn check_label(label: Option<&str>) -> Check {
    if label == Some("") {
        return Err("requires a non-empty 'label'".into());
    }
    Ok(())
}

/// `threads`, `tpb`, `reduce` as on a loop after the specification has been
/// applied, or on `looppar.parallelize`.
fn check_parallel_attributes(op: OperationRef) -> Check {
    let threads = opt_int(op, "threads")?;
    if let Some(threads) = threads {
        if threads <= 0 {
            return Err(format!("requires 'threads' to be positive, got {threads}"));
        }
    }
    if let Some(tpb) = opt_int(op, "tpb")? {
        if threads.is_none() {
            return Err("has 'tpb' without 'threads'".into());
        }
        if !(1..=1024).contains(&tpb) || tpb % 32 != 0 {
            return Err(format!(
                "requires 'tpb' to be a multiple of 32 between 32 and 1024, got {tpb}"
            ));
        }
    }
    if flag(op, "reduce")? && threads.is_none() {
        return Err("has 'reduce' without 'threads'".into());
    }
    Ok(())
}

fn check_for(op: OperationRef) -> Check {
    check_label(opt_string(op, "label")?.as_deref())?;
    if op.has_attribute("seq") {
        return Err(
            "has 'seq', which only 'looppar.parallelize' takes: a sequential loop has no 'threads'"
                .into(),
        );
    }
    let one_of = |name: &str, values: &[&str]| -> Check {
        match opt_string(op, name)? {
            Some(value) if !values.contains(&value.as_str()) => Err(format!(
                "requires '{name}' to be one of {}, got \"{value}\"",
                values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => Ok(()),
        }
    };
    one_of(
        "reduction",
        &["add", "mul", "min", "max", "and", "or", "xor"],
    )?;
    one_of("kernels", &["fused", "split"])?;
    // The lowerings count upwards (`scf.for`, GPU index arithmetic): a
    // negative step would silently run no iteration.
    if let Some(step) = constant_int(op.operand(2).map_err(|e| e.to_string())?) {
        if step <= 0 {
            return Err(format!("requires a positive step, got {step}"));
        }
    }
    check_parallel_attributes(op)?;
    ends_with(op, 0, "body", "looppar.yield", 0)
}

fn check_parallelize(op: OperationRef) -> Check {
    let label = string(op, "label")?;
    check_label(Some(&label))?;
    let threads = opt_int(op, "threads")?.is_some();
    let seq = flag(op, "seq")?;
    if threads == seq {
        return Err(format!(
            "requires exactly one of 'threads' and 'seq' for label '{label}'"
        ));
    }
    check_parallel_attributes(op)?;
    // One specification per label in a block: report the later one.
    let mut current = op.block().and_then(|block| block.first_operation());
    while let Some(other) = current {
        if other == op {
            break;
        }
        if op_name(other) == "looppar.parallelize"
            && opt_string(other, "label")?.as_deref() == Some(label.as_str())
        {
            return Err(format!("specifies label '{label}' a second time"));
        }
        current = other.next_in_block();
    }
    Ok(())
}

/// The element type and rank of a value's type: a view, or a scalar
/// (rank 0).
fn shape_of(r#type: Type) -> (String, usize) {
    view_parts(r#type).unwrap_or_else(|| (r#type.to_string(), 0))
}

fn check_slice(op: OperationRef) -> Check {
    let source = op.operand(0).map_err(|e| e.to_string())?;
    let memref = MemRefType::try_from(source.r#type())
        .map_err(|_| format!("requires a memref source, got {}", type_text(source)))?;
    let kinds = i64_array(op, "kinds")?;
    if kinds.len() != memref.rank() {
        return Err(format!(
            "requires one entry in 'kinds' per dimension of the source: rank {}, {} given",
            memref.rank(),
            kinds.len()
        ));
    }
    let mut indices = 0;
    let mut rank = 0;
    for kind in &kinds {
        match kind {
            0 => indices += 1,
            1 => rank += 1,
            2 => {
                indices += 2;
                rank += 1
            }
            other => {
                return Err(format!(
                "has 'kinds' entry {other}; expected 0 (point), 1 (whole dimension) or 2 (range)"
            ))
            }
        }
    }
    if op.operand_count() - 1 != indices {
        return Err(format!(
            "requires {indices} index operand(s) for 'kinds' {kinds:?}, got {}",
            op.operand_count() - 1
        ));
    }
    let result = op.result(0).map_err(|e| e.to_string())?.r#type();
    let expected = (memref.element().to_string(), rank);
    match view_parts(result) {
        Some(parts) if parts == expected => Ok(()),
        _ => Err(format!(
            "requires result type !looppar.view<{}, {} : i64>, got {result}",
            expected.0, expected.1
        )),
    }
}

fn check_map(op: OperationRef) -> Check {
    let result = op.result(0).map_err(|e| e.to_string())?.r#type();
    let (element, rank) = shape_of(result);
    let region = op.region(0).map_err(|e| e.to_string())?;
    let block = region.first_block().ok_or("requires a body block")?;
    if block.argument_count() != rank {
        return Err(format!(
            "requires one index argument per dimension of the result: rank {rank}, {} argument(s)",
            block.argument_count()
        ));
    }
    for index in 0..rank {
        let argument = block.argument(index).map_err(|e| e.to_string())?.r#type();
        if !argument.is_index() {
            return Err(format!(
                "requires index body arguments, got {argument} for #{index}"
            ));
        }
    }
    ends_with(op, 0, "body", "looppar.yield", 1)?;
    let last = terminator(op, 0).ok_or("requires a body terminator")?;
    let yielded = last
        .operand(0)
        .map_err(|_| "requires its body to yield one element".to_string())?
        .r#type()
        .to_string();
    if yielded != element {
        return Err(format!(
            "yields elements of type {yielded} for a result of element type {element}"
        ));
    }
    Ok(())
}

fn check_element(op: OperationRef) -> Check {
    let view = op.operand(0).map_err(|e| e.to_string())?.r#type();
    let (element, rank) = shape_of(view);
    let indices = op.operand_count() - 1;
    if indices != rank {
        return Err(format!(
            "requires one index per ranging dimension of the view: rank {rank}, {indices} given"
        ));
    }
    let result = op
        .result(0)
        .map_err(|e| e.to_string())?
        .r#type()
        .to_string();
    if result != element {
        return Err(format!("requires result type {element}, got {result}"));
    }
    Ok(())
}

fn check_reduce(op: OperationRef) -> Check {
    let input_value = op.operand(0).map_err(|e| e.to_string())?;
    let input = input_value.r#type();
    let (element, rank) = shape_of(input);
    let from_map =
        crate::values::op_result(input_value).is_some_and(|r| op_name(r.owner()) == "looppar.map");
    match op.operand(1) {
        Ok(shape) => {
            let (_, shape_rank) = shape_of(shape.r#type());
            if shape_rank != rank {
                return Err(format!(
                    "requires a 'shape' of the input's rank {rank}, got rank {shape_rank}"
                ));
            }
        }
        Err(_) if from_map => {
            return Err(
                "requires a 'shape' operand for an input from 'looppar.map' (a map has no extents of its own)"
                    .into(),
            )
        }
        Err(_) => {}
    }
    let result = op.result(0).map_err(|e| e.to_string())?.r#type();
    let expected_rank = match opt_int(op, "axis")? {
        Some(axis) if axis < 0 || axis as usize >= rank => {
            return Err(format!("requires 'axis' in [0, {rank}), got {axis}"))
        }
        Some(_) => rank - 1,
        None => 0,
    };
    let expected = (element, expected_rank);
    if shape_of(result) != expected {
        let expected_text = if expected.1 == 0 {
            expected.0
        } else {
            format!("!looppar.view<{}, {} : i64>", expected.0, expected.1)
        };
        return Err(format!(
            "requires result type {expected_text}, got {result}"
        ));
    }
    // One label per reduced dimension at most: `axis` reduces one.
    let reduced = if opt_int(op, "axis")?.is_some() {
        1
    } else {
        rank
    };
    check_labels(op, reduced, "reduced")
}

/// An optional `labels` array: at most `count` non-empty labels.
fn check_labels(op: OperationRef, count: usize, what: &str) -> Check {
    if let Some(labels) = opt_string_array(op, "labels")? {
        if labels.len() > count {
            return Err(format!(
                "has {} label(s) for {count} {what} dimension(s)",
                labels.len()
            ));
        }
        if labels.iter().any(String::is_empty) {
            return Err("requires non-empty labels".into());
        }
    }
    Ok(())
}

/// The extents of a view's ranging dimensions, each `Some` where the IR
/// states it (a static memref dimension, a range between constants);
/// `None` for a view whose extents are not visible (a map, an argument).
fn static_extents(view: Value) -> Option<Vec<Option<i64>>> {
    let owner = crate::values::op_result(view)?.owner();
    match op_name(owner).as_str() {
        "looppar.slice" => {
            let memref = MemRefType::try_from(owner.operand(0).ok()?.r#type()).ok()?;
            let mut next = 1;
            let mut extents = Vec::new();
            for (d, kind) in i64_array(owner, "kinds").ok()?.into_iter().enumerate() {
                match kind {
                    0 => next += 1,
                    1 => extents.push(match memref.dim_size(d).ok()? {
                        DimSize::Static(size) => i64::try_from(size).ok(),
                        DimSize::Dynamic => None,
                    }),
                    _ => {
                        let lower = constant_int(owner.operand(next).ok()?);
                        let upper = constant_int(owner.operand(next + 1).ok()?);
                        next += 2;
                        extents.push(lower.zip(upper).and_then(|(l, u)| u.checked_sub(l)));
                    }
                }
            }
            Some(extents)
        }
        // `axis` drops one dimension of the input; a full reduction is a
        // scalar, which broadcasts.
        "looppar.reduce" => {
            let axis = usize::try_from(opt_int(owner, "axis").ok()??).ok()?;
            let extents_of = owner.operand(1).or_else(|_| owner.operand(0)).ok()?;
            let mut extents = static_extents(extents_of)?;
            (axis < extents.len()).then(|| extents.remove(axis))?;
            Some(extents)
        }
        _ => None,
    }
}

/// A view stored into a destination must have its extents: the lowering
/// loops over the destination and reads the value at the same points.
/// (The front end checks extents it cannot see here at run time.)
fn check_same_extents(op: OperationRef) -> Check {
    let dest = op.operand(0).map_err(|e| e.to_string())?;
    let value = op.operand(1).map_err(|e| e.to_string())?;
    let (Some(dest), Some(value)) = (static_extents(dest), static_extents(value)) else {
        return Ok(());
    };
    for (d, (want, got)) in dest.iter().zip(&value).enumerate() {
        if let (Some(want), Some(got)) = (want, got) {
            if want != got {
                return Err(format!(
                    "requires a value with the destination's extents: {got} element(s) for {want} in ranging dimension {d}"
                ));
            }
        }
    }
    Ok(())
}

fn check_assign(op: OperationRef) -> Check {
    let dest = op.operand(0).map_err(|e| e.to_string())?.r#type();
    let value = op.operand(1).map_err(|e| e.to_string())?.r#type();
    let (dest_element, dest_rank) = shape_of(dest);
    let (value_element, value_rank) = shape_of(value);
    if dest_element != value_element {
        return Err(format!(
            "requires a value of element type {dest_element}, got {value_element}"
        ));
    }
    if value_rank != 0 && value_rank != dest_rank {
        return Err(format!(
            "requires a value of rank {dest_rank} (or a scalar), got rank {value_rank}"
        ));
    }
    check_labels(op, dest_rank, "ranging")?;
    if value_rank != 0 {
        check_same_extents(op)?;
    }
    if flag(op, "accumulate")? {
        // `dest op= reduction`: the reduction continues from the
        // destination's value.
        let value = op.operand(1).map_err(|e| e.to_string())?;
        let from_reduce =
            crate::values::op_result(value).is_some_and(|r| op_name(r.owner()) == "looppar.reduce");
        if !from_reduce {
            return Err("has 'accumulate', which requires a value from a 'looppar.reduce'".into());
        }
    }
    Ok(())
}
