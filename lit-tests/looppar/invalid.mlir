// RUN: parla-opt %s --split-input-file --verify-diagnostics

func.func @zero_step(%n: index) {
  %c0 = arith.constant 0 : index
  // expected-error@+1 {{'looppar.for' op requires a positive step, got 0}}
  "looppar.for"(%c0, %n, %c0) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// The lowerings count upwards: a negative step would run no iteration.
func.func @negative_step(%n: index) {
  %cm1 = arith.constant -1 : index
  // expected-error@+1 {{'looppar.for' op requires a positive step, got -1}}
  "looppar.for"(%n, %cm1, %cm1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

func.func @empty_label(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'looppar.for' op requires a non-empty 'label'}}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {label = ""} : (index, index, index) -> ()
  return
}

// -----

func.func @wrong_induction_type(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  "looppar.for"(%c0, %n, %c1) ({
  // expected-error@+1 {{expected 'index' but got 'i64'}}
  ^bb0(%i: i64):
    "looppar.yield"() : () -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

func.func @yield_values(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'looppar.for' op expects 'looppar.yield' in its body region to carry at most 0 value(s), found 1}}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"(%i) : (index) -> ()
  }) : (index, index, index) -> ()
  return
}

// -----

// expected-error@+1 {{'looppar.parallelize' op requires exactly one of 'threads' and 'seq' for label 'N'}}
"looppar.parallelize"() {label = "N"} : () -> ()

// -----

// expected-error@+1 {{'looppar.parallelize' op requires exactly one of 'threads' and 'seq' for label 'N'}}
"looppar.parallelize"() {label = "N", threads = 4 : i64, seq} : () -> ()

// -----

// expected-error@+1 {{'looppar.parallelize' op requires 'threads' to be positive, got 0}}
"looppar.parallelize"() {label = "N", threads = 0 : i64} : () -> ()

// -----

// expected-error@+1 {{'looppar.parallelize' op requires 'tpb' to be a multiple of 32 between 32 and 1024, got 100}}
"looppar.parallelize"() {label = "N", threads = 4096 : i64, tpb = 100 : i64} : () -> ()

// -----

// expected-error@+1 {{'looppar.parallelize' op has 'reduce' without 'threads'}}
"looppar.parallelize"() {label = "N", seq, reduce} : () -> ()

// -----

// expected-error@+1 {{'looppar.parallelize' op attribute 'reduce' must be a unit attribute, got true}}
"looppar.parallelize"() {label = "N", threads = 4 : i64, reduce = true} : () -> ()

// -----

"looppar.parallelize"() {label = "N", threads = 4 : i64} : () -> ()
// expected-error@+1 {{'looppar.parallelize' op specifies label 'N' a second time}}
"looppar.parallelize"() {label = "N", threads = 8 : i64} : () -> ()

// -----

