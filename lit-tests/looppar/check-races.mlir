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
    %v = memref.load %x[%i] : memref<16xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
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

// -----

// Reversal in place: iteration 7 writes x[7], which iteration 0 reads.
func.func @reversal(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %mirror = arith.subi %c7, %i : index
    %v = memref.load %x[%mirror] : memref<8xf32>
    // expected-error@+1 {{iteration 7 of the parallel loop 'N' at loc(unknown) writes the element that iteration 0 reads}}
    memref.store %v, %x[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// x[2 i] = x[i]: iteration 1 writes x[2], which iteration 2 reads.
func.func @doubling(%x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<16xf32>
    %twice = arith.muli %i, %c2 : index
    // expected-error@+1 {{iteration 1 of the parallel loop 'N' at loc(unknown) writes the element that iteration 2 reads}}
    memref.store %v, %x[%twice] : memref<16xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// y[i % 3] (as the front end writes it: i - 3 * (i floordiv 3)) is not
// affine: evaluated, iterations 0 and 3 write the same element.
func.func @modulo(%x: memref<9xf32>, %y: memref<3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %c3 = arith.constant 3 : i64
  "looppar.for"(%c0, %c9, %c1) ({
  ^bb0(%i: index):
    %n = arith.index_cast %i : index to i64
    %q = arith.floordivsi %n, %c3 : i64
    %m = arith.muli %q, %c3 : i64
    %r = arith.subi %n, %m : i64
    %at = arith.index_cast %r : i64 to index
    %v = memref.load %x[%i] : memref<9xf32>
    // expected-error@+1 {{iteration 0 of the parallel loop 'N' at loc(unknown) writes the element that iteration 3 writes}}
    memref.store %v, %y[%at] : memref<3xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 9 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// No conflicts that are certain: a scatter through loaded indices (a
// permutation is fine), a write under a condition (only iteration 0 may
// run it), a reversal of the first half into the second, and x[i // 2]
// read beside the write of x[i + 8].
func.func @uncertain(%x: memref<16xf32>, %idx: memref<8xindex>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c15 = arith.constant 15 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %to = memref.load %idx[%i] : memref<8xindex>
    %v = memref.load %x[%i] : memref<16xf32>
    memref.store %v, %y[%to] : memref<8xf32>
    %first = arith.cmpi eq, %i, %c0 : index
    scf.if %first {
      memref.store %v, %y[%c0] : memref<8xf32>
    }
    %mirror = arith.subi %c15, %i : index
    memref.store %v, %x[%mirror] : memref<16xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %half = arith.floordivsi %i, %c2 : index
    %v = memref.load %x[%half] : memref<16xf32>
    %high = arith.addi %i, %c8 : index
    memref.store %v, %x[%high] : memref<16xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// Under a condition: the iterations that qualify all write y[0], each its
// own value. The same store of a constant, or under `i == 3`, is fine.
func.func @conditional(%x: memref<8xf32>, %y: memref<3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    %positive = arith.cmpf ogt, %v, %zero : f32
    scf.if %positive {
      // expected-error@+1 {{holds, and what it writes differs between iterations}}
      memref.store %v, %y[%c0] : memref<3xf32>
      memref.store %zero, %y[%c1] : memref<3xf32>
    }
    %third = arith.cmpi eq, %i, %c3 : index
    scf.if %third {
      memref.store %v, %y[%c2] : memref<3xf32>
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A detected reduction (y[0] += x[i]) exempts its own location only: the
// other store of the body, to z[0] in every iteration, races. So does a
// reduction loop's plain store that no update pattern accounts for.
func.func @reduction_and_race(%x: memref<8xf32>, %y: memref<1xf32>, %z: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    // expected-error@+1 {{writes the same memory (an array element, or a variable assigned before the loop) in every iteration}}
    memref.store %v, %z[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64, reduction = "add"} : (index, index, index) -> ()
  return
}

// -----

func.func @marked_but_no_update(%y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    // expected-error@+1 {{writes the same memory}}
    memref.store %zero, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "R", threads = 8 : i64, reduction = "add"} : (index, index, index) -> ()
  return
}

// -----

// Atomic updates of one element (h[0], and h[1] under a condition) share
// it with each other, not with a plain read: z[i] = h[0] reads a partial
// result that depends on the order of the iterations.
func.func @atomic_updates_and_reads(%x: memref<8xf32>, %h: memref<2xf32>, %z: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    %a = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    %b = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    %positive = arith.cmpf ogt, %v, %zero : f32
    scf.if %positive {
      %c = memref.atomic_rmw addf %v, %h[%c1] : (f32, memref<2xf32>) -> f32
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<8xf32>
    // expected-error@+1 {{iteration 0 of the parallel loop 'M' at loc(unknown) writes the element that iteration 1 reads}}
    %a = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    %sum = memref.load %h[%c0] : memref<2xf32>
    memref.store %sum, %z[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 8 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// Atomics of different kinds do not commute: an add and a max on one
// element race, also where a condition guards one of them and where the
// trip count is known only at run time; on different elements they do
// not, nor does a compare-and-swap product beside a product.
func.func @mixed_atomic_kinds(%x: memref<?xf32>, %h: memref<2xf32>, %k: memref<2xi32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2 : i32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<?xf32>
    // expected-error@+1 {{the parallel loop 'N' at loc(unknown) updates one element atomically in two ways that do not commute}}
    %a = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    %positive = arith.cmpf ogt, %v, %zero : f32
    scf.if %positive {
      %b = memref.atomic_rmw maxnumf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> () loc(unknown)
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<?xf32>
    %a = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<2xf32>) -> f32
    %b = memref.atomic_rmw maxnumf %v, %h[%c1] : (f32, memref<2xf32>) -> f32
    %p = memref.generic_atomic_rmw %k[%c0] : memref<2xi32> {
    ^bb0(%current: i32):
      %product = arith.muli %current, %two : i32
      memref.atomic_yield %product : i32
    }
    %q = memref.generic_atomic_rmw %k[%c0] : memref<2xi32> {
    ^bb0(%current: i32):
      %product = arith.muli %current, %two : i32
      memref.atomic_yield %product : i32
    }
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// An index read from the data (k = b[i], loaded for each update) repeats
// wherever the data does: an add and a max there race.
func.func @mixed_atomic_kinds_at_data_index(%x: memref<?xf32>, %b: memref<?xindex>, %h: memref<4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<?xf32>
    %k = memref.load %b[%i] : memref<?xindex>
    // expected-error@+1 {{with an index from the data, wherever it repeats}}
    %a = memref.atomic_rmw addf %v, %h[%k] : (f32, memref<4xf32>) -> f32
    %again = memref.load %b[%i] : memref<?xindex>
    %m = memref.atomic_rmw maximumf %v, %h[%again] : (f32, memref<4xf32>) -> f32
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A plain store, under a condition and of one value, to an element that
// the iterations update atomically: whichever runs last wins.
func.func @store_beside_atomic_updates(%x: memref<?xf32>, %h: memref<1xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %seven = arith.constant 7.0 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<?xf32>
    %a = memref.atomic_rmw addf %v, %h[%c0] : (f32, memref<1xf32>) -> f32
    %negative = arith.cmpf olt, %v, %zero : f32
    scf.if %negative {
      // expected-error@+1 {{writes an element here that its iterations also update atomically at}}
      memref.store %seven, %h[%c0] : memref<1xf32>
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A transpose in place: iteration i writes x[i, j] for every j of the
// inner loop and reads x[j, i], which iteration j writes.
func.func @transpose_in_place(%x: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  "looppar.for"(%c0, %c4, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %c4, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%j, %i] : memref<4x4xf32>
      // expected-error@+1 {{iteration 1 of the parallel loop 'N' at loc(unknown) writes the element that iteration 0 reads}}
      memref.store %v, %x[%i, %j] : memref<4x4xf32>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 4 : i64} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// Transposes into another array, and rows read in their own iteration
// through an inner loop: no iteration meets another's elements.
func.func @inner_loops_apart(%x: memref<4x4xf32>, %y: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  "looppar.for"(%c0, %c4, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %c4, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%j, %i] : memref<4x4xf32>
      memref.store %v, %y[%i, %j] : memref<4x4xf32>
      %w = memref.load %y[%i, %j] : memref<4x4xf32>
      memref.store %w, %y[%i, %j] : memref<4x4xf32>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 4 : i64} : (index, index, index) -> ()
  return
}

// -----

// y[i] reset beside atomic updates of every y[j]: iteration 0's reset
// meets iteration 1's update of y[0].
func.func @reset_beside_spread(%x: memref<4xf32>, %y: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c4, %c1) ({
  ^bb0(%i: index):
    // expected-error@+1 {{writes an element here that its iterations also update atomically}}
    memref.store %zero, %y[%i] : memref<4xf32>
    %v = memref.load %x[%i] : memref<4xf32>
    "looppar.for"(%c0, %c4, %c1) ({
    ^bb0(%j: index):
      %old = memref.atomic_rmw addf %v, %y[%j] : (f32, memref<4xf32>) -> f32
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 4 : i64} : (index, index, index) -> ()
  return
}

// -----

// A product into an element chosen by the data: no atomic does it, and
// iterations whose data repeat the index would lose each other's updates.
func.func @update_from_data(%b: memref<8xindex>, %x: memref<8xf32>, %h: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %k = memref.load %b[%i] : memref<8xindex>
    %v = memref.load %x[%i] : memref<8xf32>
    %old = memref.load %h[%k] : memref<4xf32>
    %new = arith.mulf %old, %v : f32
    // expected-error@+1 {{updates an element chosen by the data here}}
    memref.store %new, %h[%k] : memref<4xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// An index kept in a local (a slot stored, then loaded, in one block) is
// the value stored last: x[j] with j = i + 1 is x[i + 1]. A store under a
// branch between leaves the index unknown, and no error is reported.
func.func @index_in_a_local(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  "looppar.for"(%c0, %c7, %c1) ({
  ^bb0(%i: index):
    %j = memref.alloca() : memref<index>
    memref.store %i, %j[] : memref<index>
    %next = arith.addi %i, %c1 : index
    memref.store %next, %j[] : memref<index>
    %v = memref.load %x[%i] : memref<8xf32>
    %at = memref.load %j[] : memref<index>
    // expected-error@+1 {{iteration i of the parallel loop 'N' at loc(unknown) writes the element that iteration i + 1 reads}}
    memref.store %v, %x[%at] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 7 : i64} : (index, index, index) -> () loc(unknown)
  "looppar.for"(%c0, %c7, %c1) ({
  ^bb0(%i: index):
    %j = memref.alloca() : memref<index>
    %next = arith.addi %i, %c1 : index
    memref.store %next, %j[] : memref<index>
    %v = memref.load %x[%i] : memref<8xf32>
    %small = arith.cmpf olt, %v, %v : f32
    scf.if %small {
      memref.store %i, %j[] : memref<index>
    }
    %at = memref.load %j[] : memref<index>
    memref.store %v, %x[%at] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 7 : i64} : (index, index, index) -> () loc(unknown)
  return
}
