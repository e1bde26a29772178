//! The scheduler from its Rust API: ordering, failures, stuck graphs,
//! resources, suspension, tracing, and a stress test.

use parla_runtime::{
    device::{DeviceId, DeviceInfo, Resources, VCU_UNITS},
    join_detached_workers, Body, Outcome, RunContext, Runtime, RuntimeConfig, SpawnError, Step,
    TaskBuilder, TaskHandle, WaitStatus,
};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

fn runtime(workers: usize) -> Runtime {
    Runtime::new(RuntimeConfig {
        workers,
        ..Default::default()
    })
    .unwrap()
}

fn finished(runtime: &Runtime) {
    match runtime.wait(Some(Duration::from_secs(60))) {
        WaitStatus::Finished => {}
        other => panic!("expected every task to finish, got {other:?}"),
    }
}

#[test]
fn dependencies_run_first() {
    let runtime = runtime(4);
    let log = Arc::new(Mutex::new(Vec::new()));
    let record = |n: u32| {
        let log = log.clone();
        move || log.lock().unwrap().push(n)
    };
    let a = runtime.spawn(TaskBuilder::new(record(1))).unwrap();
    let b = runtime
        .spawn(TaskBuilder::new(record(2)).after(std::slice::from_ref(&a)))
        .unwrap();
    let c = runtime
        .spawn(TaskBuilder::new(record(3)).after(std::slice::from_ref(&a)))
        .unwrap();
    runtime
        .spawn(TaskBuilder::new(record(4)).after(&[b, c]))
        .unwrap();
    finished(&runtime);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0], 1);
    assert_eq!(log[3], 4);
    assert_eq!(a.outcome(), Some(Outcome::Succeeded));
}

#[test]
fn tasks_can_depend_on_tasks_spawned_later() {
    let runtime = runtime(2);
    let later = runtime.declare();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    runtime
        .spawn(
            TaskBuilder::new(move || o.lock().unwrap().push("dependent"))
                .after(std::slice::from_ref(&later)),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(order.lock().unwrap().is_empty());
    let o = order.clone();
    runtime
        .spawn_declared(
            &later,
            TaskBuilder::new(move || o.lock().unwrap().push("first")),
        )
        .unwrap();
    finished(&runtime);
    assert_eq!(*order.lock().unwrap(), vec!["first", "dependent"]);
}

struct Fails;
impl Body for Fails {
    fn run(&mut self, _: &RunContext) -> Step {
        Step::Failed
    }
}

#[test]
fn failures_cancel_dependents_transitively() {
    let runtime = runtime(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let bad = runtime
        .spawn(TaskBuilder::from_body(Box::new(Fails)))
        .unwrap();
    let r = ran.clone();
    let child = runtime
        .spawn(
            TaskBuilder::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })
            .after(std::slice::from_ref(&bad)),
        )
        .unwrap();
    let r = ran.clone();
    let grandchild = runtime
        .spawn(
            TaskBuilder::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })
            .after(std::slice::from_ref(&child)),
        )
        .unwrap();
    let r = ran.clone();
    let unrelated = runtime
        .spawn(TaskBuilder::new(move || {
            r.fetch_add(100, Ordering::SeqCst);
        }))
        .unwrap();
    finished(&runtime);
    assert_eq!(ran.load(Ordering::SeqCst), 100);
    assert_eq!(bad.outcome(), Some(Outcome::Failed));
    assert_eq!(child.outcome(), Some(Outcome::Cancelled));
    assert_eq!(grandchild.outcome(), Some(Outcome::Cancelled));
    assert_eq!(unrelated.outcome(), Some(Outcome::Succeeded));
    // A task spawned after its dependency failed is cancelled too.
    let late = runtime
        .spawn(TaskBuilder::new(|| panic!("must not run")).after(&[bad]))
        .unwrap();
    finished(&runtime);
    assert_eq!(late.outcome(), Some(Outcome::Cancelled));
}

