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


def _convert(root, line_offset: int, column_offset: int):
    """`root` as plain data. A loop, not recursion: a long expression
    (a sum of hundreds of terms) nests deeper than Python lets a function
    recurse, where `ast.parse` itself takes it."""
    done: list = []  # converted values, each node's children last
    # (value, expanded, field names): a value to convert, or a node or
    # list whose children are queued above it (expanded, with a node's
    # field names).
    work: list = [(root, False, ())]

    def children(count: int) -> list:
        taken = done[len(done) - count:]
        del done[len(done) - count:]
        return taken

    while work:
        value, expanded, names = work.pop()
        if expanded and isinstance(value, ast.AST):
            line = getattr(value, "lineno", 0)
            column = getattr(value, "col_offset", 0)
            done.append((
                type(value).__name__,
                line + line_offset if line else 0,
                column + column_offset + 1 if line else 0,
                list(zip(names, children(len(names)))),
            ))
        elif expanded:
            done.append(children(len(value)))
        elif isinstance(value, ast.AST):
            names = [name for name in value._fields if name not in _SKIPPED_FIELDS]
            work.append((value, True, names))
            work.extend((getattr(value, name, None), False, ()) for name in reversed(names))
        elif isinstance(value, list):
            work.append((value, True, ()))
            work.extend((item, False, ()) for item in reversed(value))
        elif value is None or isinstance(value, (bool, int, float, str)):
            done.append(value)
        else:
            done.append(_Other(type(value).__name__))  # complex, bytes, Ellipsis: named in the error
    return done[0]


class _Other:
    """A constant of a type JIT functions do not support."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind


# Python's builtins that JIT code reads as operations of its own
# (`max(a, b)` a comparison, `range` a loop's bounds).
BUILTINS_READ = frozenset({"abs", "bool", "float", "int", "len", "max", "min", "range", "round"})


def function_syntax(function: types.FunctionType, module) -> tuple[tuple, dict]:
    """(tree, file, lines, module names, function names) for
    `parla._parla.ParsedFunction`, and the builtins of `BUILTINS_READ` the
    function reads through a global or closure name, each with its first
    (line, column): a module that rebinds one of those names means
    something else by it than the compiler reads."""
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
    function_names = _function_names(function.__globals__)
    syntax = (data, file, file_lines, _module_names(function.__globals__, module), function_names)
    return syntax, _builtin_uses(tree, function, {name for name, _, _ in function_names}, first_line - 1, indent)


def _builtin_uses(tree: ast.AST, function: types.FunctionType, mapped: set, line_offset: int,
                  column_offset: int) -> dict:
    """{name: (line, column)} of the first read of each builtin of
    `BUILTINS_READ` through a name the function does not assign (a global
    or a variable of an enclosing function), except names bound to math or
    NumPy functions (`from numpy import abs`), which the compiler reads as
    those."""
    code = function.__code__
    # co_names also holds attribute names (`np.max`): a local of the name
    # is not the builtin either.
    outer = (set(code.co_names) | set(code.co_freevars)) - set(code.co_varnames) - set(code.co_cellvars)
    uses = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in BUILTINS_READ and node.id in outer and node.id not in mapped:
            position = (node.lineno + line_offset, node.col_offset + column_offset + 1)
            uses[node.id] = min(uses.get(node.id, position), position)
    return uses


def _module_names(globals_: dict, parir) -> list:
    """(global name, namespace) for each global bound to a module whose
    functions JIT functions may call: parir, math, numpy."""
    import math

    import numpy

    namespaces = {id(parir): "parir", id(math): "math", id(numpy): "numpy"}
    # A copy of the items: another thread may bind globals meanwhile.
    names = [(name, namespaces[id(value)]) for name, value in list(globals_.items()) if id(value) in namespaces]
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
    # A copy of the items: `getattr` runs Python code (a property, a
    # module's `__getattr__`), where another thread may bind globals.
    for name, value in list(globals_.items()):
        attribute = getattr(value, "__name__", None)
        if not isinstance(attribute, str):
            continue
        for namespace, module in (("math", math), ("numpy", numpy)):
            if getattr(module, attribute, None) is value:
                names.append((name, namespace, attribute))
                break
    return names
