//! Element and value types of JIT functions.

/// A NumPy dtype the compiler supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Bool,
}

impl DType {
    /// From NumPy's `dtype.str` without byte order, e.g. `f4`, `i8`, `b1`.
    pub fn from_code(code: &str) -> Option<DType> {
        Some(match code {
            "i1" => DType::I8,
            "i2" => DType::I16,
            "i4" => DType::I32,
            "i8" => DType::I64,
            "u1" => DType::U8,
            "u2" => DType::U16,
            "u4" => DType::U32,
            "u8" => DType::U64,
            "f4" => DType::F32,
            "f8" => DType::F64,
            "b1" => DType::Bool,
            _ => return None,
        })
    }

    /// From a cast's name, e.g. `float32`.
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "int8" => DType::I8,
            "int16" => DType::I16,
            "int32" => DType::I32,
            "int64" => DType::I64,
            "uint8" => DType::U8,
            "uint16" => DType::U16,
            "uint32" => DType::U32,
            "uint64" => DType::U64,
            "float32" => DType::F32,
            "float64" => DType::F64,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::Bool => "bool",
        }
    }

    pub fn bytes(self) -> usize {
        match self {
            DType::I8 | DType::U8 | DType::Bool => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// The MLIR type of array elements (bools are stored as bytes).
    pub fn storage(self) -> &'static str {
        match self {
            DType::I8 | DType::U8 | DType::Bool => "i8",
            DType::I16 | DType::U16 => "i16",
            DType::I32 | DType::U32 => "i32",
            DType::I64 | DType::U64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    /// Whether values of this type order as unsigned integers: unsigned
    /// types, and bools (an `i1` True is -1 as a signed integer).
    pub fn orders_unsigned(self) -> bool {
        self.is_unsigned() || self == DType::Bool
    }

    pub fn bits(self) -> usize {
        self.bytes() * 8
    }

    /// The least and the greatest value of an integer type (of a bool:
    /// 0 and 1); not for float types.
    pub fn integer_range(self) -> (i128, i128) {
        match self {
            DType::Bool => (0, 1),
            unsigned if unsigned.is_unsigned() => (0, (1i128 << unsigned.bits()) - 1),
            signed => {
                let half = 1i128 << (signed.bits() - 1);
                (-half, half - 1)
            }
        }
    }

    /// Whether this integer type holds `value` (float types hold every
    /// int, rounded).
    pub fn holds(self, value: i64) -> bool {
        match self {
            DType::F32 | DType::F64 | DType::Bool => true,
            integer => {
                let (least, most) = integer.integer_range();
                (least..=most).contains(&i128::from(value))
            }
        }
    }
}

/// The type of a value in a JIT function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A number of a dtype (not Bool).
    Num(DType),
    /// A Python int literal or argument: adopts the type of what it meets
    /// (an int64 on its own).
    WeakInt,
    /// A Python float literal or argument: float64 on its own, or the float
    /// type it meets.
    WeakFloat,
    /// A NumPy bool (`np.bool_`): a comparison with a NumPy value, an
    /// element of a bool array. `+` of two is `or`.
    Bool,
    /// A Python bool: `True`, a comparison of Python numbers (loop
    /// variables included), `not`, `bool()`. Between Python numbers it is
    /// the int 0 or 1 (`(i > 0) + (j > 0)` is 2), and where it meets a
    /// NumPy value it is a NumPy bool, as NumPy takes it.
    WeakBool,
    /// A loop variable (MLIR `index`).
    Index,
}

impl Ty {
    pub fn is_float(self) -> bool {
        matches!(self, Ty::WeakFloat) || matches!(self, Ty::Num(d) if d.is_float())
    }

    /// Either kind of bool (both are `i1` values).
    pub fn is_bool(self) -> bool {
        matches!(self, Ty::Bool | Ty::WeakBool)
    }

    /// Whether values of this type are Python's (ints, floats, bools and
    /// loop variables), not NumPy's.
    pub fn is_python(self) -> bool {
        matches!(self, Ty::WeakInt | Ty::WeakFloat | Ty::WeakBool | Ty::Index)
    }

    /// The concrete dtype this type stands for.
    pub fn dtype(self) -> DType {
        match self {
            Ty::Num(d) => d,
            Ty::WeakInt | Ty::Index => DType::I64,
            Ty::WeakFloat => DType::F64,
            Ty::Bool | Ty::WeakBool => DType::Bool,
        }
    }

    /// The MLIR type of values of this type.
    pub fn mlir(self) -> &'static str {
        match self {
            Ty::Bool | Ty::WeakBool => "i1",
            Ty::Index => "index",
            other => other.dtype().storage(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Ty::WeakInt => "int",
            Ty::WeakFloat => "float",
            Ty::Index => "int (loop index)",
            Ty::Bool | Ty::WeakBool => "bool",
            Ty::Num(d) => d.name(),
        }
    }
}

/// The type of `a op b` for arithmetic, NumPy style, with Python scalars
/// (weak types) adopting the other side's type.
pub fn promote(a: Ty, b: Ty) -> Ty {
    use Ty::*;
    // A Python bool is an int among Python numbers, a bool among NumPy's.
    match (a, b) {
        (WeakBool, WeakBool) => return WeakInt,
        (WeakBool, other) | (other, WeakBool) => {
            return promote(if other.is_python() { WeakInt } else { Bool }, other)
        }
        _ => {}
    }
    // bool is NumPy's lowest kind: it adopts any dtype it meets.
    match (a, b) {
        (Bool, Num(d)) | (Num(d), Bool) => return Num(d),
        (Bool, WeakFloat) | (WeakFloat, Bool) => return Num(DType::F64),
        _ => {}
    }
    let strong = |t: Ty| match t {
        Index => Num(DType::I64),
        Bool => Num(DType::I64),
        other => other,
    };
    match (strong(a), strong(b)) {
        (WeakInt, WeakInt) => WeakInt,
        (WeakInt, WeakFloat) | (WeakFloat, WeakInt) | (WeakFloat, WeakFloat) => WeakFloat,
        (WeakInt, Num(d)) | (Num(d), WeakInt) => Num(d),
        (WeakFloat, Num(d)) | (Num(d), WeakFloat) => {
            if d.is_float() {
                Num(d)
            } else {
                Num(DType::F64)
            }
        }
        (Num(x), Num(y)) => Num(promote_dtypes(x, y)),
        _ => Num(DType::I64),
    }
}

fn promote_dtypes(x: DType, y: DType) -> DType {
    use DType::*;
    if x == y {
        return x;
    }
    match (x.is_float(), y.is_float()) {
        (true, true) => F64,
        (true, false) => {
            if x == F32 && y.bits() <= 16 {
                F32
            } else {
                F64
            }
        }
        (false, true) => promote_dtypes(y, x),
        (false, false) => {
            let bits = x.bits().max(y.bits());
            match (x.is_unsigned(), y.is_unsigned()) {
                (true, true) => match bits {
                    8 => U8,
                    16 => U16,
                    32 => U32,
                    _ => U64,
                },
                (false, false) => match bits {
                    8 => I8,
                    16 => I16,
                    32 => I32,
                    _ => I64,
                },
                _ => {
                    // Mixed signedness: the signed type wide enough for both.
                    let unsigned_bits = if x.is_unsigned() { x.bits() } else { y.bits() };
                    let signed_bits = if x.is_unsigned() { y.bits() } else { x.bits() };
                    match signed_bits.max(unsigned_bits * 2) {
                        16 => I16,
                        32 => I32,
                        64 => I64,
                        _ => F64,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_numpy_with_weak_python_scalars() {
        use DType::*;
        assert_eq!(promote(Ty::Num(F32), Ty::WeakFloat), Ty::Num(F32));
        assert_eq!(promote(Ty::Num(I32), Ty::WeakFloat), Ty::Num(F64));
        assert_eq!(promote(Ty::Num(I8), Ty::WeakInt), Ty::Num(I8));
        assert_eq!(promote(Ty::Num(I32), Ty::Num(F32)), Ty::Num(F64));
        assert_eq!(promote(Ty::Num(I16), Ty::Num(F32)), Ty::Num(F32));
        assert_eq!(promote(Ty::Num(U8), Ty::Num(I8)), Ty::Num(I16));
        assert_eq!(promote(Ty::Num(U32), Ty::Num(I32)), Ty::Num(I64));
        assert_eq!(promote(Ty::WeakInt, Ty::WeakFloat), Ty::WeakFloat);
        assert_eq!(promote(Ty::Index, Ty::WeakInt), Ty::Num(I64));
        assert_eq!(promote(Ty::Bool, Ty::Num(U8)), Ty::Num(U8));
        assert_eq!(promote(Ty::Bool, Ty::WeakInt), Ty::Num(I64));
        assert_eq!(promote(Ty::Bool, Ty::WeakFloat), Ty::Num(F64));
        assert_eq!(promote(Ty::WeakBool, Ty::WeakBool), Ty::WeakInt);
        assert_eq!(promote(Ty::WeakBool, Ty::WeakFloat), Ty::WeakFloat);
        assert_eq!(promote(Ty::WeakBool, Ty::Index), Ty::Num(I64));
        assert_eq!(promote(Ty::WeakBool, Ty::Num(I8)), Ty::Num(I8));
        assert_eq!(promote(Ty::WeakBool, Ty::Num(F32)), Ty::Num(F32));
    }
}
