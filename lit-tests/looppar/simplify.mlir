// RUN: parla-opt %s --split-input-file --looppar-simplify | FileCheck %s

// Constants fold through the loop variable; a multiplication by a power of
// two becomes a shift; one by another constant stays.
// CHECK-LABEL: func.func @indices
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: "looppar.for"
// CHECK: ^bb0(%[[I:.*]]: index):
// CHECK-DAG: %[[SUM:.*]] = arith.addi %[[I]], %[[C3]] : index
// CHECK-DAG: memref.load %{{.*}}[%[[SUM]]]
// CHECK-DAG: arith.shli %[[I]], %{{.*}} : index
// CHECK-DAG: arith.muli %[[I]], %{{.*}} : index
// CHECK-NOT: arith.addi %{{.*}}, %c2
func.func @indices(%x: memref<64xf32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %a = arith.addi %i, %c1 : index
    %b = arith.addi %a, %c2 : index
    %v = memref.load %x[%b] : memref<64xf32>
    %s = arith.muli %i, %c8 : index
    memref.store %v, %y[%s] : memref<64xf32>
    %t = arith.muli %i, %c6 : index
    memref.store %v, %y[%t] : memref<64xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// Work that does not depend on the loop variable moves before the loop;
// identities disappear.
// CHECK-LABEL: func.func @invariant
// CHECK: %[[ROW:.*]] = arith.shli %{{.*}}, %{{.*}} : index
// CHECK: "looppar.for"
// CHECK-NOT: arith.shli
// CHECK: arith.addi %[[ROW]], %{{.*}} : index
// CHECK-NOT: arith.subi
func.func @invariant(%x: memref<4096xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c64, %c1) ({
  ^bb0(%j: index):
    %row = arith.muli %n, %c64 : index
    %at = arith.addi %row, %j : index
    %same = arith.subi %at, %c0 : index
    memref.store %zero, %x[%same] : memref<4096xf32>
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// Narrow integers are left alone (the e-graph computes in 64 bits, where
// (2**30 + 2**30) / 2 does not wrap as i32 does); a division by a value
// that may be zero stays in its loop, which may run no iteration.
// CHECK-LABEL: func.func @narrow_and_division
// CHECK: arith.addi %{{.*}}, %{{.*}} : i32
// CHECK: arith.divsi %{{.*}}, %{{.*}} : i32
// CHECK: "looppar.for"
// CHECK: arith.divsi %{{.*}}, %{{.*}} : i64
// CHECK: "looppar.yield"
func.func @narrow_and_division(%y: memref<8xi32>, %z: memref<?xi64>, %n: index, %t: i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %big = arith.constant 1073741824 : i32
  %two = arith.constant 2 : i32
  %ni = arith.index_cast %n : index to i64
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %s = arith.addi %big, %big : i32
    %d = arith.divsi %s, %two : i32
    memref.store %d, %y[%c0] : memref<8xi32>
    %q = arith.divsi %t, %ni : i64
    memref.store %q, %z[%i] : memref<?xi64>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}