func.func @slice_kinds(%x: memref<?x?xf32>) {
  // expected-error@+1 {{'looppar.slice' op requires one entry in 'kinds' per dimension of the source: rank 2, 1 given}}
  %s = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @slice_operands(%x: memref<?x?xf32>) {
  // expected-error@+1 {{'looppar.slice' op requires 1 index operand(s) for 'kinds' [0, 1], got 0}}
  %s = "looppar.slice"(%x) {kinds = array<i64: 0, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @slice_result(%x: memref<?x?xf32>) {
  // expected-error@+1 {{'looppar.slice' op requires result type !looppar.view<f32, 2 : i64>, got !looppar.view<f64, 2 : i64>}}
  %s = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f64, 2 : i64>
  return
}

// -----

func.func @slice_kind_code(%x: memref<?xf32>) {
  // expected-error@+1 {{'looppar.slice' op has 'kinds' entry 7; expected 0 (point), 1 (whole dimension) or 2 (range)}}
  %s = "looppar.slice"(%x) {kinds = array<i64: 7>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @reduce_kind(%x: memref<?xf32>) {
  %s = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'"mean"' does not satisfy the constraint}}
  %r = "looppar.reduce"(%s) {kind = "mean"} : (!looppar.view<f32, 1 : i64>) -> f32
  return
}

// -----

func.func @reduce_axis(%x: memref<?x?xf32>) {
  %s = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  // expected-error@+1 {{'looppar.reduce' op requires 'axis' in [0, 2), got 2}}
  %r = "looppar.reduce"(%s) {kind = "sum", axis = 2 : i64} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @reduce_map_without_shape(%x: memref<?xf32>) {
  %s = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  %m = "looppar.map"() ({
  ^bb0(%i: index):
    %e = "looppar.element"(%s, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %p = arith.mulf %e, %e : f32
    "looppar.yield"(%p) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.reduce' op requires a 'shape' operand for an input from 'looppar.map' (a map has no extents of its own)}}
  %r = "looppar.reduce"(%m) {kind = "sum"} : (!looppar.view<f32, 1 : i64>) -> f32
  return
}

// -----

func.func @reduce_shape_rank(%x: memref<?x?xf32>, %i0: index) {
  %s = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  %row = "looppar.slice"(%x, %i0) {kinds = array<i64: 0, 1>} : (memref<?x?xf32>, index) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.reduce' op requires a 'shape' of the input's rank 2, got rank 1}}
  %r = "looppar.reduce"(%s, %row) {kind = "sum"} : (!looppar.view<f32, 2 : i64>, !looppar.view<f32, 1 : i64>) -> f32
  return
}

// -----

func.func @reduce_result(%x: memref<?x?xf32>) {
  %s = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  // expected-error@+1 {{'looppar.reduce' op requires result type f32, got !looppar.view<f32, 1 : i64>}}
  %r = "looppar.reduce"(%s) {kind = "sum"} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @assign_rank(%x: memref<?x?xf32>, %y: memref<?xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.assign' op requires a value of rank 1 (or a scalar), got rank 2}}
  "looppar.assign"(%ys, %xs) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 2 : i64>) -> ()
  return
}

// -----

// The lowering loops over the destination and reads the value at the same
// points: static extents that differ would read out of bounds.
func.func @assign_extents(%x: memref<8xf32>, %y: memref<16xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<16xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.assign' op requires a value with the destination's extents: 8 element(s) for 16 in ranging dimension 0}}
  "looppar.assign"(%ys, %xs) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

func.func @assign_range_extents(%x: memref<?x4xf32>, %y: memref<?xf32>) {
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x4xf32>) -> !looppar.view<f32, 2 : i64>
  %r = "looppar.reduce"(%xs) {kind = "sum", axis = 0 : i64} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y, %c2, %c5) {kinds = array<i64: 2>} : (memref<?xf32>, index, index) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.assign' op requires a value with the destination's extents: 4 element(s) for 3 in ranging dimension 0}}
  "looppar.assign"(%ys, %r) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

func.func @accumulate_without_reduction(%x: memref<?xf32>, %y: memref<?xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.assign' op has 'accumulate', which requires a value from a 'looppar.reduce'}}
  "looppar.assign"(%ys, %xs) {accumulate} : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

func.func @assign_element(%y: memref<?xf32>) {
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  %one = arith.constant 1 : i32
  // expected-error@+1 {{'looppar.assign' op requires a value of element type f32, got i32}}
  "looppar.assign"(%ys, %one) : (!looppar.view<f32, 1 : i64>, i32) -> ()
  return
}

// -----

func.func @assign_labels(%y: memref<?xf32>) {
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  %one = arith.constant 1.0 : f32
  // expected-error@+1 {{'looppar.assign' op has 2 label(s) for 1 ranging dimension(s)}}
  "looppar.assign"(%ys, %one) {labels = ["N", "M"]} : (!looppar.view<f32, 1 : i64>, f32) -> ()
  return
}

// -----

func.func @map_arguments(%x: memref<?xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.map' op requires one index argument per dimension of the result: rank 1, 2 argument(s)}}
  %m = "looppar.map"() ({
  ^bb0(%i: index, %j: index):
    %a = "looppar.element"(%xs, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    "looppar.yield"(%a) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  return
}

// -----

func.func @map_yield(%x: memref<?xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<?xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{'looppar.map' op yields elements of type f32 for a result of element type f64}}
  %m = "looppar.map"() ({
  ^bb0(%i: index):
    %a = "looppar.element"(%xs, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    "looppar.yield"(%a) : (f32) -> ()
  }) : () -> !looppar.view<f64, 1 : i64>
  return
}

// -----

func.func @element_indices(%x: memref<?x?xf32>, %i: index) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<?x?xf32>) -> !looppar.view<f32, 2 : i64>
  // expected-error@+1 {{'looppar.element' op requires one index per ranging dimension of the view: rank 2, 1 given}}
  %a = "looppar.element"(%xs, %i) : (!looppar.view<f32, 2 : i64>, index) -> f32
  return
}

// -----

func.func @nested_on_device() {
  "looppar.on_device"() ({
    // expected-error@+1 {{'looppar.on_device' op cannot be nested in another 'looppar.on_device'}}
    "looppar.on_device"() ({
      "looppar.yield"() : () -> ()
    }) : () -> ()
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @condition_type(%b: i32) {
  "looppar.while"() ({
    // expected-error@+1 {{'looppar.condition' op requires an i1 condition, got 'i32'}}
    "looppar.condition"(%b) : (i32) -> ()
  }, {
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @while_body() {
  %t = arith.constant true
  // expected-error@+1 {{'looppar.while' op expects its after region to end with 'looppar.yield', found 'looppar.condition'}}
  "looppar.while"() ({
    "looppar.condition"(%t) : (i1) -> ()
  }, {
    // expected-error@+1 {{'looppar.condition' op must end the 'before' region of a 'looppar.while'}}
    "looppar.condition"(%t) : (i1) -> ()
  }) : () -> ()
  return
}

// -----

// A device block is inlined where it stands: it takes no arguments (their
// uses would dangle).
func.func @device_block_arguments(%y: memref<1xindex>) {
  // expected-error@+1 {{'looppar.on_device' op expects its body region to take no arguments, found 1}}
  "looppar.on_device"() ({
  ^bb0(%q: index):
    %c0 = arith.constant 0 : index
    memref.store %q, %y[%c0] : memref<1xindex>
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @while_arguments() {
  // expected-error@+1 {{'looppar.while' op expects its before region to take no arguments, found 1}}
  "looppar.while"() ({
  ^bb0(%q: index):
    %t = arith.constant true
    "looppar.condition"(%t) : (i1) -> ()
  }, {
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @unknown_reduction(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'looppar.for' op requires 'reduction' to be one of "add", "mul", "min", "max", "and", "or", "xor", got "avg"}}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {reduction = "avg", threads = 4 : i64} : (index, index, index) -> ()
  return
}

// -----

func.func @seq_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'looppar.for' op has 'seq', which only 'looppar.parallelize' takes}}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {seq, threads = 4 : i64} : (index, index, index) -> ()
  return
}

// -----

func.func @bool_threads(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'looppar.for' op attribute 'threads' must be an integer, got true}}
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.yield"() : () -> ()
  }) {threads = true} : (index, index, index) -> ()
  return
}
