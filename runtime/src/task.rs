//! Tasks: what runs, what it waits for, and how it ended.

use crate::device::{DeviceId, Resources};
use std::{
    cell::{RefCell, UnsafeCell},
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

/// How a finished task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body returned normally.
    Succeeded,
    /// The body failed (an exception, a panic).
    Failed,
    /// The task did not run because a task it depends on failed or was
    /// cancelled, or because the runtime was cancelled.
    Cancelled,
}

/// What a body asks for when it returns control to the runtime.
pub enum Step {
    /// The task is finished.
    Done,
    /// The task failed; tasks that depend on it are cancelled.
    Failed,
    /// Suspend until these tasks finish, then run the body again (an
    /// `await` in an async task). The task holds no resources meanwhile.
    Wait(Vec<TaskHandle>),
}

/// What a body is told when it runs.
#[derive(Debug, Clone, Copy)]
pub struct RunContext {
    /// The index of the worker thread running the body.
    pub worker: usize,
    /// The device the task was mapped to.
    pub device: DeviceId,
    /// For a body resumed after `Step::Wait`: whether a task it waited for
    /// failed or was cancelled.
    pub dependency_failed: bool,
}

/// The code of a task. Called once, or again after each `Step::Wait`.
pub trait Body: Send {
    fn run(&mut self, context: &RunContext) -> Step;
}

/// A Rust closure as a body.
pub(crate) struct Closure<F>(pub Option<F>);

impl<F: FnOnce() + Send> Body for Closure<F> {
    fn run(&mut self, _: &RunContext) -> Step {
        match self.0.take() {
            Some(f) => {
                f();
                Step::Done
            }
            None => Step::Done,
        }
    }
}

// Life cycle of a node (`TaskNode::state`).
pub(crate) const DECLARED: u8 = 0; // named (a dependency) but not spawned
pub(crate) const SPAWNING: u8 = 1; // spawn() owns the node
pub(crate) const WAITING: u8 = 2; // waits for dependencies (or, suspended, for awaited tasks)
pub(crate) const READY: u8 = 3; // queued, or blocked on resources
pub(crate) const RUNNING: u8 = 4;
pub(crate) const FINISHED: u8 = 5;

/// Devices in order of preference; a few fit inline (no allocation).
pub(crate) type Placement = smallvec::SmallVec<[DeviceId; 4]>;

/// What the node holds from spawn until it finishes; touched only by the
/// thread that owns the node's current state (see `scheduler/README.md`).
pub(crate) struct Work {
    pub body: Box<dyn Body>,
    pub request: Resources,
    /// Devices the task may run on, in order of preference.
    pub placement: Placement,
    /// Tasks of one class run back to back inside one `ExecutionScope`
    /// entry (class 0: no scope).
    pub class: u8,
    /// Assigned by the mapping step.
    pub device: DeviceId,
    /// Whether the task holds `request` on `device` now.
    pub holds_resources: bool,
    /// Whether the body has run and suspended (an `await`).
    pub resumed: bool,
}

/// What a node waits for now (its dependencies, or what it awaits), for
/// reporting stuck graphs.
#[derive(Default)]
pub(crate) struct Diagnostics {
    pub waits_for: Vec<TaskHandle>,
}

pub(crate) struct Links {
    pub dependents: Vec<Arc<TaskNode>>,
    pub outcome: Option<Outcome>,
}

pub(crate) struct TaskNode {
    pub id: u64,
    /// For diagnostics and traces; fixed when the node is declared.
    pub name: Option<Box<str>>,
    /// Identifies the runtime the node belongs to.
    pub runtime: usize,
    pub state: AtomicU8,
    /// Unfinished dependencies, plus one while the node is being spawned or
    /// suspended (so it cannot become ready half-way). Whoever brings it to
    /// zero makes the node ready. AcqRel: the decrement that reaches zero
    /// must see every write made before the other decrements.
    pub pending: AtomicUsize,
    /// Set (Release) when a dependency failed; read (Acquire) by whoever
    /// makes the node ready.
    pub poisoned: AtomicBool,
    /// Whether the node is in the runtime's `waiting` map.
    pub listed_waiting: AtomicBool,
    pub links: Mutex<Links>,
    pub diagnostics: Mutex<Diagnostics>,
    pub work: UnsafeCell<Option<Work>>,
}

