"""Parir: loop kernels in Python, compiled at the call site.

    import parla.parir as parir

    @parir.jit
    def sum_rows(x, y, N, M):
        parir.label('N')
        for i in range(N):
            parir.label('M')
            for j in range(M):
                y[i] += x[i, j]

    sum_rows(x, y, N, M, opts=parir.par({'N': parir.threads(N), 'M': parir.threads(M).reduce()}))

Functions are parsed when decorated; each call with new argument kinds,
dtypes, shapes or scalar values compiles a specialisation (through the
project's MLIR dialects, to native code) and caches it. On the CPU, parallel
loops run on the task runtime's worker pool; on an NVIDIA GPU (arrays that
live there, a call inside a GPU task, or backend='cuda'), they become
kernels launched by the runtime. backend='rocm' runs them on an AMD GPU
through HIP, in builds of parla with the `rocm` feature. Failing GPU calls
raise `parla.cuda.CudaError` or `HipError`, whose `name` is the runtime's
error name.
"""

from __future__ import annotations

import builtins
import functools as _functools
import math as _math
import operator as _operator
import sys as _sys
import types as _types
import time as _time
import weakref as _weakref

import numpy as _np

from parla import _parla

HipError = _parla.HipError
from parla.parir._syntax import function_syntax as _function_syntax


class CompileError(Exception):
    """An unsupported construct or a type error in a JIT function, with the
    file, line, column and source line."""

    def __init__(self, message: str, file: str = "", line: int = 0, column: int = 0, source_line: str = ""):
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.source_line = source_line


# ---- parallel specification -------------------------------------------------

class threads:
    """`parir.threads(n)`: run a labelled loop over n threads; `.reduce()`
    marks it a reduction, `.tpb(k)` sets threads per block (GPU)."""

    __slots__ = ("threads", "tpb_", "reduce_")

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, _np.integer)):
            raise TypeError(f"parir.threads(n) takes an int, got {n!r}")
        if not 0 < n < 2**63:
            raise ValueError(f"parir.threads(n) takes a positive number below 2**63, got {n}")
        self.threads = int(n)
        self.tpb_ = None
        self.reduce_ = False

    def reduce(self) -> "threads":
        self.reduce_ = True
        return self

    def tpb(self, n: int) -> "threads":
        if isinstance(n, bool) or not isinstance(n, (int, _np.integer)) or not (32 <= n <= 1024) or n % 32:
            raise ValueError(f"tpb(n) takes a multiple of 32 from 32 to 1024, got {n!r}")
        self.tpb_ = int(n)
        return self

    def __repr__(self) -> str:
        text = f"parir.threads({self.threads})"
        if self.tpb_:
            text += f".tpb({self.tpb_})"
        if self.reduce_:
            text += ".reduce()"
        return text


class _Sequential:
    __slots__ = ("threads", "tpb_", "reduce_")

    def __init__(self):
        self.threads = None
        self.tpb_ = None
        self.reduce_ = False

    def __repr__(self) -> str:
        return "parir.seq()"


def seq() -> _Sequential:
    """A label that stays sequential."""
    return _Sequential()


_BACKENDS = ("auto", "cpu", "cuda", "rocm")


_DEFAULT_ARCH = {"cuda": "sm_80", "rocm": "gfx90a"}


class CompileOptions:
    """Options of a call: the parallel specification, the backend ('auto'
    picks a GPU when one is present, else the CPU) and, for GPUs, the
    architecture (`sm_80`, `sm_90`, `gfx90a`, `gfx942`)."""

    def __init__(self, parallelize: dict | None = None, backend: str = "auto", arch: str | None = None):
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(_BACKENDS)}, got {backend!r}")
        if arch is not None:
            expected = "sm_" if backend == "cuda" else "gfx" if backend == "rocm" else None
            if expected is None:
                raise ValueError(f"arch {arch!r} applies to GPU backends ('cuda', 'rocm'), not {backend!r}")
            if not isinstance(arch, str) or not arch.startswith(expected):
                example = "sm_90" if backend == "cuda" else "gfx90a"
                raise ValueError(f"arch {arch!r} does not name a {backend} architecture (e.g. {example})")
        #: The GPU architecture asked for; None: the device's own (and, with
        #: no GPU, `sm_80` / `gfx90a` for print_compiled).
        self.arch = arch
        parallelize = dict(parallelize or {})
        for label, spec in parallelize.items():
            if not isinstance(label, str):
                raise TypeError(f"parallel specification keys are label strings, got {label!r}")
            if not isinstance(spec, (threads, _Sequential)):
                raise TypeError(f"the specification of '{label}' must be parir.threads(n) or parir.seq(), got {spec!r}")
        self.parallelize = parallelize
        self.backend = backend

    def __repr__(self) -> str:
        return f"CompileOptions(parallelize={self.parallelize!r}, backend={self.backend!r})"


