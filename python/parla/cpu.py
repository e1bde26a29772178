"""`from parla.cpu import cpu`, as earlier Parla releases spelled it: the
CPU architecture of `parla.devices`."""

from .devices import cpu

__all__ = ["cpu"]
