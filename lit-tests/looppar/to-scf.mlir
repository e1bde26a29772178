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

// -----

// A parallel reduction loop inside another runs sequentially, in any
// order: its float sum into a local may reassociate (LLVM vectorises it).
// A sequential loop's sum keeps its order.
// CHECK-LABEL: func.func @inner_reduction
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// CHECK: scf.for
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: fastmath
func.func @inner_reduction(%x: memref<8x64xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %s = memref.alloca() : memref<f32>
    memref.store %zero, %s[] : memref<f32>
    "looppar.for"(%c0, %c64, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<8x64xf32>
      %old = memref.load %s[] : memref<f32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %s[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {label = "M", reduction = "add", threads = 64 : i64} : (index, index, index) -> ()
    "looppar.for"(%c0, %c64, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<8x64xf32>
      %old = memref.load %s[] : memref<f32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %s[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {reduction = "add"} : (index, index, index) -> ()
    %r = memref.load %s[] : memref<f32>
    memref.store %r, %y[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// Two reductions of one parallel loop (a sum and a maximum): one
// scf.parallel with an initial value and a combiner each, the results
// stored after it.
// CHECK-LABEL: func.func @sum_and_max
// CHECK-DAG: %[[S0:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xf32>
// CHECK-DAG: %[[M0:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xi32>
// CHECK: %[[R:.*]]:2 = scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init (%[[S0]], %[[M0]]) -> (f32, i32) {
// CHECK:   scf.reduce(%{{.*}}, %{{.*}} : f32, i32) {
// CHECK:     arith.addf
// CHECK:   }, {
// CHECK:     arith.cmpi sgt
// CHECK:     arith.select
// CHECK: memref.store %[[R]]#0
// CHECK: memref.store %[[R]]#1
func.func @sum_and_max(%x: memref<8xf32>, %k: memref<8xi32>, %y: memref<1xf32>, %z: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    %w = memref.load %k[%i] : memref<8xi32>
    %top = memref.load %z[%c0] : memref<1xi32>
    %higher = arith.maxsi %top, %w : i32
    memref.store %higher, %z[%c0] : memref<1xi32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "add", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A sequential loop inside a kernel unrolls at most 4 times (fully
// unrolled, every thread would hold all its loads at once); one on the
// host keeps LLVM's own choice.
// CHECK-LABEL: func.func @in_kernel
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: } {loop_annotation = #loop_annotation}
// CHECK: gpu.terminator
// CHECK: scf.for
// CHECK-NOT: loop_annotation
// CHECK: return
func.func @in_kernel(%x: memref<50xf64>, %m: memref<1xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c50 = arith.constant 50 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    "looppar.for"(%c0, %c50, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%j] : memref<50xf64>
      %old = memref.load %m[%c0] : memref<1xf64>
      %new = arith.maximumf %old, %v : f64
      memref.store %new, %m[%c0] : memref<1xf64>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    gpu.terminator
  }
  "looppar.for"(%c0, %c50, %c1) ({
  ^bb0(%j: index):
    %v = memref.load %x[%j] : memref<50xf64>
    memref.store %v, %m[%c0] : memref<1xf64>
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// A parallel loop of at most 64 iterations known when compiling, with no
// loop inside, runs on the calling thread (scf.for): handing it to the
// worker pool costs more than it does. 65 iterations, or an inner loop,
// keep it parallel.
// CHECK-LABEL: func.func @small
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c1 {
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c65) step (%c1) {
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c16) step (%c1) {
// CHECK:   scf.for
func.func @small(%x: memref<128xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c65 = arith.constant 65 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c64, %c1) ({
  ^bb0(%i: index):
    memref.store %zero, %x[%i] : memref<128xf32>
    "looppar.yield"() : () -> ()
  }) {label = "A", threads = 64 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c65, %c1) ({
  ^bb0(%i: index):
    memref.store %zero, %x[%i] : memref<128xf32>
    "looppar.yield"() : () -> ()
  }) {label = "B", threads = 65 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %n, %c1) ({
    ^bb0(%j: index):
      memref.store %zero, %x[%j] : memref<128xf32>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "C", threads = 16 : i64} : (index, index, index) -> ()
  return
}
