//! A Python function or coroutine as the body of a runtime task.

use crate::{
    current, gpu_call,
    runtime::{self, RuntimeState},
    tasks::{DependencyError, Task, WaitFor},
};
use parla_runtime::{Body, RunContext, Step, TaskHandle};
use pyo3::{
    exceptions::{PyStopIteration, PyTypeError},
    intern,
    prelude::*,
    sync::PyOnceLock,
};
use std::sync::{Arc, Weak};

pub struct PythonBody {
    pub task: Py<Task>,
    /// On a GPU: the stream the task's work goes to, chosen at its first
    /// step and kept across awaits.
    pub gpu_stream: Option<Arc<parla_runtime::cuda::CudaStream>>,
    /// The function, until it is first called.
    pub function: Option<Py<PyAny>>,
    /// For an `async def` body: the coroutine, once started.
    pub coroutine: Option<Py<PyAny>>,
    pub is_async: bool,
    /// The id of its runtime (see `current::current_runtime`).
    pub runtime: usize,
    /// Its runtime, where its awaits wait (weak: the runtime's tasks hold
    /// their bodies).
    pub block: Weak<RuntimeState>,
    pub failures: runtime::Failures,
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
            let device = context.device.0;
            match runtime::gpu_ordinal(device) {
                None => current::with_current(task, device, self.runtime, || self.step(py)),
                Some(ordinal) => self.gpu_step(py, task, device, ordinal),
            }
        })
    }
}

impl PythonBody {
    /// A step of a task on GPU `ordinal`: its JIT kernels launch on the
    /// task's stream, CuPy's (and Torch's) current device and stream are
    /// the task's, and when the body finishes the task waits for its
    /// stream, so dependent tasks see its results.
    fn gpu_step(&mut self, py: Python<'_>, task: Py<Task>, device: u16, ordinal: usize) -> Step {
        // Every step, the first and each one after an `await`, runs after
        // what the default stream holds so far (work of the tasks awaited,
        // or of the main thread, queued there meanwhile).
        let stream = parla_runtime::cuda::cuda()
            .and_then(|c| c.device(ordinal))
            .and_then(|gpu| match &self.gpu_stream {
                Some(stream) => gpu.order_after_default(stream).map(|()| stream.clone()),
                None => gpu.stream_after_default(),
            });
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => return self.fail(py, crate::cuda::to_py(error)),
        };
        self.gpu_stream = Some(stream.clone());
        let address = parla_runtime::cuda::stream_address(&stream);
        static ACTIVATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let activated = ACTIVATE
            .import(py, "parla._gpu_context", "activate")
            .and_then(|activate| activate.call1((ordinal, address)));
        let environment = match activated {
            Ok(environment) => environment,
            Err(error) => return self.fail(py, error),
        };
        let step = gpu_call::with_task_gpu(ordinal, address, || {
            current::with_current(task, device, self.runtime, || self.step(py))
        });
        let restored = environment.call_method0(intern!(py, "close"));
        if !matches!(step, Step::Done | Step::Failed) {
            return step;
        }
        let waited = py.detach(|| parla_runtime::cuda::synchronize(&stream));
        match (step, waited, restored) {
            (Step::Done, Err(error), _) => self.fail(py, crate::cuda::to_py(error)),
            (Step::Done, Ok(()), Err(error)) => self.fail(py, error),
            (step, _, _) => step,
        }
    }

    fn step(&mut self, py: Python<'_>) -> Step {
        if !self.is_async {
            let Some(function) = self.function.take() else {
                return Step::Done;
            };
            match function.call0(py) {
                Ok(value) if is_coroutine(py, &value) => {
                    self.is_async = true;
                    self.coroutine = Some(value);
                }
                Ok(value) => return self.succeed(value),
                Err(error) => return self.fail(py, error),
            }
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
                    Ok(wait) => match waits(&wait.get().tasks, &self.block) {
                        Waits::Finished => resume = Resume::Send,
                        Waits::On(handles) => return Step::Wait(handles),
                        Waits::BlockEnded(awaited) => {
                            resume = Resume::Throw(DependencyError::new_err(format!(
                                "{} awaits {awaited}, which has not finished, after its `with Parla()` \
                                 block was left by an exception: the block's tasks can no longer wait",
                                self.task.get().__repr__()
                            )))
                        }
                    },
                    Err(_) => {
                        let kind = crate::type_name(&yielded);
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
        self.task.get().state().error = Some(error.into_value(py).into_any());
        let outlived = {
            let mut log = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            if !log.closed {
                log.tasks.push(self.task.clone_ref(py));
            }
            log.closed
        };
        if outlived {
            // Its block has ended and reported what failed before: say it
            // now, as Python does of an exception in a plain thread.
            static REPORT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let error = self
                .task
                .get()
                .state()
                .error
                .as_ref()
                .map(|e| e.clone_ref(py));
            let reported = REPORT
                .import(py, "parla.context", "_report_outlived_failure")
                .and_then(|report| report.call1((self.task.clone_ref(py), error)));
            if let Err(error) = reported {
                error.write_unraisable(py, None);
            }
        }
        Step::Failed
    }
}

/// Whether `value` is a coroutine (what calling an async function gives).
fn is_coroutine(py: Python<'_>, value: &Py<PyAny>) -> bool {
    static COROUTINE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    COROUTINE
        .import(py, "types", "CoroutineType")
        .is_ok_and(|kind| value.bind(py).get_type().is(kind))
}

/// What an await waits for.
enum Waits {
    /// Nothing: every awaited task has finished.
    Finished,
    /// These unfinished tasks, in the awaiting task's runtime.
    On(Vec<TaskHandle>),
    /// The awaiting task outlived its block, which an exception left: its
    /// runtime is stopping (no more steps run there, and a waiting task's
    /// body would be dropped unfinished) and nothing can be spawned in it,
    /// so the await raises instead. The first unfinished task's name.
    BlockEnded(String),
}

/// What awaiting `tasks` waits for, in the awaiting task's own runtime
/// (`block`): a task that outlived its block must not wait in a later
/// block's runtime, whose tasks are not its block's.
fn waits(tasks: &[Py<Task>], block: &Weak<RuntimeState>) -> Waits {
    let runtime = block
        .upgrade()
        .filter(|own| runtime::active().is_some_and(|active| Arc::ptr_eq(&active, own)));
    let Some(runtime) = runtime else {
        return match tasks.iter().find(|task| task.get().outcome().is_none()) {
            Some(task) => Waits::BlockEnded(task.get().__repr__()),
            None => Waits::Finished,
        };
    };
    let handles: Vec<TaskHandle> = tasks
        .iter()
        .filter_map(|task| task.get().handle_in(&runtime))
        .filter(|handle| handle.outcome().is_none())
        .collect();
    if handles.is_empty() {
        Waits::Finished
    } else {
        Waits::On(handles)
    }
}
