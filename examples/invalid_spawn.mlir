// A task that asks for more than a whole device: rejected by the verifier.
"task.graph"() ({
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {name = "T"} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  "task.spawn"(%t) ({
    "task.yield"() : () -> ()
  }) {placement = [#device.cpu], vcus = 2.0 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}) : () -> ()
