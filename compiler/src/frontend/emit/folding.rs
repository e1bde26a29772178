//! Folding of arithmetic on values known when compiling (literals and
//! specialised scalar arguments), with the semantics of the code it
//! stands for.

use super::*;

/// The outcome of folding `a op b` on values known when compiling.
pub(super) enum Folded {
    /// The value, and its type.
    Value(Literal, Ty),
    /// Not folded: the op is emitted, and computes it as the code would.
    No,
    /// Python ints whose exact result does not fit 64 bits.
    TooBig,
}

/// Folds `l op r` when both are known, with the semantics the emitted code
/// has: Python's for Python scalars (exact integers, the result then
/// fitting 64 bits), NumPy's for typed scalars (integers wrap to their
/// dtype, float32 rounds every result). Division by zero, integer powers
/// with negative exponents and bool arithmetic are left to the emitted
/// code and its checks.
pub(super) fn fold(op: BinaryOp, l: &Value, r: &Value) -> Folded {
    use BinaryOp::*;
    let (Some(a), Some(b)) = (l.literal, r.literal) else {
        return Folded::No;
    };
    // Bool arithmetic is left to `boolean_arithmetic`, but for Python
    // bools' integer arithmetic (`True + True` is 2).
    let python_bools = l.ty == Ty::WeakBool && r.ty == Ty::WeakBool;
    if l.ty.is_bool() && r.ty.is_bool() && (!python_bools || matches!(op, BitAnd | BitOr | BitXor))
    {
        return Folded::No;
    }
    let weak = |t: Ty| matches!(t, Ty::WeakInt | Ty::WeakFloat);
    let ty = promote(l.ty, r.ty);
    if let (Literal::Int(x), Literal::Int(y), false) = (a, b, ty.is_float()) {
        let typed = !weak(ty);
        // A Python int that the typed side's dtype cannot hold is an
        // OverflowError, reported where the op converts it.
        if typed
            && [(l, x), (r, y)]
                .iter()
                .any(|(v, i)| v.ty == Ty::WeakInt && !ty.dtype().holds(*i))
        {
            return Folded::No;
        }
        let (x, y) = (exact_integer(x, l.ty), exact_integer(y, r.ty));
        let exact = match op {
            Add => x + y,
            Sub => x - y,
            Mul => x.wrapping_mul(y),
            FloorDiv if y != 0 => floor_div(x, y),
            Mod if y != 0 => x - floor_div(x, y) * y,
            Pow if y >= 0 => match u32::try_from(y) {
                Ok(e) if typed => x.wrapping_pow(e),
                Ok(e) => match x.checked_pow(e) {
                    Some(p) => p,
                    None => return Folded::TooBig,
                },
                Err(_) => return Folded::No,
            },
            // Python: an int to a negative power is a float.
            Pow if !typed && x != 0 => {
                return Folded::Value(Literal::Float((x as f64).powf(y as f64)), Ty::WeakFloat)
            }
            Div if y != 0 => {
                let ty = if typed {
                    Ty::Num(DType::F64)
                } else {
                    Ty::WeakFloat
                };
                return Folded::Value(Literal::Float(x as f64 / y as f64), ty);
            }
            _ => return Folded::No,
        };
        if typed {
            return Folded::Value(Literal::Int(wrap_to(exact, ty.dtype())), ty);
        }
        return match i64::try_from(exact) {
            Ok(v) => Folded::Value(Literal::Int(v), ty),
            Err(_) => Folded::TooBig,
        };
    }
    let ty = match (op, ty.is_float()) {
        (_, true) => ty,
        (Div, false) if weak(ty) => Ty::WeakFloat,
        (Div, false) => Ty::Num(DType::F64),
        _ => return Folded::No,
    };
    let float = |literal: Literal, t: Ty| match literal {
        Literal::Int(i) => exact_integer(i, t) as f64,
        Literal::Float(f) => f,
    };
    let (x, y) = (float(a, l.ty), float(b, r.ty));
    let value = match op {
        Add => x + y,
        Sub => x - y,
        Mul => x * y,
        Div => x / y,
        // A negative base to a fractional power is complex in Python.
        Pow if x >= 0.0 || y.fract() == 0.0 => x.powf(y),
        _ => return Folded::No,
    };
    // float32 results round to float32 after every op, as the code does.
    let value = if ty == Ty::Num(DType::F32) {
        value as f32 as f64
    } else {
        value
    };
    Folded::Value(Literal::Float(value), ty)
}

/// Folds the comparison `a op b` of values known when compiling, both
/// already converted to the type `ty` it compares in (as the emitted
/// `arith.cmpf`/`arith.cmpi` would: ordered for floats, so NaN compares
/// unequal to everything).
pub(super) fn fold_compare(op: CompareOp, a: &Value, b: &Value, ty: Ty) -> Option<bool> {
    use std::cmp::Ordering;
    let order = match (a.literal?, b.literal?) {
        (Literal::Float(x), Literal::Float(y)) => x.partial_cmp(&y),
        (Literal::Int(x), Literal::Int(y)) => Some(exact_integer(x, ty).cmp(&exact_integer(y, ty))),
        _ => return None,
    };
    Some(match (op, order) {
        (CompareOp::Ne, None) => true,
        (_, None) => false,
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
    })
}

/// The exact value of an integer literal of type `ty` (uint64 values above
/// 2**63 are kept in an i64's bits).
pub(super) fn exact_integer(value: i64, ty: Ty) -> i128 {
    match ty {
        Ty::Num(DType::U64) => i128::from(value as u64),
        _ => i128::from(value),
    }
}

/// Python's floor division (`y != 0`).
fn floor_div(x: i128, y: i128) -> i128 {
    let q = x / y;
    if x % y != 0 && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    }
}

/// `value` wrapped to the width of integer `dtype`, as its literal is kept
/// (sign-extended, or for unsigned dtypes zero-extended, in an i64).
pub(super) fn wrap_to(value: i128, dtype: DType) -> i64 {
    let bits = dtype.bits() as u32;
    let low = value & ((1i128 << bits) - 1);
    if dtype.is_unsigned() || low < (1i128 << (bits - 1)) {
        low as u64 as i64
    } else {
        (low - (1i128 << bits)) as i64
    }
}

/// `f` converted to integer `to` as `Emitter::float_to_integer`'s code
/// does on the CPU: C's truncating conversion to int32 or int64 (NaN and
/// values out of its range give its minimum), wrapped into `to`; uint64
/// converts values from 2**63 up as unsigned (0 from 2**64 up).
pub(super) fn float_to_integer_value(f: f64, to: DType) -> i64 {
    let convert = |bits: u32| -> i128 {
        let limit = (1i128 << (bits - 1)) as f64;
        if f.is_nan() || f.trunc() < -limit || f.trunc() >= limit {
            -(1i128 << (bits - 1))
        } else {
            f.trunc() as i128
        }
    };
    let two_63 = 9_223_372_036_854_775_808.0;
    let value = match to {
        DType::U64 if f >= two_63 => {
            if f - two_63 < two_63 {
                (f.trunc() as u64) as i128
            } else {
                0
            }
        }
        DType::I64 | DType::U64 | DType::U32 => convert(64),
        _ => convert(32),
    };
    wrap_to(value, to)
}