def par(spec: dict) -> CompileOptions:
    """The default options with this parallel specification."""
    return CompileOptions(parallelize=spec)


parallelize = par


def _options(opts, parallelize: dict | None) -> CompileOptions:
    """The options of a call: `opts` (made by parir.par), or a parallel
    specification dict passed as `parallelize=`, as the original takes it."""
    if parallelize is not None:
        if opts is not None:
            raise TypeError("give opts=parir.par({...}) or parallelize={...}, not both")
        if not isinstance(parallelize, dict):
            raise TypeError(f"parallelize= takes a dict of labels to parir.threads(n), got {parallelize!r}")
        return CompileOptions(parallelize)
    if opts is None:
        return CompileOptions()
    if not isinstance(opts, CompileOptions):
        hint = " (a dict goes to parir.par, or to parallelize=)" if isinstance(opts, dict) else ""
        raise TypeError(f"opts must be made by parir.par({{...}}), got {opts!r}{hint}")
    return opts


def _arch_for_printing(options: CompileOptions, backend: str) -> str:
    """The architecture print_compiled compiles for: the one asked for, else
    GPU 0's, else the default of the backend."""
    if options.arch:
        return options.arch
    found, _ = _parla.cuda_devices() if backend == "cuda" else _parla.amd_devices()
    if found:
        return found[0]["arch"]
    return _DEFAULT_ARCH[backend]


def _cuda_file(*parts: str) -> str | None:
    """A file of NVIDIA's compiler tools: from the nvidia-cuda-nvcc-cu12
    wheel if it is installed, else from the CUDA toolkit ($CUDA_HOME,
    $CUDA_PATH, /usr/local/cuda)."""
    import os

    try:
        import nvidia.cuda_nvcc as nvcc  # the PyPI wheel

        bases = list(getattr(nvcc, "__path__", []))
    except ImportError:
        bases = []
    bases += [os.environ[v] for v in ("CUDA_HOME", "CUDA_PATH") if os.environ.get(v)]
    bases.append("/usr/local/cuda")
    for base in bases:
        candidate = os.path.join(base, *parts)
        if os.path.exists(candidate):
            return candidate
    return None


def _ptxas() -> str | None:
    """NVIDIA's PTX assembler, to check generated PTX without a GPU."""
    return _cuda_file("bin", "ptxas")


@_functools.lru_cache(maxsize=1)
def _libdevice() -> str | None:
    """libdevice.10.bc (NVIDIA's math library for device code): PARLA_LIBDEVICE,
    else the nvidia-cuda-nvcc-cu12 wheel's or the CUDA toolkit's copy."""
    import os

    return os.environ.get("PARLA_LIBDEVICE") or _cuda_file("nvvm", "libdevice", "libdevice.10.bc")


# ---- JIT functions ------------------------------------------------------------

_functions: "_weakref.WeakSet[JitFunction]" = _weakref.WeakSet()


def _as_python_if_jit(cell):
    """A closure cell holding a JIT function as one holding its Python
    form; other cells are kept (shared with their scope)."""
    try:
        value = cell.cell_contents
    except ValueError:  # not yet assigned
        return cell
    return _types.CellType(value._as_python()) if isinstance(value, JitFunction) else cell


class _SequentialGlobals(dict):
    """The globals of a JIT function run as Python (seq=True): the
    module's, with the JIT functions it names run as Python too, as
    compiled code inlines them. (Looked up on each use: seq is the
    debugging path; the compiled path pays nothing for it.)"""

    __slots__ = ("module",)

    def __missing__(self, name):
        value = self.module[name]
        if isinstance(value, JitFunction):
            return value._as_python()
        return value


_ABSENT = object()  # what `_resolve` answers for a name bound nowhere


