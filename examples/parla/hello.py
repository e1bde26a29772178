"""Tutorial 01, examples 1-3: a first task, independent tasks, shared memory."""

from time import sleep
from typing import Callable, Optional

from parla import Parla
from parla.devices import cpu
from parla.tasks import TaskSpace, spawn


def run(function: Callable[[], Optional[TaskSpace]]):
    assert callable(function), "The function argument must be callable."
    with Parla():
        @spawn(placement=cpu, vcus=0)
        async def top_level_task():
            await function()


async def my_first_task():
    @spawn()
    def hello():
        print("Hello from the task!")


async def independent_tasks():
    n_tasks = 4
    for i in range(n_tasks):
        @spawn()
        def task():
            print(f"Hello from Task {i}! \n", flush=True)


async def independent_tasks_dictionary():
    n_tasks = 4
    shared_dict = {}
    for i in range(n_tasks):
        @spawn()
        def task():
            shared_dict[i] = i**2
    sleep(0.1)
    print("Shared Dictionary: ", shared_dict)


print("Running my_first_task example...")
run(my_first_task)
print("Running independent_tasks example...")
run(independent_tasks)
print("Running independent_tasks_dictionary example...")
run(independent_tasks_dictionary)
