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
that assigns globals (`global x; x = ...`) works on the module itself.
The globals that any function or method of the spawning module's code
assigns, or one of the module reached from a name a body uses (a
function, a class, an instance of one: notebook cells are separate code),
are shared from then on: bodies read them from the module when they run (a
consumer sees what its producer stored), as the tutorial says globals
behave; bodies spawned before the one that assigns (a consumer spawned
before its producer) drop them from their snapshots.
"""

import dis
import functools
import sys
import types
import weakref

_WRITES = {"STORE_GLOBAL", "DELETE_GLOBAL"}
# Builtins that read a function's globals dict as a whole.
_DYNAMIC = frozenset({"eval", "exec", "globals"})

# Per module (by its globals dict's id): the names task bodies assign.
_shared: dict[int, set[str]] = {}
# The module code objects already scanned for the globals their functions
# assign (by id; the code is kept so the id stays its own).
_scanned_module_code: dict[int, types.CodeType] = {}
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


# By the code object's id, with the code itself (so the id stays its own):
# hashing a code object hashes its constants, nested code included, which
# cost more than the rest of a lookup.
_globals_by_code: dict[int, tuple] = {}


def _globals_of(code: types.CodeType) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """The globals a body assigns, the names it uses, and whether it reads
    the globals dict as a whole (eval, exec, globals()): once per code
    object (a loop spawns the same body many times; decoding its bytecode
    on every spawn doubled the cost of spawning)."""
    entry = _globals_by_code.get(id(code))
    if entry is not None and entry[0] is code:
        return entry[1]
    if len(_globals_by_code) >= 4096:
        _globals_by_code.clear()
    found = _decode_globals(code)
    _globals_by_code[id(code)] = (code, found)
    return found


def _decode_globals(code: types.CodeType) -> tuple[frozenset[str], tuple[str, ...], bool]:
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
    """The functions of `module` among `names`: its functions, and the
    methods of its classes and of their instances (`store.put(v)` may
    assign a global)."""
    functions = []
    get = module.get
    module_name = get("__name__")
    for name in names:
        value = get(name)
        kind = type(value)
        if kind is types.FunctionType:
            if value.__globals__ is module:
                functions.append(value)
        elif kind in _PLAIN_VALUES:
            continue
        elif kind.__module__ == module_name:
            functions.extend(f for f in _methods(kind) if f.__globals__ is module)
        elif kind is type and value.__module__ == module_name:
            functions.extend(f for f in _methods(value) if f.__globals__ is module)
    return functions


# Kinds of values a body commonly names that define no methods of the module.
_PLAIN_VALUES = frozenset({type(None), int, float, complex, bool, str, bytes, tuple, list, dict, set, types.ModuleType})


@functools.lru_cache(maxsize=1024)
def _methods(cls: type) -> tuple[types.FunctionType, ...]:
    """The functions a class and its bases from the same module define
    (methods, static and class methods, property accessors): once per
    class, as a spawn pays for it."""
    functions = []
    for klass in cls.__mro__:
        if klass.__module__ != cls.__module__:
            continue
        for member in vars(klass).values():
            if isinstance(member, (staticmethod, classmethod)):
                members = (member.__func__,)
            elif isinstance(member, property):
                members = (member.fget, member.fset, member.fdel)
            else:
                members = (member,)
            functions.extend(f for f in members if type(f) is types.FunctionType)
    return tuple(functions)


def _assigned_globals(code: types.CodeType, names, module: dict) -> frozenset[str]:
    """The globals a body assigns itself or through the module's functions
    it calls (`def set_x(): global x; ...`), followed transitively."""
    assigned, _, _ = _globals_of(code)
    pending = _module_functions(names, module)
    if not pending:
        return assigned
    seen = {id(code)}  # ids: hashing a code object hashes its constants
    while pending:
        helper = pending.pop().__code__
        if id(helper) in seen:
            continue
        seen.add(id(helper))
        helper_assigned, helper_names, _ = _globals_of(helper)
        if helper_assigned:
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


def _share_what_the_spawning_module_assigns(module: dict) -> None:
    """The globals that any function of the spawning module's code assigns
    (`global x` in a method, or in a function reached through a table or
    an attribute, which following the names a body uses cannot find)
    become shared. Module-level statements store with STORE_NAME, so the
    module code's STORE_GLOBALs are exactly its functions' (and classes'
    methods') assignments. Scanned once per module code object."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals is not module:
        frame = frame.f_back
    if frame is None:
        return
    code = frame.f_code
    if code.co_name != "<module>" or _scanned_module_code.get(id(code)) is code:
        return
    _scanned_module_code[id(code)] = code
    assigned, _, _ = _globals_of(code)
    if assigned:
        _share(module, assigned)


def with_global_snapshot(function: types.FunctionType) -> types.FunctionType:
    module = function.__globals__
    _share_what_the_spawning_module_assigns(module)
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
