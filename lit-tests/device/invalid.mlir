// RUN: parla-opt %s --split-input-file --verify-diagnostics

// expected-error@+1 {{'device.resources' op requires 'vcus' to be positive, got 0}}
"device.resources"() {device = #device.cpu, vcus = 0.0 : f64, memory = 0 : i64} : () -> ()

// -----

// expected-error@+1 {{'device.resources' op requires 'memory' to be non-negative, got -1}}
"device.resources"() {device = #device.cpu, vcus = 1.0 : f64, memory = -1 : i64} : () -> ()

// -----

// expected-error@+1 {{attribute 'device' must name a device (GPU ordinals are 0 or more), got #device.gpu<-1 : i64>}}
"device.resources"() {device = #device.gpu<-1 : i64>, vcus = 1.0 : f64, memory = 0 : i64} : () -> ()

// -----

// expected-error@+1 {{expected base attribute 'builtin.integer' but got 'builtin.string'}}
"device.resources"() {device = #device.gpu<"zero">, vcus = 1.0 : f64, memory = 0 : i64} : () -> ()

// -----

// expected-error@+1 {{'device.alloc' op requires one size operand per dynamic dimension: 1 dynamic, 0 given}}
%a = "device.alloc"() {device = #device.cpu} : () -> memref<?xf32>

// -----

// expected-error@+1 {{expected base type 'builtin.memref' but got 'builtin.tensor'}}
%a = "device.alloc"() {device = #device.cpu} : () -> tensor<4xf32>

// -----

%a = "device.alloc"() {device = #device.cpu} : () -> memref<4xf32>
%b = "device.alloc"() {device = #device.cpu} : () -> memref<4xf64>
// expected-error@+1 {{'device.copy' op requires source and target of one element type, got f32 and f64}}
"device.copy"(%a, %b) {from = #device.cpu, to = #device.cpu} : (memref<4xf32>, memref<4xf64>) -> ()

// -----

%a = "device.alloc"() {device = #device.cpu} : () -> memref<4xf32>
%b = "device.alloc"() {device = #device.gpu<0 : i64>} : () -> memref<8xf32>
// expected-error@+1 {{'device.copy' op requires source and target of one shape, got memref<4xf32> and memref<8xf32>}}
"device.copy"(%a, %b) {from = #device.cpu, to = #device.gpu<0 : i64>} : (memref<4xf32>, memref<8xf32>) -> ()

// -----

%a = "device.alloc"() {device = #device.cpu} : () -> memref<4xf32>
// expected-error@+1 {{'device.free' op attribute "device" is expected but not provided}}
"device.free"(%a) : (memref<4xf32>) -> ()
