// RUN: parla-opt %s --split-input-file --looppar-check-races --verify-diagnostics

// Iteration i writes x[i]; iteration i - 1 reads it as x[i + 1].
func.func @neighbour(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  "looppar.for"(%c0, %c7, %c1) ({
  ^bb0(%i: index):
    %next = arith.addi %i, %c1 : index
    %v = memref.load %x[%next] : memref<8xf32>
    // expected-error@+1 {{iteration i of the parallel loop 'N' at loc(unknown) writes the element that iteration i - 1 reads}}
    memref.store %v, %x[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 7 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// Every iteration writes y[0].
func.func @same_element(%x: memref<8xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    // expected-error@+1 {{writes the same memory (an array element, or a variable assigned before the loop) in every iteration}}
    memref.store %v, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// No conflicts: distinct elements (2i and 2i + 1), a private buffer, a
// recognised reduction, a sequential loop, and a single iteration.
func.func @fine(%x: memref<16xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %even = arith.muli %i, %c2 : index
    %odd = arith.addi %even, %c1 : index
    %v = memref.load %x[%odd] : memref<16xf32>
    memref.store %v, %x[%even] : memref<16xf32>
    %private = memref.alloca() : memref<f32>
    memref.store %zero, %private[] : memref<f32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    memref.store %zero, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "R", threads = 8 : i64, reduction = "add"} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    memref.store %zero, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "S"} : (index, index, index) -> ()
  "looppar.for"(%c0, %c1, %c1) ({
  ^bb0(%i: index):
    memref.store %zero, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "T", threads = 1 : i64} : (index, index, index) -> ()
  return
}
