//! Tasks, task spaces and task lists as Python sees them.

use crate::runtime::RuntimeState;
use parla_runtime::{Outcome, TaskHandle};
use pyo3::{
    create_exception,
    exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError},
    prelude::*,
    types::{PySlice, PyString, PyTuple},
    PyTraverseError, PyVisit,
};
use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

create_exception!(
    parla,
    DependencyError,
    PyRuntimeError,
    "A task awaited or depended on a task that failed."
);

/// What a Python task knows about itself beyond its name.
#[derive(Default)]
pub struct TaskState {
    /// The runtime node, declared in the runtime of the first `with Parla()`
    /// that used this task.
    pub handle: Option<(usize, TaskHandle)>,
    pub spawned: bool,
    pub result: Option<Py<PyAny>>,
    /// The exception the body raised (an object, so that the garbage
    /// collector can see it: tracebacks often lead back to the task).
    pub error: Option<Py<PyAny>>,
}

/// A task: `T[i]`. Created by indexing a task space (or by an anonymous
/// `@spawn`); spawned at most once.
#[pyclass(module = "parla.tasks", frozen, weakref)]
pub struct Task {
    pub name: String,
    pub state: Mutex<TaskState>,
}

impl Task {
    pub fn new(name: String) -> Self {
        Self {
            name,
            state: Mutex::new(TaskState::default()),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The node of this task in `runtime`, declared on first use. `None`
    /// when the task ran in an earlier runtime (nothing left to wait for).
    pub fn handle_in(&self, runtime: &RuntimeState) -> Option<TaskHandle> {
        let mut state = self.state();
        match &state.handle {
            Some((id, handle)) if *id == runtime.id => Some(handle.clone()),
            Some(_) if state.spawned => None,
            _ => {
                let handle = runtime.runtime.declare_named(self.name.as_str());
                state.handle = Some((runtime.id, handle.clone()));
                Some(handle)
            }
        }
    }

    /// Whether the task was spawned in another runtime than `runtime` (an
    /// earlier `with Parla()` block).
    pub fn spawned_in_earlier_block(&self, runtime: &RuntimeState) -> bool {
        let state = self.state();
        state.spawned
            && state
                .handle
                .as_ref()
                .is_some_and(|(id, _)| *id != runtime.id)
    }

    /// How the task ended, if it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.state().handle.as_ref().and_then(|(_, h)| h.outcome())
    }
}

#[pymethods]
impl Task {
    pub fn __repr__(&self) -> String {
        format!("Task({})", self.name)
    }

    /// `await T[i]` in an async task: waits for it and gives its return
    /// value.
    fn __await__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let py = slf.py();
        let tasks = vec![slf.unbind()];
        wait_generator(py, tasks, true)
    }

    /// The task's name, e.g. `T_0`.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Whether the task has finished (successfully or not).
    #[getter]
    fn done(&self) -> bool {
        self.outcome().is_some()
    }

    /// The value the task's body returned (None until it has).
    #[getter]
    fn result(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.state().result {
            Some(value) => value.clone_ref(py),
            None => py.None(),
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(state) = self.state.try_lock() {
            for held in state.result.iter().chain(&state.error) {
                visit.call(held)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            state.result = None;
            state.error = None;
        }
    }
}

/// The generator `parla._await.wait_for(tasks, single)` that `await` runs:
/// it yields a `WaitFor` to the runtime, then returns the result.
fn wait_generator(
    py: Python<'_>,
    tasks: Vec<Py<Task>>,
    single: bool,
) -> PyResult<Bound<'_, PyAny>> {
    if crate::current::current_runtime().is_none() {
        // Only the runtime that runs a task's body understands what it
        // yields (asyncio would say "bad yield"; a hand-driven coroutine
        // would resume before the tasks finish).
        let what = match tasks.as_slice() {
            [task] => task.get().__repr__(),
            _ => "tasks".to_string(),
        };
        return Err(PyRuntimeError::new_err(format!(
            "{what} awaited outside a Parla task: tasks can be awaited in the bodies of tasks \
             (@spawn of an `async def`), and the code of a `with Parla()` block waits for them at its end"
        )));
    }
    let helper = py.import("parla._await")?.getattr("wait_for")?;
    helper.call1((WaitFor { tasks }, single))
}

/// Yielded by an awaiting coroutine to the runtime: the tasks to wait for.
#[pyclass(module = "parla.tasks", frozen)]
pub struct WaitFor {
    pub tasks: Vec<Py<Task>>,
}

#[pymethods]
impl WaitFor {
    #[getter]
    fn tasks(&self, py: Python<'_>) -> Vec<Py<Task>> {
        self.tasks.iter().map(|t| t.clone_ref(py)).collect()
    }
}

/// After the wait: raises DependencyError if an awaited task failed or was
/// cancelled; returns the task's result when exactly one was awaited.
#[pyfunction]
pub fn await_result(py: Python<'_>, wait: &WaitFor, single: bool) -> PyResult<Py<PyAny>> {
    for task in &wait.tasks {
        let task = task.get();
        match task.outcome() {
            Some(Outcome::Failed) => {
                let cause = task
                    .state()
                    .error
                    .as_ref()
                    .map(|e| PyErr::from_value(e.bind(py).clone()));
                let error = DependencyError::new_err(format!("awaited Task({}) failed", task.name));
                if let Some(cause) = cause {
                    error.set_cause(py, Some(cause));
                }
                return Err(error);
            }
            Some(Outcome::Cancelled) => {
                let dependency_failed = task
                    .state()
                    .handle
                    .as_ref()
                    .is_some_and(|(_, h)| h.dependency_failed());
                let why = if dependency_failed {
                    "a task it depends on failed or was cancelled"
                } else {
                    "its `with Parla()` block was left by an exception before it started"
                };
                return Err(DependencyError::new_err(format!(
                    "awaited Task({}) was cancelled: {why}",
                    task.name
                )));
            }
            Some(Outcome::Succeeded) => {}
            // The wait covers the tasks of this block: one that has not
            // finished belongs to an earlier block that ended without it.
            None => {
                return Err(DependencyError::new_err(format!(
                    "awaited Task({}) was spawned in an earlier `with Parla()` block and has not finished \
                     (it is still running, or never will)",
                    task.name
                )))
            }
        }
    }
    match (single, wait.tasks.first()) {
        (true, Some(task)) => Ok(task.get().result(py)),
        _ => Ok(py.None()),
    }
}

/// One part of a task index: `T["cpu", 3]` has two.
#[derive(Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Int(i64),
    Str(String),
}

