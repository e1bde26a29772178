// RUN: parla-opt %s --split-input-file --looppar-to-gpu --looppar-to-scf --canonicalize | FileCheck %s
// RUN: parla-opt %s --split-input-file --pass-pipeline="builtin.module(looppar-to-gpu,looppar-to-scf,canonicalize,gpu-launch-sink-index-computations,gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 features=+ptx80 O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm),gpu-module-to-binary{format=isa})" | FileCheck %s --check-prefix=PTX
// RUN: parla-opt %s --split-input-file --pass-pipeline="builtin.module(looppar-to-gpu,looppar-to-scf,canonicalize,gpu-launch-sink-index-computations,gpu-kernel-outlining,rocdl-attach-target{chip=gfx90a O=3},gpu.module(convert-scf-to-cf,convert-gpu-to-rocdl,rocdl-fold-workgroup-size),gpu-module-to-binary{format=isa})" | FileCheck %s --check-prefix=AMD

// One parallel level of 100000 threads: 1024 threads per block (the
// default), 98 blocks, and a grid-stride loop with a constant stride.
// CHECK-LABEL: func.func @axpy
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[TPB:.*]] = arith.constant 1024 : index
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 98 : index
// CHECK-DAG: %[[STRIDE:.*]] = arith.constant 100352 : index
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[TPB]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
// CHECK:   %[[BASE:.*]] = arith.muli %[[B]], %[[TPB]]
// CHECK:   %[[ID:.*]] = arith.addi %[[BASE]], %[[T]]
// CHECK:   scf.for %{{.*}} = %[[ID]] to %{{.*}} step %[[STRIDE]]
// CHECK:   gpu.terminator
// PTX-LABEL: .visible .entry axpy_kernel
// PTX: mov.u32 \09%r{{[0-9]+}}, %tid.x
// AMD: .amdgcn_target \22amdgcn-amd-amdhsa--gfx90a\22
// AMD-LABEL: \0Aaxpy_kernel:
func.func @axpy(%a: f32, %x: memref<100000xf32>, %y: memref<100000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %xi = memref.load %x[%i] : memref<100000xf32>
    %yi = memref.load %y[%i] : memref<100000xf32>
    %p = arith.mulf %a, %xi : f32
    %s = arith.addf %yi, %p : f32
    memref.store %s, %y[%i] : memref<100000xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 100000 : i64} : (index, index, index) -> ()
  return
}

// -----

