// RUN: not parla-opt %s --split-input-file --looppar-apply-parallel-spec 2>/dev/null | FileCheck %s
// RUN: parla-opt %s --split-input-file --looppar-apply-parallel-spec --verify-diagnostics > /dev/null

// Each label's specification lands on the loops it labels; the
// specifications disappear; loops of `seq` labels and unlabelled loops
// keep no parallel attributes.
// CHECK-LABEL: func.func @rows
// CHECK-NOT: looppar.parallelize
// CHECK: "looppar.for"
// CHECK: "looppar.for"
// CHECK: }) {label = "M", reduce, threads = 64 : i64, tpb = 64 : i64}
// CHECK: }) {label = "K"}
// CHECK: }) {label = "N", threads = 128 : i64}
func.func @rows(%x: memref<?x?xf32>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  "looppar.parallelize"() {label = "N", threads = 128 : i64} : () -> ()
  "looppar.parallelize"() {label = "M", threads = 64 : i64, tpb = 64 : i64, reduce} : () -> ()
  "looppar.parallelize"() {label = "K", seq} : () -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      "looppar.yield"() : () -> ()
    }) {label = "M"} : (index, index, index) -> ()
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      "looppar.yield"() : () -> ()
    }) {label = "K"} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N"} : (index, index, index) -> ()
  return
}

// -----

// A specification for a label that labels nothing is an error.
func.func @unused(%n: index) {
  // expected-error@+1 {{specifies label 'Q', which labels no loop}}
  "looppar.parallelize"() {label = "Q", threads = 8 : i64} : () -> ()
  return
}
