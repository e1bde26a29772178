"""Kernels that call the math functions JIT functions know, under the
names of Python's `math`, NumPy and parir, with inputs that reach their
edges (tiny arguments of expm1/log1p, halves for rounding, NaN and
infinities), combined without cancellation so that float32 results can be
compared closely. The CPU tests compare them with the same functions run as
Python (seq=True); the GPU code generation tests assemble them; the GPU
tests run them."""

import math
from math import erf as error_function
from math import floor

import numpy as np
from numpy import arctan2, float32, minimum

import parla.parir as parir
from parla.parir import expm1


@parir.jit
def python_math(x, out, N):
    parir.label('N')
    for i in range(N):
        out[i, 0] = math.sqrt(abs(x[i]))
        out[i, 1] = math.expm1(x[i])
        out[i, 2] = math.log1p(abs(x[i]))
        out[i, 3] = math.tan(x[i]) + math.atan(x[i]) + math.atan2(x[i], 3)
        out[i, 4] = math.sinh(x[i]) * math.cosh(x[i]) + math.tanh(x[i])
        out[i, 5] = math.asinh(x[i]) * (math.asin(x[i] / 8) + math.acos(x[i] / 8))
        out[i, 6] = math.erf(x[i]) + math.erfc(x[i])
        out[i, 7] = math.floor(x[i])
        out[i, 8] = math.ceil(x[i])
        out[i, 9] = math.trunc(float(x[i]))  # NumPy floats have no __trunc__
        out[i, 10] = round(x[i])
        out[i, 11] = math.copysign(2.0, x[i]) + math.fabs(x[i])
        out[i, 12] = math.fmod(x[i], 0.75)
        out[i, 13] = math.pi * x[i] + math.e - math.tau
        out[i, 14] = math.cbrt(x[i]) + math.exp2(x[i] / 4) + math.pow(abs(x[i]), 0.5)
        out[i, 15] = math.log2(abs(x[i]) + 1) + math.log10(abs(x[i]) + 1) + math.log(abs(x[i]) + 1)
        out[i, 16] = math.acosh(abs(x[i]) + 1) + math.atanh(x[i] / 8)


# Where inputs hold NaN and infinities: only functions defined there in
# Python (math.floor(nan) raises).
@parir.jit
def numpy_math(x, out, N):
    parir.label('N')
    for i in range(N):
        out[i, 0] = np.floor(x[i]) + np.ceil(x[i]) + np.trunc(x[i])
        out[i, 1] = np.rint(x[i])
        out[i, 2] = np.arcsin(x[i] / 8) + np.arccos(x[i] / 8) + np.arctan2(x[i], 2)
        out[i, 3] = np.fmin(x[i], 0.5) + np.fmax(x[i], -0.5)
        out[i, 4] = np.minimum(x[i], 0.5) + np.maximum(x[i], -0.5)
        out[i, 5] = np.isnan(x[i]) + 2 * np.isinf(x[i]) + 4 * np.isfinite(x[i])
        out[i, 6] = np.fmod(x[i], 0.75)
        out[i, 7] = parir.expm1(x[i]) * parir.log1p(np.fabs(x[i]))
        out[i, 8] = np.float32(x[i]) * 2 + np.cbrt(x[i])
        out[i, 9] = np.copysign(1.0, x[i]) + np.inf * 0 + np.exp2(x[i])


# The functions imported by name (`from math import floor`).
@parir.jit
def imported_names(x, out, N):
    parir.label('N')
    for i in range(N):
        out[i, 0] = floor(x[i]) + error_function(x[i])
        out[i, 1] = arctan2(x[i], 2.0) * minimum(x[i], 0.25)
        out[i, 2] = expm1(x[i]) + float32(x[i])


FINITE = [1e-10, -1e-12, 0.3, -2.5, 3.5, 2.5, -0.5, 0.5, 1.7, -7.25, 0.0, -0.0]
SPECIAL = FINITE + [np.nan, np.inf, -np.inf]

CASES = {
    "python_math": (python_math, FINITE, 17),
    "numpy_math": (numpy_math, SPECIAL, 10),
    "imported_names": (imported_names, FINITE, 3),
}


def arguments(name, dtype):
    """(function, arguments) of case `name` for inputs of `dtype`."""
    function, inputs, columns = CASES[name]
    x = np.array(inputs, dtype=dtype)
    return function, [x, np.zeros((len(x), columns), dtype=dtype), len(x)]


def compiled_and_python(name, dtype, backend):
    """The outputs of case `name` compiled for `backend` and run as
    Python (seq=True), for inputs of `dtype`."""
    function, args = arguments(name, dtype)
    expected = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        function(*expected, seq=True)
    function(*args, opts=parir.CompileOptions({'N': parir.threads(args[2])}, backend=backend))
    return args[1], expected[1]
