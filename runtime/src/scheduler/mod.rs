//! The scheduler: dependency counting, mapping onto devices with resource
//! accounting, and a fixed pool of worker threads. See `README.md` beside
//! this file for the design and the ordering of every atomic.

mod resources;
mod sleep;
mod stuck;
mod worker;

pub use stuck::WaitCycles;

use crate::device::{host_memory, DeviceId, DeviceInfo, Resources};
use crate::task::{
    Body, Closure, Outcome, Placement, TaskHandle, TaskNode, Work, DECLARED, FINISHED, READY,
    SPAWNING, WAITING,
};
use crate::trace::{Trace, TraceSink};
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use resources::ResourceTable;
use sleep::Sleep;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};
use thiserror::Error;

/// Runs tasks of one class inside a scope the embedder provides, several
/// in a row: the Python layer enters the GIL once for a batch of Python
/// task bodies instead of once per body.
pub trait ExecutionScope: Send + Sync {
    /// Calls `run` inside the scope for tasks of `class` (never 0).
    fn enter(&self, class: u8, run: &mut dyn FnMut());
}

/// How to build a runtime.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Worker threads (at least 1).
    pub workers: usize,
    /// Devices to schedule onto; the first is where tasks without a
    /// placement go.
    pub devices: Vec<DeviceInfo>,
    /// Record a trace (see [`Runtime::shutdown`]).
    pub trace: bool,
    pub scope: Option<Arc<dyn ExecutionScope>>,
    /// Each worker thread's stack, in bytes. Task bodies run on it, so it
    /// matches what a Python thread gets ([`DEFAULT_WORKER_STACK`]):
    /// recursion through C code (`functools.lru_cache`, `repr` of nested
    /// objects) that a thread survives must not overflow a task's stack.
    pub stack_bytes: usize,
}

/// The stack of a thread on Linux by default (glibc takes `ulimit -s`,
/// 8 MiB on most systems); Rust's own default is 2 MiB.
pub const DEFAULT_WORKER_STACK: usize = 8 << 20;

/// The least stack a worker gets, whatever it is asked for.
const MIN_WORKER_STACK: usize = 256 << 10;

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            workers: crate::config::worker_count().unwrap_or(1),
            devices: vec![DeviceInfo::cpu(host_memory())],
            trace: false,
            scope: None,
            stack_bytes: DEFAULT_WORKER_STACK,
        }
    }
}

/// A task to spawn.
pub struct TaskBuilder {
    body: Box<dyn Body>,
    after: Vec<TaskHandle>,
    request: Resources,
    placement: Vec<DeviceId>,
    class: u8,
    name: Option<String>,
}

impl TaskBuilder {
    /// A task that runs a closure.
    pub fn new(f: impl FnOnce() + Send + 'static) -> Self {
        Self::from_body(Box::new(Closure(Some(f))))
    }

    /// A task with a body that may suspend (see [`crate::Step::Wait`]).
    pub fn from_body(body: Box<dyn Body>) -> Self {
        Self {
            body,
            after: Vec::new(),
            request: Resources::default(),
            placement: Vec::new(),
            class: 0,
            name: None,
        }
    }

    /// Runs after these tasks finish.
    pub fn after(mut self, tasks: &[TaskHandle]) -> Self {
        self.after.extend_from_slice(tasks);
        self
    }

    /// Reserves compute (in [`crate::device::VCU_UNITS`]) and memory (bytes)
    /// on the device while it runs.
    pub fn resources(mut self, request: Resources) -> Self {
        self.request = request;
        self
    }

    /// Devices the task may run on, in order of preference (default: the
    /// first device).
    pub fn placement(mut self, devices: Vec<DeviceId>) -> Self {
        self.placement = devices;
        self
    }

    /// Tasks of a non-zero class run inside the runtime's
    /// [`ExecutionScope`].
    pub fn class(mut self, class: u8) -> Self {
        self.class = class;
        self
    }

