"""Capturing a module-level task body's globals by value.

Tasks capture the variables of the scope they are spawned in by value. For
a function defined inside another function those are its closure cells
(copied in Rust); for one defined at module level they are module globals,
so the body gets a snapshot of the globals it names, taken at spawn time:
`for i in range(4): @spawn(T[i]) ...` at module level sees each `i`.
"""

import types


def _names(code: types.CodeType, into: set) -> set:
    into.update(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            _names(constant, into)
    return into


def with_global_snapshot(function: types.FunctionType) -> types.FunctionType:
    module = function.__globals__
    snapshot = {
        "__builtins__": module.get("__builtins__"),
        "__name__": module.get("__name__"),
    }
    for name in _names(function.__code__, set()):
        if name in module:
            snapshot[name] = module[name]
    copy = types.FunctionType(
        function.__code__, snapshot, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return copy
