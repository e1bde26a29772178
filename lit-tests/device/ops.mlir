// RUN: parla-opt %s | FileCheck %s
// RUN: parla-opt %s | parla-opt | FileCheck %s

// CHECK-LABEL: func.func @movement
func.func @movement(%n: index) {
  // CHECK: "device.resources"() {device = #device.cpu, memory = 17179869184 : i64, vcus = 1.000000e+00 : f64}
  "device.resources"() {device = #device.cpu, vcus = 1.0 : f64, memory = 17179869184 : i64} : () -> ()
  // CHECK: "device.resources"() {device = #device.gpu<1 : i64>, memory = 85899345920 : i64, vcus = 1.000000e+00 : f64}
  "device.resources"() {device = #device.gpu<1 : i64>, vcus = 1.0 : f64, memory = 85899345920 : i64} : () -> ()
  // CHECK: %[[H:.*]] = "device.alloc"(%{{.*}}) {device = #device.cpu} : (index) -> memref<?xf32>
  %host = "device.alloc"(%n) {device = #device.cpu} : (index) -> memref<?xf32>
  // CHECK: %[[D:.*]] = "device.alloc"(%{{.*}}) {device = #device.gpu<1 : i64>} : (index) -> memref<?xf32>
  %dev = "device.alloc"(%n) {device = #device.gpu<1 : i64>} : (index) -> memref<?xf32>
  // CHECK: "device.copy"(%[[H]], %[[D]]) {from = #device.cpu, to = #device.gpu<1 : i64>} : (memref<?xf32>, memref<?xf32>) -> ()
  "device.copy"(%host, %dev) {from = #device.cpu, to = #device.gpu<1 : i64>} : (memref<?xf32>, memref<?xf32>) -> ()
  // CHECK: "device.free"(%[[D]]) {device = #device.gpu<1 : i64>} : (memref<?xf32>) -> ()
  "device.free"(%dev) {device = #device.gpu<1 : i64>} : (memref<?xf32>) -> ()
  "device.free"(%host) {device = #device.cpu} : (memref<?xf32>) -> ()
  return
}
