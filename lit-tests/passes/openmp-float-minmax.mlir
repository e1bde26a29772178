// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-to-scf | FileCheck %s --check-prefix=SCF
// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-to-scf --convert-scf-to-openmp --openmp-float-minmax | FileCheck %s

// A float max reduction: looppar-to-scf marks its compare-and-select; after
// the OpenMP conversion it is maximumf again (NaN propagates), in the
// combiner and in the loop body, and the identity is -inf, not -FLT_MAX
// (a maximum over -inf values is -inf).
// SCF-LABEL: func.func @max
// SCF: arith.cmpf ogt, %{{.*}}, %{{.*}} {looppar.float_minmax} : f32
// CHECK-LABEL: omp.declare_reduction
// CHECK-SAME: : f32 init {
// CHECK: llvm.mlir.constant(0xFF800000 : f32) : f32
// CHECK: } combiner {
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32):
// CHECK-NEXT: %[[M:.*]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK-NEXT: omp.yield(%[[M]] : f32)
// CHECK-LABEL: func.func @max
// CHECK: omp.wsloop
// CHECK: arith.maximumf
// CHECK-NOT: arith.cmpf
// CHECK-NOT: arith.select
// CHECK: return
func.func @max(%x: memref<1024xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.maximumf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// A double min reduction: minimumf, identity +inf.
// CHECK-LABEL: omp.declare_reduction
// CHECK-SAME: : f64 init {
// CHECK: llvm.mlir.constant(0x7FF0000000000000 : f64) : f64
// CHECK: arith.minimumf
// CHECK-LABEL: func.func @min
// CHECK: arith.minimumf
// CHECK-NOT: arith.select
func.func @min(%x: memref<1024xf64>, %y: memref<1xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf64>
    %old = memref.load %y[%c0] : memref<1xf64>
    %new = arith.minimumf %old, %v : f64
    memref.store %new, %y[%c0] : memref<1xf64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// Integer reductions are left as the conversion made them: their
// compare-and-select and identity are exact.
// CHECK-LABEL: omp.declare_reduction
// CHECK-SAME: : i32 init {
// CHECK: llvm.mlir.constant(-2147483648 : i32) : i32
// CHECK: arith.cmpi sgt
// CHECK: arith.select
// CHECK-LABEL: func.func @imax
func.func @imax(%x: memref<1024xi32>, %y: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xi32>
    %old = memref.load %y[%c0] : memref<1xi32>
    %new = arith.maxsi %old, %v : i32
    memref.store %new, %y[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// A float sum starts at -0.0 (the conversion's +0.0 would turn a sum of
// -0.0s into +0.0).
// CHECK-LABEL: omp.declare_reduction
// CHECK-SAME: : f64 init {
// CHECK: llvm.mlir.constant(-0.000000e+00 : f64) : f64
// CHECK: } combiner {
// CHECK-NEXT: ^bb0(%{{.*}}: f64, %{{.*}}: f64):
// CHECK-NEXT: arith.addf
func.func @sum(%x: memref<1024xf64>, %y: memref<1xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf64>
    %old = memref.load %y[%c0] : memref<1xf64>
    %new = arith.addf %old, %v : f64
    memref.store %new, %y[%c0] : memref<1xf64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}
