// RUN: parla-opt %s --math-exact-libm-calls | FileCheck %s
// RUN: parla-opt %s --math-exact-libm-calls --convert-math-to-llvm | FileCheck %s --check-prefix=LLVM

// expm1 and log1p of scalars become calls of the C library's functions,
// declared once per module, f32 ones of the `f` variants; other math ops
// and vectors are left to convert-math-to-llvm.
// CHECK-DAG: func.func private @expm1(f64) -> f64 attributes {llvm.readnone}
// CHECK-DAG: func.func private @log1p(f64) -> f64 attributes {llvm.readnone}
// CHECK-DAG: func.func private @expm1f(f32) -> f32 attributes {llvm.readnone}
// CHECK-NOT: func.func private

// CHECK-LABEL: func.func @scalars
// CHECK: call @expm1(%{{.*}}) : (f64) -> f64
// CHECK: call @expm1(%{{.*}}) : (f64) -> f64
// CHECK: call @log1p(%{{.*}}) : (f64) -> f64
// CHECK: call @expm1f(%{{.*}}) : (f32) -> f32
// CHECK: math.exp
// LLVM-LABEL: func.func @scalars
// LLVM-NOT: llvm.fsub
// LLVM-NOT: llvm.fadd
// LLVM: return
func.func @scalars(%x: f64, %y: f32) -> (f64, f64, f64, f32, f64) {
  %a = math.expm1 %x : f64
  %b = math.expm1 %a : f64
  %c = math.log1p %x : f64
  %d = math.expm1 %y : f32
  %e = math.exp %x : f64
  return %a, %b, %c, %d, %e : f64, f64, f64, f32, f64
}

// CHECK-LABEL: func.func @vectors
// CHECK: math.expm1 %{{.*}} : vector<4xf32>
func.func @vectors(%v: vector<4xf32>) -> vector<4xf32> {
  %a = math.expm1 %v : vector<4xf32>
  return %a : vector<4xf32>
}
