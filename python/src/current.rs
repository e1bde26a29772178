//! The task running on this thread, for `get_current_task()` and friends.

use crate::tasks::Task;
use pyo3::prelude::*;
use std::cell::RefCell;

thread_local! {
    static CURRENT: RefCell<Option<(Py<Task>, u16)>> = const { RefCell::new(None) };
}

/// Runs `f` with `task` (mapped to device `device`) as the current task.
pub fn with_current<R>(task: Py<Task>, device: u16, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.with(|c| c.replace(Some((task, device))));
    let result = f();
    let ours = CURRENT.with(|c| c.replace(previous));
    drop(ours); // dropped while the caller still holds the GIL
    result
}

/// The task running on this thread, or None outside tasks.
#[pyfunction]
pub fn get_current_task(py: Python<'_>) -> Option<Py<Task>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(task, _)| task.clone_ref(py)))
}

/// The index (in the runtime's device table) of the device the current
/// task runs on, or None outside tasks.
#[pyfunction]
pub fn current_device() -> Option<u16> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(_, device)| *device))
}