def _resolve(function, name):
    """What `name` means in the body of `function`: a variable of an
    enclosing function (a closure cell), else a global of its module;
    `_ABSENT` if neither (a global bound to None is None)."""
    code = function.__code__
    if name in code.co_freevars and function.__closure__ is not None:
        try:
            return function.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:  # not yet assigned
            return _ABSENT
    return function.__globals__.get(name, _ABSENT)


def _binding_checks(bindings) -> tuple:
    """What tells whether the (function, name, value) `bindings` still
    hold, made for the warm call, which checks them each time: `(keys,
    names)` pairs, for globals that were unbound (builtins the code reads
    are, almost always), hold while `keys` (the module dict's live key
    view) has none of `names`; `(get, names, values)` triples hold while
    `get(name) is value` for each name (globals through their dict's own
    `get`, variables of enclosing functions through `_resolve`). Both
    loop in C."""
    unbound, bound = {}, {}
    for scope, name, value in bindings:
        if name in scope.__code__.co_freevars:
            key, get = ("closure", scope), _functools.partial(_resolve, scope)
        elif value is _ABSENT:
            unbound.setdefault(id(scope.__globals__), (scope.__globals__.keys(), []))[1].append(name)
            continue
        else:
            key, get = ("globals", id(scope.__globals__)), scope.__globals__.get
        _, names, values = bound.setdefault(key, (get, [], []))
        names.append(name)
        values.append(value)
    return (tuple((keys, tuple(names)) for keys, names in unbound.values()),
            tuple((get, tuple(names), tuple(values)) for get, names, values in bound.values()))


def _bindings_hold(checks) -> bool:
    unbound, bound = checks
    for keys, names in unbound:
        if not keys.isdisjoint(names):
            return False
    for get, names, values in bound:
        if not all(map(_operator.is_, map(get, names), values)):
            return False
    return True


def _negative_strides(value) -> bool:
    """Whether `value` is a NumPy or CuPy array with a negative stride."""
    strides = getattr(value, "strides", None)
    return (isinstance(value, _np.ndarray) or type(value).__module__.startswith("cupy")) \
        and strides is not None and any(s < 0 for s in strides)


def _with_positive_strides(args):
    """(Called when the native call refuses such arrays, so the common
    call pays nothing.) `args` with each array of a negative stride (`x[:, ::-1]`) replaced
    by a contiguous copy, and the (original, copy) pairs to write back
    after the call: compiled code indexes arrays as MLIR's memref lowering
    does, with index arithmetic that may not wrap below zero (LLVM's
    `nuw`), which a negative stride does. A reversed view that shares
    memory with another argument cannot be copied without changing what
    the call computes: a ValueError."""
    pairs = []

    def replaced(value, others):
        if not _negative_strides(value):
            return value
        for other in others:
            if other is not value and getattr(other, "strides", None) is not None and \
                    _shares_memory(value, other):
                raise ValueError("an array with a negative stride (a reversed view) that shares memory with "
                                 "another argument is not supported: pass a copy of one of them")
        module = _np if isinstance(value, _np.ndarray) else _sys.modules["cupy"]
        copy = module.ascontiguousarray(value)
        if getattr(value, "flags", None) is None or value.flags.writeable:
            pairs.append((value, copy))
        return copy

    flat = [v for a in args for v in (a.values() if isinstance(a, dict) else (a,))]
    result = tuple({k: replaced(v, flat) for k, v in a.items()} if isinstance(a, dict) else replaced(a, flat)
                   for a in args)
    return result, pairs


def _shares_memory(a, b) -> bool:
    """Whether arrays `a` and `b` (of one library) may overlap."""
    if isinstance(a, _np.ndarray) and isinstance(b, _np.ndarray):
        return _np.may_share_memory(a, b)
    if type(a) is type(b) and type(a).__module__.startswith("cupy"):
        return _sys.modules["cupy"].may_share_memory(a, b)
    return False


