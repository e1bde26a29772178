// RUN: parla-opt %s --split-input-file --gpu-noalias-kernel-arguments | FileCheck %s

// Distinct arguments of the host function: every pointer argument of the
// kernel is marked, and all arguments keep what they had (nested
// dictionaries too).
// CHECK-LABEL: gpu.module @distinct
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr {llvm.extra = {b = 1 : i64}, llvm.noalias}, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64 {llvm.mark}, %{{.*}}: !llvm.ptr {llvm.noalias, llvm.s = "llvm.noalias"}, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64)
module attributes {gpu.container_module} {
  func.func @host(%x: memref<4xf32>, %y: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @distinct::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %y : memref<4xf32>)
    return
  }
  gpu.module @distinct {
    llvm.func @k(%a0: !llvm.ptr {llvm.extra = {b = 1 : i64}}, %a1: !llvm.ptr, %a2: i64 {llvm.mark}, %b0: !llvm.ptr {llvm.s = "llvm.noalias"}, %b1: !llvm.ptr, %b2: i64) attributes {gpu.kernel} {
      llvm.return
    }
  }
}

// -----

// One memref passed twice, or through a view of it: not marked.
// CHECK-LABEL: gpu.module @same
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-LABEL: gpu.module @viewed
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
module attributes {gpu.container_module} {
  func.func @host(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @same::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %x : memref<4xf32>)
    %v = memref.subview %x[1] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 1>>
    gpu.launch_func @viewed::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %v : memref<2xf32, strided<[1], offset: 1>>)
    return
  }
  gpu.module @same {
    llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel} {
      llvm.return
    }
  }
  gpu.module @viewed {
    llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel} {
      llvm.return
    }
  }
}

// -----

// An allocation is memory of its own; a memref of unknown origin (here a
// call's result) leaves the kernel unmarked; so does one launch of a
// kernel that another launches with distinct memrefs.
// CHECK-LABEL: gpu.module @allocated
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: !llvm.ptr {llvm.noalias})
// CHECK-LABEL: gpu.module @unknown
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-LABEL: gpu.module @twice
// CHECK: llvm.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
module attributes {gpu.container_module} {
  func.func private @make() -> memref<4xf32>
  func.func @host(%x: memref<4xf32>, %y: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %local = memref.alloc() : memref<4xf32>
    gpu.launch_func @allocated::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %local : memref<4xf32>)
    %made = func.call @make() : () -> memref<4xf32>
    gpu.launch_func @unknown::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %made : memref<4xf32>)
    gpu.launch_func @twice::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>, %y : memref<4xf32>)
    gpu.launch_func @twice::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%y : memref<4xf32>, %y : memref<4xf32>)
    return
  }
  gpu.module @allocated {
    llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel} {
      llvm.return
    }
  }
  gpu.module @unknown {
    llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel} {
      llvm.return
    }
  }
  gpu.module @twice {
    llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr) attributes {gpu.kernel} {
      llvm.return
    }
  }
}
