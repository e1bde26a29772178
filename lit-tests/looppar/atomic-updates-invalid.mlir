// RUN: parla-opt %s --split-input-file --looppar-detect-reductions --looppar-atomic-updates --verify-diagnostics

// A histogram of index elements: `index` has no atomic update (its width
// is the target's), and a plain update would lose counts.
func.func @index_histogram(%b: memref<16xindex>, %h: memref<4xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %k = memref.load %b[%i] : memref<16xindex>
    %old = memref.load %h[%k] : memref<4xindex>
    %new = arith.addi %old, %c1 : index
    // expected-error@+1 {{looppar-atomic-updates: iterations of a parallel loop may update the same element, which needs an atomic update, and elements of type index have none}}
    memref.store %new, %h[%k] : memref<4xindex>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  return
}

// -----

func.func @i1_flags(%b: memref<16xindex>, %h: memref<4xi1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %true = arith.constant true
  "looppar.for"(%c0, %c16, %c1) ({
  ^bb0(%i: index):
    %k = memref.load %b[%i] : memref<16xindex>
    %old = memref.load %h[%k] : memref<4xi1>
    %new = arith.ori %old, %true : i1
    // expected-error@+1 {{elements of type i1 have none}}
    memref.store %new, %h[%k] : memref<4xi1>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  return
}

// -----

// A reduction of one element is combined across threads by atomics and
// shuffles too: vectors are not made reductions, and their update is the
// same error.
func.func @vector_sum(%x: memref<4096xvector<4xf32>>, %h: memref<1xvector<4xf32>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 4096 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %xi = memref.load %x[%i] : memref<4096xvector<4xf32>>
    %old = memref.load %h[%c0] : memref<1xvector<4xf32>>
    %new = arith.addf %old, %xi : vector<4xf32>
    // expected-error@+1 {{elements of type vector<4xf32> have none}}
    memref.store %new, %h[%c0] : memref<1xvector<4xf32>>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 4096 : i64} : (index, index, index) -> ()
  return
}
