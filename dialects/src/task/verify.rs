//! Rules of the `task` dialect that IRDL cannot state.

use crate::device::{verify::check_non_negative, Device};
use crate::verify::{
    attr, enclosing, ends_with, flag, float, op_name, string, takes_no_arguments, Check,
};
use melior::ir::{
    attribute::ArrayAttribute,
    operation::{OperationLike, OperationRef},
    ValueLike,
};

pub(crate) fn check(name: &str, op: OperationRef) -> Check {
    match name {
        "graph" => {
            if enclosing(op, "task.graph").is_some() {
                return Err("cannot be nested in another 'task.graph'".into());
            }
            takes_no_arguments(op, 0, "body")?;
            ends_with(op, 0, "body", "task.yield", 0)
        }
        "create_space" => {
            if string(op, "name")?.is_empty() {
                return Err("requires a non-empty 'name'".into());
            }
            Ok(())
        }
        "id" => {
            if op.operand_count() < 2 {
                return Err("requires at least one index".into());
            }
            Ok(())
        }
        "slice" => {
            let bounds = op.operand_count() - 1;
            if bounds == 0 || bounds % 2 != 0 {
                return Err(format!(
                    "requires (lower, upper) bound pairs, one per dimension; got {bounds} bound operand(s)"
                ));
            }
            Ok(())
        }
        "spawn" => {
            let placement = attr(op, "placement").ok_or("requires attribute 'placement'")?;
            let devices = ArrayAttribute::try_from(placement)
                .map_err(|_| "attribute 'placement' must be an array".to_string())?;
            if devices.is_empty() {
                return Err("requires at least one device in 'placement'".into());
            }
            for i in 0..devices.len() {
                let device = devices.element(i).map_err(|e| e.to_string())?;
                if Device::from_attribute(device).is_none() {
                    return Err(format!(
                        "'placement' must list devices (#device.cpu, #device.gpu<i>, #device.any_gpu), got {device}"
                    ));
                }
            }
            let vcus = float(op, "vcus")?;
            if !(0.0..=1.0).contains(&vcus) {
                return Err(format!("requires 'vcus' in [0, 1], got {vcus}"));
            }
            check_non_negative(op, "memory")?;
            flag(op, "async")?;
            takes_no_arguments(op, 0, "body")?;
            ends_with(op, 0, "body", "task.yield", 1)?;
            if enclosing(op, "task.graph").is_none() {
                return Err("must be inside a 'task.graph'".into());
            }
            Ok(())
        }
        "await" => {
            if op.operand_count() == 0 {
                return Err("requires at least one task to await".into());
            }
            let spawn =
                enclosing(op, "task.spawn").ok_or("must be inside the body of a 'task.spawn'")?;
            if !flag(spawn, "async")? {
                return Err(
                    "must be inside an async 'task.spawn' (one with the 'async' attribute)".into(),
                );
            }
            if op.result_count() == 1 {
                let tasks = op
                    .operands()
                    .filter(|v| v.r#type().to_string() == "!task.handle")
                    .count();
                if tasks != 1 || op.operand_count() != 1 {
                    return Err("can return a value only when it awaits exactly one task".into());
                }
            }
            Ok(())
        }
        "yield" => {
            let parent = op.parent_operation().ok_or("must be inside a task op")?;
            match op_name(parent).as_str() {
                "task.graph" | "task.spawn" => Ok(()),
                other => Err(format!(
                    "must end the region of 'task.graph' or 'task.spawn', not '{other}'"
                )),
            }
        }
        _ => Ok(()),
    }
}
