"""NVIDIA GPUs through the CUDA driver, which is loaded on first use: on a
machine without CUDA, `devices()` is empty and `unavailable_reason()` says
why; a GPU that cannot be set up is left out, and `unusable()` says why.

Low-level access for checking the GPU path by hand: `PtxModule(ptx, device)`
loads PTX text (the driver compiles it for the device) and launches its
kernels; `DeviceArray(numpy_array, device)` is device memory holding a
copy. A failing driver call raises `CudaError`, whose `name` is the CUDA
error (e.g. `CUDA_ERROR_INVALID_PTX`). `nvrtc()` names the NVRTC library
that `parir.compile_string` uses for CUDA C++, or None. `gpu` is the GPU
architecture of `parla.devices` (`from parla.cuda import gpu`, as earlier
Parla releases spelled it)."""

from __future__ import annotations

from . import _parla
from .devices import gpu

CudaError = _parla.CudaError
PtxModule = _parla.PtxModule
DeviceArray = _parla.DeviceArray


def devices() -> list[dict]:
    """One dict per GPU: `ordinal`, `name`, `arch` (e.g. 'sm_90'), `memory`
    in bytes."""
    found, _ = _parla.cuda_devices()
    return found


def unusable() -> dict[int, str]:
    """The GPUs the driver reports that could not be set up (one that
    another process holds in exclusive mode), by ordinal, with why; the
    others are used, and `devices()` lists them."""
    return dict(_parla.unusable_cuda_devices())


def unavailable_reason() -> str | None:
    """Why there is no GPU, or None when there is one."""
    _, reason = _parla.cuda_devices()
    return reason


def nvrtc() -> tuple[str, tuple[int, int]] | None:
    """`(path, (major, minor))` of NVRTC, which compiles CUDA C++ for
    `parir.compile_string`, or None when it is not installed. It is looked
    for in `$PARLA_NVRTC` alone when that is set; else by the dynamic
    loader, in the CUDA toolkit (`$CUDA_HOME`, `$CUDA_PATH`,
    /usr/local/cuda) and in pip's `nvidia-cuda-nvrtc` packages. It needs
    no GPU."""
    try:
        return _parla.nvrtc_library()
    except RuntimeError:
        return None


__all__ = ["CudaError", "DeviceArray", "PtxModule", "devices", "gpu", "nvrtc", "unavailable_reason", "unusable"]
