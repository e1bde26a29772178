"""Faults and bad input: failing tasks, stuck graphs, wrong arguments,
Ctrl-C. Nothing hangs, and every error says what went wrong."""

import json
import re
import signal
import subprocess
import sys
import time
import traceback

import pytest

from parla import DeadlockError, DependencyError, Parla, TaskSpace, spawn
from parla.devices import DeviceUnavailableError, cpu, gpu
import parla.cuda as cuda


def failing_body():
    raise ZeroDivisionError("deliberate")


def test_a_task_exception_surfaces_at_exit_with_its_task_and_traceback():
    ran = []
    with pytest.raises(ZeroDivisionError, match="deliberate") as caught:
        with Parla():
            T = TaskSpace("T")

            @spawn(T[0])
            def bad():
                failing_body()

            @spawn(T[1], [T[0]])
            def dependent():
                ran.append("dependent")

            @spawn(T[2], [T[1]])
            def grandchild():
                ran.append("grandchild")

            @spawn(T[3])
            def unrelated():
                ran.append("unrelated")
    assert ran == ["unrelated"]
    assert "raised in Task(T_0)" in caught.value.__notes__
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "bad" in frames and "failing_body" in frames


def test_several_failures_raise_an_exception_group():
    with pytest.raises(ExceptionGroup) as caught:
        with Parla():
            for i in range(3):
                @spawn()
                def bad():
                    raise ValueError(f"bad {i}")
    assert sorted(str(e) for e in caught.value.exceptions) == ["bad 0", "bad 1", "bad 2"]


def test_awaiting_a_failed_task_raises_in_the_awaiting_task():
    seen = []
    with pytest.raises(KeyError):
        with Parla():
            T = TaskSpace("T")

            @spawn(T[0])
            def bad():
                raise KeyError("missing")

            @spawn(T[1])
            async def waits():
                try:
                    await T[0]
                except DependencyError as error:
                    seen.append(str(error))
                    seen.append(type(error.__cause__).__name__)
    assert seen == ["awaited Task(T_0) failed", "KeyError"]


def test_a_dependency_never_spawned_is_reported_not_hung():
    start = time.monotonic()
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T = TaskSpace("T")

            @spawn(T[0], [T[9]])
            def waits():
                pass
    message = str(caught.value)
    assert "Task(T_0) waits for Task(T_9), which was never spawned" in message
    assert time.monotonic() - start < 10


def test_distinct_tasks_that_print_alike_are_told_apart_in_a_deadlock():
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T = TaskSpace("T")

            @spawn(T[1], [T["1"]])
            def waits():
                pass
    message = str(caught.value)
    assert "Task(T_1)#1 waits for Task(T_1)#2, which was never spawned" in message
    assert "different tasks with the same name" in message


def test_a_chain_behind_a_missing_task_is_not_called_a_cycle_and_long_ones_are_cut():
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T = TaskSpace("T")
            for i in range(100):
                spawn(T[i], [T[i + 1]])(lambda: None)
    lines = str(caught.value).splitlines()
    # The cause first, however long the chain behind it.
    assert lines[1] == "  Task(T_99) waits for Task(T_100), which was never spawned"
    assert "Task(T_0) waits for Task(T_1), which can never run either" in lines[2]
    assert "cycle" not in str(caught.value)
    assert lines[-1] == "  ... and 80 more" and len(lines) == 22


def test_what_one_stuck_task_waits_for_is_cut_too_causes_first():
    """A task waiting for a big slice once listed every task of it (8 MB
    of message for T[0:200000]); the line shows the first few, the
    missing ones before those that merely wait."""
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T = TaskSpace("T")
            spawn(T["first"], [T[0]])(lambda: None)
            spawn(T["x"], [T["first"], T[0:200_000]])(lambda: None)
    text = str(caught.value)
    assert len(text) < 2000, len(text)
    line = next(line for line in text.splitlines() if line.startswith("  Task(T_x) waits for "))
    assert line.startswith("  Task(T_x) waits for Task(T_0), which was never spawned; ")
    assert line.endswith("; ... and 199993 more"), line
    assert "Task(T_first)" not in line  # merely waiting: after the 8 missing ones shown