class JitFunction:
    """A function compiled at each call site specialisation (see `jit`)."""

    def __init__(self, function):
        self.__wrapped__ = function
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__doc__ = function.__doc__
        syntax, self._builtin_uses = _function_syntax(function, _sys.modules[__name__])
        self._file, self._lines = syntax[1], syntax[2]
        self._native = _parla.ParsedFunction(*syntax)
        self._callees = None
        self._callee_bindings = ((), ())
        self._python = None
        self._arity = function.__code__.co_argcount
        _functions.add(self)

    def _resolve_callees(self) -> dict:
        """The JIT functions this one calls (and they call), by key: the
        name for calls of this function's, `caller/name` for a callee's
        (`callee_key` in the compiler), each resolved where that function
        was defined (its closure, then its module). A name rebound since (a
        helper redefined) resolves again, and the specialisations compiled
        with the old helper are dropped."""
        if self._callees is not None:
            if _bindings_hold(self._callee_bindings):
                return self._callees
            self._native.clear()
        callees = {}
        bindings = []
        # (key of the caller, the caller, JIT functions on the way to it)
        pending = [("", self, (self,))]
        while pending:
            prefix, caller, path = pending.pop()
            scope = caller.__wrapped__
            for name, position in caller._builtin_uses.items():
                target = _resolve(scope, name)
                bindings.append((scope, name, target))
                if target is not _ABSENT and target is not getattr(builtins, name):
                    raise caller._rebound_builtin(name, target, position)
            for name in caller._native.called_names():
                target = _resolve(scope, name)
                bindings.append((scope, name, target))
                if not isinstance(target, JitFunction):
                    continue
                key = f"{prefix}/{name}" if prefix else name
                callees[key] = target._native
                # Recursion is the compiler's error to report; its calls
                # need not be followed again.
                if target not in path:
                    pending.append((key, target, path + (target,)))
        self._callees = callees
        self._callee_bindings = _binding_checks(bindings)
        return self._callees

    def _rebound_builtin(self, name: str, target, position: tuple) -> CompileError:
        """The error for a builtin the compiler reads (`max`, `len`, ...)
        whose name the function's module (or an enclosing function) binds
        to something else: compiling the builtin would answer otherwise
        than Python runs."""
        line, column = position
        scope = self.__wrapped__
        where = "a variable of an enclosing function" if name in scope.__code__.co_freevars \
            else f"a global of module {scope.__module__}"
        qualname = getattr(target, "__qualname__", None)
        code = getattr(getattr(target, "__wrapped__", target), "__code__", None)
        if isinstance(code, _types.CodeType):
            what = f"the function {qualname} of {code.co_filename}:{code.co_firstlineno}"
        else:
            what = f"`{qualname}`" if isinstance(qualname, str) else f"a {type(target).__name__} value"
        message = (f"`{name}` here is {what} ({where}), not Python's builtin {name}() that JIT code "
                   "reads it as: rename one of them")
        source_line = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        text = f"{self._file}:{line}:{column}: {message}"
        if source_line:  # as the compiler's errors show it
            text += f"\n    {source_line.rstrip()}\n    {'^':>{column}}"
        return CompileError(text, self._file, line, column, source_line)

    def _as_python(self):
        """The function as plain Python, calling the JIT functions it names
        as plain Python too."""
        if self._python is None:
            function = self.__wrapped__
            overlay = _SequentialGlobals({"__builtins__": function.__globals__.get("__builtins__", builtins)})
            overlay.module = function.__globals__
            closure = function.__closure__
            if closure is not None:
                closure = tuple(_as_python_if_jit(cell) for cell in closure)
            python = _types.FunctionType(function.__code__, overlay, function.__name__, function.__defaults__, closure)
            python.__kwdefaults__ = function.__kwdefaults__
            self._python = python
        return self._python

    def __call__(self, *args, opts: CompileOptions | None = None, seq: bool = False, debug: bool = False,
                 parallelize: dict | None = None):
        if seq:
            return self._as_python()(*args)
        opts = _options(opts, parallelize)
        if len(args) != self._arity:
            raise TypeError(f"{self.__name__}() takes {self._arity} argument(s), got {len(args)}")
        started = _time.perf_counter() if debug else 0.0
        callees = self._resolve_callees()
        try:
            stages = self._native.call(args, opts, callees, debug)
        except _parla._ReversedViews:
            args, reversed_views = _with_positive_strides(args)
            try:
                stages = self._native.call(args, opts, callees, debug)
            except _parla._ReversedViews:
                raise ValueError("arrays with a negative stride are supported as NumPy and CuPy arrays only: "
                                 "pass a contiguous copy") from None
            for original, copy in reversed_views:
                original[...] = copy
        if debug:
            for name, text, seconds in stages:
                print(f"=== {self.__name__}: after {name} ({seconds * 1e3:.1f} ms) ===")
                print(text)
            print(f"=== {self.__name__}: compiled and ran in {(_time.perf_counter() - started) * 1e3:.1f} ms ===")

    def __repr__(self) -> str:
        return f"<parir.jit function {self.__qualname__}>"


