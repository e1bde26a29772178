//! Time spent in the e-graph pass (`looppar-simplify`) per kernel: the
//! looppar kernels of the lit suite and the front end's IR of the Parir
//! README's row sum. Target: under 5 ms per kernel.

use criterion::{criterion_group, criterion_main, Criterion};
use parla_compiler::{jit::run_pipeline, source::parse_module};

const KERNELS: [(&str, &str); 4] = [
    (
        "simplify.mlir",
        include_str!("../../lit-tests/looppar/simplify.mlir"),
    ),
    ("ops.mlir", include_str!("../../lit-tests/looppar/ops.mlir")),
    (
        "to-scf.mlir",
        include_str!("../../lit-tests/looppar/to-scf.mlir"),
    ),
    (
        "sum_rows (front end)",
        include_str!("kernels/sum_rows.mlir"),
    ),
];

fn simplify(c: &mut Criterion) {
    let context = parla_dialects::create_context().expect("dialects load");
    let mut group = c.benchmark_group("looppar-simplify");
    for (name, text) in KERNELS {
        for (n, chunk) in text.split("// -----").enumerate() {
            group.bench_function(format!("{name}#{n}"), |b| {
                b.iter(|| {
                    let mut module =
                        parse_module(&context, chunk, name).expect("the kernel parses");
                    run_pipeline(&context, &mut module, "builtin.module(looppar-simplify)")
                        .expect("the pass runs");
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, simplify);
criterion_main!(benches);
