// RUN: parla-opt %s --split-input-file --looppar-to-gpu --verify-diagnostics

// A kernel cannot launch kernels: a parallel loop already inside GPU code
// is an error, not a launch nested in a launch.
func.func @parallel_loop_in_a_kernel(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    // expected-error@+1 {{looppar-to-gpu: a parallel loop inside GPU code (a gpu.launch or gpu.func) would launch a kernel from a kernel}}
    "looppar.for"(%c0, %n, %c1) ({
    ^bb0(%i: index):
      %one = arith.constant 1.0 : f32
      memref.store %one, %y[%i] : memref<?xf32>
      "looppar.yield"() : () -> ()
    }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
    gpu.terminator
  }
  return
}

// -----

func.func @device_block_in_a_kernel(%y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    // expected-error@+1 {{would launch a kernel from a kernel}}
    "looppar.on_device"() ({
      %one = arith.constant 1.0 : f32
      memref.store %one, %y[%c0] : memref<?xf32>
      "looppar.yield"() : () -> ()
    }) : () -> ()
    gpu.terminator
  }
  return
}

// -----

// Sequential looppar loops inside a kernel are fine: they run on each
// thread (looppar-to-scf lowers them later).
func.func @sequential_loop_in_a_kernel(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    "looppar.for"(%c0, %n, %c1) ({
    ^bb0(%i: index):
      %one = arith.constant 1.0 : f32
      memref.store %one, %y[%i] : memref<?xf32>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    gpu.terminator
  }
  return
}

// -----

// A kernel cannot read a value the host keeps in a stack slot.
func.func @host_slot_in_a_kernel(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %slot = memref.alloca() : memref<f32>
  %two = arith.constant 2.0 : f32
  memref.store %two, %slot[] : memref<f32>
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    // expected-error@+1 {{looppar-to-gpu: a GPU kernel uses a variable that lives in host memory}}
    %v = memref.load %slot[] : memref<f32>
    memref.store %v, %y[%i] : memref<?xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// The host runs a loop around a parallel loop; a bound that `with
// parir.gpu:` code read from GPU memory is not known there.
func.func @device_value_bounds_a_host_loop(%x: memref<1000xf32>, %counts: memref<1xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1000 : index
  // The error is at the loop the value bounds.
  "looppar.on_device"() ({
    %k = memref.load %counts[%c0] : memref<1xindex>
    // expected-error@+1 {{looppar-to-gpu: a value that `with parir.gpu:` code computes on the GPU bounds or steers a loop or condition around a parallel loop}}
    "looppar.for"(%c0, %k, %c1) ({
    ^bb0(%j: index):
      "looppar.for"(%c0, %n, %c1) ({
      ^bb0(%i: index):
        %v = memref.load %x[%i] : memref<1000xf32>
        memref.store %v, %x[%i] : memref<1000xf32>
        "looppar.yield"() : () -> ()
      }) {label = "N", threads = 1000 : i64} : (index, index, index) -> ()
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

// Each thread of a block keeps its own copy of a local of the block-level
// code: an inner loop may update it only as its reduction.
func.func @conditional_local_update(%x: memref<8x100xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 8 : index
  %m = arith.constant 100 : index
  %half = arith.constant 0.5 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %s = memref.alloca() : memref<f32>
    // expected-error@+1 {{looppar-to-gpu: on a GPU the threads of a block share this parallel loop's iterations, and each keeps its own copy of a variable assigned before the loop}}
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<8x100xf32>
      %big = arith.cmpf ogt, %v, %half : f32
      scf.if %big {
        memref.store %v, %s[] : memref<f32>
      }
      "looppar.yield"() : () -> ()
    }) {label = "M", threads = 128 : i64} : (index, index, index) -> ()
    %r = memref.load %s[] : memref<f32>
    memref.store %r, %y[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// The host cannot read the GPU's memory: a loop bound read from an array
// argument outside every kernel is an error at the read, not a fault when
// the code runs. (Reads from the host's own slots are fine.)
func.func @bound_read_on_the_host(%y: memref<8xf32>, %n: memref<1xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %slot = memref.alloca() : memref<index>
  memref.store %c1, %slot[] : memref<index>
  %step = memref.load %slot[] : memref<index>
  // expected-error@+1 {{looppar-to-gpu: on a GPU this array element would be read on the host before the kernels run}}
  %upper = memref.load %n[%c0] : memref<1xindex>
  "looppar.for"(%c0, %upper, %step) ({
  ^bb0(%i: index):
    %one = arith.constant 1.0 : f32
    memref.store %one, %y[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}
