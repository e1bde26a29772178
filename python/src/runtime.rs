//! The runtime behind `with Parla():`.

use crate::tasks::Task;
use parla_runtime::{
    device::{host_memory, DeviceInfo, DeviceKind, VCU_UNITS},
    ExecutionScope, RuntimeConfig, StuckTask, TaskHandle, WaitCycles, WaitStatus,
};
use pyo3::{create_exception, exceptions::PyRuntimeError, prelude::*, PyTraverseError, PyVisit};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

create_exception!(
    parla,
    DeadlockError,
    PyRuntimeError,
    "Tasks that can never run: they wait for tasks never spawned, or for each other."
);

/// Python task bodies run with the GIL: a worker enters it once for a run
/// of Python tasks.
struct GilScope;

impl ExecutionScope for GilScope {
    fn enter(&self, _class: u8, run: &mut dyn FnMut()) {
        Python::attach(|_| run());
    }
}

/// The class of Python task bodies.
pub const PYTHON_TASK: u8 = 1;

/// A running runtime and what the Python layer keeps beside it.
pub struct RuntimeState {
    /// Unique per runtime; tasks remember where they were declared.
    pub id: usize,
    pub runtime: parla_runtime::Runtime,
    /// Tasks whose bodies raised, in the order they failed.
    pub failures: Failures,
    pub tracing: bool,
}

/// The tasks of a runtime that failed while its block could still report
/// them; once it has (`closed`), a task that outlived the block reports
/// its own failure (`parla.context._report_outlived_failure`). One lock,
/// so that no failure falls between the two.
#[derive(Default)]
pub struct FailureLog {
    pub tasks: Vec<Py<Task>>,
    pub closed: bool,
}

pub type Failures = Arc<Mutex<FailureLog>>;

static ACTIVE: Mutex<Option<Arc<RuntimeState>>> = Mutex::new(None);

/// The runtime of the current `with Parla()` block.
pub fn active() -> Option<Arc<RuntimeState>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether a `with Parla()` block is running.
#[pyfunction]
pub fn active_runtime() -> bool {
    active().is_some()
}

/// Waits up to `timeout` seconds (None: until they finish) for workers
/// still running a task after their block ended (an exception left it, and
/// the grace passed); returns how many still run. Ctrl-C stops the wait.
#[pyfunction]
#[pyo3(signature = (timeout = None))]
pub fn join_detached_workers(py: Python<'_>, timeout: Option<f64>) -> PyResult<usize> {
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0)));
    loop {
        // In slices, so that signals are handled between them.
        let slice = Instant::now() + Duration::from_millis(100);
        let until = deadline.map_or(slice, |d| d.min(slice));
        let running = py.detach(|| parla_runtime::join_detached_workers(Some(until)));
        if running == 0 || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(running);
        }
        py.check_signals()?;
    }
}

/// How the deadlock message names tasks: `Task(T_1)`, or, where distinct
/// tasks print the same (task spaces of one name, keys `1` and `"1"`),
/// `Task(T_1)#2`, numbered in order of first mention.
struct Names {
    /// Printed name -> task ids with that name, in order of first mention.
    ids: std::collections::HashMap<String, Vec<u64>>,
}

impl Names {
    fn new<'a>(tasks: impl Iterator<Item = &'a TaskHandle>) -> Self {
        let mut ids: std::collections::HashMap<String, Vec<u64>> = Default::default();
        for task in tasks {
            let same = ids.entry(plain_name(task)).or_default();
            if !same.contains(&task.id()) {
                same.push(task.id());
            }
        }
        Names { ids }
    }

    fn describe(&self, task: &TaskHandle) -> String {
        let name = plain_name(task);
        match self.ids.get(&name) {
            Some(same) if same.len() > 1 => {
                let number = same.iter().position(|&id| id == task.id()).unwrap_or(0) + 1;
                format!("{name}#{number}")
            }
            _ => name,
        }
    }

    fn has_collisions(&self) -> bool {
        self.ids.values().any(|same| same.len() > 1)
    }
}

fn plain_name(task: &TaskHandle) -> String {
    match task.name() {
        Some(name) => format!("Task({name})"),
        None => format!("task #{}", task.id()),
    }
}

