//! What a call specialises on: its arguments and its parallel
//! specification.

use super::types::DType;

/// One argument of a call, as the compiler sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Argument {
    /// A Python int: specialised (its value is a constant in the code).
    Int(i64),
    /// A Python float: specialised.
    Float(f64),
    /// A Python bool: specialised (an int among Python numbers, a bool
    /// among NumPy values).
    Bool(bool),
    /// A 0-d array: a specialised scalar of its dtype (raw bits, little
    /// endian, in the low bytes).
    Scalar(DType, u64),
    /// An array, passed by reference. Shape-(1,) arrays used without an
    /// index are read as an unspecialised scalar.
    Array(ArrayInfo),
    /// A dict with string keys mapping to non-dict values.
    Dict(Vec<(String, Argument)>),
    /// The very array (memory, dtype, shape, strides) of an earlier array
    /// argument, by its position among the call's arrays: the code reads
    /// and writes both names as one array, so `f(a, a)` means what NumPy
    /// means. (It is still passed, as its own memref parameter.)
    Alias(usize, ArrayInfo),
}

/// What the compiled code knows of an array: dtype, shape, and strides in
/// elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArrayInfo {
    pub dtype: DType,
    pub shape: Vec<i64>,
    pub strides: Vec<i64>,
}

impl ArrayInfo {
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for d in (0..self.shape.len()).rev() {
            if self.shape[d] > 1 && self.strides[d] != expected {
                return false;
            }
            expected *= self.shape[d].max(1);
        }
        true
    }

    /// The memref type of the array.
    pub fn memref(&self) -> String {
        let dims: String = self.shape.iter().map(|d| format!("{d}x")).collect();
        let element = self.dtype.storage();
        if self.is_contiguous() {
            format!("memref<{dims}{element}>")
        } else {
            let strides: Vec<String> = self.strides.iter().map(|s| s.to_string()).collect();
            format!("memref<{dims}{element}, strided<[{}]>>", strides.join(", "))
        }
    }
}

/// How a label runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelSpec {
    /// `parir.threads(n)`, with `.tpb(k)` and `.reduce()`.
    Threads {
        threads: u64,
        tpb: Option<u64>,
        reduce: bool,
    },
    /// `parir.seq()`
    Sequential,
}

impl LabelSpec {
    pub fn is_parallel(&self) -> bool {
        matches!(self, LabelSpec::Threads { .. })
    }

    pub fn reduces(&self) -> bool {
        matches!(self, LabelSpec::Threads { reduce: true, .. })
    }
}