def jit(function) -> JitFunction:
    """Compiles `function` at each call with the call's parallel
    specification (`opts=parir.par({...})`)."""
    return JitFunction(function)


_STAGES = {
    "cpu": ("looppar", "scf", "llvm"),
    "cuda": ("looppar", "gpu", "host", "ptx"),
    "rocm": ("looppar", "gpu", "host", "amdgcn"),
}


def print_compiled(fun, args, opts: CompileOptions | None = None, stage: str | None = None,
                   debug: bool = False, parallelize: dict | None = None) -> str:
    """The code of `fun` compiled for `args` and `opts` at `stage` (default:
    the lowest). CPU: 'looppar' (the front end's output), 'scf', 'llvm'.
    GPUs (`backend='cuda'` or `'rocm'`): 'looppar', 'gpu' (kernels as
    gpu.launch), 'host' (after outlining), 'ptx' / 'amdgcn'. With `debug`,
    the code a call with `debug=True` runs: every array access checked.
    `parallelize={...}` may stand for `opts=parir.par({...})`."""
    opts = _options(opts, parallelize)
    backend = opts.backend if opts.backend in ("cuda", "rocm") else "cpu"
    stages = _STAGES[backend]
    stage = stage or stages[-1]
    if stage not in stages:
        raise ValueError(f"stage must be one of {', '.join(stages)} for backend {backend!r}, got {stage!r}")
    jitted = fun if isinstance(fun, JitFunction) else JitFunction(fun)
    if backend == "cpu":
        found = jitted._native.stages(tuple(args), opts, jitted._resolve_callees(), debug)
        return dict((name, text) for name, text, _ in found)[stage]
    arch = _arch_for_printing(opts, backend)
    found = jitted._native.gpu_stages(tuple(args), opts, jitted._resolve_callees(), backend, arch, _libdevice(), debug)
    return dict((name, text) for name, text, _ in found)[stage]


def _code_kind(code: str) -> str:
    """'ptx', 'cuda' (CUDA C++), 'gpu-ir' (IR with kernels) or 'ir'."""
    if "__global__" in code:
        return "cuda"
    stripped = [line.strip() for line in code.splitlines()]
    if any(line.startswith(".version") for line in stripped) and not any("func.func" in line for line in stripped):
        return "ptx"
    if any(word in code for word in ("gpu.launch", "gpu.binary", "gpu.module")):
        return "gpu-ir"
    return "ir"


def compile_string(name: str, code: str, opts: CompileOptions | None = None):
    """A callable for code text: edited output of `print_compiled`, or a
    hand-written kernel.

    - IR text (any stage): called with the original function's arguments;
      the arrays go to the function `name`'s memref parameters in order.
      IR with kernels (`print_compiled` stages 'gpu' and 'host') runs on a
      GPU (an AMD one with `backend='rocm'`, in builds with the `rocm`
      feature; else NVIDIA), other IR on the CPU.
    - PTX, or CUDA C++ (compiled by NVRTC, which must be installed; write
      `extern "C" __global__` so the kernel keeps its name): the kernel
      `name`, called as `f(*args, grid=(...), block=(...))`. Arrays are
      passed as device addresses (GPU arrays in place, host arrays copied in
      and back), ints as int64, floats as double, NumPy scalars as their
      type.

    Device code from `print_compiled` (the 'host' and 'ptx' stages) was
    compiled for distinct arrays, as JIT calls pass them (arrays it only
    reads may load through the GPU's read-only cache): the 'host' stage
    refuses the same array for two parameters that reach one kernel; PTX
    cannot tell, so pass it distinct arrays.
    """
    opts = opts or CompileOptions()
    kind = _code_kind(code)
    if kind in ("ptx", "cuda"):
        if opts.backend in ("cpu", "rocm"):
            raise ValueError(
                f"{'PTX' if kind == 'ptx' else 'CUDA C++'} runs on NVIDIA GPUs, not with backend={opts.backend!r}"
            )
        raw = _parla.RawKernel(name, code, kind == "cuda", _arch_for_printing(opts, "cuda"))

        def launch(*args, grid, block, shared_bytes: int = 0):
            return raw(args, _dims(grid), _dims(block), shared_bytes)

        launch.__name__ = name
        launch.ptx = raw.ptx
        return launch
    if kind == "gpu-ir" or opts.backend in ("cuda", "rocm"):
        if opts.backend == "cpu":
            raise ValueError("this IR has GPU kernels: it cannot run with backend='cpu'")
        backend = "rocm" if opts.backend == "rocm" else "cuda"
        libdevice = _libdevice() if backend == "cuda" else None
        kernel = _parla.GpuIrKernel(name, code, backend, _arch_for_printing(opts, backend), libdevice)
    else:
        kernel = _parla.StringKernel(name, code)

    def call(*args):
        return kernel(args)

    call.__name__ = name
    return call


