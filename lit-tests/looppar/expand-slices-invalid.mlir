// RUN: parla-opt %s --split-input-file --looppar-expand-slices --verify-diagnostics

func.func @reduction_inside_a_value(%x: memref<8x16xf32>, %y: memref<8xf32>) {
  %two = arith.constant 2.0 : f32
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1, 1>} : (memref<8x16xf32>) -> !looppar.view<f32, 2 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  %r = "looppar.reduce"(%xs) {axis = 1 : i64, kind = "sum"} : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
  %z = "looppar.map"() ({
  ^bb0(%i: index):
    %a = "looppar.element"(%r, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    %p = arith.mulf %a, %two : f32
    "looppar.yield"(%p) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{a slice reduction must be the whole value of 'looppar.assign'}}
  "looppar.assign"(%ys, %z) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

func.func @map_read_twice(%x: memref<8xf32>, %y: memref<8xf32>) {
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  %ys = "looppar.slice"(%y) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  // expected-error@+1 {{a 'looppar.map' read more than once cannot be expanded}}
  %z = "looppar.map"() ({
  ^bb0(%i: index):
    %a = "looppar.element"(%xs, %i) : (!looppar.view<f32, 1 : i64>, index) -> f32
    "looppar.yield"(%a) : (f32) -> ()
  }) : () -> !looppar.view<f32, 1 : i64>
  "looppar.assign"(%ys, %z) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  "looppar.assign"(%xs, %z) : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
  return
}

// -----

func.func @stray_view(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error@+1 {{'looppar.slice' op is not part of a slice statement ('looppar.assign'), so it cannot be expanded}}
  %xs = "looppar.slice"(%x) {kinds = array<i64: 1>} : (memref<8xf32>) -> !looppar.view<f32, 1 : i64>
  %a = "looppar.element"(%xs, %c0) : (!looppar.view<f32, 1 : i64>, index) -> f32
  return %a : f32
}

// -----

// A reduction of a single element (a view with no ranging dimension).
func.func @reduce_one_element(%x: memref<8xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %xs = "looppar.slice"(%x, %c0) {kinds = array<i64: 0>} : (memref<8xf32>, index) -> !looppar.view<f32, 0 : i64>
  %ys = "looppar.slice"(%y, %c0) {kinds = array<i64: 0>} : (memref<1xf32>, index) -> !looppar.view<f32, 0 : i64>
  // expected-error@+1 {{looppar-expand-slices: looppar.reduce needs a view with a ranging dimension to reduce (this one is a single element)}}
  %r = "looppar.reduce"(%xs) {kind = "sum"} : (!looppar.view<f32, 0 : i64>) -> f32
  "looppar.assign"(%ys, %r) : (!looppar.view<f32, 0 : i64>, f32) -> ()
  return
}
