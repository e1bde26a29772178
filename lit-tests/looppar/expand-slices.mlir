// RUN: parla-opt %s --split-input-file --looppar-expand-slices | FileCheck %s
// RUN: parla-opt %s --split-input-file --looppar-expand-slices --looppar-apply-parallel-spec --looppar-detect-reductions --looppar-check-races --looppar-to-scf | FileCheck %s --check-prefix=SCF

// y[i, :] = x[i, :] * 2 + y[i, :]: one loop over the ranging dimension; the
// map body moves into it and each element becomes a load.
// CHECK-LABEL: func.func @elementwise
// CHECK:       %[[N:.*]] = memref.dim %arg1, %{{.*}} : memref<8x16xf32>
// CHECK:       "looppar.for"(%{{.*}}, %[[N]], %{{.*}}) ({
// CHECK-NEXT:  ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:    %[[X:.*]] = memref.load %arg0[%arg2, %[[J]]] : memref<8x16xf32>
// CHECK-NEXT:    %[[P:.*]] = arith.mulf %[[X]], %{{.*}} : f32
// CHECK-NEXT:    %[[Y:.*]] = memref.load %arg1[%arg2, %[[J]]] : memref<8x16xf32>
// CHECK-NEXT:    %[[S:.*]] = arith.addf %[[P]], %[[Y]] : f32
// CHECK-NEXT:    memref.store %[[S]], %arg1[%arg2, %[[J]]] : memref<8x16xf32>
// CHECK:       }) {label = "M"}
// CHECK-NOT:   looppar.slice
// CHECK-NOT:   looppar.map
func.func @elementwise(%x: memref<8x16xf32>, %y: memref<8x16xf32>, %i: index) {
  %two = arith.constant 2.0 : f32
  %xs = "looppar.slice"(%x, %i) {kinds = array<i64: 0, 1>} : (memref<8x16xf32>, index) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y, %i) {kinds = array<i64: 0, 1>} : (memref<8x16xf32>, index) -> !looppar.view<f32, 1 : i64>
  %z = "looppar.map"() ({
  ^bb0(%j: index):
    %a = "looppar.element"(%xs, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %p = arith.mulf %a, %two : f32
    %b = "looppar.element"(%ys, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %s = arith.addf %p, %b : f32
    "looppar.yield"(%s) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%ys, %z) {labels = ["M"]} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

// y[2:5] = x[0:3]: loops count from 0; each range offsets by its own lower
// bound. A scalar is broadcast.
// CHECK-LABEL: func.func @ranges
// CHECK:       %[[E:.*]] = arith.subi %c5, %c2 : index
// CHECK:       "looppar.for"(%{{.*}}, %[[E]], %{{.*}}) ({
// CHECK-NEXT:  ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:    %[[YI:.*]] = arith.addi %c2, %[[J]] : index
// CHECK-NEXT:    %[[XI:.*]] = arith.addi %c0, %[[J]] : index
// CHECK-NEXT:    %[[X:.*]] = memref.load %arg0[%[[XI]]] : memref<8xf32>
// CHECK-NEXT:    memref.store %[[X]], %arg1[%[[YI]]] : memref<8xf32>
// CHECK:       "looppar.for"
// CHECK:         memref.store %cst, %arg1[%{{.*}}] : memref<8xf32>
func.func @ranges(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f32
  %xs = "looppar.slice"(%x, %c0, %c3) {kinds = array<i64: 2>} : (memref<8xf32>, index, index) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y, %c2, %c5) {kinds = array<i64: 2>} : (memref<8xf32>, index, index) -> !looppar.view<f32, 1 : i64>
  %z = "looppar.map"() ({
  ^bb0(%j: index):
    %a = "looppar.element"(%xs, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
    "looppar.yield"(%a) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%ys, %z) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  %all = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%all, %zero) : (!looppar.view<f32, 1 : i64>, f32) -> ()
  return
}

// -----

// Row sums inside the parallel loop 'N': a private accumulator at the start
// of the parallel body, a reduction loop over 'M', one store per row.
// CHECK-LABEL: func.func @rows
// CHECK:       "looppar.for"
// CHECK-NEXT:  ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:    %[[ACC:.*]] = memref.alloca() : memref<f32>
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    memref.store %[[ZERO]], %[[ACC]][] : memref<f32>
// CHECK:         "looppar.for"
// CHECK-NEXT:    ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:      %[[X:.*]] = memref.load %arg0[%[[I]], %[[J]]] : memref<8x16xf32>
// CHECK-NEXT:      %[[OLD:.*]] = memref.load %[[ACC]][] : memref<f32>
// CHECK-NEXT:      %[[NEW:.*]] = arith.addf %[[OLD]], %[[X]] fastmath<reassoc> : f32
// CHECK-NEXT:      memref.store %[[NEW]], %[[ACC]][] : memref<f32>
// CHECK:         }) {label = "M", reduction = "add"}
// CHECK-NEXT:    %[[SUM:.*]] = memref.load %[[ACC]][] : memref<f32>
// CHECK-NEXT:    memref.store %[[SUM]], %arg1[%[[I]]] : memref<8xf32>
// CHECK:       }) {label = "N"}
// SCF-LABEL:   func.func @rows
// SCF:         scf.parallel
// SCF:           scf.for
// SCF:             arith.addf
func.func @rows(%x: memref<8x16xf32>, %y: memref<8xf32>) {
  "looppar.parallelize"() {label = "N", threads = 8 : i64} : () -> ()
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<8x16xf32>) -> !looppar.view<f32, 2 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  %r = "looppar.reduce"(%xs) {axis = 1 : i64, kind = "sum", labels = ["M"]} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%ys, %r) {labels = ["N"]} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

// A full reduction whose outermost loop is parallel, outside every parallel
// loop: the identity goes into the destination on the device, the parallel
// loop combines into the destination (the form lowered to a parallel
// reduction), and the inner dimension into a private partial result.
// CHECK-LABEL: func.func @everything
// CHECK:       "looppar.on_device"() ({
// CHECK-NEXT:    %[[LOW:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT:    memref.store %[[LOW]], %arg1[%c0] : memref<1xf32>
// CHECK:       "looppar.for"
// CHECK-NEXT:  ^bb0(%{{.*}}: index):
// CHECK-NEXT:    %[[PART:.*]] = memref.alloca() : memref<f32>
// CHECK:         }) {reduction = "max"}
// CHECK-NEXT:    %[[P:.*]] = memref.load %[[PART]][] : memref<f32>
// CHECK-NEXT:    %[[OLD:.*]] = memref.load %arg1[%c0] : memref<1xf32>
// CHECK-NEXT:    %[[NEW:.*]] = arith.maximumf %[[OLD]], %[[P]] : f32
// CHECK-NEXT:    memref.store %[[NEW]], %arg1[%c0] : memref<1xf32>
// CHECK:       }) {label = "N", reduction = "max"}
// SCF-LABEL:   func.func @everything
// SCF:         %[[INIT:.*]] = memref.load %arg1[%c0] : memref<1xf32>
// SCF:         scf.parallel {{.*}} init (%[[INIT]]) -> f32
// SCF:           scf.reduce
func.func @everything(%x: memref<8x16xf32>, %y: memref<1xf32>) {
  "looppar.parallelize"() {label = "N", threads = 8 : i64, reduce} : () -> ()
  %c0 = arith.constant 0 : index
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<8x16xf32>) -> !looppar.view<f32, 2 : i64>
  %ys = "looppar.slice"(%y, %c0) {kinds = array<i64: 0>} : (memref<1xf32>, index) -> !looppar.view<f32, 0 : i64>
  %r = "looppar.reduce"(%xs) {kind = "max", labels = ["N"]} : (!looppar.view<f32, 2 : i64>) -> f32
  "looppar.assign"(%ys, %r) : (!looppar.view<f32, 0 : i64>, f32) -> ()
  return
}

// -----

// y[:] += sum(x[:, :], axis=0) on unsigned bytes, sequentially: the
// accumulator starts from the destination; unsigned min would use minui.
// CHECK-LABEL: func.func @accumulate
// CHECK:       %[[ACC:.*]] = memref.alloca() : memref<i8>
// CHECK:       "looppar.for"
// CHECK:         %[[START:.*]] = memref.load %arg1[%{{.*}}] : memref<16xi8>
// CHECK-NEXT:    memref.store %[[START]], %[[ACC]][] : memref<i8>
// CHECK:           arith.addi
// CHECK:         }) {reduction = "add"}
func.func @accumulate(%x: memref<8x16xi8>, %y: memref<16xi8>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<8x16xi8>) -> !looppar.view<i8, 2 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<16xi8>) -> !looppar.view<i8, 1 : i64>
  %r = "looppar.reduce"(%xs) {axis = 0 : i64, kind = "sum", unsigned} : (!looppar.view<i8, 2 : i64>) -> !looppar.view<i8, 1 : i64>
  "looppar.assign"(%ys, %r) {accumulate} : (!looppar.view<i8, 1 : i64>, !looppar.view<i8, 1 : i64>) -> ()
  return
}

