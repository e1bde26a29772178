// RUN: parla-opt %s --split-input-file --looppar-check-bounds --verify-diagnostics

// x[i + 1] for i in range(8) reads x[8] in the last iteration.
func.func @past_the_end(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %next = arith.addi %i, %c1 : index
    // expected-error@+1 {{index 8 is out of bounds for axis 0 with size 8 in iteration 7 of the loop at loc(unknown)}}
    %v = memref.load %x[%next] : memref<8xf32>
    memref.store %v, %y[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N"} : (index, index, index) -> () loc(unknown)
  return
}

// -----

// A nest: y[i, j - 1] for j from 0 is negative in the first iteration of
// the inner loop; only constant indices count from the end.
func.func @before_the_start(%y: memref<4x6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c4, %c1) ({
  ^bb0(%i: index):
    scf.for %j = %c0 to %c6 step %c1 {
      %previous = arith.subi %j, %c1 : index
      // expected-error@+1 {{index -1 is out of bounds for axis 1 with size 6 in iteration 0 of the loop at loc(unknown); only a constant index counts from the end}}
      memref.store %zero, %y[%i, %previous] : memref<4x6xf32>
    } loc(unknown)
    "looppar.yield"() : () -> ()
  }) {label = "N"} : (index, index, index) -> ()
  return
}

// -----

// What may not run, or stays inside, is not reported: an access under a
// condition, in a loop of no iterations, with an index read from memory
// or bounded by another loop's variable, and the last element itself.
func.func @not_certain(%x: memref<8xf32>, %k: memref<8xindex>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %next = arith.addi %i, %c1 : index
    %inside = arith.cmpi slt, %next, %c8 : index
    scf.if %inside {
      memref.store %zero, %x[%next] : memref<8xf32>
    }
    %far = arith.addi %i, %c9 : index
    scf.for %j = %c0 to %c0 step %c1 {
      memref.store %zero, %x[%far] : memref<8xf32>
    }
    %at = memref.load %k[%i] : memref<8xindex>
    %shifted = arith.addi %at, %c9 : index
    memref.store %zero, %x[%shifted] : memref<8xf32>
    scf.for %j = %c0 to %i step %c1 {
      %beyond = arith.addi %j, %c8 : index
      memref.store %zero, %x[%beyond] : memref<8xf32>
    }
    memref.store %zero, %x[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N"} : (index, index, index) -> ()
  return
}

// -----

// A step other than one: i = 2 + 3 * t for t in 0..3 reaches 8 at t = 2.
func.func @strided(%x: memref<8xf32>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c11 = arith.constant 11 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c2 to %c11 step %c3 {
    // expected-error@+1 {{index 8 is out of bounds for axis 0 with size 8 in iteration 2 of the loop}}
    memref.store %zero, %x[%i] : memref<8xf32>
  }
  return
}

// -----

// x[3 * i] with i = 2**62 wraps in 64 bits: the exact value says nothing
// certain about the element the code reaches (nor may it overflow here).
func.func @wrapping_index(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %hi = arith.constant 9223372036854775807 : index
  %st = arith.constant 4611686018427387904 : index
  %c3 = arith.constant 3 : index
  %z = arith.constant 0.0 : f32
  "looppar.for"(%c0, %hi, %st) ({
  ^bb0(%i: index):
    %a = arith.muli %i, %c3 : index
    memref.store %z, %x[%a] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}
