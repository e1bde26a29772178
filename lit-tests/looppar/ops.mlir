// RUN: parla-opt %s | FileCheck %s
// RUN: parla-opt %s | parla-opt | FileCheck %s

// The Parir README's sum_rows, with an explicit reduction loop.
// CHECK-LABEL: func.func @sum_rows
func.func @sum_rows(%x: memref<?x?xf32>, %y: memref<?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // CHECK: "looppar.parallelize"() {label = "N", threads = 128 : i64} : () -> ()
  "looppar.parallelize"() {label = "N", threads = 128 : i64} : () -> ()
  // CHECK: "looppar.parallelize"() {label = "M", reduce, threads = 64 : i64, tpb = 64 : i64} : () -> ()
  "looppar.parallelize"() {label = "M", threads = 64 : i64, tpb = 64 : i64, reduce} : () -> ()
  // CHECK: "looppar.parallelize"() {label = "K", seq} : () -> ()
  "looppar.parallelize"() {label = "K", seq} : () -> ()
  // CHECK: "looppar.for"(%{{.*}}, %{{.*}}, %{{.*}}) ({
  // CHECK-NEXT: ^bb0(%[[I:.*]]: index):
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    // CHECK: "looppar.for"
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %a = memref.load %x[%i, %j] : memref<?x?xf32>
      %b = memref.load %y[%i] : memref<?xf32>
      %s = arith.addf %a, %b : f32
      memref.store %s, %y[%i] : memref<?xf32>
      // CHECK: "looppar.yield"() : () -> ()
      "looppar.yield"() : () -> ()
    // CHECK: }) {label = "M"} : (index, index, index) -> ()
    }) {label = "M"} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  // CHECK: }) {label = "N"} : (index, index, index) -> ()
  }) {label = "N"} : (index, index, index) -> ()
  return
}

// After the parallel specification is applied, loops carry it.
// CHECK-LABEL: func.func @applied
func.func @applied(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // CHECK: {label = "N", reduce, threads = 1024 : i64, tpb = 256 : i64}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1024 : i64, tpb = 256 : i64, reduce} : (index, index, index) -> ()
  return
}

// The slice form: y[:] = parir.sum(x[:,:], axis=1), and z[i, :] = x[i, :] * 2.
// CHECK-LABEL: func.func @slices
func.func @slices(%x: memref<?x?xf32>, %y: memref<?xf32>, %z: memref<?x?xf32>, %i: index) {
  // CHECK: %[[XS:.*]] = "looppar.slice"(%{{.*}}) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // CHECK: %[[R:.*]] = "looppar.reduce"(%[[XS]]) {axis = 1 : i64, kind = "sum"} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  %r = "looppar.reduce"(%xs) {kind = "sum", axis = 1 : i64} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  // CHECK: "looppar.assign"(%{{.*}}, %[[R]]) {labels = ["N"]}
  "looppar.assign"(%ys, %r) {labels = ["N"]} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  // CHECK: "looppar.reduce"(%[[XS]]) {kind = "max"} : (!looppar.view<f32, 2 : i64>) -> f32
  %total = "looppar.reduce"(%xs) {kind = "max"} : (!looppar.view<f32, 2 : i64>) -> f32
  // CHECK: "looppar.slice"(%{{.*}}, %{{.*}}) {kinds = array<i64: 0, 1>}
  %row = "looppar.slice"(%x, %i) {kinds = array<i64: 0, 1>} : (memref<?x?xf32>, index) -> !looppar.view<f32, 1 : i64>
  %zrow = "looppar.slice"(%z, %i) {kinds = array<i64: 0, 1>} : (memref<?x?xf32>, index) -> !looppar.view<f32, 1 : i64>
  // CHECK: "looppar.map"() ({
  // CHECK-NEXT: ^bb0(%[[J:.*]]: index):
  // CHECK-NEXT: "looppar.element"(%{{.*}}, %[[J]]) : (!looppar.view<f32, 1 : i64>, index) -> f32
  %two = arith.constant 2.0 : f32
  %doubled = "looppar.map"() ({
  ^bb0(%j: index):
    %a = "looppar.element"(%row, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %p = arith.mulf %a, %two : f32
    "looppar.yield"(%p) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%zrow, %doubled) {labels = ["M"]} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// with parir.gpu: and a while loop.
// CHECK-LABEL: func.func @sequential
func.func @sequential(%y: memref<?xf32>) {
  // CHECK: "looppar.on_device"() ({
  "looppar.on_device"() ({
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %y[%c0] : memref<?xf32>
    // CHECK: "looppar.while"() ({
    "looppar.while"() ({
      %v = memref.load %y[%c0] : memref<?xf32>
      %ten = arith.constant 10.0 : f32
      %c = arith.cmpf olt, %v, %ten : f32
      // CHECK: "looppar.condition"(%{{.*}}) : (i1) -> ()
      "looppar.condition"(%c) : (i1) -> ()
    }, {
      %v = memref.load %y[%c0] : memref<?xf32>
      %one = arith.constant 1.0 : f32
      %w = arith.addf %v, %one : f32
      memref.store %w, %y[%c0] : memref<?xf32>
      "looppar.yield"() : () -> ()
    }) : () -> ()
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}
