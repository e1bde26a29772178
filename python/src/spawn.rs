//! `@spawn(...)`: checks its arguments once, then turns the decorated
//! function into a task of the active runtime.

use crate::{
    body::PythonBody,
    runtime::{self, PYTHON_TASK},
    tasks::{collect_tasks, DependencyError, Task},
};
use parla_runtime::{
    device::{vcus_to_units, DeviceId, Resources},
    Outcome, SpawnError, TaskBuilder,
};
use pyo3::{
    exceptions::{PyRuntimeError, PyTypeError, PyValueError},
    intern,
    prelude::*,
    sync::PyOnceLock,
    types::{PyBool, PyFloat, PyInt, PyTuple},
};
use std::sync::atomic::{AtomicU64, Ordering};

/// A dependency on a task spawned in an earlier `with Parla()` block: met
/// if it succeeded; a DependencyError otherwise (it failed, was
/// cancelled, or has not finished, as when its block ended by an
/// exception), as a dependent in its own block would not run either.
fn earlier_block_dependency(task: &Task, dependency: &Task) -> PyResult<()> {
    let how = match dependency.outcome() {
        Some(Outcome::Succeeded) => return Ok(()),
        Some(Outcome::Failed) => "failed",
        Some(Outcome::Cancelled) => "was cancelled",
        None => "has not finished (it is still running, or never will)",
    };
    Err(DependencyError::new_err(format!(
        "{} depends on {}, which was spawned in an earlier `with Parla()` block and {how}",
        task.__repr__(),
        dependency.__repr__()
    )))
}

/// `co_flags` bit of an `async def` function's code object.
const CO_COROUTINE: i64 = 0x80;
/// `co_flags` bits of a generator and an async generator function.
const CO_GENERATOR: i64 = 0x20;
const CO_ASYNC_GENERATOR: i64 = 0x200;

/// The decorator returned by `spawn(...)`.
#[pyclass(module = "parla.tasks", frozen)]
pub struct Spawner {
    task: Option<Py<Task>>,
    dependencies: Vec<Py<Task>>,
    placement: Vec<DeviceId>,
    request: Resources,
    /// `memory` as the caller wrote it, for messages.
    memory_repr: String,
}

/// A number argument: int or float, not bool.
fn number(name: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    let numeric = !value.is_instance_of::<PyBool>()
        && (value.is_instance_of::<PyInt>()
            || value.is_instance_of::<PyFloat>()
            || value.hasattr("__float__")?);
    if !numeric {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a number, got {} ({})",
            value.repr()?,
            crate::type_name(value)
        )));
    }
    match value.extract::<f64>() {
        // An int beyond float's range: as far out of every range as inf.
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyOverflowError>(value.py()) => {
            let negative = value.lt(0i32)?;
            Ok(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        other => other,
    }
}

/// `repr(value)`, shortened to a line's worth.
fn short_repr(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = value.repr()?.to_string();
    Ok(match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
        None => text,
    })
}