impl KeyPart {
    fn text(&self) -> String {
        match self {
            KeyPart::Int(i) => i.to_string(),
            KeyPart::Str(s) => s.clone(),
        }
    }
}

/// The most tasks one slice of a task space may name (each is a Python
/// object): more is a mistake, not a task graph.
const MAX_SLICE_TASKS: usize = 1 << 24;

fn slice_too_large(tasks: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!(
        "this task space slice names {tasks} tasks; slices name at most {MAX_SLICE_TASKS}"
    ))
}

/// One dimension of an index: a single part, or a range of integers
/// (`start`, `start + step`, ... `length` of them), listed only once the
/// whole slice is known to be small enough.
enum Dimension {
    One(KeyPart),
    Range { start: i64, step: i64, length: u64 },
}

/// An int index or slice bound, which must fit 64 bits.
fn index_int(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    // An `__index__` that raises: its own error, not a size complaint.
    let integer = value.call_method0(pyo3::intern!(value.py(), "__index__"))?;
    integer.extract::<i64>().map_err(|_| {
        PyValueError::new_err(format!(
            "task indices and slice bounds fit 64 bits (-2**63 to 2**63 - 1), got {}",
            value
                .str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| "an int".to_string())
        ))
    })
}

/// An int, or an integer that says so through `__index__` (NumPy's).
fn is_integer(value: &Bound<'_, PyAny>) -> bool {
    value.is_instance_of::<pyo3::types::PyInt>() || value.hasattr("__index__").unwrap_or(false)
}

/// A bound of a task space slice: an int, or None where left out.
fn slice_bound(value: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if value.is_none() {
        return Ok(None);
    }
    if value.is_instance_of::<pyo3::types::PyBool>() || !is_integer(value) {
        return Err(PyTypeError::new_err(format!(
            "task space slices need integer bounds, e.g. T[0:4], got {}",
            crate::type_name(value)
        )));
    }
    index_int(value).map(Some)
}

fn dimension(item: &Bound<'_, PyAny>) -> PyResult<Dimension> {
    if let Ok(slice) = item.cast::<PySlice>() {
        let start = slice_bound(&slice.getattr("start")?)?;
        let stop = slice_bound(&slice.getattr("stop")?)?;
        let step = slice_bound(&slice.getattr("step")?)?;
        let Some(stop) = stop else {
            return Err(PyValueError::new_err(
                "task space slices need an end, e.g. T[:n] or T[0:4]",
            ));
        };
        let step = step.unwrap_or(1);
        if step <= 0 {
            return Err(PyValueError::new_err(format!(
                "task space slices need a positive step, got {step}"
            )));
        }
        let start = start.unwrap_or(0);
        let length = (i128::from(stop) - i128::from(start) + i128::from(step) - 1)
            .div_euclid(i128::from(step))
            .max(0);
        return Ok(Dimension::Range {
            start,
            step,
            // At most 2**64 - 1 for i64 bounds and a positive step.
            length: length as u64,
        });
    }
    if item.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(
            "task indices are integers or strings, got a bool",
        ));
    }
    if is_integer(item) {
        return Ok(Dimension::One(KeyPart::Int(index_int(item)?)));
    }
    if let Ok(s) = item.cast::<PyString>() {
        return Ok(Dimension::One(KeyPart::Str(s.to_str()?.to_string())));
    }
    Err(PyTypeError::new_err(format!(
        "task indices are integers, strings or integer slices, got {}",
        item.get_type().name()?
    )))
}

