//! Parallel loops of JIT-compiled code, on the runtime's worker pool.
//!
//! MLIR lowers `scf.parallel` through the `omp` dialect to calls of the
//! OpenMP runtime ABI (`__kmpc_fork_call`, `__kmpc_for_static_init_*`,
//! `__kmpc_reduce`, ...). This module implements that ABI on top of the
//! worker pool, so compiled loops and tasks share one set of threads:
//!
//! - A parallel region becomes a *team* of `n` members (n = workers). A
//!   member is a unit of work, not a thread: the calling thread and helper
//!   tasks on the pool claim members with an atomic counter and run the
//!   outlined region for each. The caller never waits for a member nobody
//!   has claimed, so a call from inside a task cannot deadlock, and a busy
//!   pool only means the caller does more of the work itself.
//! - `__kmpc_for_static_init_*` gives member `gtid` its contiguous block of
//!   the iteration space.
//! - Because members may run one after another on one thread,
//!   `__kmpc_barrier` cannot block: it returns at once. MLIR emits barriers
//!   only at the end of a worksharing loop and around reductions; the
//!   region's join (the caller waits for every claimed member) is the
//!   barrier that matters, and reductions combine under a lock
//!   (`__kmpc_reduce` answers 1: "combine it yourself, in a critical
//!   section").

use crate::{worker_count, Runtime, RuntimeConfig, TaskBuilder};
use std::{
    cell::Cell,
    ffi::c_void,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, OnceLock, RwLock,
    },
};

type Microtask = unsafe extern "C" fn(*mut i32, *mut i32, ...);

extern "C" {
    fn parla_kmpc_fork_call(loc: *mut c_void, argc: i32, task: Microtask, ...);
    fn parla_invoke_microtask(task: Microtask, gtid: i32, argc: i32, args: *mut *mut c_void);
}

thread_local! {
    /// (member number, team size) of the region this thread is running a
    /// member of; (0, 1) outside regions.
    static MEMBER: Cell<(i32, i32)> = const { Cell::new((0, 1)) };
}

/// Where teams get their helpers: a task runtime, borrowed (e.g. the one
/// of a `with Parla()` block) or owned (created on first use).
static POOL: RwLock<Option<Arc<Runtime>>> = RwLock::new(None);
static DEFAULT_POOL: OnceLock<Arc<Runtime>> = OnceLock::new();

/// Makes parallel loops run on `runtime`'s workers (until `release_pool`).
pub fn use_pool(runtime: Arc<Runtime>) {
    *POOL.write().unwrap_or_else(|e| e.into_inner()) = Some(runtime);
}

/// Stops lending `runtime` (if it is the one in use).
pub fn release_pool(runtime: &Arc<Runtime>) {
    let mut pool = POOL.write().unwrap_or_else(|e| e.into_inner());
    if pool.as_ref().is_some_and(|p| Arc::ptr_eq(p, runtime)) {
        *pool = None;
    }
}

fn pool() -> Arc<Runtime> {
    if let Some(runtime) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return runtime.clone();
    }
    DEFAULT_POOL
        .get_or_init(|| {
            let config = RuntimeConfig {
                workers: worker_count().unwrap_or(1),
                ..Default::default()
            };
            Arc::new(Runtime::new(config).expect("starting the default worker pool"))
        })
        .clone()
}

struct Team {
    task: Microtask,
    argc: i32,
    /// The region's arguments, alive on the caller's stack until every
    /// claimed member has finished.
    args: *mut *mut c_void,
    size: i32,
    next: AtomicUsize,
    finished: AtomicUsize,
}

// SAFETY: `args` is only dereferenced by members claimed before the caller
// returns, and the caller waits for all of them.
unsafe impl Send for Team {}
unsafe impl Sync for Team {}

