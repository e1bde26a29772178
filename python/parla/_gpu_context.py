"""What the body of a GPU task sees: CuPy's current device and stream (and
Torch's, when Torch is loaded) are the task's GPU and the stream the runtime
gave it, so array operations in the task queue on that stream."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import sys


@functools.lru_cache(maxsize=1)
def _cupy():
    """CuPy, imported on the first GPU task when it is installed."""
    if "cupy" in sys.modules or importlib.util.find_spec("cupy") is not None:
        try:
            import cupy
        except Exception:  # installed without a usable CUDA: leave it alone
            return None
        return cupy
    return None


def activate(ordinal: int, stream: int) -> contextlib.ExitStack:
    """Makes GPU `ordinal` and CUDA stream `stream` (a CUstream address)
    current for CuPy and Torch; closing the result restores theirs."""
    stack = contextlib.ExitStack()
    try:
        cupy = _cupy()
        if cupy is not None:
            stack.enter_context(cupy.cuda.Device(ordinal))
            stack.enter_context(cupy.cuda.ExternalStream(stream, ordinal))
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            stack.enter_context(torch.cuda.device(ordinal))
            stack.enter_context(torch.cuda.stream(torch.cuda.ExternalStream(stream, device=ordinal)))
    except BaseException:
        stack.close()
        raise
    return stack
