"""The seed programs (Parla README, tutorial 01, CPU parts of tutorial 03)
run unchanged and print what those documents show."""

import ast
import re
import subprocess
import sys

from conftest import REPO

EXAMPLES = REPO / "examples" / "parla"


def run_example(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def in_order(output: str, *texts: str) -> bool:
    """Whether the texts appear in this order. Tasks print from several
    threads, and print() writes a line's text and its newline separately,
    so two lines may share a line of output: compare text, not lines."""
    position = 0
    for text in texts:
        found = output.find(text, position)
        if found < 0:
            return False
        position = found + len(text)
    return True


def test_tutorial_01():
    output = run_example("hello.py")
    assert in_order(output, "Running my_first_task example...\nHello from the task!\n")
    tasks = output[output.index("Running independent_tasks example...") : output.index("Running independent_tasks_dictionary")]
    # The four tasks may print in any order, each with its own i.
    assert sorted(tasks.replace("\n", "").split("Hello from ")[1:]) == [f"Task {i}! " for i in range(4)]
    # The tutorial prints {0: 0, 1: 1, 2: 4, 3: 9}; with more cores than
    # tasks, they insert in whatever order they run.
    before, last = output.rstrip("\n").rsplit("\n", 1)
    assert before.endswith("Running independent_tasks_dictionary example...")
    assert last.startswith("Shared Dictionary:  ")
    assert ast.literal_eval(last.removeprefix("Shared Dictionary:  ")) == {0: 0, 1: 1, 2: 4, 3: 9}


def test_tutorial_03_cpu_parts():
    output = run_example("devices.py")
    for i in range(2):
        assert f"Hello from Task(Device_cpu_{i}), running on CPUEnvironment(CPU:0)" in output
        # placement=[cpu, gpu]: a GPU where there is one, as the tutorial shows.
        assert re.search(rf"Hello from Task\(Device_either_{i}\), running on "
                         rf"(CPUEnvironment\(CPU:0\)|GPUEnvironment\(GPU:\d+\))", output), output
    # vcus=1: the tasks run one at a time, so starts and ends alternate.
    serial = [f"{word} Task(T_{i})" for i in range(5) for word in ("Starting:", "Completed: ")]
    lines = lines_of(output)
    start = lines.index("Starting: Task(T_0)")
    assert lines[start : start + 10] == serial
    assert lines[start + 10 : start + 12] == ["Starting sum", "Finished sum"]
    assert lines[start + 12].startswith("Elapsed Time: ")
    assert lines[start + 13 :] == ["Running CPU Task", "Running Default Implementation", "Completed CPU Task"]


def test_readme_example():
    output = run_example("readme.py")
    for i in range(4):
        assert in_order(output, f"We run first on the CPU. I am task {i}", "I run second on any GPU")
    assert output.count("I am task") == 4