impl Team {
    /// Claims and runs members until none is left.
    fn work(&self) {
        loop {
            let member = self.next.fetch_add(1, Ordering::AcqRel);
            if member >= self.size as usize {
                return;
            }
            let previous = MEMBER.with(|m| m.replace((member as i32, self.size)));
            // SAFETY: the region was compiled for this ABI; its arguments
            // outlive the team (see `args`).
            unsafe { parla_invoke_microtask(self.task, member as i32, self.argc, self.args) };
            MEMBER.with(|m| m.set(previous));
            self.finished.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Called from `csrc/kmpc.c` with the region's arguments.
#[no_mangle]
unsafe extern "C" fn parla_run_team(task: Microtask, argc: i32, args: *mut *mut c_void) {
    let pool = pool();
    let size = pool.workers().max(1) as i32;
    let team = Arc::new(Team {
        task,
        argc,
        args,
        size,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
    });
    for _ in 1..size {
        let helper = team.clone();
        // A cancelled or stopping pool just leaves the work to the caller.
        let _ = pool.spawn(TaskBuilder::new(move || helper.work()));
    }
    team.work();
    let mut spins = 0u32;
    while team.finished.load(Ordering::Acquire) < size as usize {
        spins += 1;
        if spins < 1000 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

unsafe extern "C" fn global_thread_num(_loc: *mut c_void) -> i32 {
    MEMBER.with(|m| m.get().0)
}

/// The block of `[*lower, *upper]` (inclusive) for member `gtid`.
unsafe fn static_block<T>(gtid: i32, last: *mut i32, lower: *mut T, upper: *mut T, stride: *mut T)
where
    T: Copy + TryFrom<i128> + Into<i128>,
{
    let size = MEMBER.with(|m| m.get().1).max(1) as i128;
    let member = gtid as i128;
    unsafe {
        let (lo, hi): (i128, i128) = ((*lower).into(), (*upper).into());
        let trips = (hi - lo + 1).max(0);
        let base = trips / size;
        let extra = trips % size;
        let start = lo + member * base + member.min(extra);
        let count = base + if member < extra { 1 } else { 0 };
        let end = start + count - 1;
        let convert = |v: i128| T::try_from(v).ok();
        if let (Some(s), Some(e), Some(t)) = (convert(start), convert(end), convert(trips.max(1))) {
            *lower = s;
            *upper = e;
            *stride = t;
        }
        if !last.is_null() {
            *last = i32::from(count > 0 && start + count - 1 == hi);
        }
    }
}

macro_rules! static_init {
    ($name:ident, $t:ty) => {
        unsafe extern "C" fn $name(
            _loc: *mut c_void,
            gtid: i32,
            _schedule: i32,
            last: *mut i32,
            lower: *mut $t,
            upper: *mut $t,
            stride: *mut $t,
            _increment: $t,
            _chunk: $t,
        ) {
            unsafe { static_block::<$t>(gtid, last, lower, upper, stride) }
        }
    };
}

static_init!(for_static_init_4, i32);
static_init!(for_static_init_4u, u32);
static_init!(for_static_init_8, i64);
static_init!(for_static_init_8u, u64);

unsafe extern "C" fn for_static_fini(_loc: *mut c_void, _gtid: i32) {}

/// Members may share a thread: a barrier that blocked could never be
/// passed. See the module documentation.
unsafe extern "C" fn barrier(_loc: *mut c_void, _gtid: i32) {}

static REDUCE_LOCK: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn reduce(
    _loc: *mut c_void,
    _gtid: i32,
    _count: i32,
    _size: usize,
    _data: *mut c_void,
    _function: *mut c_void,
    _lock: *mut c_void,
) -> i32 {
    while REDUCE_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    1 // the caller combines its partial result, inside this critical section
}

unsafe extern "C" fn end_reduce(_loc: *mut c_void, _gtid: i32, _lock: *mut c_void) {
    REDUCE_LOCK.store(false, Ordering::Release);
}

unsafe extern "C" fn push_num_threads(_loc: *mut c_void, _gtid: i32, _threads: i32) {}

/// The OpenMP ABI symbols compiled code may call, by name, with the
/// addresses to bind them to in a JIT.
pub fn openmp_symbols() -> Vec<(&'static str, *mut c_void)> {
    vec![
        ("__kmpc_fork_call", parla_kmpc_fork_call as *mut c_void),
        ("__kmpc_global_thread_num", global_thread_num as *mut c_void),
        ("__kmpc_for_static_init_4", for_static_init_4 as *mut c_void),
        (
            "__kmpc_for_static_init_4u",
            for_static_init_4u as *mut c_void,
        ),
        ("__kmpc_for_static_init_8", for_static_init_8 as *mut c_void),
        (
            "__kmpc_for_static_init_8u",
            for_static_init_8u as *mut c_void,
        ),
        ("__kmpc_for_static_fini", for_static_fini as *mut c_void),
        ("__kmpc_barrier", barrier as *mut c_void),
        ("__kmpc_reduce", reduce as *mut c_void),
        ("__kmpc_reduce_nowait", reduce as *mut c_void),
        ("__kmpc_end_reduce", end_reduce as *mut c_void),
        ("__kmpc_end_reduce_nowait", end_reduce as *mut c_void),
        ("__kmpc_push_num_threads", push_num_threads as *mut c_void),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(gtid: i32, size: i32, lo: i64, hi: i64) -> (i64, i64, i32) {
        MEMBER.with(|m| m.set((gtid, size)));
        let (mut l, mut u, mut s, mut last) = (lo, hi, 0i64, 0i32);
        unsafe { static_block::<i64>(gtid, &mut last, &mut l, &mut u, &mut s) };
        MEMBER.with(|m| m.set((0, 1)));
        (l, u, last)
    }

    #[test]
    fn static_blocks_cover_the_range_once() {
        for (lo, hi, size) in [(0i64, 9i64, 3i32), (5, 5, 4), (0, 1, 4), (-7, 20, 2)] {
            let mut covered = Vec::new();
            for gtid in 0..size {
                let (l, u, _) = block(gtid, size, lo, hi);
                covered.extend(l..=u);
            }
            assert_eq!(
                covered,
                (lo..=hi).collect::<Vec<_>>(),
                "{lo}..={hi} over {size}"
            );
        }
        assert_eq!(block(2, 3, 0, 9).2, 1);
        assert_eq!(block(0, 3, 0, 9).2, 0);
    }
}
