//! Scheduler throughput and latency from the Rust API: independent empty
//! tasks, a chain of dependent tasks, and fan-out/fan-in. Criterion prints
//! elements (tasks) per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parla_runtime::{Runtime, RuntimeConfig, TaskBuilder, TaskHandle, WaitStatus};
use std::time::{Duration, Instant};

const TASKS: usize = 100_000;

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig::default()).expect("workers start")
}

fn finish(runtime: &Runtime) {
    assert!(matches!(runtime.wait(None), WaitStatus::Finished));
}

fn independent(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("rust_api");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.bench_function("independent_empty_tasks", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                for _ in 0..TASKS {
                    runtime.spawn(TaskBuilder::new(|| {})).expect("spawn");
                }
                finish(&runtime);
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function("chain_of_empty_tasks", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                let mut previous: Option<TaskHandle> = None;
                for _ in 0..TASKS {
                    let mut task = TaskBuilder::new(|| {});
                    if let Some(previous) = &previous {
                        task = task.after(std::slice::from_ref(previous));
                    }
                    previous = Some(runtime.spawn(task).expect("spawn"));
                }
                finish(&runtime);
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function("fan_out_fan_in", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                let root = runtime.spawn(TaskBuilder::new(|| {})).expect("spawn");
                let middle: Vec<TaskHandle> = (0..TASKS - 2)
                    .map(|_| {
                        runtime
                            .spawn(TaskBuilder::new(|| {}).after(std::slice::from_ref(&root)))
                            .expect("spawn")
                    })
                    .collect();
                runtime
                    .spawn(TaskBuilder::new(|| {}).after(&middle))
                    .expect("spawn");
                finish(&runtime);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(5));
    targets = independent
}
criterion_main!(benches);
