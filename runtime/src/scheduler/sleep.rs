//! Parking idle workers and waking them when work arrives.
//!
//! A worker that finds nothing records itself in `idle` (and bumps
//! `sleepers`), looks for work once more, then parks. A thread that queues
//! work checks `sleepers` and unparks one idle worker. Both sides use
//! SeqCst (the queue push, then the `sleepers` load; the `sleepers`
//! increment, then the queue check), so either the worker sees the work or
//! the pusher sees the sleeper: no wake-up is lost. `park` tolerates an
//! unpark that arrives before it.

use std::{
    sync::{
        atomic::{fence, AtomicUsize, Ordering},
        Mutex, OnceLock,
    },
    thread::Thread,
    time::Duration,
};

pub(crate) struct Sleep {
    idle: Mutex<Vec<usize>>,
    sleepers: AtomicUsize,
    threads: OnceLock<Vec<Thread>>,
}

impl Sleep {
    pub fn new(workers: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::with_capacity(workers)),
            sleepers: AtomicUsize::new(0),
            threads: OnceLock::new(),
        }
    }

    pub fn set_threads(&self, threads: Vec<Thread>) {
        let _ = self.threads.set(threads);
    }

    /// Wakes one idle worker, if any. Call after queueing work.
    pub fn notify_one(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) == 0 {
            return;
        }
        let index = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let index = idle.pop();
            if index.is_some() {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
            index
        };
        if let (Some(index), Some(threads)) = (index, self.threads.get()) {
            threads[index].unpark();
        }
    }

    /// Wakes every worker (shutdown, cancel).
    pub fn wake_all(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_sub(idle.len(), Ordering::SeqCst);
        idle.clear();
        drop(idle);
        if let Some(threads) = self.threads.get() {
            threads.iter().for_each(Thread::unpark);
        }
    }

    /// Parks worker `index` (for at most `timeout`) unless `has_work`
    /// finds something after it has announced itself. Returns whether a
    /// waker took it off the idle list (it may have been woken). The
    /// timeout is a safety net, not the mechanism.
    pub fn sleep(&self, index: usize, timeout: Duration, has_work: impl Fn() -> bool) -> bool {
        {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(index);
            self.sleepers.fetch_add(1, Ordering::SeqCst);
        }
        fence(Ordering::SeqCst);
        if !has_work() {
            std::thread::park_timeout(timeout);
        }
        // Whether woken, timed out or never parked: leave the idle list.
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        match idle.iter().rposition(|&i| i == index) {
            Some(position) => {
                idle.swap_remove(position);
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                false
            }
            None => true,
        }
    }
}
