"""Parla: task graphs and loop kernels for heterogeneous Python, compiled
through MLIR and run by a Rust runtime.

    from parla import Parla, spawn, TaskSpace

    with Parla():
        T = TaskSpace("T")
        @spawn(T[0])
        def hello():
            print("Hello from", T[0])
"""

from parla._parla import version as _native_version
from parla.context import Parla
from parla.tasks import (
    AtomicTaskSpace,
    DeadlockError,
    DependencyError,
    TaskSpace,
    get_current_context,
    get_current_devices,
    get_current_task,
    spawn,
    specialize,
)

__version__: str = _native_version()

__all__ = [
    "AtomicTaskSpace",
    "DeadlockError",
    "DependencyError",
    "Parla",
    "TaskSpace",
    "__version__",
    "get_current_context",
    "get_current_devices",
    "get_current_task",
    "spawn",
    "specialize",
]