/// A namespace of tasks: `T = TaskSpace("T")`, then `T[i]`, `T["cpu", i]`,
/// `T[0:4]`.
#[pyclass(module = "parla.tasks", subclass, frozen)]
pub struct TaskSpace {
    name: String,
    tasks: Mutex<HashMap<Vec<KeyPart>, Py<Task>>>,
}

impl TaskSpace {
    fn task(&self, py: Python<'_>, key: Vec<KeyPart>) -> Py<Task> {
        let lock = || self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = lock().get(&key) {
            return task.clone_ref(py);
        }
        let mut name = self.name.clone();
        for part in &key {
            name.push('_');
            name.push_str(&part.text());
        }
        // Allocated without the lock: allocating may run the garbage
        // collector, whose finalizers may let another thread take the GIL
        // and index this space, which would then wait for the lock while
        // holding the GIL that this thread needs to go on.
        let task = Py::new(py, Task::new(name)).expect("allocating a Task");
        // Another thread may have made the same task meanwhile: the first
        // wins, and the other is freed once the lock is released.
        let mut tasks = lock();
        let kept = tasks
            .entry(key)
            .or_insert_with(|| task.clone_ref(py))
            .clone_ref(py);
        drop(tasks);
        drop(task);
        kept
    }

    /// The tasks of this space that have been spawned, in index order of
    /// creation.
    pub fn spawned(&self, py: Python<'_>) -> Vec<Py<Task>> {
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let mut spawned: Vec<Py<Task>> = tasks
            .values()
            .filter(|t| t.get().state().spawned)
            .map(|t| t.clone_ref(py))
            .collect();
        spawned.sort_by(|a, b| a.get().name.cmp(&b.get().name));
        spawned
    }
}

#[pymethods]
impl TaskSpace {
    #[new]
    #[pyo3(signature = (name = None))]
    fn new(name: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let name = match name {
            None => "TaskSpace".to_string(),
            Some(name) => name
                .cast::<PyString>()
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "a TaskSpace's name is a string, e.g. TaskSpace(\"T\"), got {}",
                        crate::type_name(name)
                    ))
                })?
                .to_str()?
                .to_string(),
        };
        Ok(Self {
            name,
            tasks: Mutex::new(HashMap::new()),
        })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    fn __repr__(&self) -> String {
        format!("TaskSpace({})", self.name)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(tasks) = self.tasks.try_lock() {
            for task in tasks.values() {
                visit.call(task)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut tasks) = self.tasks.try_lock() {
            tasks.clear();
        }
    }

    /// Its keys are unbounded: without this, `list(T)` and `x in T` would
    /// create T[0], T[1], ... forever through `__getitem__`.
    fn __iter__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(format!(
            "TaskSpace {} is not iterable (any key names a task): take a slice, {}[0:n]",
            self.name, self.name
        )))
    }

    /// `T[i]` (a task), `T[i, j]`, `T["cpu", i]`, or with slices
    /// `T[0:4]`, `T[:n, 2]` (a task list).
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let dimensions: Vec<Dimension> = match key.cast::<PyTuple>() {
            Ok(tuple) => tuple
                .iter()
                .map(|item| dimension(&item))
                .collect::<PyResult<_>>()?,
            Err(_) => vec![dimension(key)?],
        };
        if dimensions.is_empty() {
            return Err(PyIndexError::new_err(
                "a task index needs at least one part",
            ));
        }
        if dimensions.iter().all(|d| matches!(d, Dimension::One(_))) {
            let key = dimensions
                .into_iter()
                .map(|d| match d {
                    Dimension::One(part) => part,
                    Dimension::Range { .. } => unreachable!("checked above"),
                })
                .collect();
            return Ok(self.task(py, key).into_any());
        }
        let mut lengths = dimensions.iter().map(|d| match d {
            Dimension::One(_) => 1,
            Dimension::Range { length, .. } => u128::from(*length),
        });
        // An empty dimension names no task, whatever the product of the
        // others.
        let count = if lengths.clone().any(|n| n == 0) {
            Some(0)
        } else {
            lengths.try_fold(1u128, u128::checked_mul)
        };
        match count {
            Some(0) => return Ok(Py::new(py, TaskList { tasks: Vec::new() })?.into_any()),
            Some(count) if count <= MAX_SLICE_TASKS as u128 => {}
            Some(count) => return Err(slice_too_large(count.to_string())),
            None => return Err(slice_too_large("more than 2**128".to_string())),
        }
        // Cartesian product of the dimensions, last dimension fastest.
        let mut keys: Vec<Vec<KeyPart>> = vec![Vec::new()];
        for dimension in dimensions {
            let parts: Vec<KeyPart> = match dimension {
                Dimension::One(part) => vec![part],
                // Every element lies between the i64 bounds; the offset
                // from the start may not fit an i64 (T[-2**63::2**62]).
                Dimension::Range {
                    start,
                    step,
                    length,
                } => (0..i128::from(length))
                    .map(|k| KeyPart::Int((i128::from(start) + k * i128::from(step)) as i64))
                    .collect(),
            };
            keys = keys
                .into_iter()
                .flat_map(|prefix| {
                    parts.iter().map(move |part| {
                        let mut key = prefix.clone();
                        key.push(part.clone());
                        key
                    })
                })
                .collect();
        }
        let tasks = keys.into_iter().map(|key| self.task(py, key)).collect();
        Ok(Py::new(py, TaskList { tasks })?.into_any())
    }

    /// `await T`: waits for every task of the space spawned so far.
    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wait_generator(py, self.spawned(py), false)
    }
}