    /// A name for diagnostics and traces, used when [`Runtime::spawn`]
    /// creates the task (a declared task keeps the name it was declared
    /// with).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Why a task could not be spawned.
#[derive(Debug, Error)]
pub enum SpawnError {
    #[error("{0:?} was already spawned")]
    AlreadySpawned(TaskHandle),
    #[error("{0:?} belongs to another runtime")]
    ForeignTask(TaskHandle),
    #[error("device #{} does not exist in this runtime", .0 .0)]
    UnknownDevice(DeviceId),
    #[error(
        "no device in the placement can ever hold the request ({vcus} vcu units, {memory} bytes)"
    )]
    NoDeviceFits { vcus: u32, memory: u64 },
    #[error("the runtime was cancelled")]
    Cancelled,
}

/// A task that cannot make progress, and the unfinished tasks it waits for.
#[derive(Debug, Clone)]
pub struct StuckTask {
    pub task: TaskHandle,
    pub waits_for: Vec<TaskHandle>,
}

/// What [`Runtime::wait`] saw.
#[derive(Debug)]
pub enum WaitStatus {
    /// Every spawned task has finished.
    Finished,
    /// Tasks remain but none can run: they wait for tasks never spawned,
    /// or for each other.
    Stuck(Vec<StuckTask>),
    TimedOut,
}

static NEXT_RUNTIME: AtomicUsize = AtomicUsize::new(1);

/// One outstanding task, in `Shared::counts`.
const OUTSTANDING: u64 = 1 << 32;
/// One task in flight, in `Shared::counts`.
const IN_FLIGHT: u64 = 1;
const IN_FLIGHT_MASK: u64 = (1 << 32) - 1;

pub(crate) struct Shared {
    pub id: usize,
    pub injector: Injector<Arc<TaskNode>>,
    pub stealers: Vec<Stealer<Arc<TaskNode>>>,
    pub sleep: Sleep,
    pub devices: Vec<DeviceInfo>,
    pub resources: ResourceTable,
    /// Two counters in one word, so that `wait` reads them together:
    /// the high half counts tasks spawned and not finished ("outstanding"),
    /// the low half tasks ready, queued, blocked on resources or running
    /// ("in flight"). A newly ready task is counted in flight before the
    /// task that readied it stops counting, so in-flight reaches zero with
    /// tasks outstanding only when nothing can run. SeqCst.
    pub counts: AtomicU64,
    pub progress: Mutex<()>,
    pub progress_changed: Condvar,
    /// Threads inside `wait`; finishers notify only when there are some.
    pub waiters: AtomicUsize,
    /// Nodes that had unfinished dependencies when spawned or suspended,
    /// until they become ready: what a stuck graph is made of.
    pub waiting: Mutex<HashMap<u64, Arc<TaskNode>>>,
    pub cancelled: AtomicBool,
    pub shutdown: AtomicBool,
    pub next_task: AtomicU64,
    pub scope: Option<Arc<dyn ExecutionScope>>,
    pub trace: Option<TraceSink>,
}

/// The runtime: a fixed pool of workers running tasks as their
/// dependencies finish and their resources become free.
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    workers: usize,
}

