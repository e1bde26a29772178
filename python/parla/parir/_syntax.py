"""A JIT function's Python syntax tree as plain data for the compiler:
`(kind, line, column, [(field, value), ...])` per node, with positions in
the function's file (1-based line and column)."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types

_SKIPPED_FIELDS = {"ctx", "type_comment", "decorator_list", "returns", "type_params", "kind"}


def _convert(value, line_offset: int, column_offset: int):
    if isinstance(value, ast.AST):
        line = getattr(value, "lineno", 0)
        column = getattr(value, "col_offset", 0)
        fields = [
            (name, _convert(getattr(value, name, None), line_offset, column_offset))
            for name in value._fields
            if name not in _SKIPPED_FIELDS
        ]
        return (
            type(value).__name__,
            line + line_offset if line else 0,
            column + column_offset + 1 if line else 0,
            fields,
        )
    if isinstance(value, list):
        return [_convert(v, line_offset, column_offset) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _Other(type(value).__name__)  # complex, bytes, Ellipsis: named in the error


class _Other:
    """A constant of a type JIT functions do not support."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind


def function_syntax(function: types.FunctionType, module) -> tuple:
    """(tree, file, lines, module names, function names) for
    `parla._parla.ParsedFunction`."""
    try:
        lines, first_line = inspect.getsourcelines(function)
        file = inspect.getsourcefile(function) or "<unknown>"
    except (OSError, TypeError) as error:
        raise TypeError(f"@parir.jit needs the source code of {function.__qualname__}: {error}") from None
    source = "".join(lines)
    indent = len(lines[0]) - len(lines[0].lstrip())
    tree = ast.parse(textwrap.dedent(source)).body[0]
    data = _convert(tree, first_line - 1, indent)
    file_lines = [line.rstrip("\n") for line in linecache.getlines(file)] or [l.rstrip("\n") for l in lines]
    if not linecache.getlines(file):
        # No file (e.g. exec'd code): number the snippet from its first line.
        file_lines = [""] * (first_line - 1) + file_lines
    return data, file, file_lines, _module_names(function.__globals__, module), _function_names(function.__globals__)


def _module_names(globals_: dict, parir) -> list:
    """(global name, namespace) for each global bound to a module whose
    functions JIT functions may call: parir, math, numpy."""
    import math

    import numpy

    namespaces = {id(parir): "parir", id(math): "math", id(numpy): "numpy"}
    names = [(name, namespaces[id(value)]) for name, value in globals_.items() if id(value) in namespaces]
    if not any(namespace == "parir" for _, namespace in names):
        names.append(("parir", "parir"))
    return names


def _function_names(globals_: dict) -> list:
    """(global name, namespace, attribute) for each global bound to a
    function or scalar type of math or NumPy (`from math import sqrt`,
    `from numpy import floor, float32`): the compiler decides which it
    supports. parir's functions are NumPy's."""
    import math

    import numpy

    names = []
    for name, value in globals_.items():
        attribute = getattr(value, "__name__", None)
        if not isinstance(attribute, str):
            continue
        for namespace, module in (("math", math), ("numpy", numpy)):
            if getattr(module, attribute, None) is value:
                names.append((name, namespace, attribute))
                break
    return names
