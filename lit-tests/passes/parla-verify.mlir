// RUN: parla-opt %s --parla-verify | FileCheck %s
// RUN: parla-opt %s --pass-pipeline='builtin.module(canonicalize,parla-verify)' --print-ir-after-all 2>&1 >/dev/null | FileCheck %s --check-prefix=ORDER

// The pass accepts valid IR and leaves it unchanged.
// CHECK-LABEL: func.func @valid
// CHECK: "looppar.parallelize"() {label = "N", threads = 32 : i64}
// CHECK: "looppar.for"

// It runs where the pipeline puts it.
// ORDER: IR Dump After Canonicalizer
// ORDER: IR Dump After parla-verify

func.func @valid(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  "looppar.parallelize"() {label = "N", threads = 32 : i64} : () -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {label = "N"} : (index, index, index) -> ()
  return
}
