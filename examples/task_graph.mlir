// A task graph whose tasks move data between devices and run a labelled
// loop nest: the three dialects together.
// Run: parla-opt examples/task_graph.mlir

func.func @main(%x: memref<1024xf32>, %y: memref<1024xf32>) {
  "device.resources"() {device = #device.gpu<0 : i64>, vcus = 1.0 : f64, memory = 85899345920 : i64} : () -> ()
  "task.graph"() ({
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c1024 = arith.constant 1024 : index
    %T = "task.create_space"() {name = "T"} : () -> !task.space
    %t0 = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
    %t1 = "task.id"(%T, %c1) : (!task.space, index) -> !task.handle
    "task.spawn"(%t0) ({
      %d = "device.alloc"() {device = #device.gpu<0 : i64>} : () -> memref<1024xf32>
      "device.copy"(%x, %d) {from = #device.cpu, to = #device.gpu<0 : i64>} : (memref<1024xf32>, memref<1024xf32>) -> ()
      "task.yield"() : () -> ()
    }) {placement = [#device.gpu<0 : i64>], vcus = 1.0 : f64, memory = 4096 : i64, operandSegmentSizes = array<i32: 1, 0, 0>} : (!task.handle) -> ()
    "task.spawn"(%t1, %t0) ({
      "looppar.parallelize"() {label = "N", threads = 1024 : i64} : () -> ()
      "looppar.for"(%c0, %c1024, %c1) ({
      ^bb0(%i: index):
        %v = memref.load %x[%i] : memref<1024xf32>
        memref.store %v, %y[%i] : memref<1024xf32>
        "looppar.yield"() : () -> ()
      }) {label = "N"} : (index, index, index) -> ()
      "task.yield"() : () -> ()
    }) {placement = [#device.cpu, #device.any_gpu], vcus = 0.5 : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0>} : (!task.handle, !task.handle) -> ()
    "task.yield"() : () -> ()
  }) : () -> ()
  return
}