impl Runtime {
    /// Starts the workers.
    pub fn new(config: RuntimeConfig) -> std::io::Result<Runtime> {
        let workers = config.workers.max(1);
        let deques: Vec<Worker<Arc<TaskNode>>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let shared = Arc::new(Shared {
            id: NEXT_RUNTIME.fetch_add(1, Ordering::Relaxed),
            injector: Injector::new(),
            stealers: deques.iter().map(Worker::stealer).collect(),
            sleep: Sleep::new(workers),
            resources: ResourceTable::new(&config.devices),
            devices: config.devices,
            counts: AtomicU64::new(0),
            progress: Mutex::new(()),
            progress_changed: Condvar::new(),
            waiters: AtomicUsize::new(0),
            waiting: Mutex::new(HashMap::new()),
            cancelled: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            next_task: AtomicU64::new(0),
            scope: config.scope,
            trace: config.trace.then(TraceSink::new),
        });
        let mut threads = Vec::with_capacity(workers);
        for (index, deque) in deques.into_iter().enumerate() {
            let worker_shared = shared.clone();
            let started = std::thread::Builder::new()
                .name(format!("parla-worker-{index}"))
                .stack_size(config.stack_bytes.max(MIN_WORKER_STACK))
                .spawn(move || worker::run(worker_shared, index, deque));
            match started {
                Ok(thread) => threads.push(thread),
                Err(error) => {
                    // The workers already started would wait for work
                    // forever (and hold their stacks): stop them.
                    shared
                        .sleep
                        .set_threads(threads.iter().map(|t| t.thread().clone()).collect());
                    shared.shutdown.store(true, Ordering::SeqCst);
                    shared.sleep.wake_all();
                    for thread in threads {
                        let _ = thread.join();
                    }
                    return Err(error);
                }
            }
        }
        shared
            .sleep
            .set_threads(threads.iter().map(|t| t.thread().clone()).collect());
        Ok(Runtime {
            shared,
            threads: Mutex::new(threads),
            workers,
        })
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The devices tasks are placed on.
    pub fn devices(&self) -> &[DeviceInfo] {
        &self.shared.devices
    }

    /// A task that others can depend on before it is spawned (with
    /// [`Runtime::spawn_declared`]).
    pub fn declare(&self) -> TaskHandle {
        self.declare_node(None)
    }

    /// [`Runtime::declare`] with a name for diagnostics and traces.
    pub fn declare_named(&self, name: impl Into<Box<str>>) -> TaskHandle {
        self.declare_node(Some(name.into()))
    }

    fn declare_node(&self, name: Option<Box<str>>) -> TaskHandle {
        let id = self.shared.next_task.fetch_add(1, Ordering::Relaxed);
        TaskHandle(Arc::new(TaskNode::new(id, self.shared.id, name)))
    }

    /// Spawns a new task.
    pub fn spawn(&self, mut task: TaskBuilder) -> Result<TaskHandle, SpawnError> {
        let handle = self.declare_node(task.name.take().map(String::into_boxed_str));
        self.spawn_declared(&handle, task)?;
        Ok(handle)
    }

    /// Spawns a declared task.
    pub fn spawn_declared(&self, handle: &TaskHandle, task: TaskBuilder) -> Result<(), SpawnError> {
        self.shared.spawn(&handle.0, task)
    }

    /// Waits until every spawned task has finished, the graph is stuck, or
    /// `timeout` passes. Tasks may keep being spawned meanwhile (by tasks).
    pub fn wait(&self, timeout: Option<Duration>) -> WaitStatus {
        self.shared.wait(timeout)
    }

    /// Stops scheduling: tasks that have not started never run (workers
    /// finish them as cancelled). Running tasks finish, and tasks that
    /// started and await resume when what they await finishes (their
    /// awaits of cancelled tasks fail); `shutdown` joins the workers.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        self.shared.sleep.wake_all();
    }

    /// Stops the workers (after `wait`, or `cancel`), drops what never ran,
    /// and returns the trace if one was recorded. Waits at most `grace` for
    /// workers still running a task; those are left to finish on their own.
    /// Later calls do nothing and return no trace.
    pub fn shutdown(&self, grace: Duration) -> Option<Trace> {
        if self.stop(grace) {
            self.shared.trace.as_ref().map(TraceSink::take)
        } else {
            None
        }
    }

