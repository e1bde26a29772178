// RUN: parla-opt %s | FileCheck %s
// RUN: parla-opt %s | parla-opt | FileCheck %s

// CHECK-LABEL: func.func @graph
func.func @graph(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // CHECK: "task.graph"() ({
  "task.graph"() ({
    // CHECK: %[[T:.*]] = "task.create_space"() {name = "T"} : () -> !task.space
    %T = "task.create_space"() {name = "T"} : () -> !task.space
    // CHECK: %[[T0:.*]] = "task.id"(%[[T]], %{{.*}}) : (!task.space, index) -> !task.handle
    %t0 = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
    %t4 = "task.id"(%T, %c4) : (!task.space, index) -> !task.handle
    // CHECK: %[[G:.*]] = "task.slice"(%[[T]], %{{.*}}, %{{.*}}) : (!task.space, index, index) -> !task.group
    %g = "task.slice"(%T, %c0, %c4) : (!task.space, index, index) -> !task.group
    // CHECK: "task.spawn"(%[[T0]]) ({
    // CHECK-NEXT: %{{.*}} = arith.constant 42 : i64
    // CHECK-NEXT: "task.yield"(%{{.*}}) : (i64) -> ()
    // CHECK-NEXT: }) {memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>, placement = [#device.cpu], vcus = 1.000000e+00 : f64}
    "task.spawn"(%t0) ({
      %v = arith.constant 42 : i64
      "task.yield"(%v) : (i64) -> ()
    }) {placement = [#device.cpu], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
    // CHECK: "task.spawn"(%{{.*}}, %[[T0]], %[[G]]) ({
    // CHECK: %{{.*}} = "task.await"(%[[T0]]) {operandSegmentSizes = array<i32: 1, 0>} : (!task.handle) -> i64
    // CHECK: "task.await"(%[[G]]) {operandSegmentSizes = array<i32: 0, 1>} : (!task.group) -> ()
    // CHECK: async, memory = 1024 : i64, operandSegmentSizes = array<i32: 1, 1, 1>, placement = [#device.gpu<0 : i64>, #device.any_gpu, #device.cpu], vcus = 5.000000e-01 : f64
    "task.spawn"(%t4, %t0, %g) ({
      %x = "task.await"(%t0) {operandSegmentSizes = array<i32: 1, 0>} : (!task.handle) -> i64
      "task.await"(%g) {operandSegmentSizes = array<i32: 0, 1>} : (!task.group) -> ()
      "task.yield"() : () -> ()
    }) {async, placement = [#device.gpu<0 : i64>, #device.any_gpu, #device.cpu], vcus = 0.5 : f64, memory = 1024 : i64, operandSegmentSizes = array<i32: 1, 1, 1>} : (!task.handle, !task.handle, !task.group) -> ()
    // CHECK: "task.yield"() : () -> ()
    "task.yield"() : () -> ()
  }) : () -> ()
  return
}