/// Bytes as a person reads them: `512 bytes`, `1.5 GiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = "bytes";
    for name in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = name;
    }
    if unit == "bytes" {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// `spawn(taskid=None, dependencies=[], placement=None, vcus=None,
/// memory=None)`: a decorator that spawns the function it decorates as
/// task `taskid`, after `dependencies`, on a device of `placement`,
/// reserving `vcus` (a fraction of the device, 0 to 1; default 0: no
/// reservation) and `memory` bytes.
#[pyfunction]
#[pyo3(signature = (taskid = None, dependencies = None, placement = None, vcus = None, memory = None))]
pub fn spawn(
    py: Python<'_>,
    taskid: Option<&Bound<'_, PyAny>>,
    dependencies: Option<&Bound<'_, PyAny>>,
    placement: Option<&Bound<'_, PyAny>>,
    vcus: Option<&Bound<'_, PyAny>>,
    memory: Option<&Bound<'_, PyAny>>,
) -> PyResult<Spawner> {
    let task = match taskid {
        None => None,
        Some(id) if id.is_none() => None,
        Some(id) => match id.cast::<Task>() {
            Ok(task) => Some(task.clone().unbind()),
            Err(_) => {
                // `@spawn` without parentheses hands the function itself.
                let hint = if id.is_callable() {
                    "; to spawn an anonymous task, write @spawn() with parentheses"
                } else {
                    ""
                };
                return Err(PyTypeError::new_err(format!(
                    "spawn() takes one task id such as T[0] or T[\"name\", 1], got {} ({}){hint}",
                    id.repr()?,
                    crate::type_name(id)
                )));
            }
        },
    };
    let mut deps = Vec::new();
    if let Some(spec) = dependencies.filter(|d| !d.is_none()) {
        collect_tasks(py, spec, &mut deps)?;
    }
    let vcus = match vcus.filter(|v| !v.is_none()) {
        None => 0,
        Some(value) => {
            let fraction = number("vcus", value)?;
            match vcus_to_units(fraction) {
                Ok(units) => units,
                Err(_) => {
                    return Err(PyValueError::new_err(format!(
                    "vcus must be between 0 and 1 (the fraction of a device the task uses), got {}",
                    short_repr(value)?
                )))
                }
            }
        }
    };
    let mut memory_repr = String::from("0");
    let memory = match memory.filter(|m| !m.is_none()) {
        None => 0,
        Some(value) => {
            let bytes = number("memory", value)?;
            if !(bytes.is_finite() && bytes >= 0.0) {
                return Err(PyValueError::new_err(format!(
                    "memory must be a non-negative number of bytes, got {}",
                    short_repr(value)?
                )));
            }
            memory_repr = short_repr(value)?;
            // Saturates: more than 16 EiB fits no device either.
            bytes.round() as u64
        }
    };
    let placement = match placement.filter(|p| !p.is_none()) {
        None => Vec::new(),
        Some(spec) => {
            static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let resolve = RESOLVE.import(py, "parla.devices", "_resolve_placement")?;
            let ids: Vec<u16> = resolve.call1((spec,))?.extract()?;
            ids.into_iter().map(DeviceId).collect()
        }
    };
    Ok(Spawner {
        task,
        dependencies: deps,
        placement,
        request: Resources { vcus, memory },
        memory_repr,
    })
}

static ANONYMOUS: AtomicU64 = AtomicU64::new(0);

/// A copy of `function` whose closure cells hold the values they hold now:
/// tasks capture variables by value, so a loop variable keeps the value it
/// had when the task was spawned.
fn capture_by_value<'py>(
    py: Python<'py>,
    function: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    static TYPES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
    let (function_type, cell_type) = TYPES.get_or_try_init(py, || -> PyResult<_> {
        let types = py.import("types")?;
        Ok((
            types.getattr("FunctionType")?.unbind(),
            types.getattr("CellType")?.unbind(),
        ))
    })?;
    if !function.get_type().is(function_type.bind(py)) {
        return Ok(function.clone()); // a builtin, a partial, a callable object
    }
    let closure = function.getattr(intern!(py, "__closure__"))?;
    let nested = !closure.is_none()
        || function
            .getattr(intern!(py, "__qualname__"))?
            .extract::<&str>()?
            .contains("<locals>");
    if nested {
        // It reads the module's globals live; the ones it assigns become
        // shared, so module-level bodies see what it stores.
        static SHARE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        SHARE
            .import(py, "parla._capture", "share_assigned_globals")?
            .call1((function,))?;
    }
    if closure.is_none() {
        if nested {
            return Ok(function.clone()); // a nested function that captures nothing
        }
        // Defined at module level: its "local scope" is the module's.
        static SNAPSHOT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let snapshot = SNAPSHOT.import(py, "parla._capture", "with_global_snapshot")?;
        return snapshot.call1((function,));
    }
    let cells = closure.cast::<PyTuple>()?;
    let mut copied = Vec::with_capacity(cells.len());
    for cell in cells.iter() {
        copied.push(match cell.getattr(intern!(py, "cell_contents")) {
            Ok(value) => cell_type.bind(py).call1((value,))?,
            Err(_) => cell, // not assigned yet: keep sharing it
        });
    }
    let copy = function_type.bind(py).call1((
        function.getattr(intern!(py, "__code__"))?,
        function.getattr(intern!(py, "__globals__"))?,
        function.getattr(intern!(py, "__name__"))?,
        function.getattr(intern!(py, "__defaults__"))?,
        PyTuple::new(py, copied)?,
    ))?;
    let kwdefaults = function.getattr(intern!(py, "__kwdefaults__"))?;
    if !kwdefaults.is_none() {
        copy.setattr(intern!(py, "__kwdefaults__"), kwdefaults)?;
    }
    copy.setattr(
        intern!(py, "__qualname__"),
        function.getattr(intern!(py, "__qualname__"))?,
    )?;
    Ok(copy)
}

/// The `co_flags` of a function's code (0 for other callables).
fn code_flags(py: Python<'_>, function: &Bound<'_, PyAny>) -> i64 {
    function
        .getattr(intern!(py, "__code__"))
        .and_then(|code| code.getattr(intern!(py, "co_flags")))
        .and_then(|flags| flags.extract::<i64>())
        .unwrap_or(0)
}

