"""Capturing a module-level task body's globals by value.

Tasks capture the variables of the scope they are spawned in by value. For
a function defined inside another function those are its closure cells
(copied in Rust; it reads globals from the module itself, and the globals
it assigns become shared as below); for one defined at module level they are module globals,
so the body gets a snapshot of the globals it names, taken at spawn time:
`for i in range(4): @spawn(T[i]) ...` at module level sees each `i`.

Names the body reads that did not exist at spawn time (a helper defined
after the `@spawn`) are looked up in the module when the task runs. A body
that calls eval, exec or globals() gets a copy of the whole
module (those read the globals dict directly). A body
that assigns globals (`global x; x = ...`, itself or through a module
function it calls) works on the module itself, and the globals it assigns
are shared from then on: bodies read them from the module when they run (a
consumer sees what its producer stored), as the tutorial says globals
behave; bodies spawned before the one that assigns (a consumer spawned
before its producer) drop them from their snapshots.
"""

import dis
import functools
import types
import weakref

_WRITES = {"STORE_GLOBAL", "DELETE_GLOBAL"}
# Builtins that read a function's globals dict as a whole.
_DYNAMIC = frozenset({"eval", "exec", "globals"})

# Per module (by its globals dict's id): the names task bodies assign.
_shared: dict[int, set[str]] = {}
# Per module: the snapshots of bodies that may still run (weak references,
# swept when the list doubles).
_snapshots: dict[int, list] = {}
_sweep_at: dict[int, int] = {}


def _remember(module_id: int, snapshot) -> None:
    """Registers a snapshot; dead ones are dropped when the list doubles,
    so registering stays cheap (a spawn pays for it)."""
    references = _snapshots.setdefault(module_id, [])
    references.append(weakref.ref(snapshot))
    if len(references) >= _sweep_at.get(module_id, 64):
        references[:] = [r for r in references if r() is not None]
        _sweep_at[module_id] = max(64, 2 * len(references))


class _Snapshot(dict):
    """The globals a task body named at spawn time; anything else is the
    module's, as it is when the task runs."""

    __slots__ = ("module", "__weakref__")

    def __missing__(self, name):
        return self.module[name]


def _code_objects(code: types.CodeType):
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


@functools.lru_cache(maxsize=4096)
def _globals_of(code: types.CodeType) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """The globals a body assigns, the names it uses, and whether it reads
    the globals dict as a whole (eval, exec, globals()): once per code
    object (a loop spawns the same body many times; decoding its bytecode
    on every spawn doubled the cost of spawning)."""
    codes = list(_code_objects(code))
    assigned = frozenset(
        instruction.argval
        for inner in codes
        for instruction in dis.get_instructions(inner)
        if instruction.opname in _WRITES
    )
    names = tuple(dict.fromkeys(name for inner in codes for name in inner.co_names))
    return assigned, names, not _DYNAMIC.isdisjoint(names)


def _module_functions(names, module: dict) -> list[types.FunctionType]:
    """The functions of `module` among `names`."""
    get = module.get
    return [f for name in names if type(f := get(name)) is types.FunctionType and f.__globals__ is module]


def _assigned_globals(code: types.CodeType, names, module: dict) -> frozenset[str]:
    """The globals a body assigns itself or through the module's functions
    it calls (`def set_x(): global x; ...`), followed transitively."""
    assigned, _, _ = _globals_of(code)
    seen = {code}
    pending = _module_functions(names, module)
    while pending:
        helper = pending.pop()
        if helper.__code__ in seen:
            continue
        seen.add(helper.__code__)
        helper_assigned, helper_names, _ = _globals_of(helper.__code__)
        assigned = assigned | helper_assigned
        pending.extend(_module_functions(helper_names, module))
    return assigned


_MODULE_IDENTITY = ("__builtins__", "__name__", "__package__", "__spec__", "__path__", "__file__", "__loader__")


def _share(module: dict, assigned: frozenset[str]) -> None:
    """From now on, bodies read `assigned` from the module when they run;
    snapshots taken earlier drop them."""
    shared = _shared.setdefault(id(module), set())
    newly = assigned - shared
    if newly:
        shared.update(newly)
        for reference in _snapshots.get(id(module), ()):
            earlier = reference()
            if earlier is not None:
                for name in newly:
                    earlier.pop(name, None)


def share_assigned_globals(function: types.FunctionType) -> None:
    """For a body defined in a function (which reads the module's globals
    live): the globals it assigns, itself or through the module's
    functions it calls, become shared, so module-level bodies read what it
    stores instead of their snapshots."""
    module = function.__globals__
    code = function.__code__
    assigned_here, names, _ = _globals_of(code)
    if assigned_here or _module_functions(names, module):
        assigned = _assigned_globals(code, names, module)
        if assigned:
            _share(module, assigned)


def with_global_snapshot(function: types.FunctionType) -> types.FunctionType:
    module = function.__globals__
    _, names, reads_whole_dict = _globals_of(function.__code__)
    assigned = _assigned_globals(function.__code__, names, module)
    if assigned:
        _share(module, assigned)
        return function
    shared = _shared.get(id(module), ())
    # What Python's own machinery reads from the globals dict directly,
    # past `__missing__`: builtins, and the module's identity, which
    # relative imports (`from .sibling import x`) resolve against.
    snapshot = _Snapshot(
        {name: module[name] for name in _MODULE_IDENTITY if name in module}
    )
    snapshot.module = module
    if reads_whole_dict:
        # eval/exec/globals() read the globals dict directly, past
        # `__missing__`: such a body gets the whole module, copied.
        snapshot.update((k, v) for k, v in module.items() if k not in shared)
    else:
        for name in names:
            if name in module and name not in shared:
                snapshot[name] = module[name]
    _remember(id(module), snapshot)
    copy = types.FunctionType(
        function.__code__, snapshot, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return copy
