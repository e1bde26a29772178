"""Tutorial 03 (CPU parts): placement, vcus, function variants."""

from time import perf_counter
from typing import Callable, Optional

import numpy as np

from parla import Parla
from parla.array import clone_here
from parla.devices import cpu, gpu
from parla.tasks import TaskSpace, get_current_context, get_current_task, spawn, specialize


def run(function: Callable[[], Optional[TaskSpace]]):
    assert callable(function), "The function argument must be callable."
    with Parla():
        @spawn(placement=cpu, vcus=0)
        async def top_level_task():
            await function()


async def device_task():
    T = TaskSpace("Device")
    for i in range(2):
        @spawn(T["cpu", i], placement=cpu)
        def cpu_task():
            print(f"Hello from {get_current_task()}, running on {get_current_context()}")

        @spawn(T["either", i], placement=[cpu, gpu])
        def either_task():
            print(f"Hello from {get_current_task()}, running on {get_current_context()}")


async def vcu_example():
    T = TaskSpace("T")
    N = 2000
    n_tasks = 5
    cost = 1  # serial
    start_t = perf_counter()
    vectors = [np.random.rand(N) for _ in range(n_tasks)]
    matricies = [np.random.rand(N, N) for _ in range(n_tasks)]

    for i in range(n_tasks):
        @spawn(T[i], placement=cpu, vcus=cost)
        def task():
            print("Starting:", T[i], flush=True)
            v = vectors[i]
            M = matricies[i]
            for _ in range(1):
                v = M @ v
            print("Completed: ", T[i], flush=True)

    @spawn(T["sum"], [T[:n_tasks]], placement=cpu, vcus=cost)
    def sum_task():
        print("Starting sum", flush=True)
        vectors[0] = sum(vectors)
        print("Finished sum", flush=True)

    await T
    end_t = perf_counter()
    print("Elapsed Time: ", end_t - start_t)


@specialize
def function(A: np.ndarray):
    print("Running Default Implementation", flush=True)
    return np.linalg.eigh(A)


@function.variant(gpu)
def function_gpu(A):
    print("Running GPU Implementation", flush=True)
    import cupy as cp
    return cp.linalg.eigh(A)


def specialization_example():
    A = np.random.rand(200, 200)
    T = TaskSpace("T")

    @spawn(T[0], placement=cpu)
    def t1():
        print("Running CPU Task", flush=True)
        A_local = clone_here(A)
        C = function(A_local)
        print("Completed CPU Task", flush=True)

    return T


run(device_task)
run(vcu_example)
run(specialization_example)