def test_awaiting_a_task_outside_tasks_says_so():
    """Only a task's runtime understands what awaiting a task yields:
    under asyncio it was "Task got bad yield", and a coroutine driven by
    hand blamed an earlier block for a task of this one."""
    import asyncio

    with Parla(n_workers=2):
        T = TaskSpace("T")

        @spawn(T[0])
        def slow():
            time.sleep(0.05)
            return 5

        async def waits_for(tasks):
            return await tasks

        for tasks, named in ((T[0], "Task(T_0)"), (T[0:2], "tasks")):
            with pytest.raises(RuntimeError, match=rf"^{re.escape(named)} awaited outside a Parla task: "):
                asyncio.run(waits_for(tasks))
            with pytest.raises(RuntimeError, match="awaited outside a Parla task"):
                waits_for(tasks).send(None)

        @spawn(T[1])
        async def inside():
            return await waits_for(T[0])
    assert T[1].result == 5


def test_task_space_slices_of_absurd_size_are_value_errors():
    T = TaskSpace("T")
    with pytest.raises(ValueError, match="names 1000000000000 tasks; slices name at most"):
        T[0:10**12]
    with pytest.raises(ValueError, match="slices name at most"):
        T[0:2**62, 0:2**62]
    with pytest.raises(ValueError, match="names 18446744073709551616 tasks"):
        T[0:2**16, 0:2**16, 0:2**16, 0:2**16]
    # An empty dimension names no task (and builds none of the others').
    assert len(T[0:2**16, 0:2**16, 0:0]) == 0
    assert len(T[0:0, 0:2**30]) == 0 and len(T[5:1, 0:2**62]) == 0
    assert [t.name for t in T[-2**63:-2**63 + 3:2, 2**63 - 2:2**63 - 1]] == [
        f"T_{-2**63}_{2**63 - 2}", f"T_{-2**63 + 2}_{2**63 - 2}"]
    assert [t.name for t in T[-2**63:2**63 - 1:2**62]] == [f"T_{k * 2**62}" for k in range(-2, 2)]


class _BrokenIndex:
    def __index__(self):
        raise ZeroDivisionError("its own error")


@pytest.mark.parametrize("index, error, message", [
    (lambda T: T[2**70], ValueError, r"fit 64 bits .*got 1180591620717411303424"),
    (lambda T: T[2**63 - 3:2**63 + 5], ValueError, "fit 64 bits"),
    (lambda T: T[-2**63 - 1:0], ValueError, "fit 64 bits"),
    (lambda T: T[0:10:2**63], ValueError, "fit 64 bits"),
    (lambda T: T['a':'b'], TypeError, r"need integer bounds, e.g. T\[0:4\], got str"),
    (lambda T: T[0:3][2**70], IndexError, "task list index out of range"),
    (lambda T: TaskSpace(5), TypeError, "a TaskSpace's name is a string"),
    (lambda T: T[_BrokenIndex()], ZeroDivisionError, "its own error"),
])
def test_task_indices_out_of_range_or_of_the_wrong_type_say_so(index, error, message):
    import numpy as np
    T = TaskSpace("T")
    assert T[np.int64(3)] is T[3] and len(T[0:np.int64(2)]) == 2
    with pytest.raises(error, match=message):
        index(TaskSpace("T"))


def test_a_cycle_is_reported():
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T = TaskSpace("C")

            @spawn(T[0], [T[1]])
            def a():
                pass

            @spawn(T[1], [T[0]])
            def b():
                pass
    message = str(caught.value)
    assert "Task(C_0) waits for Task(C_1), which is itself waiting (a cycle)" in message
    assert "Task(C_1) waits for Task(C_0), which is itself waiting (a cycle)" in message


def test_long_cycles_and_chains_are_reported_as_soon_as_short_ones():
    """Finding the cycles takes time linear in the stuck tasks (it once
    searched the graph from every task, for minutes at 10^4 tasks); a
    cycle with a chain leading into it names the cycle's tasks first."""
    n = 20_000
    with pytest.raises(DeadlockError) as caught:
        with Parla():
            T, C = TaskSpace("T"), TaskSpace("C")
            for i in range(n):
                spawn(C[i], [C[(i + 1) % n]])(lambda: None)
            for i in range(n):
                spawn(T[i], [T[i + 1] if i + 1 < n else C[0]])(lambda: None)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{2 * n} task(s) can never run")
    assert all("which is itself waiting (a cycle)" in line for line in lines[1:21])
    assert all(line.startswith("  Task(C_") for line in lines[1:21])


