"""Devices tasks are placed on: `cpu`, `gpu`, `gpu(i)`.

The runtime's device table lists the host CPU (device 0, all of its cores
as one device), then each GPU the CUDA driver reports (device i + 1 is
`gpu(i)`). A placement that names only GPUs fails with
DeviceUnavailableError on a machine without one.
"""

from __future__ import annotations

import functools
from typing import Iterable


class DeviceUnavailableError(RuntimeError):
    """A placement that names only devices this runtime does not have."""


class Device:
    """One device: `cpu(0)`, `gpu(1)`."""

    __slots__ = ("architecture", "index")

    def __init__(self, architecture: "Architecture", index: int):
        self.architecture = architecture
        self.index = index

    @property
    def kind(self) -> str:
        return self.architecture.name

    def __repr__(self) -> str:
        return f"{self.architecture.name.upper()}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Device)
            and other.architecture is self.architecture
            and other.index == self.index
        )

    def __hash__(self) -> int:
        return hash((self.architecture.name, self.index))


class Architecture:
    """A kind of device. `cpu` and `gpu` place a task on any device of the
    kind; `gpu(i)` on one."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __call__(self, index: int = 0) -> Device:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{self.name}(i) takes a device number, got {index!r}")
        if index < 0:
            raise ValueError(f"{self.name}(i) takes a device number >= 0, got {index}")
        return Device(self, index)

    def __repr__(self) -> str:
        return self.name


cpu = Architecture("cpu")
gpu = Architecture("gpu")

@functools.lru_cache(maxsize=1)
def device_table() -> tuple[Device, ...]:
    """The devices of the runtime, by their number in its device table."""
    from . import _parla

    kinds = {"cpu": cpu, "gpu": gpu}
    return tuple(kinds[kind](ordinal) for kind, ordinal in _parla.device_table())


class Environment:
    """Where a task runs: printed like `CPUEnvironment(CPU:0)`."""

    def __init__(self, devices: Iterable[Device]):
        self.devices = list(devices)

    def __repr__(self) -> str:
        kind = self.devices[0].kind.upper() if self.devices else "CPU"
        inner = ", ".join(repr(d) for d in self.devices)
        return f"{kind}Environment({inner})"

    def __iter__(self):
        return iter(self.devices)


@functools.lru_cache(maxsize=1)
def _why_no_gpu() -> str:
    from . import cuda

    reason = cuda.unavailable_reason()
    if reason is not None:
        return f"no GPU is available: {reason}"
    return "the runtime's device table has no GPU"


def _missing_gpu(item, count: int) -> str:
    """Why `item`, a gpu(i) not in the device table, is not there."""
    from . import cuda

    why = cuda.unusable().get(item.index)
    if why is not None:
        return f"{item!r} could not be set up: {why}"
    return f"{item!r} does not exist: this machine has {count} GPU(s)"


def _resolve_placement(placement) -> list[int]:
    """The device numbers a placement allows, in order of preference.

    Raises TypeError for something that is not a device, ValueError for a
    device that cannot exist, DeviceUnavailableError when no allowed device
    is present."""
    items = list(placement) if isinstance(placement, (list, tuple, set, frozenset)) else [placement]
    if not items:
        raise ValueError("placement lists at least one device, e.g. placement=[cpu, gpu]")
    table = device_table()
    gpus = [number for number, device in enumerate(table) if device.architecture is gpu]
    ids: list[int] = []

    def allow(number: int) -> None:
        if number not in ids:
            ids.append(number)

    wanted_gpu = False
    for item in items:
        if item is cpu or (isinstance(item, Device) and item.architecture is cpu):
            if isinstance(item, Device) and item.index != 0:
                raise ValueError(f"{item!r} does not exist: the CPU is one device, cpu(0)")
            allow(0)
        elif item is gpu:
            wanted_gpu = True
            for number in gpus:
                allow(number)
        elif isinstance(item, Device) and item.architecture is gpu:
            wanted_gpu = True
            # gpu(i) is CUDA's GPU i, as in CuPy and Torch.
            numbers = [number for number in gpus if table[number].index == item.index]
            if numbers:
                allow(numbers[0])
            elif gpus:
                raise ValueError(_missing_gpu(item, len(gpus)))
        else:
            raise TypeError(
                f"placement takes cpu, gpu, gpu(i) or a list of them, got {item!r} ({type(item).__name__})"
            )
    if not ids:
        assert wanted_gpu
        raise DeviceUnavailableError(f"placement={placement!r} needs a GPU, but {_why_no_gpu()}")
    return ids


__all__ = ["Architecture", "Device", "DeviceUnavailableError", "Environment", "cpu", "device_table", "gpu"]
