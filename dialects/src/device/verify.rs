//! Rules of the `device` dialect that IRDL cannot state.

use super::Device;
use crate::verify::{attr, float, int, Check};
use melior::ir::{
    operation::{OperationLike, OperationRef},
    r#type::DimSize,
    r#type::MemRefType,
    ShapedTypeLike, ValueLike,
};

pub(crate) fn check(name: &str, op: OperationRef) -> Check {
    match name {
        "resources" => {
            check_device(op, "device")?;
            let vcus = float(op, "vcus")?;
            if !(vcus > 0.0 && vcus.is_finite()) {
                return Err(format!("requires 'vcus' to be positive, got {vcus}"));
            }
            check_non_negative(op, "memory")
        }
        "alloc" => {
            check_device(op, "device")?;
            let buffer = op.result(0).map_err(|e| e.to_string())?;
            let memref = MemRefType::try_from(buffer.r#type())
                .map_err(|_| "requires a memref result".to_string())?;
            let dynamic = (0..memref.rank())
                .filter(|&d| !matches!(memref.dim_size(d), Ok(DimSize::Static(_))))
                .count();
            if dynamic != op.operand_count() {
                return Err(format!(
                    "requires one size operand per dynamic dimension: {} dynamic, {} given",
                    dynamic,
                    op.operand_count()
                ));
            }
            Ok(())
        }
        "free" => check_device(op, "device"),
        "copy" => {
            check_device(op, "from")?;
            check_device(op, "to")?;
            let source = op.operand(0).map_err(|e| e.to_string())?.r#type();
            let target = op.operand(1).map_err(|e| e.to_string())?.r#type();
            let (Ok(s), Ok(t)) = (MemRefType::try_from(source), MemRefType::try_from(target))
            else {
                return Err("requires memref operands".into());
            };
            if s.element() != t.element() {
                return Err(format!(
                    "requires source and target of one element type, got {} and {}",
                    s.element(),
                    t.element()
                ));
            }
            let shape = |m: &MemRefType| -> Vec<i64> {
                (0..m.rank())
                    .map(|d| match m.dim_size(d) {
                        Ok(DimSize::Static(size)) => size as i64,
                        _ => -1,
                    })
                    .collect()
            };
            let (ss, ts) = (shape(&s), shape(&t));
            let compatible =
                ss.len() == ts.len() && ss.iter().zip(&ts).all(|(a, b)| *a < 0 || *b < 0 || a == b);
            if !compatible {
                return Err(format!(
                    "requires source and target of one shape, got {source} and {target}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks that attribute `name` is a device attribute (IRDL checks its
/// kind; this checks the GPU ordinal).
pub(crate) fn check_device(op: OperationRef, name: &str) -> Check {
    let Some(a) = attr(op, name) else {
        return Err(format!("requires attribute '{name}'"));
    };
    Device::from_attribute(a).map(|_| ()).ok_or_else(|| {
        format!("attribute '{name}' must name a device (GPU ordinals are 0 or more), got {a}")
    })
}

pub(crate) fn check_non_negative(op: OperationRef, name: &str) -> Check {
    let value = int(op, name)?;
    if value < 0 {
        return Err(format!("requires '{name}' to be non-negative, got {value}"));
    }
    Ok(())
}