    /// Returns false if the runtime was already stopped.
    fn stop(&self, grace: Duration) -> bool {
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        if threads.is_empty() {
            return false;
        }
        let shared = &self.shared;
        shared.shutdown.store(true, Ordering::SeqCst);
        shared.sleep.wake_all();
        let deadline = Instant::now() + grace;
        let mut outlived = false;
        for thread in threads {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
            if thread.is_finished() {
                let _ = thread.join();
            } else {
                outlived = true;
                detached_lock().push(thread);
            }
        }
        if outlived {
            // A worker still runs a task: what it finishes releases its
            // dependents, and tasks paused at an `await` on it resume on
            // that worker when it is done, as they would have within the
            // grace (dropped now, they would be closed with GeneratorExit
            // and never finish). What has not started finishes as
            // cancelled there; what is left is freed with the runtime.
            shared.cancelled.store(true, Ordering::SeqCst);
            return true;
        }
        // What never ran: drop the bodies now, on this thread.
        loop {
            match shared.injector.steal() {
                // SAFETY: the queue owned the node; no worker runs anymore.
                Steal::Success(node) => drop(unsafe { node.work().take() }),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        let waiting: Vec<_> = shared.waiting_lock().drain().map(|(_, n)| n).collect();
        for node in waiting {
            // Claimed like make_ready does: a task that outlived the grace
            // may still release this node when it finishes.
            if node
                .state
                .compare_exchange(WAITING, FINISHED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // SAFETY: claimed above.
                unsafe { node.work().take() };
            }
        }
        for node in shared.resources.drain_blocked() {
            // SAFETY: blocked nodes are owned by the resource table.
            unsafe { node.work().take() };
        }
        true
    }
}

/// Workers whose runtime stopped while they still ran a task (past the
/// grace of `shutdown`), from every runtime of the process.
static DETACHED: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

fn detached_lock() -> std::sync::MutexGuard<'static, Vec<JoinHandle<()>>> {
    DETACHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Joins the workers that outlived their runtime's shutdown, waiting at
/// most until `deadline` (None: until they finish); returns how many still
/// run. An embedding interpreter calls this before it finalizes: a worker
/// that resumes a task's code in a finalizing interpreter is ended there
/// mid-task.
pub fn join_detached_workers(deadline: Option<Instant>) -> usize {
    let mut threads = std::mem::take(&mut *detached_lock());
    loop {
        for finished in threads.extract_if(.., |t| t.is_finished()) {
            let _ = finished.join();
        }
        if threads.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let running = threads.len();
    detached_lock().extend(threads);
    running
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let running = !self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        if running {
            self.cancel();
            self.stop(Duration::from_secs(1));
        }
    }
}

impl Shared {
    pub fn waiting_lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<TaskNode>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn(&self, node: &Arc<TaskNode>, task: TaskBuilder) -> Result<(), SpawnError> {
        if node.runtime != self.id {
            return Err(SpawnError::ForeignTask(TaskHandle(node.clone())));
        }
        if let Some(dep) = task.after.iter().find(|d| d.0.runtime != self.id) {
            return Err(SpawnError::ForeignTask(dep.clone()));
        }
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(SpawnError::Cancelled);
        }
        let placement: Placement = if task.placement.is_empty() {
            smallvec::smallvec![DeviceId(0)]
        } else {
            task.placement.into_iter().collect()
        };
        if let Some(unknown) = placement
            .iter()
            .find(|d| d.0 as usize >= self.devices.len())
        {
            return Err(SpawnError::UnknownDevice(*unknown));
        }
        if !placement
            .iter()
            .any(|d| task.request.fits_in(&self.devices[d.0 as usize]))
        {
            return Err(SpawnError::NoDeviceFits {
                vcus: task.request.vcus,
                memory: task.request.memory,
            });
        }
        // Claim the node: only one spawn may fill it.
        if node
            .state
            .compare_exchange(DECLARED, SPAWNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(SpawnError::AlreadySpawned(TaskHandle(node.clone())));
        }
        self.counts.fetch_add(OUTSTANDING, Ordering::SeqCst);
        if let Some(trace) = &self.trace {
            trace.edges(node.id, task.after.iter().map(|d| d.0.id));
            if let Some(name) = &node.name {
                trace.name(node.id, name);
            }
        }
        if !task.after.is_empty() {
            node.diagnostics().waits_for = task.after.clone();
        }
        // SAFETY: SPAWNING: this thread owns the node.
        unsafe {
            *node.work() = Some(Work {
                body: task.body,
                request: task.request,
                device: placement[0],
                placement,
                class: task.class,
                holds_resources: false,
                resumed: false,
            });
        }
        node.state.store(WAITING, Ordering::Release);
        for dep in &task.after {
            register(&dep.0, node);
        }
        self.release_guard(node);
        Ok(())
    }

    /// Drops the guard count that spawn/suspend hold; the node becomes
    /// ready here if nothing else is pending, else it is recorded as
    /// waiting (before the guard drops, so `make_ready` can remove it).
    fn release_guard(&self, node: &Arc<TaskNode>) {
        if node.pending.load(Ordering::Acquire) > 1 {
            node.listed_waiting.store(true, Ordering::Relaxed);
            self.waiting_lock().insert(node.id, node.clone());
        }
        if node.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.make_ready(node.clone());
        }
    }