// Row sums: the outer level maps to 64 blocks, the inner reduction to the
// 256 threads of a block: per-thread partial sums, gpu.all_reduce across
// the block, and thread 0 alone writes the global result. The accumulator
// slot moves to the kernel's entry. Partial sums start at -0.0, which
// x + -0.0 leaves exactly x.
// CHECK-LABEL: func.func @sum_rows
// CHECK-DAG: %[[ZERO:.*]] = arith.constant -0.000000e+00 : f32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[TPB:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[BLOCKS:.*]] = arith.constant 64 : index
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[TPB]],
// CHECK-NEXT: %[[ACC:.*]] = memref.alloca() : memref<f32>
// CHECK-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %[[C0]] : index
// CHECK-NEXT: scf.for %[[I:.*]] = %[[B]] to %{{.*}} step %[[BLOCKS]] {
// CHECK:   %[[PARTIAL:.*]] = scf.for %{{.*}} = %[[T]] to %{{.*}} step %[[TPB]] iter_args(%[[P:.*]] = %[[ZERO]]) -> (f32) {
// CHECK:     arith.addf %[[P]], %{{.*}} : f32
// CHECK:   %[[TOTAL:.*]] = gpu.all_reduce add %[[PARTIAL]] uniform
// CHECK:   scf.if %[[FIRST]] {
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[I]]] : memref<64xf32>
// PTX-LABEL: .visible .entry sum_rows_kernel
// PTX: shfl.sync.bfly.b32
// PTX: bar.sync \090
// AMD-LABEL: \0Asum_rows_kernel:
// AMD: s_barrier
func.func @sum_rows(%x: memref<64x500xf32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %m = arith.constant 500 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %acc = memref.alloca() : memref<f32>
    %y0 = memref.load %y[%i] : memref<64xf32>
    memref.store %y0, %acc[] : memref<f32>
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %old = memref.load %acc[] : memref<f32>
      %v = memref.load %x[%i, %j] : memref<64x500xf32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %acc[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {label = "M", reduction = "add", threads = 256 : i64} : (index, index, index) -> ()
    %r = memref.load %acc[] : memref<f32>
    memref.store %r, %y[%i] : memref<64xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// looppar-plan-kernels decided to split: one kernel per inner loop, each
// with its own block size, in order; each copy keeps the pure scalar ops
// it needs.
// CHECK-LABEL: func.func @split
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}} threads({{.*}}) in (%{{.*}} = %c32,
// CHECK:   arith.muli %{{.*}}, %c32
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c32
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK-NOT: arith.muli
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c100000
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @split(%x: memref<8x100000xf32>, %y: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %big = arith.constant 100000 : index
  %two = arith.constant 2.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %scale = arith.muli %i, %c32 : index
    "looppar.for"(%c0, %c32, %c1) ({
    ^bb0(%j: index):
      %v = arith.index_cast %scale : index to i64
      %f = arith.sitofp %v : i64 to f32
      memref.store %f, %y[%i, %j] : memref<8x32xf32>
      "looppar.yield"() : () -> ()
    }) {label = "S", threads = 32 : i64} : (index, index, index) -> ()
    "looppar.for"(%c0, %big, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<8x100000xf32>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %x[%i, %j] : memref<8x100000xf32>
      "looppar.yield"() : () -> ()
    }) {label = "B", threads = 100000 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {kernels = "split", label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A store between the inner loops is per-iteration state: not split.
// CHECK-LABEL: func.func @not_split
// CHECK-COUNT-1: gpu.launch
// CHECK-NOT: gpu.launch
func.func @not_split(%x: memref<8x64xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %c32, %c1) ({
    ^bb0(%j: index):
      memref.store %zero, %x[%i, %j] : memref<8x64xf32>
      "looppar.yield"() : () -> ()
    }) {label = "S", threads = 32 : i64} : (index, index, index) -> ()
    memref.store %zero, %y[%i] : memref<8xf32>
    "looppar.for"(%c0, %c64, %c1) ({
    ^bb0(%j: index):
      memref.store %zero, %x[%i, %j] : memref<8x64xf32>
      "looppar.yield"() : () -> ()
    }) {label = "B", threads = 64 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {kernels = "split", label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// The outermost parallel loop is the reduction (a sum of 100000 values):
// every thread of the grid keeps a partial sum over a grid-stride loop,
// each block combines its threads' sums, and thread 0 of each block adds
// the block's sum atomically.
// CHECK-LABEL: func.func @total
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c98,
// CHECK:   %[[PARTIAL:.*]] = scf.for {{.*}} iter_args
// CHECK:   %[[BLOCK:.*]] = gpu.all_reduce add %[[PARTIAL]] uniform
// CHECK:   scf.if
// CHECK-NEXT: memref.atomic_rmw addf %[[BLOCK]], %{{.*}}[%{{.*}}] : (f32, memref<1xf32>) -> f32
// PTX-LABEL: .visible .entry total_kernel
// PTX: atom.global.add.f32
func.func @total(%x: memref<100000xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<100000xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "add", threads = 100000 : i64} : (index, index, index) -> ()
  return
}

// -----

// Bitwise reductions over the grid: the same shape, with the block's `or`
// (`xor`) and an atomic or (xor). A 16-bit partial result crosses the
// block as 32 bits; its atomic xor is one on the word around it (xor with
// zeros leaves the other half as it is).
// CHECK-LABEL: func.func @any_bits
// CHECK:   %[[PARTIAL:.*]]:2 = scf.for {{.*}} iter_args
// CHECK:   %[[BLOCK:.*]] = gpu.all_reduce or %[[PARTIAL]]#0 uniform
// CHECK:   memref.atomic_rmw ori %[[BLOCK]], %{{.*}}[%{{.*}}] : (i64, memref<1xi64>) -> i64
// CHECK:   %[[WIDE:.*]] = arith.extsi %[[PARTIAL]]#1 : i16 to i32
// CHECK:   %[[XOR:.*]] = gpu.all_reduce xor %[[WIDE]] uniform
// CHECK:   %[[NARROW:.*]] = arith.trunci %[[XOR]] : i32 to i16
// CHECK:   memref.atomic_rmw xori %[[NARROW]]
// PTX-LABEL: .visible .entry any_bits_kernel
// PTX: atom.global.or.b64
// PTX: atom.global.xor.b32
// AMD-LABEL: any_bits_kernel:
// AMD: global_atomic_cmpswap
func.func @any_bits(%x: memref<100000xi64>, %y: memref<1xi64>, %h: memref<100000xi16>, %z: memref<1xi16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<100000xi64>
    %old = memref.load %y[%c0] : memref<1xi64>
    %new = arith.ori %old, %v : i64
    memref.store %new, %y[%c0] : memref<1xi64>
    %w = memref.load %h[%i] : memref<100000xi16>
    %zold = memref.load %z[%c0] : memref<1xi16>
    %znew = arith.xori %w, %zold : i16
    memref.store %znew, %z[%c0] : memref<1xi16>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "or", threads = 100000 : i64} : (index, index, index) -> ()
  return
}

// -----

// A sum of 2^28 values keeps at most 1024 blocks: each thread adds 256
// values in its grid-stride loop (step 1024 x 1024), so the grid does 1024
// block combinations and atomic updates instead of 262144. The loop asks
// LLVM to unroll it 4 times, so that each thread has 4 loads in flight:
// with the bounds and the stride sunk into the kernel, the trip count is
// known and the unrolled loop has no exit test between its loads.
// CHECK-LABEL: func.func @large_total
// CHECK-DAG: %[[STRIDE:.*]] = arith.constant 1048576 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1024, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK:   scf.for {{.*}} to %{{.*}} step %[[STRIDE]] iter_args
// CHECK:   } {loop_annotation = #{{.*}}}
// CHECK:   gpu.all_reduce add
// CHECK:   memref.atomic_rmw addf
// PTX-LABEL: .visible .entry large_total_kernel
// PTX: \09ld.global.b32 \09%r{{[0-9]+}}, [%rd{{[0-9]+}}+-8388608];\0A\09add.rn.f32 \09{{[^\\]*}}\0A\09ld.global.b32 \09%r{{[0-9]+}}, [%rd{{[0-9]+}}+-4194304];\0A\09add.rn.f32 \09{{[^\\]*}}\0A\09ld.global.b32 \09%r{{[0-9]+}}, [%rd{{[0-9]+}}];\0A\09add.rn.f32 \09{{[^\\]*}}\0A\09ld.global.b32 \09%r{{[0-9]+}}, [%rd{{[0-9]+}}+4194304];\0A\09add.rn.f32 \09{{[^\\]*}}\0A
func.func @large_total(%x: memref<268435456xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 268435456 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<268435456xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "add", threads = 268435456 : i64} : (index, index, index) -> ()
  return
}

// -----

// A large flat loop (2^24 threads, a short body) runs 4 iterations per
// thread on a quarter of the blocks (4096): the copies of its body are
// interleaved op by op, so each thread's eight loads come before its
// first store (ptxas keeps that order: it cannot tell that a store does
// not feed a later load). With a loop in its body, a loop keeps one
// iteration per thread (16384 blocks), and so does a small one.
// CHECK-LABEL: func.func @large_axpy
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4096, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK-COUNT-4: memref.load %arg0
// CHECK-COUNT-4: memref.load %arg1
// CHECK-COUNT-4: arith.addf
// CHECK-COUNT-4: memref.store
// CHECK-NEXT: gpu.terminator
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c16384, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK:   scf.for {{.*}} to %{{.*}} step %c16777216 {
// CHECK:     scf.for
// CHECK:     } {loop_annotation = #{{.*}}}
// CHECK-NEXT: }
// CHECK-NEXT: gpu.terminator
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1024, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK:   scf.for {{.*}} to %{{.*}} step %c1048576 {
// CHECK:   }
// CHECK-NEXT: gpu.terminator
// PTX-LABEL: .visible .entry large_axpy_kernel(
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: st.global
// PTX: ld.global
// PTX-NOT: ld.global
// PTX: st.global
func.func @large_axpy(%x: memref<16777216xf32>, %y: memref<16777216xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = arith.constant 16777216 : index
  %small = arith.constant 1048576 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %a = memref.load %x[%i] : memref<16777216xf32>
    %b = memref.load %y[%i] : memref<16777216xf32>
    %c = arith.addf %a, %b : f32
    memref.store %c, %y[%i] : memref<16777216xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16777216 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.for"(%c0, %c4, %c1) ({
    ^bb0(%k: index):
      %a = memref.load %x[%i] : memref<16777216xf32>
      memref.store %a, %y[%i] : memref<16777216xf32>
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16777216 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %small, %c1) ({
  ^bb0(%i: index):
    %a = memref.load %x[%i] : memref<16777216xf32>
    memref.store %a, %y[%i] : memref<16777216xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1048576 : i64} : (index, index, index) -> ()
  return
}

// -----

// A remainder: range(1, 10000001, 3) has 3333334 iterations on 4200000
// threads, 1026 blocks of 1024 after coarsening (1050624 threads): three
// rounds that every thread runs, interleaved, then a grid-stride loop
// from the fourth round for the 181462 threads that have one.
// CHECK-LABEL: func.func @remainder
// CHECK-DAG: %[[GRID:.*]] = arith.constant 1050624 : index
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2101248 : index
// CHECK-DAG: %[[ROUNDS:.*]] = arith.constant 3151872 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1026, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK: %[[ID:.*]] = arith.addi
// CHECK: %[[FIRST:.*]] = arith.muli %[[ID]], %c3
// CHECK: arith.addi %[[FIRST]], %c1
// CHECK: arith.addi %[[ID]], %[[GRID]]
// CHECK: arith.addi %[[ID]], %[[TWO]]
// CHECK-COUNT-3: memref.load
// CHECK-COUNT-3: memref.store
// CHECK: %[[LAST:.*]] = arith.addi %[[ID]], %[[ROUNDS]]
// CHECK: %[[SCALED:.*]] = arith.muli %[[LAST]], %c3
// CHECK: %[[START:.*]] = arith.addi %[[SCALED]], %c1
// CHECK: scf.for %{{.*}} = %[[START]] to %c10000001 step %[[ROUNDS]] {
func.func @remainder(%x: memref<10000001xf32>, %y: memref<10000001xf32>) {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %n = arith.constant 10000001 : index
  "looppar.for"(%c1, %n, %c3) ({
  ^bb0(%i: index):
    %a = memref.load %x[%i] : memref<10000001xf32>
    memref.store %a, %y[%i] : memref<10000001xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 4200000 : i64} : (index, index, index) -> ()
  return
}

// -----

// A failed check found on the host (debug=True: a slice bound outside its
// axis) is stored into the error word, which is device memory: by a
// one-thread kernel.
// CHECK-LABEL: func.func @host_report
// CHECK: scf.if
// CHECK-NEXT: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}} threads({{.*}}) in (%{{.*}} = %c1,
// CHECK-NEXT: memref.store %{{.*}}, %arg0[%{{.*}}] {parla.error_report}
// CHECK-NEXT: gpu.terminator
func.func @host_report(%err: memref<1xi64>, %y: memref<8xf32>, %bad: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %code = arith.constant 1 : i64
  scf.if %bad {
    memref.store %code, %err[%c0] {parla.error_report} : memref<1xi64>
  }
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %one = arith.constant 1.0 : f32
    memref.store %one, %y[%i] : memref<8xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// A product has no atomic form: the reduction runs in one block, whose
// thread 0 updates the location.
// CHECK-LABEL: func.func @product
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK:   gpu.all_reduce mul
// CHECK:   scf.if
// CHECK-NEXT: memref.store
// CHECK-NOT: atomic_rmw
func.func @product(%x: memref<100000xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<100000xf32>
    %old = memref.load %y[%c0] : memref<1xf32>
    %new = arith.mulf %old, %v : f32
    memref.store %new, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "mul", threads = 100000 : i64} : (index, index, index) -> ()
  return
}

// -----

// Block-level code (the outer body outside the inner loops) runs in every
// thread of a block: thread 0 alone writes global memory, also under a
// condition or in a sequential loop, and barriers order the steps that
// touch global memory: y[i] is written before the inner loop reads it,
// the inner loop's writes are done before the next step, and the
// sequential loop's iterations are kept apart.
// CHECK-LABEL: func.func @block_level_code
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: gpu.launch {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %[[C0]] : index
// CHECK:   scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-NEXT:   memref.store %{{.*}}, %{{.*}}[%[[I]]] : memref<64xf32>
// CHECK:      gpu.barrier
// CHECK-NEXT: scf.for %{{.*}} = %[[T]] to %{{.*}} step %{{.*}} {
// CHECK:        memref.load %{{.*}}[%[[I]]] : memref<64xf32>
// CHECK:        memref.store %{{.*}} : memref<64x500xf32>
// CHECK:      }
// CHECK-NEXT: gpu.barrier
// CHECK:      gpu.barrier
// CHECK-NEXT: %[[MINE:.*]] = arith.andi %{{.*}}, %[[FIRST]] : i1
// CHECK-NEXT: scf.if %[[MINE]] {
// CHECK-NEXT:   memref.store %{{.*}} : memref<64xi64>
// CHECK:      gpu.barrier
// CHECK-NEXT: scf.for %{{.*}} = %[[C0]] to
// CHECK:        gpu.barrier
// CHECK-NEXT:   scf.if %[[FIRST]] {
// CHECK-NEXT:     memref.atomic_rmw addi
// CHECK:        gpu.barrier
// CHECK-NEXT: }
// PTX-LABEL: .visible .entry block_level_code_kernel
// PTX: bar.sync
func.func @block_level_code(%x: memref<64x500xf32>, %y: memref<64xf32>, %flags: memref<64xi64>, %bins: memref<64x4xindex>, %h: memref<8xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = arith.constant 64 : index
  %m = arith.constant 500 : index
  %one = arith.constant 1 : i64
  %two = arith.constant 2.0 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    memref.store %two, %y[%i] : memref<64xf32>
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<64x500xf32>
      %d = memref.load %y[%i] : memref<64xf32>
      %q = arith.divf %v, %d : f32
      memref.store %q, %x[%i, %j] : memref<64x500xf32>
      "looppar.yield"() : () -> ()
    }) {label = "M", threads = 256 : i64} : (index, index, index) -> ()
    %first = memref.load %x[%i, %c0] : memref<64x500xf32>
    %positive = arith.cmpf ogt, %first, %two : f32
    scf.if %positive {
      memref.store %one, %flags[%i] : memref<64xi64>
    }
    "looppar.for"(%c0, %c4, %c1) ({
    ^bb0(%k: index):
      %b = memref.load %bins[%i, %k] : memref<64x4xindex>
      %old = memref.atomic_rmw addi %one, %h[%b] : (i64, memref<8xi64>) -> i64
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// A reduction over the outer loop whose body holds an inner reduction:
// each block combines into the location atomically (blocks would race
// on a plain update); a product, which has no atomic form, runs in one
// block.
// CHECK-LABEL: func.func @nested_total
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c64,
// CHECK:   gpu.all_reduce add
// CHECK:   gpu.barrier
// CHECK:   scf.if
// CHECK-NEXT: memref.atomic_rmw addf %{{.*}}, %{{.*}}[%{{.*}}] : (f32, memref<1xf32>) -> f32
// CHECK-LABEL: func.func @nested_product
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK:   gpu.all_reduce mul
// CHECK-NOT: atomic_rmw
// CHECK: return
func.func @nested_total(%x: memref<64x500xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %m = arith.constant 500 : index
  %zero = arith.constant -0.0 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %acc = memref.alloca() : memref<f32>
    memref.store %zero, %acc[] : memref<f32>
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %old = memref.load %acc[] : memref<f32>
      %v = memref.load %x[%i, %j] : memref<64x500xf32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %acc[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {label = "M", reduction = "add", threads = 256 : i64} : (index, index, index) -> ()
    %part = memref.load %acc[] : memref<f32>
    %y0 = memref.load %y[%c0] : memref<1xf32>
    %sum = arith.addf %y0, %part : f32
    memref.store %sum, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "add", threads = 64 : i64} : (index, index, index) -> ()
  return
}

func.func @nested_product(%x: memref<64x500xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %m = arith.constant 500 : index
  %unit = arith.constant 1.0 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %acc = memref.alloca() : memref<f32>
    memref.store %unit, %acc[] : memref<f32>
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %old = memref.load %acc[] : memref<f32>
      %v = memref.load %x[%i, %j] : memref<64x500xf32>
      %new = arith.mulf %old, %v : f32
      memref.store %new, %acc[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {label = "M", reduction = "mul", threads = 256 : i64} : (index, index, index) -> ()
    %part = memref.load %acc[] : memref<f32>
    %y0 = memref.load %y[%c0] : memref<1xf32>
    %prod = arith.mulf %y0, %part : f32
    memref.store %prod, %y[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", reduction = "mul", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// Inner parallel loops under a condition map to the block's threads too
// (the condition is the same in every thread), and of three parallel
// levels the middle one runs as block-level code: blocks, a sequential
// loop, threads.
// CHECK-LABEL: func.func @deeper_inner_loops
// CHECK: gpu.launch {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c128,
// CHECK:   scf.if
// CHECK:     scf.for %{{.*}} = %[[T]] to %{{.*}} step %c128
// CHECK:     gpu.all_reduce maximumf
// CHECK:   scf.for %{{.*}} = %c0 to %c16 step %c1 {
// CHECK:     scf.for %{{.*}} = %[[T]] to %{{.*}} step %c128
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @deeper_inner_loops(%x: memref<8x16x100xf32>, %y: memref<8xf32>, %z: memref<8x16x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 8 : index
  %k = arith.constant 16 : index
  %m = arith.constant 100 : index
  %zero = arith.constant 0.0 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %first = memref.load %x[%i, %c0, %c0] : memref<8x16x100xf32>
    %positive = arith.cmpf ogt, %first, %zero : f32
    scf.if %positive {
      "looppar.for"(%c0, %m, %c1) ({
      ^bb0(%j: index):
        %old = memref.load %y[%i] : memref<8xf32>
        %v = memref.load %x[%i, %c0, %j] : memref<8x16x100xf32>
        %new = arith.maximumf %old, %v : f32
        memref.store %new, %y[%i] : memref<8xf32>
        "looppar.yield"() : () -> ()
      }) {label = "M", reduction = "max", threads = 128 : i64} : (index, index, index) -> ()
    }
    "looppar.for"(%c0, %k, %c1) ({
    ^bb0(%l: index):
      "looppar.for"(%c0, %m, %c1) ({
      ^bb0(%j: index):
        %v = memref.load %x[%i, %l, %j] : memref<8x16x100xf32>
        memref.store %v, %z[%i, %l, %j] : memref<8x16x100xf32>
        "looppar.yield"() : () -> ()
      }) {label = "M", threads = 128 : i64} : (index, index, index) -> ()
      "looppar.yield"() : () -> ()
    }) {label = "K", threads = 16 : i64} : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  return
}

// -----

// `with parir.gpu:` code around a sequential loop that holds a parallel
// loop: the sequential loop runs on the host and launches the parallel
// loop's kernel in each iteration; the code before it is a one-thread
// kernel, and arithmetic on what the host knows stays on the host.
// CHECK-LABEL: func.func @device_block_with_a_host_loop
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK:   memref.store
// CHECK:   gpu.terminator
// CHECK: scf.for %[[K:.*]] = %c0 to %c5 step %c1 {
// CHECK-NEXT: %[[KI:.*]] = arith.index_cast %[[K]] : index to i64
// CHECK-NEXT: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK:     arith.sitofp %[[KI]]
// CHECK:     gpu.terminator
// CHECK: return
func.func @device_block_with_a_host_loop(%x: memref<1000xf32>, %y: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %n = arith.constant 1000 : index
  %one = arith.constant 1.0 : f32
  "looppar.on_device"() ({
    memref.store %one, %y[%c0] : memref<1xf32>
    "looppar.for"(%c0, %c5, %c1) ({
    ^bb0(%k: index):
      %ki = arith.index_cast %k : index to i64
      "looppar.for"(%c0, %n, %c1) ({
      ^bb0(%i: index):
        %v = memref.load %x[%i] : memref<1000xf32>
        %kf = arith.sitofp %ki : i64 to f32
        %w = arith.addf %v, %kf : f32
        memref.store %w, %x[%i] : memref<1000xf32>
        "looppar.yield"() : () -> ()
      }) {label = "N", threads = 1000 : i64} : (index, index, index) -> ()
      "looppar.yield"() : () -> ()
    }) : (index, index, index) -> ()
    "looppar.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

// A block-level while loop whose condition reads what its body writes:
// the body starts with a barrier (a thread that reads the condition late
// would otherwise see the new value and leave the loop alone) and ends
// with one before the next condition. A condition read from memory, which
// a racing block could change between two threads' reads, is agreed on
// by the block first (any thread's true), since the loop holds barriers.
// CHECK-LABEL: func.func @block_level_while
// CHECK: scf.while
// CHECK:   memref.load %{{.*}} : memref<16xf32>
// CHECK:   %[[MINE:.*]] = arith.extui %{{.*}} : i1 to i32
// CHECK-NEXT: %[[ANY:.*]] = gpu.all_reduce or %[[MINE]] uniform
// CHECK:   gpu.barrier
// CHECK-NEXT: %[[AGREED:.*]] = arith.cmpi ne, %[[ANY]], %{{.*}} : i32
// CHECK-NEXT: scf.condition(%[[AGREED]])
// CHECK: } do {
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.if
// CHECK-NEXT:   memref.store
// CHECK:      memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield
func.func @block_level_while(%x: memref<16x100xf32>, %r: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 16 : index
  %m = arith.constant 100 : index
  %small = arith.constant 0.01 : f32
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    "looppar.while"() ({
      %v = memref.load %r[%i] : memref<16xf32>
      %more = arith.cmpf ogt, %v, %small : f32
      "looppar.condition"(%more) : (i1) -> ()
    }, {
      memref.store %zero, %r[%i] : memref<16xf32>
      "looppar.for"(%c0, %m, %c1) ({
      ^bb0(%j: index):
        %xv = memref.load %x[%i, %j] : memref<16x100xf32>
        %h = arith.mulf %xv, %half : f32
        memref.store %h, %x[%i, %j] : memref<16x100xf32>
        "looppar.yield"() : () -> ()
      }) {label = "M", threads = 128 : i64} : (index, index, index) -> ()
      %x0 = memref.load %x[%i, %c0] : memref<16x100xf32>
      memref.store %x0, %r[%i] : memref<16xf32>
      "looppar.yield"() : () -> ()
    }) : () -> ()
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 16 : i64} : (index, index, index) -> ()
  return
}

// -----

// Two reductions in one inner loop (a sum and a maximum of each row): one
// per-thread loop carries both partial results, then each crosses the
// block in its own gpu.all_reduce, and thread 0 writes each row's two
// results.
// CHECK-LABEL: func.func @sum_and_max
// CHECK: gpu.launch
// CHECK:   %[[PARTIAL:.*]]:2 = scf.for %{{.*}} iter_args(%[[S:.*]] = %{{.*}}, %[[M:.*]] = %{{.*}}) -> (f32, f32) {
// CHECK-DAG:  arith.addf %[[S]], %{{.*}} : f32
// CHECK-DAG:  arith.maximumf %[[M]], %{{.*}} : f32
// CHECK:   gpu.all_reduce add %[[PARTIAL]]#0 uniform
// CHECK:   gpu.all_reduce maximumf %[[PARTIAL]]#1 uniform
// CHECK-COUNT-2: scf.if
// PTX-LABEL: .visible .entry sum_and_max_kernel
// PTX-COUNT-2: .shared .align
// AMD-LABEL: \0Asum_and_max_kernel:
func.func @sum_and_max(%x: memref<64x500xf32>, %y: memref<64xf32>, %z: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %m = arith.constant 500 : index
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant 0xFF800000 : f32
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %s = memref.alloca() : memref<f32>
    %t = memref.alloca() : memref<f32>
    memref.store %zero, %s[] : memref<f32>
    memref.store %lowest, %t[] : memref<f32>
    "looppar.for"(%c0, %m, %c1) ({
    ^bb0(%j: index):
      %v = memref.load %x[%i, %j] : memref<64x500xf32>
      %old = memref.load %s[] : memref<f32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %s[] : memref<f32>
      %top = memref.load %t[] : memref<f32>
      %higher = arith.maximumf %top, %v : f32
      memref.store %higher, %t[] : memref<f32>
      "looppar.yield"() : () -> ()
    }) {label = "M", reduction = "add", threads = 256 : i64} : (index, index, index) -> ()
    %r = memref.load %s[] : memref<f32>
    memref.store %r, %y[%i] : memref<64xf32>
    %q = memref.load %t[] : memref<f32>
    memref.store %q, %z[%i] : memref<64xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  return
}
