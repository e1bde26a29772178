// Chunks are processed separately; line numbers stay those of the file.
// RUN: not parla-opt %s --split-input-file 2>/dev/null | FileCheck %s
// RUN: not parla-opt %s --split-input-file --canonicalize 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR
// RUN: parla-opt %s --split-input-file --canonicalize --verify-diagnostics | FileCheck %s --check-prefix=FOLD

// CHECK-LABEL: func.func @first
// FOLD-LABEL: func.func @first
func.func @first() -> i64 {
  %a = arith.constant 2 : i64
  %b = arith.constant 3 : i64
  // CHECK: arith.addi
  // FOLD: arith.constant 5 : i64
  // FOLD-NOT: arith.addi
  %c = arith.addi %a, %b : i64
  return %c : i64
}

// -----

func.func @second() {
  // ERR: split-input.mlir:[[# @LINE + 2]]:3: error: 'looppar.parallelize' op requires 'threads' to be positive, got -3
  // expected-error@+1 {{requires 'threads' to be positive}}
  "looppar.parallelize"() {label = "N", threads = -3 : i64} : () -> ()
  return
}

// -----

// The outputs of the chunks that succeed are separated as in the input.
// CHECK: // -----
// CHECK-NEXT: module {
// CHECK-NEXT: func.func @third
// FOLD: // -----
func.func @third() {
  return
}