    /// The node's dependencies are all finished: cancel it (a dependency
    /// failed) or map it to a device and queue it.
    pub fn make_ready(&self, node: Arc<TaskNode>) {
        if let Some(cancelled) = self.ready_or_cancelled(node) {
            self.finish(&cancelled, Outcome::Cancelled);
        }
    }

    /// [`Self::make_ready`], except that a node to cancel is returned for
    /// the caller to finish. Does nothing if the node is no longer waiting:
    /// a runtime shutting down drops what waits, while a task that outlived
    /// the shutdown's grace may still finish and release its dependents.
    fn ready_or_cancelled(&self, node: Arc<TaskNode>) -> Option<Arc<TaskNode>> {
        // Claiming the node (WAITING -> READY) makes it ours; the shutdown
        // claims waiting nodes the same way before dropping them.
        if node
            .state
            .compare_exchange(WAITING, READY, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return None;
        }
        self.counts.fetch_add(IN_FLIGHT, Ordering::SeqCst);
        // Relaxed: set by the thread that released the guard, which
        // happens-before this one through `pending`.
        if node.listed_waiting.load(Ordering::Relaxed) {
            node.listed_waiting.store(false, Ordering::Relaxed);
            self.waiting_lock().remove(&node.id);
        }
        // SAFETY: claimed above.
        let work = unsafe { node.work() }
            .as_mut()
            .expect("a claimed node has work");
        if !work.resumed && node.poisoned.load(Ordering::Acquire) {
            return Some(node);
        }
        if work.request.is_zero() {
            // No lock taken: the least loaded device, counted there.
            self.resources.map_unreserved(work);
            self.enqueue(node);
            return None;
        }
        if let Some(node) = self.resources.reserve_or_block(node) {
            self.enqueue(node);
        }
        None
    }

    pub fn enqueue(&self, node: Arc<TaskNode>) {
        if !worker::push_local(self, &node) {
            self.injector.push(node);
            self.sleep.notify_one();
        }
    }

    /// Finishes a node the caller owns (running, or ready and cancelled).
    pub fn finish(&self, node: &Arc<TaskNode>, outcome: Outcome) {
        // Dependents of a failed task are cancelled, and finish in turn: a
        // work list rather than recursion, so that a long chain of them
        // cannot overflow the stack.
        let mut cancelled = Vec::new();
        self.finish_one(node, outcome, &mut cancelled);
        while let Some(next) = cancelled.pop() {
            self.finish_one(&next, Outcome::Cancelled, &mut cancelled);
        }
    }

