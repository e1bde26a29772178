// RUN: parla-opt %s --split-input-file --verify-diagnostics

%c0 = arith.constant 0 : index
// expected-error@+1 {{'task.create_space' op requires a non-empty 'name'}}
%T = "task.create_space"() {name = ""} : () -> !task.space

// -----

// expected-error@+1 {{'task.create_space' op attribute "name" is expected but not provided}}
%T = "task.create_space"() : () -> !task.space

// -----

%T = "task.create_space"() {name = "T"} : () -> !task.space
// expected-error@+1 {{'task.id' op requires at least one index}}
%t = "task.id"(%T) : (!task.space) -> !task.handle

// -----

%c0 = arith.constant 0 : index
%T = "task.create_space"() {name = "T"} : () -> !task.space
// expected-error@+1 {{'task.slice' op requires (lower, upper) bound pairs, one per dimension; got 1 bound operand(s)}}
%g = "task.slice"(%T, %c0) : (!task.space, index) -> !task.group

// -----

%c0 = arith.constant 0 : index
%T = "task.create_space"() {name = "T"} : () -> !task.space
// expected-error@+1 {{expected base type 'task.handle' but got '!task.space'}}
%t = "task.id"(%T, %c0) : (!task.space, index) -> !task.space

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  // expected-error@+1 {{'task.spawn' op requires 'vcus' in [0, 1], got -1}}
  "task.spawn"(%t) ({
    "task.yield"() : () -> ()
  }) {placement = [#device.cpu], vcus = -1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  // expected-error@+1 {{'task.spawn' op requires 'memory' to be non-negative, got -5}}
  "task.spawn"(%t) ({
    "task.yield"() : () -> ()
  }) {placement = [#device.cpu], vcus = 1.0 : f64, memory = -5 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  // expected-error@+1 {{'task.spawn' op requires at least one device in 'placement'}}
  "task.spawn"(%t) ({
    "task.yield"() : () -> ()
  }) {placement = [], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  // expected-error@+1 {{'placement' must list devices (#device.cpu, #device.gpu<i>, #device.any_gpu), got "tpu"}}
  "task.spawn"(%t) ({
    "task.yield"() : () -> ()
  }) {placement = ["tpu"], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  // expected-error@+1 {{'task.spawn' op expects its body region to end with 'task.yield', found 'looppar.yield'}}
  "task.spawn"(%t) ({
    // expected-error@+1 {{'looppar.yield' op must end the region of 'looppar.for', 'looppar.while', 'looppar.map' or 'looppar.on_device', not 'task.spawn'}}
    "looppar.yield"() : () -> ()
  }) {placement = [#device.cpu], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

%c0 = arith.constant 0 : index
%T = "task.create_space"() {name = "T"} : () -> !task.space
%t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
// expected-error@+1 {{'task.spawn' op must be inside a 'task.graph'}}
"task.spawn"(%t) ({
  "task.yield"() : () -> ()
}) {placement = [#device.cpu], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  %t1 = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  "task.spawn"(%t) ({
    // expected-error@+1 {{'task.await' op must be inside an async 'task.spawn' (one with the 'async' attribute)}}
    "task.await"(%t1) {operandSegmentSizes = array<i32: 1, 0>} : (!task.handle) -> ()
    "task.yield"() : () -> ()
  }) {placement = [#device.cpu], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

"task.graph"() ({
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  %g = "task.slice"(%T, %c0, %c4) : (!task.space, index, index) -> !task.group
  "task.spawn"(%t) ({
    // expected-error@+1 {{'task.await' op can return a value only when it awaits exactly one task}}
    %x = "task.await"(%g) {operandSegmentSizes = array<i32: 0, 1>} : (!task.group) -> i64
    "task.yield"() : () -> ()
  }) {async, placement = [#device.cpu], vcus = 1.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

// expected-error@+1 {{'task.graph' op expects 'task.yield' in its body region to carry at most 0 value(s), found 1}}
"task.graph"() ({
  %x = arith.constant 1 : i64
  "task.yield"(%x) : (i64) -> ()
}) : () -> ()

// -----

"task.graph"() ({
  // expected-error@+1 {{'task.graph' op cannot be nested in another 'task.graph'}}
  "task.graph"() ({
    "task.yield"() : () -> ()
  }) : () -> ()
  "task.yield"() : () -> ()
}) : () -> ()

// -----

func.func @f() {
  // expected-error@+1 {{'task.yield' op must end the region of 'task.graph' or 'task.spawn', not 'func.func'}}
  "task.yield"() : () -> ()
}

// -----

// A block of a task op must end with a terminator at all (MLIR's rule).
"task.graph"() ({
  // expected-error@+1 {{block with no terminator}}
  %x = arith.constant 1 : i64
}) : () -> ()

// -----

// Nothing passes a task's body values: block arguments would dangle.
// expected-error@+1 {{'task.graph' op expects its body region to take no arguments, found 1}}
"task.graph"() ({
^bb0(%x: index):
  "task.yield"() : () -> ()
}) : () -> ()
