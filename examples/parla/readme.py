"""The example of the Parla README (GPU placement becomes [cpu, gpu])."""

from parla import Parla, TaskSpace, spawn
from parla.devices import cpu, gpu

with Parla:
    T = TaskSpace("Example Space")

    for i in range(4):
        @spawn(T[i], placement=cpu)
        def tasks_A():
            print(f"We run first on the CPU. I am task {i}", flush=True)

    @spawn(T[4], dependencies=[T[0:4]], placement=[cpu, gpu])
    def task_B():
        print("I run second on any GPU", flush=True)
