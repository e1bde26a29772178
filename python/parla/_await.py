"""The generator behind `await` on tasks, task lists and task spaces.

It yields a `WaitFor` to the runtime, which suspends the task until the
awaited tasks finish, then returns the awaited task's value (or raises
DependencyError if one failed)."""

from parla._parla import WaitFor, await_result


def wait_for(wait: WaitFor, single: bool):
    yield wait
    return await_result(wait, single)
