//! The compiler end to end: IR in, native code out, run on the worker
//! pool. One test binary for the crate (every binary links MLIR).

use melior::ir::Module;
use parla_compiler::jit::{lower_to_llvm, Engine, MemrefArgument, PackedArguments};

const ROW_SUMS: &str = r#"
func.func @rowsum(%x: memref<?x?xf32>, %y: memref<?xf32>, %total: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x?xf32>
  %m = memref.dim %x, %c1 : memref<?x?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %zero = arith.constant 0.0 : f32
    %s = scf.for %j = %c0 to %m step %c1 iter_args(%acc = %zero) -> f32 {
      %v = memref.load %x[%i, %j] : memref<?x?xf32>
      %a = arith.addf %acc, %v fastmath<reassoc> : f32
      scf.yield %a : f32
    }
    memref.store %s, %y[%i] : memref<?xf32>
    scf.reduce
  }
  %zero = arith.constant 0.0 : f32
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %v = memref.load %y[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  memref.store %r, %total[%c0] : memref<1xf32>
  return
}
"#;

fn memref(data: &mut [f32], sizes: &[i64]) -> MemrefArgument {
    let mut strides = vec![1i64; sizes.len()];
    for d in (0..sizes.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * sizes[d + 1];
    }
    MemrefArgument {
        data: data.as_mut_ptr().cast(),
        offset: 0,
        sizes: sizes.to_vec(),
        strides,
    }
}

#[test]
fn parallel_loops_and_reductions_run_on_the_pool() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, ROW_SUMS).unwrap();
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 3).unwrap();
    let function = engine.packed("rowsum").unwrap();
    for (n, m) in [(1usize, 1usize), (7, 3), (64, 33), (1000, 17)] {
        let mut x: Vec<f32> = (0..n * m).map(|k| (k % 13) as f32).collect();
        let mut y = vec![0f32; n];
        let mut total = vec![0f32; 1];
        let mut arguments = PackedArguments::default();
        arguments.push_memref(&memref(&mut x, &[n as i64, m as i64]));
        arguments.push_memref(&memref(&mut y, &[n as i64]));
        arguments.push_memref(&memref(&mut total, &[1]));
        unsafe { arguments.call(function) };
        let expected: Vec<f32> = (0..n).map(|i| x[i * m..(i + 1) * m].iter().sum()).collect();
        assert_eq!(y, expected, "{n}x{m}");
        assert_eq!(total[0], expected.iter().sum::<f32>(), "{n}x{m}");
    }
}

#[test]
fn a_missing_function_is_an_error() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, "func.func @f() { return }").unwrap();
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 0).unwrap();
    assert!(engine.packed("f").is_ok());
    assert!(engine.packed("g").is_err());
}

const LOOPPAR_REDUCTIONS: &str = r#"
func.func @reduce(%x: memref<1000xf32>, %sum: memref<1xf32>, %big: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1000xf32>
    %old = memref.load %sum[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %sum[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1000 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1000xf32>
    %old = memref.load %big[%c0] : memref<1xf32>
    %new = arith.maximumf %v, %old : f32
    memref.store %new, %big[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 1000 : i64} : (index, index, index) -> ()
  return
}
"#;

/// Reductions written as loads and stores in looppar IR are detected,
/// lowered to parallel reductions, and compute the right values.
#[test]
fn detected_reductions_run_in_parallel_and_are_right() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, LOOPPAR_REDUCTIONS).unwrap();
    parla_compiler::jit::run_pipeline(
        &context,
        &mut module,
        "builtin.module(looppar-detect-reductions,looppar-check-races,looppar-to-scf)",
    )
    .unwrap();
    let text = module.as_operation().to_string();
    assert_eq!(text.matches("scf.parallel").count(), 2, "{text}");
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 2).unwrap();
    let function = engine.packed("reduce").unwrap();
    let mut x: Vec<f32> = (0..1000).map(|k| ((k * 37) % 101) as f32).collect();
    let mut sum = vec![5f32];
    let mut big = vec![-1f32];
    let mut arguments = PackedArguments::default();
    arguments.push_memref(&memref(&mut x, &[1000]));
    arguments.push_memref(&memref(&mut sum, &[1]));
    arguments.push_memref(&memref(&mut big, &[1]));
    unsafe { arguments.call(function) };
    assert_eq!(sum[0], 5.0 + x.iter().sum::<f32>());
    assert_eq!(big[0], 100.0);
}
