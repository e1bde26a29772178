//! The modules whose functions and constants JIT functions may use: parir
//! itself, Python's `math` and NumPy, under whatever names the function's
//! globals give them (`import numpy as np`).
//!
//! Each maps an attribute to the builtin the emitter knows, keeping that
//! module's meaning where the modules differ: `math.floor` is an int (as
//! in Python), `np.floor` a float (as in NumPy), `np.min(a, b)` is NumPy's
//! `np.min(a, axis=b)` and so is refused. Float functions keep the width
//! of their float argument (float32 in, float32 out, as Numba does for
//! `math.sqrt`), and take float64 for an integer one.

/// A module a JIT function can refer to by a global name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    Parir,
    Math,
    Numpy,
}

impl Namespace {
    /// `"parir"`, `"math"` or `"numpy"`: how the Python side names them.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "parir" => Some(Self::Parir),
            "math" => Some(Self::Math),
            "numpy" => Some(Self::Numpy),
            _ => None,
        }
    }
}

/// Float functions of one argument, under their builtin names (MLIR's
/// `math` op names); NumPy and parir spell the inverse ones `arcsin`, …
pub const FLOAT_FUNCTIONS: [&str; 27] = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
    "floor", "ceil", "trunc", "rint",
];

/// Functions shared by NumPy and parir under NumPy's names (and the
/// array API's, which NumPy 2 adds: `asin`, `atan2`, …).
fn numpy_function(attr: &str) -> Option<&'static str> {
    let name = match attr {
        "arcsin" => "asin",
        "arccos" => "acos",
        "arctan" => "atan",
        "arcsinh" => "asinh",
        "arccosh" => "acosh",
        "arctanh" => "atanh",
        "arctan2" | "atan2" => "atan2",
        "abs" | "absolute" => "abs",
        "fabs" => "fabs",
        "minimum" => "min",
        "maximum" => "max",
        "fmin" => "fmin",
        "fmax" => "fmax",
        "copysign" => "copysign",
        // Integers in, an integer out: unlike math.fmod.
        "fmod" => "fmod_numpy",
        "isnan" => "isnan",
        "isinf" => "isinf",
        "isfinite" => "isfinite",
        // SciPy's, not NumPy's.
        "erf" | "erfc" => return None,
        other => return FLOAT_FUNCTIONS.iter().copied().find(|f| *f == other),
    };
    Some(name)
}

fn math_function(attr: &str) -> Option<&'static str> {
    let name = match attr {
        // Python's math.floor/ceil/trunc answer ints.
        "floor" => "floor_int",
        "ceil" => "ceil_int",
        "trunc" => "int64",
        "rint" => return None,
        "fabs" => "fabs",
        "copysign" => "copysign",
        "fmod" => "fmod",
        "pow" => "pow",
        "atan2" => "atan2",
        // Python bools, where NumPy's are NumPy bools.
        "isnan" => "isnan_python",
        "isinf" => "isinf_python",
        "isfinite" => "isfinite_python",
        other => return FLOAT_FUNCTIONS.iter().copied().find(|f| *f == other),
    };
    Some(name)
}

/// Reductions over slices (`parir.sum(x[:, :], axis=1)`) that are also
/// `min(a, b)`/`max(a, b)` of values.
pub const REDUCTIONS: [&str; 4] = ["sum", "prod", "min", "max"];

/// Casts: `parir.float32(x)`, `np.int64(i)`.
pub const CASTS: [&str; 10] = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
];

/// The builtin that `namespace.attr(...)` calls, if JIT functions support
/// it.
pub fn function(namespace: Namespace, attr: &str) -> Option<&'static str> {
    let shared = || {
        REDUCTIONS
            .iter()
            .chain(CASTS.iter())
            .copied()
            .find(|f| *f == attr)
    };
    match namespace {
        // parir's functions are NumPy's (they are, when run as Python).
        Namespace::Parir | Namespace::Numpy => numpy_function(attr).or_else(shared),
        Namespace::Math => math_function(attr),
    }
}

/// The value of `namespace.attr`, if it is a constant JIT functions know.
pub fn constant(namespace: Namespace, attr: &str) -> Option<f64> {
    match (namespace, attr) {
        (_, "inf") => Some(f64::INFINITY),
        (Namespace::Math | Namespace::Numpy, "nan") => Some(f64::NAN),
        (Namespace::Math | Namespace::Numpy, "pi") => Some(std::f64::consts::PI),
        (Namespace::Math | Namespace::Numpy, "e") => Some(std::f64::consts::E),
        (Namespace::Math, "tau") => Some(std::f64::consts::TAU),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_module_keeps_its_meaning() {
        assert_eq!(function(Namespace::Math, "floor"), Some("floor_int"));
        assert_eq!(function(Namespace::Numpy, "floor"), Some("floor"));
        assert_eq!(function(Namespace::Parir, "floor"), Some("floor"));
        assert_eq!(function(Namespace::Numpy, "arcsin"), Some("asin"));
        assert_eq!(function(Namespace::Numpy, "asin"), Some("asin"));
        assert_eq!(function(Namespace::Numpy, "pow"), None);
        assert_eq!(function(Namespace::Math, "asin"), Some("asin"));
        assert_eq!(function(Namespace::Math, "sum"), None);
        assert_eq!(function(Namespace::Numpy, "float32"), Some("float32"));
        assert_eq!(function(Namespace::Math, "erf"), Some("erf"));
        assert_eq!(function(Namespace::Numpy, "erf"), None);
        assert_eq!(constant(Namespace::Parir, "pi"), None);
        assert_eq!(
            constant(Namespace::Math, "tau"),
            Some(std::f64::consts::TAU)
        );
    }
}