#[test]
fn a_panicking_closure_fails_its_task_and_the_worker_survives() {
    let runtime = runtime(1);
    let bad = runtime
        .spawn(TaskBuilder::new(|| panic!("boom (expected by the test)")))
        .unwrap();
    finished(&runtime);
    assert_eq!(bad.outcome(), Some(Outcome::Failed));
    let good = runtime.spawn(TaskBuilder::new(|| {})).unwrap();
    finished(&runtime);
    assert_eq!(good.outcome(), Some(Outcome::Succeeded));
}

#[test]
fn a_missing_dependency_is_reported_not_hung() {
    let runtime = runtime(2);
    let never = runtime.declare();
    let waiting = runtime
        .spawn(
            TaskBuilder::new(|| {})
                .after(std::slice::from_ref(&never))
                .name("waiting"),
        )
        .unwrap();
    match runtime.wait(Some(Duration::from_secs(10))) {
        WaitStatus::Stuck(stuck) => {
            assert_eq!(stuck.len(), 1);
            assert_eq!(stuck[0].task, waiting);
            assert_eq!(stuck[0].waits_for, vec![never.clone()]);
            assert!(!never.is_spawned());
            assert_eq!(waiting.name(), Some("waiting"));
        }
        other => panic!("expected a stuck graph, got {other:?}"),
    }
}

#[test]
fn a_cycle_is_reported() {
    let runtime = runtime(2);
    let a = runtime.declare();
    let b = runtime.declare();
    runtime
        .spawn_declared(&a, TaskBuilder::new(|| {}).after(std::slice::from_ref(&b)))
        .unwrap();
    runtime
        .spawn_declared(&b, TaskBuilder::new(|| {}).after(std::slice::from_ref(&a)))
        .unwrap();
    match runtime.wait(Some(Duration::from_secs(10))) {
        WaitStatus::Stuck(stuck) => {
            let tasks: Vec<_> = stuck.iter().map(|s| s.task.clone()).collect();
            assert_eq!(tasks, vec![a.clone(), b.clone()]);
            assert_eq!(stuck[0].waits_for, vec![b]);
            assert_eq!(stuck[1].waits_for, vec![a]);
        }
        other => panic!("expected a stuck graph, got {other:?}"),
    }
}

#[test]
fn bad_spawns_are_errors() {
    let runtime = runtime(1);
    let task = runtime.spawn(TaskBuilder::new(|| {})).unwrap();
    assert!(matches!(
        runtime.spawn_declared(&task, TaskBuilder::new(|| {})),
        Err(SpawnError::AlreadySpawned(_))
    ));
    let other = self::runtime(1);
    let foreign = other.declare();
    assert!(matches!(
        runtime.spawn(TaskBuilder::new(|| {}).after(&[foreign])),
        Err(SpawnError::ForeignTask(_))
    ));
    assert!(matches!(
        runtime.spawn(TaskBuilder::new(|| {}).placement(vec![DeviceId(9)])),
        Err(SpawnError::UnknownDevice(DeviceId(9)))
    ));
    let huge = Resources {
        vcus: 0,
        memory: u64::MAX,
    };
    assert!(matches!(
        runtime.spawn(TaskBuilder::new(|| {}).resources(huge)),
        Err(SpawnError::NoDeviceFits { .. })
    ));
    finished(&runtime);
}

/// Spawns `n` tasks that each hold `request` for a while and returns the
/// most that ran at once.
fn peak_concurrency(runtime: &Runtime, n: usize, request: Resources) -> usize {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let (running, peak) = (running.clone(), peak.clone());
        runtime
            .spawn(
                TaskBuilder::new(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(15));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .resources(request),
            )
            .unwrap();
    }
    finished(runtime);
    peak.load(Ordering::SeqCst)
}

