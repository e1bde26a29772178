// RUN: parla-opt %s --split-input-file --looppar-plan-kernels | FileCheck %s

// Two small siblings (one block each): one kernel, threads idle.
// CHECK-LABEL: func.func @small
// CHECK: fused_cost = {{[0-9]+}} : i64, kernels = "fused", label = "N", split_cost = {{[0-9]+}} : i64
func.func @small(%x: memref<64x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c64, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %c32, %c1) ({
    ^bb0(%j: index):
      memref.store %zero, %x[%i, %j] : memref<64x1024xf32>
      "looppar.yield"() : () -> ()
    }) {label = "M1", threads = 32 : i64} : (index, index, index) -> ()
    "looppar.for"(%c0, %c1024, %c1) ({
    ^bb0(%j: index):
      memref.store %zero, %x[%i, %j] : memref<64x1024xf32>
      "looppar.yield"() : () -> ()
    }) {label = "M2", threads = 1024 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// A narrow sibling beside a million-thread one with real work: split.
// CHECK-LABEL: func.func @lopsided
// CHECK: kernels = "split"
func.func @lopsided(%x: memref<1000000xf32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %big = arith.constant 1000000 : index
  %two = arith.constant 2.0 : f32
  "looppar.for"(%c0, %c1, %c1) ({
  ^bb0(%k: index):
    "looppar.for"(%c0, %c64, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %y[%j] : memref<64xf32>
      %a = arith.mulf %v, %two : f32
      %b = arith.mulf %a, %two : f32
      %c = arith.mulf %b, %two : f32
      memref.store %c, %y[%j] : memref<64xf32>
      "looppar.yield"() : () -> ()
    }) {label = "S", threads = 64 : i64} : (index, index, index) -> ()
    "looppar.for"(%c0, %big, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%j] : memref<1000000xf32>
      %a = arith.mulf %v, %two : f32
      %b = arith.mulf %a, %two : f32
      %c = arith.mulf %b, %two : f32
      memref.store %c, %x[%j] : memref<1000000xf32>
      "looppar.yield"() : () -> ()
    }) {label = "B", threads = 1000000 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "O", threads = 1 : i64} : (index, index, index) -> ()
  return
}