// SAFETY: `work` is accessed only by the thread that owns the node's
// state: the spawner (SPAWNING), the thread that brought `pending` to zero
// (until it hands the node to a queue), and the worker running it. These
// hand-offs go through atomics with Acquire/Release ordering or queue
// operations that synchronise.
unsafe impl Sync for TaskNode {}
unsafe impl Send for TaskNode {}

/// Nodes hold other nodes (what they wait for, their dependents), so
/// dropping the last handle of a long chain would drop the next node inside
/// this one's drop, and so on, past the end of the stack. Each thread
/// instead collects the nodes released while it drops one and drops them
/// one after another.
impl Drop for TaskNode {
    fn drop(&mut self) {
        thread_local! {
            static RELEASED: RefCell<Option<Vec<Arc<TaskNode>>>> = const { RefCell::new(None) };
        }
        let waits_for = std::mem::take(&mut self.diagnostics_mut().waits_for);
        let dependents = std::mem::take(&mut self.links_mut().dependents);
        if waits_for.is_empty() && dependents.is_empty() {
            return;
        }
        let mut released: Vec<Arc<TaskNode>> = waits_for.into_iter().map(|h| h.0).collect();
        released.extend(dependents);
        // Some(list): an outer drop on this thread is draining; hand them
        // over. (Without the thread-local, at thread exit, they are dropped
        // here, recursively.)
        let outermost = RELEASED
            .try_with(|cell| {
                let mut cell = cell.borrow_mut();
                match cell.as_mut() {
                    Some(list) => {
                        list.append(&mut released);
                        false
                    }
                    None => {
                        *cell = Some(std::mem::take(&mut released));
                        true
                    }
                }
            })
            .unwrap_or(false);
        if !outermost {
            return;
        }
        while let Some(node) = RELEASED.with(|cell| cell.borrow_mut().as_mut().and_then(Vec::pop)) {
            drop(node);
        }
        RELEASED.with(|cell| *cell.borrow_mut() = None);
    }
}

impl TaskNode {
    fn diagnostics_mut(&mut self) -> &mut Diagnostics {
        self.diagnostics
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn links_mut(&mut self) -> &mut Links {
        self.links.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

impl TaskNode {
    pub fn new(id: u64, runtime: usize, name: Option<Box<str>>) -> Self {
        Self {
            id,
            name,
            runtime,
            state: AtomicU8::new(DECLARED),
            pending: AtomicUsize::new(1),
            poisoned: AtomicBool::new(false),
            listed_waiting: AtomicBool::new(false),
            links: Mutex::new(Links {
                dependents: Vec::new(),
                outcome: None,
            }),
            diagnostics: Mutex::new(Diagnostics::default()),
            work: UnsafeCell::new(None),
        }
    }

    pub fn links(&self) -> MutexGuard<'_, Links> {
        // A poisoned lock means a panic while holding it, which our code
        // never does; keep going with the data.
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn diagnostics(&self) -> MutexGuard<'_, Diagnostics> {
        self.diagnostics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// # Safety
    /// The caller owns the node's state (see the `Sync` impl).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn work(&self) -> &mut Option<Work> {
        unsafe { &mut *self.work.get() }
    }
}

/// A task: spawned, or declared so that others can depend on it before it
/// is spawned. Cheap to clone.
#[derive(Clone)]
pub struct TaskHandle(pub(crate) Arc<TaskNode>);

impl TaskHandle {
    /// A number unique within the runtime.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// How the task ended, if it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.0.links().outcome
    }

    /// Whether a task it depends on failed or was cancelled: the reason a
    /// task that never started was cancelled, when it was (otherwise its
    /// runtime was cancelled first).
    pub fn dependency_failed(&self) -> bool {
        self.0.poisoned.load(Ordering::Acquire)
    }

    /// Whether the task has been spawned.
    pub fn is_spawned(&self) -> bool {
        self.0.state.load(Ordering::Acquire) != DECLARED
    }

    /// The name given when the task was declared, if any.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

impl PartialEq for TaskHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TaskHandle {}

impl fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Task({name})"),
            None => write!(f, "Task(#{})", self.id()),
        }
    }
}
