"""Task-runtime overhead: this runtime beside ThreadPoolExecutor and Dask's
threaded scheduler, in one process run, on the same machine.

Prints, for each workload, microseconds per task (or per hop) and the
ratio to this runtime, and parallel efficiency for GIL-free work.

    python benchmarks/tasks.py [--workers N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor, wait

from parla import Parla, TaskSpace, spawn

INDEPENDENT = 20_000
CHAIN = 5_000
FAN = 5_000
SLOW_TASKS = 64
SLOW_SECONDS = 0.020


def noop():
    pass


def sleep_20ms():
    time.sleep(SLOW_SECONDS)  # releases the GIL


# --- this runtime --------------------------------------------------------

def parla_independent(workers):
    start = time.perf_counter()
    with Parla(n_workers=workers):
        for _ in range(INDEPENDENT):
            spawn()(noop)
    return time.perf_counter() - start


def parla_chain(workers):
    start = time.perf_counter()
    with Parla(n_workers=workers):
        T = TaskSpace("C")
        spawn(T[0])(noop)
        for i in range(1, CHAIN):
            spawn(T[i], [T[i - 1]])(noop)
    return time.perf_counter() - start


def parla_fan(workers):
    start = time.perf_counter()
    with Parla(n_workers=workers):
        T = TaskSpace("F")
        spawn(T["root"])(noop)
        root = [T["root"]]
        for i in range(FAN):
            spawn(T[i], root)(noop)
        spawn(T["sink"], [T[0:FAN]])(noop)
    return time.perf_counter() - start


def parla_slow(workers):
    start = time.perf_counter()
    with Parla(n_workers=workers):
        for _ in range(SLOW_TASKS):
            spawn()(sleep_20ms)
    return time.perf_counter() - start


# --- ThreadPoolExecutor ----------------------------------------------------

def pool_independent(workers):
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(noop) for _ in range(INDEPENDENT)]
        wait(futures)
    return time.perf_counter() - start


def pool_chain(workers):
    # Each task starts when the previous one is done: the next task is
    # submitted from the previous one's completion callback.
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        done = [0]
        last = pool.submit(noop)
        finished = __import__("threading").Event()

        def next_hop(_future):
            done[0] += 1
            if done[0] == CHAIN:
                finished.set()
            else:
                pool.submit(noop).add_done_callback(next_hop)

        last.add_done_callback(next_hop)
        finished.wait()
    return time.perf_counter() - start


def pool_fan(workers):
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        pool.submit(noop).result()
        futures = [pool.submit(noop) for _ in range(FAN)]
        wait(futures)
        pool.submit(noop).result()
    return time.perf_counter() - start


def pool_slow(workers):
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        wait([pool.submit(sleep_20ms) for _ in range(SLOW_TASKS)])
    return time.perf_counter() - start


# --- Dask threaded -----------------------------------------------------------

def dask_get():
    try:
        from dask.threaded import get
    except ImportError:
        return None
    return get


def dask_independent(workers):
    get = dask_get()
    graph = {f"t{i}": (noop,) for i in range(INDEPENDENT)}
    start = time.perf_counter()
    get(graph, list(graph), num_workers=workers)
    return time.perf_counter() - start


def after(*_):
    return None


def dask_chain(workers):
    get = dask_get()
    graph = {"t0": (noop,)}
    for i in range(1, CHAIN):
        graph[f"t{i}"] = (after, f"t{i - 1}")
    start = time.perf_counter()
    get(graph, f"t{CHAIN - 1}", num_workers=workers)
    return time.perf_counter() - start


def dask_fan(workers):
    get = dask_get()
    graph = {"root": (noop,)}
    for i in range(FAN):
        graph[f"t{i}"] = (after, "root")
    graph["sink"] = (after, [f"t{i}" for i in range(FAN)])
    start = time.perf_counter()
    get(graph, "sink", num_workers=workers)
    return time.perf_counter() - start


def dask_slow(workers):
    get = dask_get()
    graph = {f"t{i}": (sleep_20ms,) for i in range(SLOW_TASKS)}
    start = time.perf_counter()
    get(graph, list(graph), num_workers=workers)
    return time.perf_counter() - start


# --- many workers (oversubscribed: tasks that wait on GPUs or I/O) ---------

MANY_WORKERS = 1000
IDLE_SECONDS = 1.0


def cpu_seconds():
    times = os.times()
    return times.user + times.system


def parla_many_workers():
    """Seconds to start and stop a runtime of MANY_WORKERS workers, and the
    CPU it burns while idle (in cores)."""
    start = time.perf_counter()
    with Parla(n_workers=MANY_WORKERS):
        pass
    startup = time.perf_counter() - start
    with Parla(n_workers=MANY_WORKERS):
        time.sleep(0.2)  # let every worker reach its idle state
        before = cpu_seconds()
        time.sleep(IDLE_SECONDS)
        idle = (cpu_seconds() - before) / IDLE_SECONDS
    return startup, idle


def pool_many_workers():
    start = time.perf_counter()
    with ThreadPoolExecutor(MANY_WORKERS) as pool:
        wait([pool.submit(noop) for _ in range(MANY_WORKERS)])  # starts every thread
    startup = time.perf_counter() - start
    with ThreadPoolExecutor(MANY_WORKERS) as pool:
        wait([pool.submit(noop) for _ in range(MANY_WORKERS)])
        time.sleep(0.2)
        before = cpu_seconds()
        time.sleep(IDLE_SECONDS)
        idle = (cpu_seconds() - before) / IDLE_SECONDS
    return startup, idle


def best(function, workers, repeat):
    return min(function(workers) for _ in range(repeat))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workers, repeat = args.workers, args.repeat

    peers = {
        "parla (this)": (parla_independent, parla_chain, parla_fan, parla_slow),
        "ThreadPoolExecutor": (pool_independent, pool_chain, pool_fan, pool_slow),
    }
    if dask_get() is not None:
        peers["dask threaded"] = (dask_independent, dask_chain, dask_fan, dask_slow)
    else:
        print("(dask is not installed: pip install dask to compare with it)")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{workers} workers, best of {repeat}")
    rows = []
    for name, (independent, chain, fan, slow) in peers.items():
        per_task = best(independent, workers, repeat) / INDEPENDENT * 1e6
        per_hop = best(chain, workers, repeat) / CHAIN * 1e6
        per_fan = best(fan, workers, repeat) / (FAN + 2) * 1e6
        elapsed = best(slow, workers, repeat)
        efficiency = SLOW_TASKS * SLOW_SECONDS / workers / elapsed
        rows.append((name, per_task, per_hop, per_fan, efficiency))

    ours = rows[0]
    print(f"{'runtime':<20} {'independent us/task':>20} {'chain us/hop':>14} {'fan-out/in us/task':>19} {'64x20ms efficiency':>19}")
    for name, per_task, per_hop, per_fan, efficiency in rows:
        ratio = "" if name == ours[0] else f"  (x{per_task / ours[1]:.1f}, x{per_hop / ours[2]:.1f}, x{per_fan / ours[3]:.1f} ours)"
        print(f"{name:<20} {per_task:>20.2f} {per_hop:>14.2f} {per_fan:>19.2f} {efficiency:>19.3f}{ratio}")

    print(f"\n{MANY_WORKERS} workers: {'start + stop, s':>16} {'idle CPU, cores':>16}")
    for name, many in (("parla (this)", parla_many_workers), ("ThreadPoolExecutor", pool_many_workers)):
        startup, idle = many()
        print(f"{name:<20} {startup:>16.3f} {idle:>16.3f}")


if __name__ == "__main__":
    main()
