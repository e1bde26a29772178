"""Tasks: `spawn`, `TaskSpace`, and what a running task can ask about
itself."""

from __future__ import annotations

from typing import Any, Callable

from parla import devices as _devices
from parla._parla import (
    DeadlockError,
    DependencyError,
    Task,
    TaskList,
    TaskSpace,
    current_device as _current_device,
    get_current_task,
    spawn,
)


class AtomicTaskSpace(TaskSpace):
    """A task space safe to index from several threads at once (every task
    space is)."""


def get_current_devices() -> list[_devices.Device]:
    """The devices the current task runs on (the CPU outside tasks)."""
    index = _current_device()
    return [_devices.device_table()[index if index is not None else 0]]


def get_current_context() -> _devices.Environment:
    """The environment of the current task, e.g. `CPUEnvironment(CPU:0)`."""
    return _devices.Environment(get_current_devices())


class _Specialized:
    """A function with variants per device kind (see `specialize`)."""

    def __init__(self, default: Callable[..., Any]):
        self._default = default
        self._variants: dict[str, Callable[..., Any]] = {}
        self.__name__ = getattr(default, "__name__", "specialized")
        self.__doc__ = getattr(default, "__doc__", None)
        self.__wrapped__ = default

    def variant(self, *architectures: _devices.Architecture):
        """Registers the decorated function as the body for tasks running on
        these device kinds: `@function.variant(gpu)`, or a list of them
        (`.variant([gpu])`, as the original takes)."""
        architectures = tuple(
            kind
            for item in architectures
            for kind in (item if isinstance(item, (list, tuple)) else (item,))
        )
        for architecture in architectures:
            if not isinstance(architecture, _devices.Architecture):
                raise TypeError(f"variant() takes device kinds such as gpu, got {architecture!r}")
            if architecture.name in self._variants:
                raise ValueError(f"{self.__name__} already has a {architecture.name} variant")

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            for architecture in architectures:
                self._variants[architecture.name] = function
            return function

        return register

    def __call__(self, *args, **kwargs):
        kind = get_current_devices()[0].kind
        return self._variants.get(kind, self._default)(*args, **kwargs)


def specialize(function: Callable[..., Any]) -> _Specialized:
    """Declares a function with device-specific variants; the default body
    runs where no variant matches the current task's device."""
    return _Specialized(function)


__all__ = [
    "AtomicTaskSpace",
    "DeadlockError",
    "DependencyError",
    "Task",
    "TaskList",
    "TaskSpace",
    "get_current_context",
    "get_current_devices",
    "get_current_task",
    "spawn",
    "specialize",
]
