//! The task running on this thread, for `get_current_task()` and friends.

use crate::tasks::Task;
use pyo3::prelude::*;
use std::cell::RefCell;

/// The task running on this thread: the task, its device, and the id of
/// the runtime (the `with Parla()` block) it belongs to.
struct Current {
    task: Py<Task>,
    device: u16,
    runtime: usize,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Runs `f` with `task` (mapped to device `device`, of runtime `runtime`)
/// as the current task.
pub fn with_current<R>(task: Py<Task>, device: u16, runtime: usize, f: impl FnOnce() -> R) -> R {
    let current = Current {
        task,
        device,
        runtime,
    };
    let previous = CURRENT.with(|c| c.replace(Some(current)));
    let result = f();
    let ours = CURRENT.with(|c| c.replace(previous));
    drop(ours); // dropped while the caller still holds the GIL
    result
}

/// The task running on this thread, or None outside tasks.
#[pyfunction]
pub fn get_current_task(py: Python<'_>) -> Option<Py<Task>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|c| c.task.clone_ref(py)))
}

/// The index (in the runtime's device table) of the device the current
/// task runs on, or None outside tasks.
#[pyfunction]
pub fn current_device() -> Option<u16> {
    CURRENT.with(|c| c.borrow().as_ref().map(|c| c.device))
}

/// The id of the runtime whose task runs on this thread, if any.
pub fn current_runtime() -> Option<usize> {
    CURRENT.with(|c| c.borrow().as_ref().map(|c| c.runtime))
}