#[test]
fn vcus_limit_concurrency_per_device() {
    let runtime = runtime(4);
    let whole = Resources {
        vcus: VCU_UNITS,
        memory: 0,
    };
    assert_eq!(peak_concurrency(&runtime, 6, whole), 1);
    let half = Resources {
        vcus: VCU_UNITS / 2,
        memory: 0,
    };
    assert_eq!(peak_concurrency(&runtime, 8, half), 2);
    assert!(peak_concurrency(&runtime, 8, Resources::default()) > 2);
}

#[test]
fn memory_reservations_limit_concurrency() {
    let runtime = Runtime::new(RuntimeConfig {
        workers: 4,
        devices: vec![DeviceInfo::cpu(1000)],
        ..Default::default()
    })
    .unwrap();
    let request = Resources {
        vcus: 0,
        memory: 400,
    };
    assert_eq!(peak_concurrency(&runtime, 6, request), 2);
}

/// Waits once for `awaited`, then records whether it failed.
struct Awaits {
    awaited: Option<TaskHandle>,
    saw_failure: Arc<Mutex<Option<bool>>>,
}

impl Body for Awaits {
    fn run(&mut self, context: &RunContext) -> Step {
        match self.awaited.take() {
            Some(task) => Step::Wait(vec![task]),
            None => {
                *self.saw_failure.lock().unwrap() = Some(context.dependency_failed);
                Step::Done
            }
        }
    }
}

/// Records the device of each run, awaiting `awaited` after the first.
struct RecordsDevices {
    awaited: Option<TaskHandle>,
    devices: Arc<Mutex<Vec<DeviceId>>>,
}

impl Body for RecordsDevices {
    fn run(&mut self, context: &RunContext) -> Step {
        self.devices.lock().unwrap().push(context.device);
        match self.awaited.take() {
            Some(task) => Step::Wait(vec![task]),
            None => Step::Done,
        }
    }
}

#[test]
fn a_resumed_task_stays_on_its_device() {
    // Two devices; the awaiting task starts on the first, which another
    // task takes while it waits: it resumes there once that one is done,
    // not on the second device (its body holds the first's stream).
    let second = DeviceInfo {
        ordinal: 1,
        ..DeviceInfo::cpu(1000)
    };
    let runtime = Runtime::new(RuntimeConfig {
        workers: 3,
        devices: vec![DeviceInfo::cpu(1000), second],
        ..Default::default()
    })
    .unwrap();
    let whole = Resources {
        vcus: VCU_UNITS,
        memory: 0,
    };
    // On the second device, so that the first is the less loaded.
    let gate = runtime
        .spawn(
            TaskBuilder::new(|| std::thread::sleep(Duration::from_millis(30)))
                .placement(vec![DeviceId(1)]),
        )
        .unwrap();
    let devices = Arc::new(Mutex::new(Vec::new()));
    runtime
        .spawn(
            TaskBuilder::from_body(Box::new(RecordsDevices {
                awaited: Some(gate),
                devices: devices.clone(),
            }))
            .resources(whole)
            .placement(vec![DeviceId(0), DeviceId(1)]),
        )
        .unwrap();
    runtime
        .spawn(
            TaskBuilder::new(|| std::thread::sleep(Duration::from_millis(100)))
                .resources(whole)
                .placement(vec![DeviceId(0)]),
        )
        .unwrap();
    finished(&runtime);
    assert_eq!(*devices.lock().unwrap(), vec![DeviceId(0), DeviceId(0)]);
}