/// How many stuck tasks a deadlock message lists (a long chain behind a
/// missing task would otherwise print one line per task), and how many of
/// the tasks one of them waits for (`@spawn(t, [T[0:100000]])`).
const SHOWN_STUCK_TASKS: usize = 20;
const SHOWN_WAITS: usize = 8;

/// One line per stuck task: what it waits for and why that never comes.
fn deadlock_message(stuck: &[StuckTask]) -> String {
    let mut lines = vec![format!(
        "{} task(s) can never run; the runtime stopped instead of waiting forever:",
        stuck.len()
    )];
    let stuck_ids: std::collections::HashSet<u64> = stuck.iter().map(|s| s.task.id()).collect();
    let cycles = WaitCycles::new(stuck);
    // Why a stuck task's dependency never comes: 0, never spawned; 1, it
    // closes a cycle; 2, it is stuck too; 3, otherwise.
    let cause = |task: &TaskHandle, dep: &TaskHandle| {
        if !dep.is_spawned() {
            0
        } else if cycles.closes_cycle(task.id(), dep.id()) {
            1
        } else if stuck_ids.contains(&dep.id()) {
            2
        } else {
            3
        }
    };
    // Causes first: tasks waiting for one never spawned, then those in a
    // cycle, then those that only wait for them (a long chain would
    // otherwise hide its cause past the lines shown); in each line too.
    let mut entries: Vec<_> = stuck
        .iter()
        .map(|entry| {
            let mut waits: Vec<_> = entry
                .waits_for
                .iter()
                .map(|dep| (cause(&entry.task, dep), dep))
                .collect();
            waits.sort_by_key(|(cause, _)| *cause);
            let first_cause = waits.first().map_or(3, |(cause, _)| (*cause).min(2));
            (first_cause, entry, waits)
        })
        .collect();
    entries.sort_by_key(|(first_cause, ..)| *first_cause);
    entries.truncate(SHOWN_STUCK_TASKS);
    let names = Names::new(entries.iter().flat_map(|(_, entry, waits)| {
        std::iter::once(&entry.task).chain(waits.iter().take(SHOWN_WAITS).map(|(_, dep)| *dep))
    }));
    for (_, entry, waits) in &entries {
        let mut reasons: Vec<String> = waits
            .iter()
            .take(SHOWN_WAITS)
            .map(|(cause, dep)| {
                let name = names.describe(dep);
                match cause {
                    0 => format!("{name}, which was never spawned"),
                    1 => format!("{name}, which is itself waiting (a cycle)"),
                    2 => format!("{name}, which can never run either"),
                    _ => name,
                }
            })
            .collect();
        if waits.len() > SHOWN_WAITS {
            reasons.push(format!("... and {} more", waits.len() - SHOWN_WAITS));
        }
        lines.push(format!(
            "  {} waits for {}",
            names.describe(&entry.task),
            reasons.join("; ")
        ));
    }
    if stuck.len() > SHOWN_STUCK_TASKS {
        lines.push(format!(
            "  ... and {} more",
            stuck.len() - SHOWN_STUCK_TASKS
        ));
    }
    if names.has_collisions() {
        lines.push(
            "  (#1, #2: different tasks with the same name, from task spaces of one name \
             or from keys that print alike, such as 1 and \"1\")"
                .to_string(),
        );
    }
    lines.join("\n")
}

/// The runtime of one `with Parla()` block (private: see `parla.Parla`).
/// The runtime's device table: the host CPU (device 0), then each GPU the
/// CUDA driver reports, whole (one VCU) with its memory.
fn device_infos() -> Vec<DeviceInfo> {
    let mut devices = vec![DeviceInfo::cpu(host_memory())];
    if let Ok(gpus) = parla_runtime::cuda::cuda() {
        devices.extend(gpus.devices().iter().map(|gpu| DeviceInfo {
            kind: DeviceKind::Gpu,
            ordinal: gpu.ordinal as u32,
            vcus: VCU_UNITS,
            memory: gpu.memory,
        }));
    }
    devices
}

/// `(kind, ordinal)` of each device of the table, by device number:
/// `("cpu", 0)`, then `("gpu", i)`.
#[pyfunction]
pub fn device_table() -> Vec<(&'static str, u32)> {
    device_infos()
        .iter()
        .map(|d| match d.kind {
            DeviceKind::Cpu => ("cpu", d.ordinal),
            DeviceKind::Gpu => ("gpu", d.ordinal),
        })
        .collect()
}