def test_an_await_that_can_never_finish_is_reported():
    with pytest.raises(DeadlockError, match=r"Task\(W_0\) waits for Task\(W_1\), which was never spawned"):
        with Parla():
            W = TaskSpace("W")

            @spawn(W[0])
            async def waits():
                await W[1]


def test_spawning_a_task_twice_is_an_error():
    with Parla():
        T = TaskSpace("T")

        @spawn(T[0])
        def once():
            pass

        with pytest.raises(ValueError, match=r"Task\(T_0\) was already spawned"):
            @spawn(T[0])
            def twice():
                pass


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"vcus": -1}, ValueError, "vcus must be between 0 and 1"),
        ({"vcus": 2}, ValueError, "vcus must be between 0 and 1"),
        ({"vcus": 10**400}, ValueError, "vcus must be between 0 and 1 .*, got 1000.*\\(401 characters\\)"),
        ({"vcus": "half"}, TypeError, "vcus must be a number, got 'half'"),
        ({"vcus": True}, TypeError, "vcus must be a number"),
        ({"memory": "1GB"}, TypeError, "memory must be a number, got '1GB'"),
        ({"memory": -5}, ValueError, "memory must be a non-negative number of bytes"),
        ({"placement": "tpu"}, TypeError, "placement takes cpu, gpu, gpu\\(i\\) or a list of them, got 'tpu'"),
        ({"placement": []}, ValueError, "placement lists at least one device"),
        ({"placement": cpu(1)}, ValueError, "CPU:1 does not exist"),
        ({"dependencies": [3]}, TypeError, "dependencies are tasks"),
        ({"taskid": "T0"}, TypeError, "spawn\\(\\) takes one task id"),
        ({"taskid": print}, TypeError, "to spawn an anonymous task, write @spawn\\(\\) with parentheses"),
    ],
)
def test_bad_spawn_arguments(kwargs, error, message):
    with Parla():
        with pytest.raises(error, match=message):
            spawn(**kwargs)


def test_memory_no_device_has_says_what_the_devices_have():
    with Parla():
        with pytest.raises(ValueError, match=r"memory=1e\+30 bytes \(more than 16 EiB\) is more than any device "
                           r"of the placement has: CPU:0 has [0-9.]+ GiB"):
            @spawn(memory=1e30)
            def huge():
                pass

        with pytest.raises(ValueError, match=r"memory=\d+ bytes \(\d+\.\d EiB\) is more than"):
            @spawn(memory=2**63)
            def large():
                pass


@pytest.mark.skipif(bool(cuda.devices()), reason="this machine has a GPU")
def test_gpu_placement_without_a_gpu_names_what_is_missing():
    with Parla():
        with pytest.raises(DeviceUnavailableError, match="placement=gpu needs a GPU, but"):
            @spawn(placement=gpu)
            def on_gpu():
                pass

        with pytest.raises(DeviceUnavailableError):
            spawn(placement=[gpu(0), gpu(1)])


def test_spawn_outside_a_parla_block():
    with pytest.raises(RuntimeError, match="inside `with Parla\\(\\):`"):
        @spawn()
        def orphan():
            pass


def test_decorating_something_that_is_not_callable():
    with Parla():
        with pytest.raises(TypeError, match="decorates a function"):
            spawn()(42)


def test_parla_blocks_do_not_nest_and_worker_counts_are_checked():
    with Parla():
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with Parla():
                pass
    for n in [0, 2**70]:
        with pytest.raises(ValueError, match="n_workers must be from 1 to 65536"):
            Parla(n_workers=n)
    with pytest.raises(TypeError, match="n_workers must be a positive int"):
        Parla(n_workers="4")


def test_a_bad_worker_count_in_the_environment(run_python):
    done = run_python("from parla import Parla\nParla()\n", env={"PARLA_NUM_THREADS": "many"})
    assert done.returncode != 0
    assert "PARLA_NUM_THREADS must be a whole number of worker threads from 1 to 65536, got 'many'" in done.stderr


def test_an_error_in_the_block_cancels_and_propagates():
    ran = []
    with pytest.raises(NameError):
        with Parla():
            T = TaskSpace("T")

            @spawn(T[1], [T[0]])
            def never():
                ran.append(1)

            undefined_name  # noqa: F821
    assert ran == []