    fn finish_one(
        &self,
        node: &Arc<TaskNode>,
        outcome: Outcome,
        cancelled: &mut Vec<Arc<TaskNode>>,
    ) {
        // SAFETY: the caller owns the node.
        let work = unsafe { node.work() }.take();
        if let Some(work) = &work {
            if work.holds_resources {
                for ready in self.resources.release(work.device, work.request) {
                    self.enqueue(ready);
                }
            }
        }
        drop(work);
        node.state.store(FINISHED, Ordering::Release);
        let dependents = {
            let mut links = node.links();
            links.outcome = Some(outcome);
            std::mem::take(&mut links.dependents)
        };
        for dependent in dependents {
            if outcome != Outcome::Succeeded {
                dependent.poisoned.store(true, Ordering::Release);
            }
            if dependent.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                cancelled.extend(self.ready_or_cancelled(dependent));
            }
        }
        let before = self
            .counts
            .fetch_sub(OUTSTANDING | IN_FLIGHT, Ordering::SeqCst);
        if before >> 32 == 1 || before & IN_FLIGHT_MASK == 1 {
            self.notify_progress();
        }
    }

    /// The running node awaits `tasks`: release its resources and run it
    /// again when they have finished.
    pub fn suspend(&self, node: &Arc<TaskNode>, tasks: Vec<TaskHandle>) {
        {
            // SAFETY: the caller (the worker running it) owns the node.
            let work = unsafe { node.work() }
                .as_mut()
                .expect("a running node has work");
            if work.holds_resources {
                work.holds_resources = false;
                for ready in self.resources.release(work.device, work.request) {
                    self.enqueue(ready);
                }
            }
            work.resumed = true;
        }
        node.pending.store(1, Ordering::Release);
        node.state.store(WAITING, Ordering::Release);
        for task in &tasks {
            if task.0.runtime == self.id {
                register(&task.0, node);
            } else {
                node.poisoned.store(true, Ordering::Release);
            }
        }
        node.diagnostics().waits_for = tasks;
        self.release_guard(node);
        if self.counts.fetch_sub(IN_FLIGHT, Ordering::SeqCst) & IN_FLIGHT_MASK == 1 {
            self.notify_progress();
        }
    }

    fn notify_progress(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            self.progress_changed.notify_all();
        }
    }

    fn wait(&self, timeout: Option<Duration>) -> WaitStatus {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let status = loop {
            let counts = self.counts.load(Ordering::SeqCst);
            if counts >> 32 == 0 {
                break WaitStatus::Finished;
            }
            if counts & IN_FLIGHT_MASK == 0 {
                break WaitStatus::Stuck(self.stuck_tasks());
            }
            let wait_for = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => break WaitStatus::TimedOut,
                },
                None => Duration::from_millis(100),
            };
            guard = self
                .progress_changed
                .wait_timeout(guard, wait_for)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        status
    }

    fn stuck_tasks(&self) -> Vec<StuckTask> {
        let mut stuck: Vec<StuckTask> = self
            .waiting_lock()
            .values()
            .map(|node| StuckTask {
                task: TaskHandle(node.clone()),
                waits_for: node
                    .diagnostics()
                    .waits_for
                    .iter()
                    .filter(|t| t.outcome().is_none())
                    .cloned()
                    .collect(),
            })
            .collect();
        stuck.sort_by_key(|s| s.task.id());
        stuck
    }
}

/// Makes `node` depend on `dep`: counts it in `node.pending` unless `dep`
/// has finished (then a failure poisons `node`).
fn register(dep: &Arc<TaskNode>, node: &Arc<TaskNode>) {
    let mut links = dep.links();
    match links.outcome {
        Some(Outcome::Succeeded) => {}
        Some(Outcome::Failed | Outcome::Cancelled) => node.poisoned.store(true, Ordering::Release),
        None => {
            // Counted under the lock `finish` takes to close the list, so
            // the decrement can never come first.
            node.pending.fetch_add(1, Ordering::AcqRel);
            links.dependents.push(node.clone());
        }
    }
}
