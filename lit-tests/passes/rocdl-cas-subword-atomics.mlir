// RUN: parla-opt %s --rocdl-cas-subword-atomics | FileCheck %s

// Sub-word atomic updates become compare-and-swap loops combining with
// the same op; 32- and 64-bit ones stay native atomics.

// CHECK-LABEL: func.func @subword
// CHECK-SAME: (%[[M8:.*]]: memref<4xi8>, %[[V8:.*]]: i8, %[[M16:.*]]: memref<4xi16>, %[[V16:.*]]: i16, %[[MH:.*]]: memref<4xf16>, %[[VH:.*]]: f16)
// CHECK-NOT: memref.atomic_rmw
// CHECK: %[[OLD:.*]] = memref.generic_atomic_rmw %[[M8]][%{{.*}}] : memref<4xi8>
// CHECK-NEXT: ^bb0(%[[CUR:.*]]: i8):
// CHECK-NEXT: %[[NEW:.*]] = arith.ori %[[CUR]], %[[V8]] : i8
// CHECK-NEXT: memref.atomic_yield %[[NEW]] : i8
// CHECK: memref.generic_atomic_rmw %[[M16]]
// CHECK: arith.maxsi %{{.*}}, %[[V16]] : i16
// CHECK: memref.generic_atomic_rmw %[[MH]]
// CHECK: arith.addf %{{.*}}, %[[VH]] : f16
// CHECK: memref.generic_atomic_rmw %[[M8]]
// CHECK-NEXT: ^bb0(%{{.*}}: i8):
// CHECK-NEXT: memref.atomic_yield %[[V8]] : i8
// CHECK: return %[[OLD]]
func.func @subword(%m8: memref<4xi8>, %v8: i8, %m16: memref<4xi16>, %v16: i16, %mh: memref<4xf16>, %vh: f16) -> i8 {
  %c1 = arith.constant 1 : index
  %old = memref.atomic_rmw ori %v8, %m8[%c1] : (i8, memref<4xi8>) -> i8
  %0 = memref.atomic_rmw maxs %v16, %m16[%c1] : (i16, memref<4xi16>) -> i16
  %1 = memref.atomic_rmw addf %vh, %mh[%c1] : (f16, memref<4xf16>) -> f16
  %2 = memref.atomic_rmw assign %v8, %m8[%c1] : (i8, memref<4xi8>) -> i8
  return %old : i8
}

// CHECK-LABEL: func.func @words
// CHECK: memref.atomic_rmw addi
// CHECK: memref.atomic_rmw addf
// CHECK-NOT: generic_atomic_rmw
func.func @words(%m32: memref<4xi32>, %v32: i32, %m64: memref<4xf64>, %v64: f64) {
  %c1 = arith.constant 1 : index
  %0 = memref.atomic_rmw addi %v32, %m32[%c1] : (i32, memref<4xi32>) -> i32
  %1 = memref.atomic_rmw addf %v64, %m64[%c1] : (f64, memref<4xf64>) -> f64
  return
}