/// Several tasks, from a slice of a task space: usable as dependencies and
/// awaitable.
#[pyclass(module = "parla.tasks", frozen, sequence)]
pub struct TaskList {
    pub tasks: Vec<Py<Task>>,
}

#[pymethods]
impl TaskList {
    fn __len__(&self) -> usize {
        self.tasks.len()
    }

    /// `tasks[i]` (a task) or `tasks[a:b:c]` (a task list), as for lists.
    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(slice) = index.cast::<pyo3::types::PySlice>() {
            let picked = slice.indices(self.tasks.len() as isize)?;
            let tasks = (0..picked.slicelength)
                .map(|k| {
                    let i = picked.start + k as isize * picked.step;
                    self.tasks[i as usize].clone_ref(py)
                })
                .collect();
            return Ok(Py::new(py, TaskList { tasks })?.into_any());
        }
        if is_integer(index) && index.extract::<isize>().is_err() {
            return Err(PyIndexError::new_err("task list index out of range"));
        }
        let index: isize = index.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "task list indices are integers or slices, not {}",
                crate::type_name(index)
            ))
        })?;
        let len = self.tasks.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err("task list index out of range"));
        }
        Ok(self.tasks[i as usize].clone_ref(py).into_any())
    }

    fn __repr__(&self) -> String {
        let names: Vec<String> = self
            .tasks
            .iter()
            .map(|t| format!("Task({})", t.get().name))
            .collect();
        format!("TaskList([{}])", names.join(", "))
    }

    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        wait_generator(
            py,
            self.tasks.iter().map(|t| t.clone_ref(py)).collect(),
            false,
        )
    }
}

/// Flattens a dependency specification into tasks: a task, a task list, a
/// task space (its spawned tasks), or a list/tuple of those.
pub fn collect_tasks(
    py: Python<'_>,
    spec: &Bound<'_, PyAny>,
    into: &mut Vec<Py<Task>>,
) -> PyResult<()> {
    collect_nested(py, spec, into, 0)
}

/// How deeply dependency lists may nest: deeper is a list that contains
/// itself, or a mistake.
const MAX_DEPENDENCY_NESTING: usize = 64;

fn collect_nested(
    py: Python<'_>,
    spec: &Bound<'_, PyAny>,
    into: &mut Vec<Py<Task>>,
    depth: usize,
) -> PyResult<()> {
    if depth > MAX_DEPENDENCY_NESTING {
        return Err(PyValueError::new_err(format!(
            "dependencies nest more than {MAX_DEPENDENCY_NESTING} lists deep (does a list contain itself?)"
        )));
    }
    if let Ok(task) = spec.cast::<Task>() {
        into.push(task.clone().unbind());
    } else if let Ok(list) = spec.cast::<TaskList>() {
        into.extend(list.get().tasks.iter().map(|t| t.clone_ref(py)));
    } else if let Ok(space) = spec.cast::<TaskSpace>() {
        into.extend(space.get().spawned(py));
    } else if let Some(items) = (!spec.is_instance_of::<PyString>()
        && !spec.is_instance_of::<pyo3::types::PyBytes>())
    .then(|| spec.try_iter().ok())
    .flatten()
    {
        // Lists, tuples, sets, generators: any iterable of them.
        for item in items {
            collect_nested(py, &item?, into, depth + 1)?;
        }
    } else {
        return Err(PyTypeError::new_err(format!(
            "dependencies are tasks (T[i]), task slices (T[0:4]) or lists (any iterables) of them, got {}",
            spec.get_type().name()?
        )));
    }
    Ok(())
}
