//! What it costs to get IR ready for a pass pipeline: creating a context
//! with all dialects loaded, and parsing plus verifying a small program.
//! Both sit on the path of a JIT's first call.

use criterion::{criterion_group, criterion_main, Criterion};

const PROGRAM: &str = include_str!("../../examples/task_graph.mlir");

fn context_creation(c: &mut Criterion) {
    c.bench_function("create_context", |b| {
        b.iter(|| parla_dialects::create_context().expect("dialects load"))
    });
}

fn parse_and_verify(c: &mut Criterion) {
    let context = parla_dialects::create_context().expect("dialects load");
    c.bench_function("parse_and_verify_task_graph", |b| {
        b.iter(|| {
            let module = parla_compiler::source::parse_module(&context, PROGRAM, "task_graph.mlir")
                .expect("the example parses");
            assert!(parla_dialects::verify(&module.as_operation()));
        })
    });
}

criterion_group!(benches, context_creation, parse_and_verify);
criterion_main!(benches);