def test_ctrl_c_stops_the_runtime_promptly():
    program = (
        "import signal, time\n"
        # Ctrl-C as at a terminal, also where the test runs with SIGINT
        # ignored (started in the background by a shell without job control).
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from parla import Parla, spawn\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    with Parla(n_workers=2):\n"
        "        for i in range(1000):\n"
        "            @spawn()\n"
        "            def slow():\n"
        "                time.sleep(0.05)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "started"
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.strip() == "interrupted"
    # 1000 x 50 ms on 2 workers would take 25 s; stopping must not wait.
    assert time.monotonic() - sent < 5


def test_trace_file(tmp_path, run_python):
    trace = tmp_path / "trace.json"
    done = run_python(
        "from parla import Parla, TaskSpace, spawn\n"
        "with Parla(n_workers=2):\n"
        "    T = TaskSpace('T')\n"
        "    for i in range(5):\n"
        "        @spawn(T[i], [T[i - 1]] if i else [])\n"
        "        def step():\n"
        "            pass\n",
        env={"PARLA_TRACE": str(trace)},
    )
    assert done.returncode == 0, done.stderr
    events = json.loads(trace.read_text())["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert sorted(e["name"] for e in slices) == [f"T_{i}" for i in range(5)]
    assert all(e["dur"] >= 0 and "tid" in e for e in slices)
    starts = [e for e in events if e["ph"] == "s"]
    finishes = [e for e in events if e["ph"] == "f"]
    assert len(starts) == len(finishes) == 4
    threads = [e for e in events if e.get("name") == "thread_name"]
    assert threads


def test_trace_argument(tmp_path):
    path = tmp_path / "t.json"
    with Parla(trace=path):
        @spawn()
        def one():
            pass
    assert json.loads(path.read_text())["traceEvents"]
    # The original's `logfile=` names the same file.
    log = tmp_path / "parla.blog"
    with Parla(logfile=log):
        @spawn()
        def two():
            pass
    assert json.loads(log.read_text())["traceEvents"]
    with pytest.raises(ValueError, match="name two files for one trace"):
        Parla(trace=path, logfile=log)


class Held:
    """An object a failing task's frame holds, to watch it being freed."""


def test_failed_tasks_exceptions_and_results_that_refer_back_are_collected():
    import gc
    import weakref

    freed = []
    for _ in range(3):
        try:
            with Parla(n_workers=2):
                T = TaskSpace("T")

                @spawn(T[0])
                def fails():
                    local = Held()
                    freed.append(weakref.ref(local))
                    raise ValueError("deliberate")

                @spawn(T[1])
                def returns_its_space():
                    held = Held()
                    freed.append(weakref.ref(held))
                    return (T, held)  # a cycle through the task space
        except ValueError:
            pass
        del T, fails, returns_its_space
    gc.collect()
    assert [r() for r in freed] == [None] * 6


def test_dependencies_on_tasks_of_an_earlier_block_hold_unless_those_failed():
    T = TaskSpace("T")
    with pytest.raises(ValueError):
        with Parla(n_workers=2):
            @spawn(T["fine"])
            def fine():
                pass

            @spawn(T["failed"])
            def failed():
                raise ValueError("deliberate")

    ran = []
    with Parla(n_workers=2):
        @spawn(T["after_fine"], [T["fine"]])
        def after_fine():
            ran.append("after_fine")

    assert ran == ["after_fine"]
    with pytest.raises(DependencyError, match=r"Task\(T_after_failed\) depends on Task\(T_failed\), "
                                              r"which was spawned in an earlier `with Parla\(\)` block and failed"):
        with Parla(n_workers=2):
            @spawn(T["after_failed"], [T["failed"]])
            def after_failed():
                ran.append("after_failed")
    assert ran == ["after_fine"]
    assert DependencyError.__module__ == DeadlockError.__module__ == "parla"


def test_a_task_failure_is_not_lost_behind_a_deadlock_or_the_blocks_own_exception():
    with pytest.raises(DeadlockError) as caught:
        with Parla(n_workers=2):
            T = TaskSpace("T")

            @spawn(T["consumer"], [T["produced"]])
            def consumer():
                pass

            @spawn(T["producer"])
            def producer():
                raise ValueError("crashed before spawning T['produced']")
    deadlock = caught.value
    assert isinstance(deadlock.__context__, ValueError)
    assert "meanwhile Task(T_producer) failed: ValueError: crashed before" in deadlock.__notes__[0]

    with pytest.raises(KeyError) as caught:
        with Parla(n_workers=2):
            T = TaskSpace("T")

            @spawn(T[0])
            def fails():
                raise ValueError("task failure")
            time.sleep(0.2)
            raise KeyError("block")
    assert caught.value.__notes__ == ["meanwhile Task(T_0) failed: ValueError: task failure"]

    # Also where the task's exception cannot say what it is.
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    with pytest.raises(KeyError) as caught:
        with Parla(n_workers=2):
            @spawn()
            def fails_unprintably():
                raise Unprintable()
            time.sleep(0.2)
            raise KeyError("block")
    assert caught.value.__notes__[0].endswith("failed: Unprintable: <exception str() failed>")


def test_one_exception_object_raised_again_is_noted_once_per_task():
    shared = ValueError("shared")
    for _ in range(2):
        with pytest.raises(ExceptionGroup):
            with Parla():
                T = TaskSpace("S")
                for i in range(2):
                    @spawn(T[i])
                    def fail():
                        raise shared
    assert sorted(shared.__notes__) == ["raised in Task(S_0)", "raised in Task(S_1)"]


WORKERS_THAT_CANNOT_ALL_START = """
import os, resource
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from parla import Parla, spawn
# A first runtime starts what lives on after it (a GPU driver's threads).
with Parla(n_workers=1):
    pass
before = len(os.listdir("/proc/self/task"))
try:
    with Parla(n_workers=3000):
        pass
    print("started")
except RuntimeError as error:
    print(error)
print(len(os.listdir("/proc/self/task")) - before)
out = []
with Parla(n_workers=2):
    spawn()(lambda: out.append(1))
print(out)
"""


def test_workers_that_cannot_all_start_are_an_error_that_leaves_no_thread_behind():
    """Where the system refuses a worker thread, the ones already started
    stop, and a later runtime starts as usual."""
    done = subprocess.run([sys.executable, "-c", WORKERS_THAT_CANNOT_ALL_START],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    message, threads, later = done.stdout.strip().splitlines()
    if message == "started":
        pytest.skip("this machine starts 3000 threads in 1.5 GB of address space")
    assert message.startswith("cannot start the worker threads")
    assert threads == "0" and later == "[1]"


def test_tasks_recurse_through_c_code_as_deep_as_threads_do(run_python):
    """Task bodies run on worker stacks as large as a Python thread's:
    recursion through C code (lru_cache) that a thread survives does not
    crash the interpreter in a task, and one that a thread's interpreter
    refuses (Python 3.12 limits C recursion) is refused in a task too."""
    done = run_python(
        "import functools, sys, threading\n"
        "from parla import Parla, spawn\n"
        "sys.setrecursionlimit(100_000)\n"
        "def deep():\n"
        "    @functools.lru_cache(maxsize=None)\n"
        "    def fib(n):\n"
        "        return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
        "    try:\n"
        "        return fib(10_000) % 1000\n"
        "    except RecursionError:\n"
        "        return 'RecursionError'\n"
        "in_thread = []\n"
        "thread = threading.Thread(target=lambda: in_thread.append(deep()))\n"
        "thread.start()\n"
        "thread.join()\n"
        "with Parla(n_workers=1):\n"
        "    @spawn()\n"
        "    def task():\n"
        "        print(in_thread[0], deep())\n",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    in_thread, in_task = done.stdout.split()
    assert in_task == in_thread
    if sys.version_info < (3, 12):
        assert in_task == "875"


def test_a_task_paused_at_an_await_when_its_block_is_left_resumes_and_ends():
    """A block left by an exception gives its started tasks the grace to
    finish, awaiting ones too: a task paused at `await` on a running task
    resumes with its result when it finishes, and one paused on a task
    that never starts gets a DependencyError; both run their `finally`
    and free their frames. The first was once left in a worker's queue:
    never resumed, never closed, its memory held for good."""
    import gc
    import weakref

    log, frames = [], []

    class Held:
        pass

    with pytest.raises(RuntimeError, match="leave the block"):
        with Parla(n_workers=2):
            T = TaskSpace("T")

            @spawn(T[0])
            def slow():
                time.sleep(0.2)
                return 1

            @spawn(T[1], [T[0]])
            def never():
                log.append("never ran")

            @spawn(T[2])
            async def on_slow():
                held = Held()
                frames.append(weakref.ref(held))
                try:
                    log.append(("slow gave", await T[0]))
                finally:
                    log.append("on_slow ended")

            @spawn(T[3])
            async def on_never():
                held = Held()
                frames.append(weakref.ref(held))
                try:
                    await T[1]
                except DependencyError:
                    log.append("on_never: DependencyError")
                finally:
                    log.append("on_never ended")

            time.sleep(0.05)
            raise RuntimeError("leave the block")
    gc.collect()
    assert sorted(map(str, log)) == sorted(map(str, [("slow gave", 1), "on_slow ended",
                                                     "on_never: DependencyError", "on_never ended"]))
    assert all(frame() is None for frame in frames)


def test_a_task_paused_at_an_await_past_the_grace_resumes_when_what_it_awaits_finishes(run_python):
    """A task paused at `await` on a task that runs past the block's
    grace resumes, after the block, with that task's result, on the worker
    that ran it (it was once closed with GeneratorExit when the grace
    ended: its handlers never ran, and nothing reported it)."""
    done = run_python(
        "import threading, time\n"
        "from parla import Parla, TaskSpace, spawn\n"
        "awaiting = threading.Event()\n"
        "T = TaskSpace('T')\n"
        "try:\n"
        "    with Parla(n_workers=2):\n"
        "        @spawn(T[0])\n"
        "        def slow():\n"
        "            time.sleep(1.6)\n"
        "            return 'slow'\n"
        "        @spawn(T[1])\n"
        "        async def waiter():\n"
        "            awaiting.set()\n"
        "            try:\n"
        "                print('resumed with', await T[0], flush=True)\n"
        "            except BaseException as e:\n"
        "                print('waiter got', type(e).__name__, flush=True)\n"
        "                raise\n"
        "        awaiting.wait()\n"
        "        time.sleep(0.2)  # the await itself takes microseconds\n"
        "        raise KeyError('leave')\n"
        "except KeyError:\n"
        "    print('left the block', flush=True)\n"
        "time.sleep(2)\n"
        "print('done:', T[0].done, T[1].done, flush=True)\n",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["left the block", "resumed with slow", "done: True True"], \
        done.stdout + done.stderr


def test_an_await_of_a_task_cancelled_by_its_block_says_so():
    """A task that never started because its block was left by an
    exception is cancelled for that reason, not for a failed dependency."""
    import threading

    go, awaiting, seen = threading.Event(), threading.Event(), []
    with pytest.raises(KeyError):
        with Parla(n_workers=2):
            T = TaskSpace("T")

            @spawn(T[0])
            def gate():
                go.wait(10)

            @spawn(T[1], [T[0]])
            def after_gate():
                seen.append("ran")

            @spawn(T[2])
            async def waiter():
                awaiting.set()
                try:
                    await T[1]
                except DependencyError as e:
                    seen.append(str(e))

            awaiting.wait(10)
            time.sleep(0.1)
            threading.Timer(0.3, go.set).start()
            raise KeyError("leave")
    assert seen == ["awaited Task(T_1) was cancelled: its `with Parla()` block was left by an "
                    "exception before it started"], seen


def test_a_task_that_outlives_its_block_can_await_only_what_has_finished(run_python):
    """Once an exception has left a block, its runtime stops: a task still
    running gets what finished tasks returned, and an await that would
    wait raises DependencyError, in its own block's terms (it once waited
    in the next block's runtime, never resumed, and was lost silently)."""
    done = run_python(
        "import threading, time\n"
        "from parla import Parla, TaskSpace, spawn\n"
        "started = threading.Barrier(2)\n"
        "T = TaskSpace('T')\n"
        "try:\n"
        "    with Parla(n_workers=3):\n"
        "        @spawn(T[1])\n"
        "        def quick():\n"
        "            return 'quick'\n"
        "        @spawn(T[2])\n"
        "        def slow():\n"
        "            time.sleep(3)\n"
        "        @spawn(T[0])\n"
        "        async def waiter():\n"
        "            started.wait()\n"
        "            time.sleep(0.5)\n"
        "            print('finished:', await T[1], flush=True)\n"
        "            try:\n"
        "                await T[2]\n"
        "            finally:\n"
        "                print('finally runs', flush=True)\n"
        "        started.wait()\n"
        "        raise KeyError('leave')\n"
        "except KeyError as e:\n"
        "    print(*getattr(e, '__notes__', []), sep='\\n', flush=True)\n"
        "with Parla(n_workers=2):\n"
        "    @spawn(T[3])\n"
        "    def later():\n"
        "        time.sleep(1)\n",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["finished: quick", "finally runs"], done.stdout
    # Within the block's grace its failure is a note of the block's error;
    # after it (on a loaded machine), reported on stderr.
    assert ("DependencyError: Task(T_0) awaits Task(T_2), which has not finished, after its "
            "`with Parla()` block was left by an exception") in done.stdout + done.stderr


def test_a_task_that_outlives_its_block_reports_its_failure_and_spawns_nothing(run_python):
    """A block left by an exception (once both tasks run) gives its tasks a
    grace; one still running after it cannot spawn into the next block (RuntimeError), and
    its failure, which the block could no longer report, goes to stderr."""
    done = run_python(
        "import threading, time\n"
        "from parla import Parla, TaskSpace, spawn\n"
        "started = threading.Barrier(3)\n"
        "A, B = TaskSpace('A'), TaskSpace('B')\n"
        "try:\n"
        "    with Parla(n_workers=2):\n"
        "        @spawn(A[0])\n"
        "        def slow():\n"
        "            started.wait()\n"
        "            time.sleep(1.5)\n"
        "            @spawn(A[1])\n"
        "            def follow_up():\n"
        "                pass\n"
        "        @spawn(A[2])\n"
        "        def slow_failure():\n"
        "            started.wait()\n"
        "            time.sleep(1.5)\n"
        "            raise ValueError('late failure')\n"
        "        started.wait()\n"
        "        raise KeyError('leave')\n"
        "except KeyError:\n"
        "    pass\n"
        "with Parla(n_workers=2):\n"
        "    @spawn(B[0])\n"
        "    def unrelated():\n"
        "        time.sleep(1)\n"
        "print('second block ended cleanly')\n",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "second block ended cleanly"
    assert "Task(A_0) failed after its `with Parla()` block had ended" in done.stderr
    assert "whose `with Parla()` block has ended: a task that outlives its block cannot spawn more" in done.stderr
    assert "Task(A_2) failed after its" in done.stderr and "ValueError: late failure" in done.stderr


def test_an_array_in_a_dict_argument_lives_until_its_call_returns(run_python):
    """A call runs without the GIL: another thread that replaces an array
    in a dict argument (the dict its only owner) during the call frees it
    only when the call is done (it was once freed under the running
    kernel: a segfault for arrays that large)."""
    done = run_python(
        "import gc, threading, time, weakref\n"
        "import numpy as np\n"
        "import parla.parir as parir\n"
        "@parir.jit\n"
        "def fill(d, N, M):\n"
        "    parir.label('N')\n"
        "    for i in range(N):\n"
        "        s = 0.0\n"
        "        for j in range(M):\n"
        "            s += 1.0\n"
        "        d['out'][i] = s\n"
        "N, M = 1 << 21, 400\n"
        "opts = parir.par({'N': parir.threads(N)})\n"
        "d = {'out': np.zeros(N)}\n"
        "fill(d, N, M, opts=opts)\n"
        "out = weakref.ref(d['out'])\n"
        "def replace():\n"
        "    time.sleep(0.02)\n"
        "    d['out'] = None\n"
        "    gc.collect()\n"
        "    print('replaced; alive:', out() is not None, flush=True)\n"
        "thread = threading.Thread(target=replace)\n"
        "thread.start()\n"
        "fill(d, N, M, opts=opts)\n"
        "thread.join()\n"
        "gc.collect()\n"
        "print('returned; alive:', out() is not None, flush=True)\n",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "returned; alive: False", done.stdout


def test_a_task_exception_with_notes_that_are_not_a_list_comes_out_as_it_is():
    class LibraryError(Exception):
        pass

    with pytest.raises(LibraryError, match="original problem") as caught:
        with Parla():
            @spawn()
            def fails():
                error = LibraryError("original problem")
                error.__notes__ = ("a note kept as a tuple",)
                raise error
    assert caught.value.__notes__ == ("a note kept as a tuple",)
