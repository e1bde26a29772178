// RUN: parla-opt %s --split-input-file --looppar-to-scf | FileCheck %s

// The outermost parallel loop becomes scf.parallel; a parallel loop inside
// it runs sequentially (scf.for); unlabelled loops are scf.for.
// CHECK-LABEL: func.func @nest
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK:     scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:       memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
// CHECK-NOT: looppar.
func.func @nest(%x: memref<?x?xf32>, %n: index, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %t, %c1) ({
  ^bb0(%step: index):
    "looppar.for"(%c0, %n, %c1) ({
    ^bb0(%i: index):
      "looppar.for"(%c0, %n, %c1) ({
      ^bb0(%j: index):
        memref.store %zero, %x[%i, %j] : memref<?x?xf32>
        "looppar.yield"() : () -> ()
      }) {label = "M", threads = 32 : i64} : (index, index, index) -> ()
      "looppar.yield"() : () -> ()
    }) {label = "N", threads = 128 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// while loops become scf.while; `with parir.gpu:` blocks are inlined.
// CHECK-LABEL: func.func @sequential
// CHECK-NOT: looppar.on_device
// CHECK: memref.store
// CHECK: scf.while : () -> () {
// CHECK:   scf.condition(%{{.*}})
// CHECK: } do {
// CHECK:   scf.yield
func.func @sequential(%y: memref<1xf32>) {
  "looppar.on_device"() ({
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %y[%c0] : memref<1xf32>
    "looppar.while"() ({
      %v = memref.load %y[%c0] : memref<1xf32>
      %ten = arith.constant 10.0 : f32
      %c = arith.cmpf olt, %v, %ten : f32
      "looppar.condition"(%c) : (i1) -> ()
    }, {
      %v = memref.load %y[%c0] : memref<1xf32>
      %one = arith.constant 1.0 : f32
      %w = arith.addf %v, %one : f32
      memref.store %w, %y[%c0] : memref<1xf32>
      "looppar.yield"() : () -> ()
    }) : () -> ()
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}
