// RUN: parla-opt %s --split-input-file --looppar-detect-reductions | FileCheck %s
// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-check-races --looppar-to-scf | FileCheck %s --check-prefix=SCF
// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-check-races --looppar-to-scf --convert-scf-to-openmp | FileCheck %s --check-prefix=OMP

// y[0] += x[i]: every iteration updates y[0], combining with +.
// CHECK-LABEL: func.func @sum
// CHECK: }) {label = "N", reduction = "add", threads = 1024 : i64}
// SCF-LABEL: func.func @sum
// SCF: %[[INIT:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xf32>
// SCF: %[[R:.*]] = scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init (%[[INIT]]) -> f32 {
// SCF:   %[[V:.*]] = memref.load
// SCF:   scf.reduce(%[[V]] : f32) {
// SCF:   ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32):
// SCF:     %[[C:.*]] = arith.addf %[[A]], %[[B]] fastmath<reassoc> : f32
// SCF:     scf.reduce.return %[[C]] : f32
// SCF: memref.store %[[R]], %{{.*}}[%{{.*}}] : memref<1xf32>
func.func @sum(%x: memref<1024xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1024 : i64} : (index, index, index) -> ()
  return
}

// -----

// m[j] = max(m[j], x[i, j]) over i (the combining op second), and a
// product: both detected; a loop that overwrites is not.
// CHECK-LABEL: func.func @kinds
// CHECK: reduction = "max"
// CHECK: reduction = "mul"
// CHECK-NOT: reduction =
func.func @kinds(%x: memref<8x4xi32>, %m: memref<4xi32>, %p: memref<1xi32>, %z: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i, %c2] : memref<8x4xi32>
    %old = memref.load %m[%c2] : memref<4xi32>
    %new = arith.maxsi %v, %old : i32
    memref.store %new, %m[%c2] : memref<4xi32>
    "looppar.yield"() : () -> ()
  }) {label = "M"} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i, %c0] : memref<8x4xi32>
    %old = memref.load %p[%c0] : memref<1xi32>
    %new = arith.muli %old, %v : i32
    memref.store %new, %p[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "P"} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i, %c0] : memref<8x4xi32>
    memref.store %v, %z[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "Z"} : (index, index, index) -> ()
  return
}

// -----

// y[0] += x[i]; y[1] += x[i] * x[i]: two locations of one memref, each
// touched only by its own update, are two reductions. Where another access
// may meet y[0] (y[%k], %k unknown), it is none.
// CHECK-LABEL: func.func @elements_of_one_memref
// CHECK: }) {label = "N", reduction = "add", threads = 1024 : i64}
// CHECK-NOT: reduction =
// SCF-LABEL: func.func @elements_of_one_memref
// SCF: %{{.*}}:2 = scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init (%{{.*}}, %{{.*}}) -> (f32, f32) {
// SCF-NOT: scf.parallel {{.*}} init
func.func @elements_of_one_memref(%x: memref<1024xf32>, %y: memref<2xf32>, %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1024 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf32>
    %old = memref.load %y[%c0] : memref<2xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<2xf32>
    %square = arith.mulf %v, %v : f32
    %old1 = memref.load %y[%c1] : memref<2xf32>
    %new1 = arith.addf %old1, %square : f32
    memref.store %new1, %y[%c1] : memref<2xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1024 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1024xf32>
    %old = memref.load %y[%c0] : memref<2xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<2xf32>
    %other = memref.load %y[%k] : memref<2xf32>
    memref.store %other, %x[%i] : memref<1024xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M"} : (index, index, index) -> ()
  return
}

// -----

// y[0] -= x[i] (float) and p[0] = p[0] - q[i] (integer) are sums of the
// negated contributions, the same values; z[0] = x[i] - z[0] is no
// reduction (in a sequential loop) and stays a subtraction.
// CHECK-LABEL: func.func @subtractions
// CHECK: %[[V:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<64xf64>
// CHECK: %[[OLD:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xf64>
// CHECK: %[[NEG:.*]] = arith.negf %[[V]] : f64
// CHECK: %[[SUM:.*]] = arith.addf %[[OLD]], %[[NEG]] : f64
// CHECK: memref.store %[[SUM]]
// CHECK: reduction = "add"
// CHECK: %[[Q:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<64xi32>
// CHECK: %[[POLD:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xi32>
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK: %[[NEGQ:.*]] = arith.subi %[[ZERO]], %[[Q]] : i32
// CHECK: arith.addi %[[POLD]], %[[NEGQ]] : i32
// CHECK: reduction = "add"
// CHECK: arith.subf %{{.*}}, %{{.*}} : f64
// CHECK-NOT: reduction =
// SCF-LABEL: func.func @subtractions
// SCF: scf.parallel {{.*}} init (%{{.*}}) -> f64
// SCF: scf.parallel {{.*}} init (%{{.*}}) -> i32
func.func @subtractions(%x: memref<64xf64>, %y: memref<1xf64>, %q: memref<64xi32>, %p: memref<1xi32>, %z: memref<1xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<64xf64>
    %old = memref.load %y[%c0] : memref<1xf64>
    %new = arith.subf %old, %v : f64
    memref.store %new, %y[%c0] : memref<1xf64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %q[%i] : memref<64xi32>
    %old = memref.load %p[%c0] : memref<1xi32>
    %new = arith.subi %old, %v : i32
    memref.store %new, %p[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<64xf64>
    %old = memref.load %z[%c0] : memref<1xf64>
    %new = arith.subf %v, %old : f64
    memref.store %new, %z[%c0] : memref<1xf64>
    "looppar.yield"() : () -> ()
  }) {label = "S"} : (index, index, index) -> ()
  return
}

// -----

// The bitwise and, or, xor of integers are reductions too (either operand
// order); the identities are all ones, 0 and 0, and OpenMP combines them
// with its own atomics.
// CHECK-LABEL: func.func @bits
// CHECK: reduction = "and"
// CHECK: reduction = "or"
// CHECK: reduction = "xor"
// SCF-LABEL: func.func @bits
// SCF: scf.reduce(%{{.*}} : i32) {
// SCF:   arith.andi
// SCF: scf.reduce(%{{.*}} : i8) {
// SCF:   arith.ori
// SCF: scf.reduce(%{{.*}} : i64) {
// SCF:   arith.xori
// OMP-DAG: omp.declare_reduction @__scf_reduction{{.*}} : i32 init {
// OMP-DAG: llvm.mlir.constant(-1 : i32)
// OMP-DAG: llvm.atomicrmw _and
// OMP-DAG: llvm.atomicrmw _or
// OMP-DAG: llvm.atomicrmw _xor
func.func @bits(%x: memref<64xi32>, %b: memref<64xi8>, %w: memref<64xi64>, %a: memref<1xi32>, %o: memref<1xi8>, %e: memref<1xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<64xi32>
    %old = memref.load %a[%c0] : memref<1xi32>
    %new = arith.andi %old, %v : i32
    memref.store %new, %a[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "A", threads = 64 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %b[%i] : memref<64xi8>
    %old = memref.load %o[%c0] : memref<1xi8>
    %new = arith.ori %v, %old : i8
    memref.store %new, %o[%c0] : memref<1xi8>
    "looppar.yield"() : () -> ()
  }) {label = "O", threads = 64 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %w[%i] : memref<64xi64>
    %old = memref.load %e[%c0] : memref<1xi64>
    %new = arith.xori %old, %v : i64
    memref.store %new, %e[%c0] : memref<1xi64>
    "looppar.yield"() : () -> ()
  }) {label = "X", threads = 64 : i64} : (index, index, index) -> ()
  return
}