#[test]
fn tasks_that_may_run_on_several_devices_go_to_the_least_loaded() {
    let second = DeviceInfo {
        ordinal: 1,
        ..DeviceInfo::cpu(1000)
    };
    let runtime = Runtime::new(RuntimeConfig {
        workers: 4,
        devices: vec![DeviceInfo::cpu(1000), second],
        ..Default::default()
    })
    .unwrap();
    let devices = Arc::new(Mutex::new(Vec::new()));
    let half = Resources {
        vcus: VCU_UNITS / 2,
        memory: 0,
    };
    // Two that reserve nothing, then two that reserve half a device: while
    // all run, the load alternates between the devices.
    for request in [Resources::default(), Resources::default(), half, half] {
        let devices = devices.clone();
        runtime
            .spawn(
                TaskBuilder::from_body(Box::new(SleepsAndRecords {
                    devices,
                    sleep: Duration::from_millis(60),
                }))
                .resources(request)
                .placement(vec![DeviceId(0), DeviceId(1)]),
            )
            .unwrap();
    }
    finished(&runtime);
    let mut seen = devices.lock().unwrap().clone();
    seen.sort_by_key(|d| d.0);
    assert_eq!(
        seen,
        vec![DeviceId(0), DeviceId(0), DeviceId(1), DeviceId(1)]
    );
}

#[test]
fn tasks_pinned_to_a_device_count_in_its_load() {
    let second = DeviceInfo {
        ordinal: 1,
        ..DeviceInfo::cpu(1000)
    };
    let runtime = Runtime::new(RuntimeConfig {
        workers: 3,
        devices: vec![DeviceInfo::cpu(1000), second],
        ..Default::default()
    })
    .unwrap();
    let devices = Arc::new(Mutex::new(Vec::new()));
    let sleeps = |devices: &Arc<Mutex<Vec<DeviceId>>>| {
        Box::new(SleepsAndRecords {
            devices: devices.clone(),
            sleep: Duration::from_millis(60),
        })
    };
    // Two on the first device, then one that may run on either: the
    // second is the less loaded.
    for _ in 0..2 {
        runtime
            .spawn(
                TaskBuilder::from_body(sleeps(&Arc::new(Mutex::new(Vec::new()))))
                    .placement(vec![DeviceId(0)]),
            )
            .unwrap();
    }
    runtime
        .spawn(TaskBuilder::from_body(sleeps(&devices)).placement(vec![DeviceId(0), DeviceId(1)]))
        .unwrap();
    finished(&runtime);
    assert_eq!(*devices.lock().unwrap(), vec![DeviceId(1)]);
}

/// Records the device it runs on, then sleeps.
struct SleepsAndRecords {
    devices: Arc<Mutex<Vec<DeviceId>>>,
    sleep: Duration,
}

impl Body for SleepsAndRecords {
    fn run(&mut self, context: &RunContext) -> Step {
        self.devices.lock().unwrap().push(context.device);
        std::thread::sleep(self.sleep);
        Step::Done
    }
}

#[test]
fn suspended_tasks_resume_after_what_they_await() {
    let runtime = runtime(1);
    let slow = runtime
        .spawn(TaskBuilder::new(|| {
            std::thread::sleep(Duration::from_millis(30))
        }))
        .unwrap();
    let seen = Arc::new(Mutex::new(None));
    // One worker, and a whole device each: the awaiting task must give up
    // both while it waits, or `slow` could never run.
    let whole = Resources {
        vcus: VCU_UNITS,
        memory: 0,
    };
    let waiter = runtime
        .spawn(
            TaskBuilder::from_body(Box::new(Awaits {
                awaited: Some(slow.clone()),
                saw_failure: seen.clone(),
            }))
            .resources(whole),
        )
        .unwrap();
    finished(&runtime);
    assert_eq!(*seen.lock().unwrap(), Some(false));
    assert_eq!(waiter.outcome(), Some(Outcome::Succeeded));

    let bad = runtime
        .spawn(TaskBuilder::from_body(Box::new(Fails)))
        .unwrap();
    let seen = Arc::new(Mutex::new(None));
    runtime
        .spawn(TaskBuilder::from_body(Box::new(Awaits {
            awaited: Some(bad),
            saw_failure: seen.clone(),
        })))
        .unwrap();
    finished(&runtime);
    assert_eq!(*seen.lock().unwrap(), Some(true));
}

