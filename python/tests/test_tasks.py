"""The Parla task API: spawning, dependencies, capture, await, resources,
devices, names."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from parla import Parla, TaskSpace, spawn
from parla.devices import cpu, gpu
from parla.tasks import (
    AtomicTaskSpace,
    get_current_context,
    get_current_devices,
    get_current_task,
    specialize,
)


def test_dependencies_order_a_chain():
    order = []
    with Parla():
        T = TaskSpace("T")
        for i in range(50):
            @spawn(T[i], [T[i - 1]] if i else [])
            def step():
                order.append(i)
    assert order == list(range(50))


def test_dependencies_on_tasks_spawned_later():
    order = []
    with Parla():
        T = TaskSpace("T")

        @spawn(T[1], [T[0]])
        def second():
            order.append("second")

        time.sleep(0.02)

        @spawn(T[0])
        def first():
            order.append("first")
    assert order == ["first", "second"]


def test_slices_and_multidimensional_indices():
    seen = []
    with Parla():
        T = TaskSpace("G")
        for i in range(3):
            for j in range(2):
                @spawn(T[i, j])
                def cell():
                    seen.append((i, j))

        @spawn(T["done"], [T[0:3, 0:2]])
        def done():
            seen.append("done")
    assert seen[-1] == "done"
    assert sorted(seen[:-1]) == [(i, j) for i in range(3) for j in range(2)]
    assert repr(T[1, 0]) == "Task(G_1_0)"
    assert repr(T[0:2]) == "TaskList([Task(G_0), Task(G_1)])"
    assert T[2, 1] is T[2, 1]
    assert len(T[:4, 1]) == 4
    # A task list indexes and slices as a list does.
    row = T[0:4]
    assert repr(row[1:3]) == "TaskList([Task(G_1), Task(G_2)])"
    assert repr(row[::-2]) == "TaskList([Task(G_3), Task(G_1)])"
    assert row[-1] is T[3] and len(row[5:]) == 0
    with pytest.raises(TypeError, match="integers or slices, not str"):
        row["a"]


def test_a_task_space_is_not_iterable():
    T = TaskSpace("T")
    with pytest.raises(TypeError, match="not iterable"):
        list(T)
    with pytest.raises(TypeError, match="not iterable"):
        T[0] in T


def test_dependencies_may_be_any_iterable_of_tasks():
    finished, seen = set(), {}
    with Parla():
        T = TaskSpace("I")
        for i in range(3):
            @spawn(T[i])
            def first():
                time.sleep(0.02)
                finished.add(i)

        @spawn(T["set"], {T[0], T[1]})
        def from_a_set():
            seen["set"] = set(finished)

        @spawn(T["generator"], (T[k] for k in range(3)))
        def from_a_generator():
            seen["generator"] = set(finished)
    assert seen["set"] >= {0, 1} and seen["generator"] == {0, 1, 2}


def test_a_dependency_list_that_contains_itself_is_an_error():
    deps = []
    deps.append(deps)
    with pytest.raises(ValueError, match="contain itself"):
        with Parla():
            @spawn(dependencies=deps)
            def task():
                pass


def test_base_exceptions_of_several_tasks_form_a_base_exception_group():
    with pytest.raises(BaseExceptionGroup) as caught:
        with Parla():
            @spawn()
            def a():
                raise SystemExit(3)

            @spawn()
            def b():
                raise ValueError("v")
    assert sorted(type(e).__name__ for e in caught.value.exceptions) == ["SystemExit", "ValueError"]


def test_loop_variables_are_captured_by_value():
    results = {}
    with Parla():
        for i in range(8):
            value = i * 10

            @spawn()
            def task():
                results[i] = value
    assert results == {i: i * 10 for i in range(8)}


MODULE_LEVEL_TASKS = textwrap.dedent("""
    from parla import Parla, TaskSpace, spawn
    seen, result, counter = {}, None, 0
    with Parla():
        T = TaskSpace("T")
        for i in range(4):
            @spawn(T[i])
            def by_value():
                seen[i] = helper(i)  # helper is defined after this spawn

        @spawn(T[4], [T[0:4]])
        def producer():
            global result, counter
            result, counter = "produced", counter + 1

        @spawn(T[5], [T[4]])
        def consumer():
            seen["consumer"] = result

        def helper(k):
            return k * 10
    print(sorted(seen.items(), key=str), result, counter)

    # A consumer spawned before its producer, which assigns one global
    # itself and another through a module function.
    late, through = None, None
    def set_through(value):
        global through
        through = value
    with Parla():
        U = TaskSpace("U")
        @spawn(U["consumer"], [U["producer"]])
        def early_consumer():
            print(late, through)

        @spawn(U["producer"])
        def late_producer():
            global late
            late = "late"
            set_through("through")

    # eval and globals() see the module (a copy taken at spawn time).
    LIMIT = 10
    dynamic_seen = {}
    with Parla():
        for k in range(2):
            @spawn()
            def dynamic():
                dynamic_seen[k] = (eval("LIMIT * 2"), globals().get("LIMIT"), "Parla" in globals())
    for k, seen_k in sorted(dynamic_seen.items()):
        print(k, *seen_k)

    # A producer defined in a function (reading globals live) assigns one
    # that a module-level consumer, spawned while it runs, reads.
    import threading
    shared_value, spawned = 0, threading.Event()
    def produce_into(space):
        @spawn(space[0])
        def nested_producer():
            global shared_value
            spawned.wait(10)
            shared_value = 42
    with Parla():
        V = TaskSpace("V")
        produce_into(V)
        @spawn(V[1], [V[0]])
        def module_consumer():
            print("nested", shared_value)
        spawned.set()

    # Globals assigned by a method, and by a function reached through a
    # table (no name the writer's body uses leads to either).
    stored, tabled = None, None
    class Store:
        def put(self, value):
            global stored
            stored = value
    store = Store()
    def _set_tabled(value):
        global tabled
        tabled = value
    table = {"tabled": _set_tabled}
    with Parla():
        W = TaskSpace("W")
        @spawn(W[0], [W[1]])
        def reader():
            print("methods", stored, tabled)
        @spawn(W[1])
        def writer():
            store.put("stored")
            table["tabled"]("tabled")