def _dims(value) -> list[int]:
    """A grid or block: an int or a tuple of 1 to 3 ints."""
    return [value] if isinstance(value, (int, _np.integer)) else list(value)


def clear_cache() -> None:
    """Forgets every compiled specialisation."""
    for function in list(_functions):
        function._native.clear()


def sync() -> None:
    """Waits for every kernel launched on every GPU. (Calls on GPU arrays
    return once their kernels are queued, like CuPy and Torch operations;
    CPU kernels and calls with host arrays finish before they return.)"""
    _parla.gpu_synchronize()


# ---- what JIT functions may call (also usable with seq=True) -----------------

def label(name: str) -> None:
    """Labels the next statement (a loop or a slice statement)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"parir.label() takes a non-empty string, got {name!r}")


class _Device:
    """`with parir.gpu:`: run the block sequentially on the device."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self) -> str:
        return "parir.gpu"


gpu = _Device()
inf = _math.inf


def _reduction(numpy_function, builtin_function):
    def reduce(*args, axis=None):
        if len(args) == 1:
            return numpy_function(args[0], axis=axis)
        if axis is not None:
            raise TypeError("axis applies to a single slice argument")
        return builtin_function(*args)

    return reduce


sum = _reduction(_np.sum, lambda *a: builtins.sum(a))
prod = _reduction(_np.prod, lambda *a: _math.prod(a))
min = _reduction(_np.min, builtins.min)
max = _reduction(_np.max, builtins.max)
abs = builtins.abs
# NumPy's elementwise functions under NumPy's names (and the array API's
# `asin`, `atan2`, ...): what they are when a JIT function runs as Python,
# and what they compile to.
exp, exp2, expm1, log, log2, log10, log1p = _np.exp, _np.exp2, _np.expm1, _np.log, _np.log2, _np.log10, _np.log1p
sqrt, cbrt, sin, cos, tan, sinh, cosh, tanh = _np.sqrt, _np.cbrt, _np.sin, _np.cos, _np.tan, _np.sinh, _np.cosh, _np.tanh
arcsin = asin = _np.arcsin
arccos = acos = _np.arccos
arctan = atan = _np.arctan
arcsinh = asinh = _np.arcsinh
arccosh = acosh = _np.arccosh
arctanh = atanh = _np.arctanh
arctan2 = atan2 = _np.arctan2
floor, ceil, trunc, rint = _np.floor, _np.ceil, _np.trunc, _np.rint
absolute, fabs, copysign, fmod = _np.absolute, _np.fabs, _np.copysign, _np.fmod
minimum, maximum, fmin, fmax = _np.minimum, _np.maximum, _np.fmin, _np.fmax
isnan, isinf, isfinite = _np.isnan, _np.isinf, _np.isfinite
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
float32, float64 = _np.float32, _np.float64

__all__ = [
    "CompileError", "CompileOptions", "HipError", "JitFunction", "abs", "absolute", "acos", "acosh", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt",
    "ceil", "clear_cache", "compile_string", "copysign", "cos", "cosh", "exp", "exp2", "expm1", "fabs", "float32",
    "float64", "floor", "fmax", "fmin", "fmod", "gpu", "inf", "int16", "int32", "int64", "int8", "isfinite", "isinf",
    "isnan", "jit", "label", "log", "log10", "log1p", "log2", "max", "maximum", "min", "minimum", "par",
    "parallelize", "print_compiled", "prod", "rint", "seq", "sin", "sinh", "sqrt", "sum", "sync", "tan", "tanh",
    "threads", "trunc", "uint16", "uint32", "uint64", "uint8",
]
