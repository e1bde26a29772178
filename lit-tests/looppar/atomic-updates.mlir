// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-atomic-updates | FileCheck %s

// Updates of elements chosen by data: a - as the atomic + of the negation,
// a float32 element updated in float64 as the atomic + of the rounded
// contribution, an integer product as a compare-and-swap loop. A float
// product has no atomic form: it stays.
// CHECK-LABEL: func.func @shared
// CHECK: %[[K:.*]] = arith.index_cast
// CHECK: %[[NEG:.*]] = arith.subi %{{.*}}, %{{.*}} : i64
// CHECK: memref.atomic_rmw addi %[[NEG]], %{{.*}}[%[[K]]] : (i64, memref<4xi64>) -> i64
// CHECK: %[[X:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<16xf64>
// CHECK: %[[R:.*]] = arith.truncf %[[X]] : f64 to f32
// CHECK: memref.atomic_rmw addf %[[R]], %{{.*}}[%[[K]]] : (f32, memref<4xf32>) -> f32
// CHECK: memref.generic_atomic_rmw %{{.*}}[%[[K]]] : memref<4xi32> {
// CHECK: arith.muli
// CHECK: memref.atomic_yield
// CHECK: %[[OLD:.*]] = memref.load %{{.*}}[%[[K]]] : memref<4xf64>
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: memref.store %[[P]], %{{.*}}[%[[K]]] : memref<4xf64>
func.func @shared(%b: memref<16xi64>, %h: memref<4xi64>, %x: memref<16xf64>, %y: memref<4xf32>, %q: memref<4xi32>, %p: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1 : i64
  %three = arith.constant 3 : i32
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %bi = memref.load %b[%i] : memref<16xi64>
    %k = arith.index_cast %bi : i64 to index
    %old = memref.load %h[%k] : memref<4xi64>
    %new = arith.subi %old, %one : i64
    memref.store %new, %h[%k] : memref<4xi64>
    %xi = memref.load %x[%i] : memref<16xf64>
    %oy = memref.load %y[%k] : memref<4xf32>
    %wide = arith.extf %oy : f32 to f64
    %sum = arith.addf %wide, %xi : f64
    %narrow = arith.truncf %sum : f64 to f32
    memref.store %narrow, %y[%k] : memref<4xf32>
    %oq = memref.load %q[%k] : memref<4xi32>
    %tq = arith.muli %three, %oq : i32
    memref.store %tq, %q[%k] : memref<4xi32>
    %op = memref.load %p[%k] : memref<4xf64>
    %prod = arith.mulf %xi, %op : f64
    memref.store %prod, %p[%k] : memref<4xf64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  return
}

// -----

// y[i] += x[i]: each iteration owns its element; y[0] += x[i]: a
// reduction, parallelised by its lowering; a sequential loop: no threads.
// None becomes atomic.
// CHECK-LABEL: func.func @not_shared
// CHECK-NOT: atomic
// CHECK: return
func.func @not_shared(%x: memref<16xf32>, %y: memref<16xf32>, %s: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<16xf32>
    %old = memref.load %y[%i] : memref<16xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%i] : memref<16xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<16xf32>
    %old = memref.load %s[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %s[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "R", threads = 16 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<16xf32>
    %old = memref.load %s[%c0] : memref<1xf32>
    %new = arith.maximumf %old, %v : f32
    memref.store %new, %s[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// The load and the store index with two loads of b[i] (as under debug,
// where each sits in its own bounds check): the same element while
// nothing writes memory between them; a store to b between them makes
// them differ, and the update stays as it is.
// CHECK-LABEL: func.func @index_loaded_twice
// CHECK: memref.atomic_rmw minimumf
// CHECK-NOT: atomic_rmw
// CHECK: return
func.func @index_loaded_twice(%b: memref<16xi64>, %x: memref<16xf64>, %h: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0 : i64
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %b1 = memref.load %b[%i] : memref<16xi64>
    %k1 = arith.index_cast %b1 : i64 to index
    %old = memref.load %h[%k1] : memref<4xf64>
    %xi = memref.load %x[%i] : memref<16xf64>
    %m = arith.minimumf %old, %xi : f64
    %b2 = memref.load %b[%i] : memref<16xi64>
    %k2 = arith.index_cast %b2 : i64 to index
    memref.store %m, %h[%k2] : memref<4xf64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %b1 = memref.load %b[%i] : memref<16xi64>
    %k1 = arith.index_cast %b1 : i64 to index
    %old = memref.load %h[%k1] : memref<4xf64>
    %xi = memref.load %x[%i] : memref<16xf64>
    %m = arith.minimumf %old, %xi : f64
    memref.store %zero, %b[%i] : memref<16xi64>
    %b2 = memref.load %b[%i] : memref<16xi64>
    %k2 = arith.index_cast %b2 : i64 to index
    memref.store %m, %h[%k2] : memref<4xf64>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 16 : i64} : (index, index, index) -> ()
  return
}
