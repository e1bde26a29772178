import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import parla.parir as parir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_python(tmp_path):
    """Runs Python code in a fresh interpreter; returns the completed
    process (stdout, stderr, returncode)."""

    def run(code: str, env: dict | None = None, timeout: float = 60):
        script = tmp_path / "program.py"
        script.write_text(code)
        return subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run


# ---- the kernels the suite runs, for checks of their GPU code ------------
#
# Every JIT function the tests call (not as Python: `seq=True`) is
# remembered once per specialisation (the function, its arguments' kinds,
# dtypes, shapes and strides, its Python scalars, the parallel
# specification, `debug`), with the test that first ran it. Tests marked
# `after_the_suite` run after all others and check the GPU code of each
# (`test_gpu_codegen.py`: their PTX assembles without spills).

SUITE_KERNELS: dict = {}
_running_test = [None]
# Arrays larger than this are not kept alive for the check.
_KEPT_BYTES = 64 << 20


def _signature(value, arrays: dict):
    """What a call specialises on in `value` (None: not a host argument
    the check can replay)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return ("scalar", value.dtype.str, value.tobytes())
        first = arrays.setdefault(id(value), len(arrays))
        return ("array", value.dtype.str, value.shape, value.strides, first)
    if isinstance(value, (bool, int, float, np.generic)):
        return (type(value).__name__, value)
    if isinstance(value, dict):
        entries = [(key, _signature(item, arrays)) for key, item in value.items()]
        return None if any(s is None for _, s in entries) else ("dict", tuple(entries))
    return None


def _kept(value):
    """`value` as the check replays it: 0-d arrays copied (their value is
    compiled in), arrays by reference (only their layout matters)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.copy()
    if isinstance(value, dict):
        return {key: _kept(item) for key, item in value.items()}
    return value


def _remember(function, args, opts, parallelize, debug):
    try:
        options = parir._options(opts, parallelize)
    except (TypeError, ValueError):
        return
    arrays: dict = {}
    signature = tuple(_signature(a, arrays) for a in args)
    if any(s is None for s in signature):
        return
    if sum(a.nbytes for a in args if isinstance(a, np.ndarray)) > _KEPT_BYTES:
        return
    key = (function, signature, repr(options), debug)
    if key not in SUITE_KERNELS:
        SUITE_KERNELS[key] = (function, [_kept(a) for a in args], dict(options.parallelize), debug, _running_test[0])


def pytest_configure(config):
    config.addinivalue_line("markers", "after_the_suite: runs after every other test (it checks what they ran)")
    call = parir.JitFunction.__call__

    @functools.wraps(call)
    def remembering_call(self, *args, opts=None, seq=False, debug=False, parallelize=None):
        result = call(self, *args, opts=opts, seq=seq, debug=debug, parallelize=parallelize)
        if not seq:
            _remember(self, args, opts, parallelize, debug)
        return result

    parir.JitFunction.__call__ = remembering_call


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("after_the_suite") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _running_test[0] = item.nodeid
    try:
        return (yield)
    finally:
        _running_test[0] = None