#[test]
fn a_trace_has_a_slice_per_task_and_arrows() {
    let runtime = Runtime::new(RuntimeConfig {
        workers: 2,
        trace: true,
        ..Default::default()
    })
    .unwrap();
    let a = runtime
        .spawn(TaskBuilder::new(|| {}).name("first \"one\""))
        .unwrap();
    runtime
        .spawn(TaskBuilder::new(|| {}).after(&[a]).name("second"))
        .unwrap();
    finished(&runtime);
    let trace = runtime.shutdown(Duration::from_secs(5)).expect("a trace");
    assert_eq!(trace.slice_count(), 2);
    let json = trace.to_chrome_json();
    assert!(json.contains("\"name\":\"first \\\"one\\\"\""), "{json}");
    assert!(json.contains("\"name\":\"second\""));
    assert!(json.contains("\"ph\":\"s\"") && json.contains("\"ph\":\"f\""));
    assert!(json.contains("\"thread_name\""));
}

/// A failure at the root of a long chain cancels every task of it; the
/// cancellations do not nest (a chain this long would overflow a worker's
/// stack if each cancelled the next).
#[test]
fn a_failure_cancels_a_long_chain() {
    let runtime = runtime(2);
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let root = runtime
        .spawn(TaskBuilder::new(move || {
            let _ = gate.recv();
            panic!("the root fails");
        }))
        .unwrap();
    let mut last = root;
    for _ in 0..200_000 {
        last = runtime
            .spawn(TaskBuilder::new(|| panic!("must not run")).after(std::slice::from_ref(&last)))
            .unwrap();
    }
    release.send(()).unwrap();
    finished(&runtime);
    assert_eq!(last.outcome(), Some(Outcome::Cancelled));
}