""")

# Code run cell by cell (as a notebook does): the class that assigns the
# global was defined by code no longer running, so only the instance the
# writer names leads to it.
NOTEBOOK_CELLS = (
    """
from parla import Parla, TaskSpace, spawn
state = None
class Store:
    @property
    def value(self):
        return state
    @value.setter
    def value(self, v):
        global state
        state = v
    @classmethod
    def reset(cls):
        global state
        state = "reset"
store = Store()
""",
    """
with Parla():
    T = TaskSpace("T")
    @spawn(T[0], [T[1]])
    def consumer():
        print("consumer sees", state)
    @spawn(T[1])
    def producer():
        store.value = "via property"
    @spawn(T[2], [T[0]])
    def consumer_of_reset():
        print("then", state)
    @spawn(T[3], [T[2]])
    def resetter():
        Store.reset()
    @spawn(T[4], [T[3]])
    def last():
        print("finally", state)
""",
)


def test_module_level_tasks_of_a_package_import_relatively(tmp_path):
    """`from .sibling import x` in a task body spawned at a package
    module's top level resolves against that package, as it does outside
    the task."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sibling.py").write_text("VALUE = 42\n")
    (package / "main.py").write_text(textwrap.dedent("""
        import warnings
        warnings.simplefilter("error", ImportWarning)
        from parla import Parla, spawn
        with Parla():
            @spawn()
            def task():
                from .sibling import VALUE
                print(VALUE)
    """))
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    done = subprocess.run([sys.executable, "-m", "pkg.main"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_module_level_tasks_capture_globals_they_read_and_share_those_tasks_assign():
    done = subprocess.run([sys.executable, "-c", MODULE_LEVEL_TASKS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[:2] == [
        "[('consumer', 'produced'), (0, 0), (1, 10), (2, 20), (3, 30)] produced 1",
        "late through",
    ]
    assert lines[2:] == ["0 20 10 True", "1 20 10 True", "nested 42", "methods stored tabled"]


def test_module_level_tasks_share_globals_that_methods_of_earlier_cells_assign():
    script = "cells = %r\nnamespace = {'__name__': '__main__'}\nfor cell in cells:\n    exec(cell, namespace)\n"
    done = subprocess.run([sys.executable, "-c", script % (NOTEBOOK_CELLS,)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["consumer sees via property", "then via property", "finally reset"]


def test_task_return_values_through_await():
    got = []
    with Parla():
        T = TaskSpace("R")

        @spawn(T[0])
        def produce():
            return 41

        @spawn(T[1])
        async def consume():
            got.append(await T[0] + 1)

    assert got == [42]
    assert T[0].result == 41 and T[0].done


def test_callables_that_return_coroutines_run_as_async_bodies():
    import functools

    async def body(k):
        await T[0]
        return k * 2

    class Awaiting:
        async def __call__(self):
            return await T[0] + 1

    with Parla():
        T = TaskSpace("C")
        spawn(T[0])(lambda: 10)
        spawn(T[1])(functools.partial(body, 3))
        spawn(T[2])(Awaiting())
        spawn(T[3])(lambda: body(5))
    assert [T[i].result for i in range(1, 4)] == [6, 11, 10]


def test_generator_functions_are_not_task_bodies():
    def generator():
        yield 1

    async def async_generator():
        yield 1

    with Parla():
        for body in [generator, async_generator]:
            with pytest.raises(TypeError, match="is a generator function"):
                spawn()(body)


def test_await_a_space_and_a_slice_then_spawn_more():
    log = []
    with Parla():
        @spawn()
        async def main():
            T = TaskSpace("A")
            for i in range(4):
                @spawn(T[i])
                def work():
                    time.sleep(0.005)
                    log.append(i)
            await T[0:2]
            assert {0, 1} <= set(log)
            await T
            log.append("all")
            U = TaskSpace("B")

            @spawn(U[0])
            def later():
                log.append("later")

            await U[0]
            log.append("end")
    assert log[4:] == ["all", "later", "end"]


def test_awaiting_does_not_block_a_worker():
    # One worker: a task that awaits must give the worker back, or the
    # task it awaits could never run.
    with Parla(n_workers=1):
        T = TaskSpace("T")

        @spawn(T[0])
        async def waits():
            return await T[1]

        @spawn(T[1])
        def runs():
            return "ran"
    assert T[0].result == "ran"


def test_nested_spawns_and_with_parla_class_form():
    hits = []
    with Parla:
        @spawn()
        def outer():
            @spawn()
            def inner():
                hits.append("inner")
    assert hits == ["inner"]


def test_a_nested_class_form_block_that_fails_to_enter_leaves_the_outer_one_running():
    hits = []
    with Parla:
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with Parla:
                pass

        @spawn()
        def task():
            hits.append("ran")
    assert hits == ["ran"]
    with Parla():  # the runtime was closed
        pass


TASK_OUTLIVES_ITS_BLOCK = """
import time
from parla import Parla, spawn
try:
    with Parla():
        @spawn()
        def slow():
            time.sleep(0.2)
            for _ in range(20):
                time.sleep(0.1)
            print("task finished", flush=True)
        time.sleep(0.1)
        raise ValueError("left the block")
except ValueError:
    print("caught", flush=True)
"""


def test_the_interpreter_waits_at_exit_for_a_task_that_outlived_its_block():
    # The block's exit waits 1 s for running tasks; this one runs 2.2 s.
    # Python then waits for it as for a non-daemon thread, instead of
    # finalizing under it (which aborted the process).
    done = subprocess.run([sys.executable, "-c", TASK_OUTLIVES_ITS_BLOCK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["caught", "task", "finished"]
    assert "waiting for tasks still running" in done.stderr


TASK_NEVER_ENDS = """
import signal, time
# Ctrl-C as at a terminal, also where the test runs with SIGINT ignored
# (started in the background by a shell without job control).
signal.signal(signal.SIGINT, signal.default_int_handler)
from parla import Parla, spawn
print("started", flush=True)
try:
    with Parla(n_workers=2):
        @spawn()
        def forever():
            while True:
                time.sleep(0.01)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_a_second_ctrl_c_ends_the_wait_for_a_task_that_never_ends():
    # The first Ctrl-C leaves the block (after its short grace); the second
    # ends the wait at exit, and the process exits instead of aborting.
    import select
    import signal
    process = subprocess.Popen([sys.executable, "-c", TASK_NEVER_ENDS],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "started"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        readable, _, _ = select.select([process.stdout], [], [], 30)
        assert readable, "no output 30 s after Ctrl-C"
        assert process.stdout.readline().strip() == "interrupted"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "exiting without waiting for those tasks" in err


def test_an_unwritable_trace_path_is_an_error_before_the_block_runs(tmp_path):
    ran = []
    with pytest.raises(FileNotFoundError):
        with Parla(trace=tmp_path / "missing" / "trace.json"):
            ran.append(1)
    assert ran == []


def _peak_concurrency(vcus, n=6, workers=4):
    # Captured by value: share state through a mutable object.
    count = {"running": 0, "peak": 0}
    lock = threading.Lock()
    with Parla(n_workers=workers):
        for _ in range(n):
            @spawn(placement=cpu, vcus=vcus)
            def task():
                with lock:
                    count["running"] += 1
                    count["peak"] = max(count["peak"], count["running"])
                time.sleep(0.03)  # releases the GIL
                with lock:
                    count["running"] -= 1
    return count["peak"]


def test_nonlocal_writes_go_to_the_task_copy():
    # Captured by value, as the tutorial says: rebinding a captured name in
    # a task does not change the spawner's variable.
    total = 0
    with Parla():
        @spawn()
        def task():
            nonlocal total
            total += 1
    assert total == 0


def test_vcus_limit_concurrency():
    assert _peak_concurrency(1) == 1
    assert _peak_concurrency(0.5) == 2
    assert _peak_concurrency(0) > 2


def test_memory_reservations_are_checked():
    with Parla():
        with pytest.raises(ValueError, match="memory"):
            @spawn(memory=1 << 62)
            def too_big():
                pass

        @spawn(memory=1e6)  # a float number of bytes, as the tutorial writes it
        def fits():
            pass


def test_names_contexts_and_devices():
    seen = {}
    with Parla():
        T = TaskSpace("Device")

        @spawn(T["cpu", 0], placement=cpu)
        def task():
            seen["task"] = repr(get_current_task())
            seen["context"] = repr(get_current_context())
            seen["devices"] = get_current_devices()
    assert seen["task"] == "Task(Device_cpu_0)"
    assert seen["context"] == "CPUEnvironment(CPU:0)"
    assert seen["devices"] == [cpu(0)]
    assert get_current_task() is None
    assert repr(TaskSpace("T")) == "TaskSpace(T)"
    assert repr(gpu(1)) == "GPU:1"


def test_specialize_runs_the_default_body_on_the_cpu():
    @specialize
    def f(x):
        return ("default", x)

    @f.variant([gpu])  # a list, as the original takes
    def f_gpu(x):
        return ("gpu", x)

    out = []
    with Parla():
        @spawn(placement=[cpu, gpu])
        def task():
            out.append(f(3))
    assert out == [("default", 3)]
    with pytest.raises(ValueError, match="already has a gpu variant"):
        f.variant(gpu)


def test_atomic_task_space_is_a_task_space():
    with Parla():
        A = AtomicTaskSpace("A")

        @spawn(A[0])
        def one():
            return 1
    assert A[0].result == 1


def test_n_workers_and_environment(run_python):
    done = run_python(
        "from parla import Parla\n"
        "with Parla() as p:\n"
        "    print(p.n_workers)\n",
        env={"PARLA_NUM_THREADS": "3"},
    )
    assert done.stdout.strip() == "3", done.stderr


FINALIZERS_THAT_RELEASE_THE_GIL = """
import time
from parla import Parla, TaskSpace, spawn

class Resource:
    def __init__(self):
        self.me = self  # a cycle: freed by the garbage collector
    def __del__(self):
        time.sleep(0.0005)  # releases the GIL

with Parla(n_workers=2):
    T = TaskSpace("T")
    @spawn(T["reader"])
    def reader():
        for k in range(50000):
            T["peek", k % 50]
    for i in range(5000):
        Resource()
        T[i]
print("done")
"""


def test_a_space_indexed_while_finalizers_release_the_gil_does_not_hang():
    """Indexing a space may allocate a task, which may run the garbage
    collector's finalizers; one that releases the GIL let a task take it
    and wait for the space's lock, held by the thread that needed the GIL
    back."""
    done = subprocess.run([sys.executable, "-c", FINALIZERS_THAT_RELEASE_THE_GIL], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"


def test_the_device_modules_of_earlier_parla_releases_name_the_same_architectures():
    """`from parla.cpu import cpu` and `from parla.cuda import gpu`, as
    programs written for earlier Parla releases import them."""
    import parla.devices
    from parla.cpu import cpu as old_cpu
    from parla.cuda import gpu as old_gpu

    assert old_cpu is parla.devices.cpu and old_gpu is parla.devices.gpu
    with Parla():
        T = TaskSpace("T")

        @spawn(T[0], placement=old_cpu)
        def on_cpu():
            return 1
    assert T[0].result == 1
