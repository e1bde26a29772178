"""100,000 Python tasks with random dependencies: none lost, none run
twice, every task after its dependencies."""

import random

from parla import Parla, TaskSpace, spawn


def test_random_graph_of_100k_tasks():
    n = 100_000
    rng = random.Random(7)
    deps = [rng.sample(range(i), min(i, rng.randint(0, 3))) for i in range(n)]
    ran_at = [0] * n
    clock = [0]
    problems = []

    with Parla():
        T = TaskSpace("S")
        for i in range(n):
            @spawn(T[i], [T[d] for d in deps[i]])
            def task():
                for d in deps[i]:
                    if not ran_at[d]:
                        problems.append(("order", d, i))
                if ran_at[i]:
                    problems.append(("twice", i))
                clock[0] += 1
                ran_at[i] = clock[0]

    assert problems == []
    assert clock[0] == n
    assert all(ran_at)
