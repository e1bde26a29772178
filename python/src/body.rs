//! A Python function or coroutine as the body of a runtime task.

use crate::{
    current,
    runtime::{self},
    tasks::{Task, WaitFor},
};
use parla_runtime::{Body, RunContext, Step, TaskHandle};
use pyo3::{
    exceptions::{PyStopIteration, PyTypeError},
    intern,
    prelude::*,
};
use std::sync::{Arc, Mutex};

pub struct PythonBody {
    pub task: Py<Task>,
    /// The function, until it is first called.
    pub function: Option<Py<PyAny>>,
    /// For an `async def` body: the coroutine, once started.
    pub coroutine: Option<Py<PyAny>>,
    pub is_async: bool,
    pub failures: Arc<Mutex<Vec<Py<Task>>>>,
}

enum Resume {
    /// Start, or continue after an await.
    Send,
    /// Raise this in the coroutine (it awaited something that is not a
    /// task).
    Throw(PyErr),
}

impl Body for PythonBody {
    fn run(&mut self, context: &RunContext) -> Step {
        Python::attach(|py| {
            let task = self.task.clone_ref(py);
            current::with_current(task, context.device.0, || self.step(py))
        })
    }
}

impl PythonBody {
    fn step(&mut self, py: Python<'_>) -> Step {
        if !self.is_async {
            let Some(function) = self.function.take() else {
                return Step::Done;
            };
            return match function.call0(py) {
                Ok(value) => self.succeed(value),
                Err(error) => self.fail(py, error),
            };
        }
        if self.coroutine.is_none() {
            let Some(function) = self.function.take() else {
                return Step::Done;
            };
            match function.call0(py) {
                Ok(coroutine) => self.coroutine = Some(coroutine),
                Err(error) => return self.fail(py, error),
            }
        }
        let mut resume = Resume::Send;
        loop {
            let Some(coroutine) = self.coroutine.as_ref().map(|c| c.bind(py).clone()) else {
                return Step::Done;
            };
            let outcome = match resume {
                Resume::Send => coroutine.call_method1(intern!(py, "send"), (py.None(),)),
                Resume::Throw(error) => {
                    coroutine.call_method1(intern!(py, "throw"), (error.into_value(py),))
                }
            };
            match outcome {
                Ok(yielded) => match yielded.cast::<WaitFor>() {
                    Ok(wait) => {
                        let handles = wait_handles(py, &wait.get().tasks);
                        if handles.is_empty() {
                            resume = Resume::Send; // everything awaited has finished
                            continue;
                        }
                        return Step::Wait(handles);
                    }
                    Err(_) => {
                        let kind = yielded
                            .get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default();
                        resume = Resume::Throw(PyTypeError::new_err(format!(
                            "a Parla task can await tasks (T[i]), task slices (T[0:4]) and task spaces, not {kind}"
                        )));
                    }
                },
                Err(error) if error.is_instance_of::<PyStopIteration>(py) => {
                    let value = error
                        .value(py)
                        .getattr(intern!(py, "value"))
                        .map(Bound::unbind)
                        .unwrap_or_else(|_| py.None());
                    self.coroutine = None;
                    return self.succeed(value);
                }
                Err(error) => {
                    self.coroutine = None;
                    return self.fail(py, error);
                }
            }
        }
    }

    fn succeed(&mut self, value: Py<PyAny>) -> Step {
        self.task.get().state().result = Some(value);
        Step::Done
    }

    fn fail(&mut self, py: Python<'_>, error: PyErr) -> Step {
        self.task.get().state().error = Some(error);
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.task.clone_ref(py));
        Step::Failed
    }
}

/// The runtime handles of the awaited tasks that have not finished.
fn wait_handles(py: Python<'_>, tasks: &[Py<Task>]) -> Vec<TaskHandle> {
    let Some(runtime) = runtime::active() else {
        return Vec::new();
    };
    let _ = py;
    tasks
        .iter()
        .filter_map(|task| task.get().handle_in(&runtime))
        .filter(|handle| handle.outcome().is_none())
        .collect()
}