impl Spawner {
    /// Why the request fits no device of the placement: what each has.
    fn no_device_fits(&self, runtime: &parla_runtime::Runtime, error: &SpawnError) -> String {
        let devices = runtime.devices();
        let placement: Vec<DeviceId> = if self.placement.is_empty() {
            vec![DeviceId(0)] // the runtime's default: the CPU
        } else {
            self.placement.clone()
        };
        let placed: Vec<_> = placement
            .iter()
            .filter_map(|id| devices.get(id.0 as usize))
            .collect();
        if placed
            .iter()
            .any(|device| device.memory >= self.request.memory)
        {
            return error.to_string(); // not the memory: say what the runtime says
        }
        let capacities: Vec<String> = placed
            .iter()
            .map(|device| {
                let kind = match device.kind {
                    parla_runtime::device::DeviceKind::Cpu => "CPU",
                    parla_runtime::device::DeviceKind::Gpu => "GPU",
                };
                format!(
                    "{kind}:{} has {}",
                    device.ordinal,
                    human_bytes(device.memory)
                )
            })
            .collect();
        let asked = if self.request.memory == u64::MAX {
            "more than 16 EiB".to_string()
        } else {
            human_bytes(self.request.memory)
        };
        format!(
            "memory={} bytes ({asked}) is more than any device of the placement has: {}",
            self.memory_repr,
            capacities.join(", ")
        )
    }
}

#[pymethods]
impl Spawner {
    /// Spawns `body` and returns its task.
    fn __call__(&self, py: Python<'_>, body: &Bound<'_, PyAny>) -> PyResult<Py<Task>> {
        if !body.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "@spawn(...) decorates a function, got {} ({})",
                body.repr()?,
                crate::type_name(body)
            )));
        }
        let active = runtime::active();
        if let Some(own) = crate::current::current_runtime() {
            if active.as_ref().is_none_or(|a| a.id != own) {
                // A task that outlived its block (the grace after an
                // exception): its spawns would join another block.
                let current = crate::current::get_current_task(py)
                    .map(|t| t.get().__repr__())
                    .unwrap_or_default();
                return Err(PyRuntimeError::new_err(format!(
                    "spawn() in {current}, whose `with Parla()` block has ended: \
                     a task that outlives its block cannot spawn more"
                )));
            }
        }
        let Some(runtime) = active else {
            return Err(PyRuntimeError::new_err(
                "spawn() needs a running Parla runtime: spawn tasks inside `with Parla():`",
            ));
        };
        let task = match &self.task {
            Some(task) => task.clone_ref(py),
            None => {
                let n = ANONYMOUS.fetch_add(1, Ordering::Relaxed);
                Py::new(py, Task::new(format!("global_{n}")))?
            }
        };
        let flags = code_flags(py, body);
        if flags & (CO_GENERATOR | CO_ASYNC_GENERATOR) != 0 {
            return Err(PyTypeError::new_err(format!(
                "@spawn(...) decorates a function or an async function; {} is a generator function (it contains `yield`), whose body would never run",
                body.repr()?
            )));
        }
        // Other callables that return a coroutine (a functools.partial of
        // an async function, an object with `async def __call__`) are
        // found when called: the body drives what they return.
        let is_async = flags & CO_COROUTINE != 0;
        let function = capture_by_value(py, body)?.unbind();
        // Before declaring anything: a task that cannot be spawned is not.
        for dep in &self.dependencies {
            if dep.get().spawned_in_earlier_block(&runtime) {
                earlier_block_dependency(task.get(), dep.get())?;
            }
        }
        let handle = task.get().handle_in(&runtime).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{} was already spawned (in an earlier Parla block)",
                task.get().__repr__()
            ))
        })?;
        let after: Vec<_> = self
            .dependencies
            .iter()
            .filter_map(|dep| dep.get().handle_in(&runtime))
            .collect();
        let body = PythonBody {
            gpu_stream: None,
            task: task.clone_ref(py),
            function: Some(function),
            coroutine: None,
            is_async,
            runtime: runtime.id,
            block: std::sync::Arc::downgrade(&runtime),
            failures: runtime.failures.clone(),
        };
        let builder = TaskBuilder::from_body(Box::new(body))
            .after(&after)
            .resources(self.request)
            .placement(self.placement.clone())
            .class(PYTHON_TASK);
        match runtime.runtime.spawn_declared(&handle, builder) {
            Ok(()) => {
                task.get().state().spawned = true;
                Ok(task)
            }
            Err(SpawnError::AlreadySpawned(_)) => Err(PyValueError::new_err(format!(
                "{} was already spawned: each task id is spawned once",
                task.get().__repr__()
            ))),
            Err(error @ SpawnError::NoDeviceFits { .. }) => Err(PyValueError::new_err(
                self.no_device_fits(&runtime.runtime, &error),
            )),
            Err(other) => Err(PyRuntimeError::new_err(other.to_string())),
        }
    }
}