/// A task that outlives the shutdown's grace still finishes; the task that
/// waited for it was dropped at shutdown and neither runs nor breaks the
/// worker that releases it.
#[test]
fn a_task_that_outlives_the_shutdown_releases_nothing() {
    let runtime = runtime(1);
    let ran = Arc::new(AtomicUsize::new(0));
    let slow = runtime
        .spawn(TaskBuilder::new(|| {
            std::thread::sleep(Duration::from_millis(300))
        }))
        .unwrap();
    let r = ran.clone();
    runtime
        .spawn(
            TaskBuilder::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })
            .after(std::slice::from_ref(&slow)),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    runtime.cancel();
    runtime.shutdown(Duration::from_millis(10));
    // The worker outlived the grace: it is left to finish, and can be
    // joined later (as an interpreter does before it exits).
    assert!(join_detached_workers(Some(Instant::now())) >= 1);
    assert_eq!(join_detached_workers(None), 0);
    assert_eq!(slow.outcome(), Some(Outcome::Succeeded));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_stops_scheduling() {
    let runtime = runtime(1);
    let ran = Arc::new(AtomicUsize::new(0));
    let blocker = runtime
        .spawn(TaskBuilder::new(|| {
            std::thread::sleep(Duration::from_millis(50))
        }))
        .unwrap();
    for _ in 0..10 {
        let r = ran.clone();
        runtime
            .spawn(
                TaskBuilder::new(move || {
                    r.fetch_add(1, Ordering::SeqCst);
                })
                .after(std::slice::from_ref(&blocker)),
            )
            .unwrap();
    }
    runtime.cancel();
    assert!(matches!(
        runtime.spawn(TaskBuilder::new(|| {})),
        Err(SpawnError::Cancelled)
    ));
    runtime.shutdown(Duration::from_secs(5));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// Cancelling leaves time to the tasks that started: one that awaits a
/// running task resumes when it finishes (it was left in a worker's queue,
/// its body never dropped), one that awaits a task that never starts
/// resumes with the failure; tasks that had not started finish as
/// cancelled.
#[test]
fn cancel_lets_started_tasks_finish_their_awaits() {
    let runtime = runtime(2);
    let slow = runtime
        .spawn(TaskBuilder::new(|| {
            std::thread::sleep(Duration::from_millis(200))
        }))
        .unwrap();
    let never = runtime
        .spawn(TaskBuilder::new(|| {}).after(std::slice::from_ref(&slow)))
        .unwrap();
    let mut awaiters = Vec::new();
    for awaited in [&slow, &never] {
        let saw_failure = Arc::new(Mutex::new(None));
        let handle = runtime
            .spawn(TaskBuilder::from_body(Box::new(Awaits {
                awaited: Some(awaited.clone()),
                saw_failure: saw_failure.clone(),
            })))
            .unwrap();
        awaiters.push((handle, saw_failure));
    }
    // Both awaiters have run and suspended.
    std::thread::sleep(Duration::from_millis(50));
    runtime.cancel();
    runtime.shutdown(Duration::from_secs(5));
    assert_eq!(slow.outcome(), Some(Outcome::Succeeded));
    assert_eq!(never.outcome(), Some(Outcome::Cancelled));
    let [(on_slow, slow_failed), (on_never, never_failed)] =
        <[_; 2]>::try_from(awaiters).ok().unwrap();
    assert_eq!(on_slow.outcome(), Some(Outcome::Succeeded));
    assert_eq!(*slow_failed.lock().unwrap(), Some(false));
    assert_eq!(on_never.outcome(), Some(Outcome::Succeeded));
    assert_eq!(*never_failed.lock().unwrap(), Some(true));
}

/// 100,000 tasks with random dependencies on earlier tasks: every task runs
/// exactly once, after all of its dependencies.
#[test]
fn stress_random_graph() {
    const TASKS: usize = 100_000;
    let runtime = runtime(4);
    let clock = Arc::new(AtomicUsize::new(1));
    // finished_at[i]: the tick at which task i ran (0: not yet).
    let finished_at: Arc<Vec<AtomicUsize>> =
        Arc::new((0..TASKS).map(|_| AtomicUsize::new(0)).collect());
    let runs = Arc::new(AtomicUsize::new(0));
    let mut deps_of: Vec<Vec<usize>> = Vec::with_capacity(TASKS);
    let mut handles: Vec<TaskHandle> = Vec::with_capacity(TASKS);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let violations = Arc::new(AtomicUsize::new(0));
    for i in 0..TASKS {
        let count = if i == 0 { 0 } else { (random() % 4) as usize };
        let deps: Vec<usize> = (0..count).map(|_| (random() as usize) % i).collect();
        let (clock, finished_at, runs, violations) = (
            clock.clone(),
            finished_at.clone(),
            runs.clone(),
            violations.clone(),
        );
        let my_deps = deps.clone();
        let task = TaskBuilder::new(move || {
            for &d in &my_deps {
                if finished_at[d].load(Ordering::SeqCst) == 0 {
                    violations.fetch_add(1, Ordering::SeqCst);
                }
            }
            let tick = clock.fetch_add(1, Ordering::SeqCst);
            if finished_at[i].swap(tick, Ordering::SeqCst) != 0 {
                violations.fetch_add(1, Ordering::SeqCst);
            }
            runs.fetch_add(1, Ordering::SeqCst);
        })
        .after(&deps.iter().map(|&d| handles[d].clone()).collect::<Vec<_>>());
        handles.push(runtime.spawn(task).unwrap());
        deps_of.push(deps);
    }
    finished(&runtime);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        TASKS,
        "tasks lost or run twice"
    );
    assert_eq!(violations.load(Ordering::SeqCst), 0, "order not respected");
    for (i, deps) in deps_of.iter().enumerate() {
        let mine = finished_at[i].load(Ordering::SeqCst);
        assert!(deps
            .iter()
            .all(|&d| finished_at[d].load(Ordering::SeqCst) < mine));
    }
    assert!(handles
        .iter()
        .all(|h| h.outcome() == Some(Outcome::Succeeded)));
}