// -----

// parir.sum(a[:] * b[:]): a reduction of a map takes its extents from
// `shape` (the first slice) and combines the map's element, computed in
// the reduced loop.
// CHECK-LABEL: func.func @dot
// CHECK: "looppar.for"
// CHECK: %[[A:.*]] = memref.load %arg0[%{{.*}}] : memref<64xf32>
// CHECK: %[[B:.*]] = memref.load %arg1[%{{.*}}] : memref<64xf32>
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK: arith.addf %{{.*}}, %[[P]] fastmath<reassoc> : f32
// CHECK: {label = "N", reduction = "add"}
// CHECK-NOT: looppar.map
// CHECK-NOT: looppar.reduce
func.func @dot(%a: memref<64xf32>, %b: memref<64xf32>, %out: memref<1xf32>, %c0: index) {
  %sa = "looppar.slice"(%a) {kinds = array<i64: 1>} : (memref<64xf32>) -> !looppar.view<f32, 1 : i64>
  %sb = "looppar.slice"(%b) {kinds = array<i64: 1>} : (memref<64xf32>) -> !looppar.view<f32, 1 : i64>
  %products = "looppar.map"() ({
  ^bb0(%i: index):
    %x = "looppar.element"(%sa, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %y = "looppar.element"(%sb, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %p = arith.mulf %x, %y : f32
    "looppar.yield"(%p) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  %sum = "looppar.reduce"(%products, %sa) {kind = "sum", labels = ["N"]} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> f32
  %dest = "looppar.slice"(%out, %c0) {kinds = array<i64: 0>} : (memref<1xf32>, index) -> !looppar.view<f32, 0 : i64>
  "looppar.assign"(%dest, %sum) : (!looppar.view<f32, 0 : i64>, f32) -> ()
  return
}
