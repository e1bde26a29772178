"""Parla: task graphs and loop kernels for heterogeneous Python, compiled
through MLIR and run by a Rust runtime."""

from parla._parla import version as _native_version

__version__: str = _native_version()

__all__ = ["__version__"]