/// The GPU ordinal of device number `device`, None for the CPU.
pub fn gpu_ordinal(device: u16) -> Option<usize> {
    (device > 0).then(|| device as usize - 1)
}

#[pyclass(module = "parla._parla", frozen)]
pub struct Runtime {
    state: Arc<RuntimeState>,
}

#[pymethods]
impl Runtime {
    /// Starts `workers` worker threads, each with a stack of `stack_bytes`
    /// (0: what a Python thread gets by default); becomes the active
    /// runtime.
    #[new]
    #[pyo3(signature = (workers, trace = false, stack_bytes = 0))]
    fn new(workers: usize, trace: bool, stack_bytes: usize) -> PyResult<Self> {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        if active.is_some() {
            return Err(PyRuntimeError::new_err(
                "a Parla runtime is already running: `with Parla():` blocks cannot be nested",
            ));
        }
        let runtime = parla_runtime::Runtime::new(RuntimeConfig {
            workers,
            devices: device_infos(),
            trace,
            scope: Some(Arc::new(GilScope)),
            stack_bytes: match stack_bytes {
                0 => parla_runtime::DEFAULT_WORKER_STACK,
                bytes => bytes,
            },
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the worker threads: {e}")))?;
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let state = Arc::new(RuntimeState {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            runtime,
            failures: Failures::default(),
            tracing: trace,
        });
        *active = Some(state.clone());
        Ok(Self { state })
    }

    #[getter]
    fn workers(&self) -> usize {
        self.state.runtime.workers()
    }

    /// The failed tasks it holds: their exceptions' tracebacks often lead
    /// back to this runtime (a frame's `with Parla()`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(failures) = self.state.failures.try_lock() {
            for task in failures.tasks.iter() {
                visit.call(task)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut failures) = self.state.failures.try_lock() {
            failures.tasks.clear();
        }
    }

    /// The memory of each device in bytes (index = device number).
    #[getter]
    fn device_memory(&self) -> Vec<u64> {
        self.state
            .runtime
            .devices()
            .iter()
            .map(|d| d.memory)
            .collect()
    }

    /// Waits for every task, checking for Ctrl-C every 50 ms. Raises
    /// DeadlockError when the remaining tasks can never run.
    fn wait(&self, py: Python<'_>) -> PyResult<()> {
        loop {
            let status = py.detach(|| self.state.runtime.wait(Some(Duration::from_millis(50))));
            match status {
                WaitStatus::Finished => return Ok(()),
                WaitStatus::TimedOut => py.check_signals()?,
                WaitStatus::Stuck(stuck) => {
                    return Err(DeadlockError::new_err(deadlock_message(&stuck)))
                }
            }
        }
    }

    /// The tasks that failed, with their exceptions, in the order they
    /// failed.
    fn failures(&self, py: Python<'_>) -> Vec<(Py<Task>, Py<PyAny>)> {
        let failures = self
            .state
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failures
            .tasks
            .iter()
            .filter_map(|task| {
                let error = task.get().state().error.as_ref()?.clone_ref(py);
                Some((task.clone_ref(py), error))
            })
            .collect()
    }

    /// Stops scheduling: tasks not yet running never will.
    fn cancel(&self) {
        self.state.runtime.cancel();
    }

    /// Stops the workers (waiting up to `grace` seconds for running tasks)
    /// and ends the block; returns the Chrome trace JSON if tracing.
    #[pyo3(signature = (grace = 5.0))]
    fn close(&self, py: Python<'_>, grace: f64) -> Option<String> {
        {
            let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            if active.as_ref().is_some_and(|a| Arc::ptr_eq(a, &self.state)) {
                *active = None;
            }
        }
        let grace = Duration::from_secs_f64(grace.max(0.0));
        // Workers may need the GIL to finish the task they run.
        let trace = py.detach(|| self.state.runtime.shutdown(grace));
        // What fails from now on (a task that outlived the grace) is
        // reported by the task itself.
        self.state
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed = true;
        trace
            .filter(|_| self.state.tracing)
            .map(|t| t.to_chrome_json())
    }
}
