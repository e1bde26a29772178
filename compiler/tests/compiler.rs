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
