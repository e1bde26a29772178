//! The worker loop: find a task (own deque, then the global queue, then
//! other workers), run it, and run further tasks of the same class inside
//! one scope entry.

use super::Shared;
use crate::task::{Outcome, RunContext, Step, TaskNode, RUNNING};
use crossbeam_deque::{Steal, Worker};
use std::{
    cell::RefCell,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

/// At most this many tasks run in one scope entry, so that a worker
/// holding a scope (the GIL) lets others in now and then.
const BATCH: usize = 256;
/// Rounds of looking for work before parking.
const SPIN_ROUNDS: u32 = 64;
/// How many other workers' deques a spinning worker watches in every
/// round, and how often it looks at all of them.
const NEARBY: usize = 32;
const FULL_CHECK_EVERY: u32 = 16;
/// The safety-net timeout of a worker's first park, and the longest.
const FIRST_PARK: Duration = Duration::from_millis(50);
const LONGEST_PARK: Duration = Duration::from_secs(1);

struct Local {
    runtime: usize,
    deque: Worker<Arc<TaskNode>>,
}

thread_local! {
    // Only ever borrowed shared while the worker runs: bodies may spawn,
    // which pushes onto this deque.
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Pushes onto the current worker's own deque if this thread is a worker
/// of `shared`; returns false otherwise.
pub(super) fn push_local(shared: &Shared, node: &Arc<TaskNode>) -> bool {
    LOCAL.with(|local| {
        let local = local.borrow();
        match local.as_ref() {
            Some(local) if local.runtime == shared.id => {
                local.deque.push(node.clone());
                // Keep one task for ourselves; more than one is work for
                // idle workers to steal.
                if local.deque.len() > 1 {
                    shared.sleep.notify_one();
                }
                true
            }
            _ => false,
        }
    })
}

pub(super) fn run(shared: Arc<Shared>, index: usize, deque: Worker<Arc<TaskNode>>) {
    LOCAL.with(|local| {
        *local.borrow_mut() = Some(Local {
            runtime: shared.id,
            deque,
        })
    });
    let mut next: Option<Arc<TaskNode>> = None;
    loop {
        let Some(task) = next.take().or_else(|| find_task(&shared, index)) else {
            if shared.shutdown.load(Ordering::SeqCst) || shared.cancelled.load(Ordering::SeqCst) {
                break;
            }
            idle(&shared, index);
            continue;
        };
        // SAFETY: popping the node from a queue made this worker its owner.
        let resumed = unsafe { task.work() }.as_ref().is_some_and(|w| w.resumed);
        if shared.cancelled.load(Ordering::SeqCst) && !resumed {
            // Cancelled: what has not started never runs, and finishes as
            // cancelled (its body dropped, its dependents released). A
            // task that started and awaited goes on: it is one of the
            // running tasks its block's end leaves time to finish, and
            // left in a queue it would never end (nor free what it holds).
            shared.finish(&task, Outcome::Cancelled);
            continue;
        }
        // SAFETY: as above.
        let class = unsafe { task.work() }.as_ref().map_or(0, |w| w.class);
        match (&shared.scope, class) {
            (Some(scope), class) if class != 0 => {
                let mut current = Some(task);
                scope.enter(class, &mut || {
                    let mut budget = BATCH;
                    while let Some(task) = current.take() {
                        execute(&shared, index, task);
                        budget -= 1;
                        if budget == 0 || shared.cancelled.load(Ordering::Relaxed) {
                            break;
                        }
                        if let Some(following) = find_task(&shared, index) {
                            // SAFETY: as above.
                            let same = unsafe { following.work() }.as_ref().map_or(0, |w| w.class);
                            if same == class {
                                current = Some(following);
                            } else {
                                next = Some(following);
                            }
                        }
                    }
                });
                // A scope that did not run the task (it cannot, e.g. the
                // interpreter is gone) leaves it here: nothing will run it.
                if let Some(task) = current {
                    shared.finish(&task, Outcome::Cancelled);
                }
            }
            _ => execute(&shared, index, task),
        }
    }
    LOCAL.with(|local| *local.borrow_mut() = None);
}

fn find_task(shared: &Shared, index: usize) -> Option<Arc<TaskNode>> {
    LOCAL.with(|local| {
        let local = local.borrow();
        let local = local.as_ref()?;
        if let Some(task) = local.deque.pop() {
            return Some(task);
        }
        loop {
            match shared.injector.steal_batch_and_pop(&local.deque) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        let others = shared.stealers.len();
        for offset in 1..others {
            let victim = &shared.stealers[(index + offset) % others];
            loop {
                match victim.steal() {
                    Steal::Success(task) => return Some(task),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        None
    })
}

/// Whether any queue holds a task: the full check, before parking.
fn has_work(shared: &Shared) -> bool {
    !shared.injector.is_empty() || shared.stealers.iter().any(|s| !s.is_empty())
}

/// The cheap check while spinning: the global queue and the next
/// [`NEARBY`] workers' deques (all of them in a runtime of that size). A
/// scan of every deque in every round would make idle workers cost the
/// square of their number (thousands of workers on a few cores spent
/// seconds starting); the full check runs every [`FULL_CHECK_EVERY`]
/// rounds and before parking.
fn work_nearby(shared: &Shared, index: usize) -> bool {
    let others = shared.stealers.len();
    !shared.injector.is_empty()
        || (1..others.min(NEARBY + 1))
            .any(|offset| !shared.stealers[(index + offset) % others].is_empty())
}

/// Whether the runtime is shutting down or cancelled: workers must leave
/// their idle loop to notice.
fn stopping(shared: &Shared) -> bool {
    shared.shutdown.load(Ordering::SeqCst) || shared.cancelled.load(Ordering::SeqCst)
}

/// Waits for work: spins briefly, then parks until woken. A park that
/// times out (the safety net) parks again, each time twice as long, with
/// no spinning: an idle runtime costs next to nothing, whatever its number
/// of workers.
fn idle(shared: &Shared, index: usize) {
    for round in 0..SPIN_ROUNDS {
        let found = if round % FULL_CHECK_EVERY == FULL_CHECK_EVERY - 1 {
            has_work(shared)
        } else {
            work_nearby(shared, index)
        };
        if found || stopping(shared) {
            return;
        }
        if round < SPIN_ROUNDS / 2 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    let mut timeout = FIRST_PARK;
    loop {
        let woken = shared
            .sleep
            .sleep(index, timeout, || has_work(shared) || stopping(shared));
        if woken || has_work(shared) || stopping(shared) {
            return;
        }
        timeout = (timeout * 2).min(LONGEST_PARK);
    }
}

/// Runs one task the worker owns, then finishes or suspends it.
fn execute(shared: &Shared, index: usize, task: Arc<TaskNode>) {
    task.state.store(RUNNING, Ordering::Release);
    // SAFETY: the worker owns the node.
    let Some(work) = (unsafe { task.work() }).as_mut() else {
        return;
    };
    let context = RunContext {
        worker: index,
        device: work.device,
        dependency_failed: work.resumed && task.poisoned.swap(false, Ordering::AcqRel),
    };
    let started = shared.trace.as_ref().map(|_| Instant::now());
    let step = catch_unwind(AssertUnwindSafe(|| work.body.run(&context))).unwrap_or(Step::Failed);
    if let (Some(trace), Some(started)) = (&shared.trace, started) {
        trace.slice(task.id, index, started, Instant::now());
    }
    match step {
        Step::Done => shared.finish(&task, Outcome::Succeeded),
        Step::Failed => shared.finish(&task, Outcome::Failed),
        Step::Wait(tasks) => shared.suspend(&task, tasks),
    }
}
