// RUN: parla-opt %s --rocdl-fold-workgroup-size | FileCheck %s

// In a kernel of known block size the block dimensions are constants; in
// a function without one they stay queries.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    // CHECK-LABEL: llvm.func @known
    // CHECK-NOT: rocdl.workgroup.dim
    // CHECK-DAG: llvm.mlir.constant(256 : i32) : i32
    // CHECK-DAG: llvm.mlir.constant(2 : i32) : i32
    // CHECK-DAG: llvm.mlir.constant(1 : i32) : i32
    // CHECK: llvm.return
    llvm.func @known(%out: !llvm.ptr) attributes {gpu.kernel, gpu.known_block_size = array<i32: 256, 2, 1>, rocdl.kernel} {
      %x = rocdl.workgroup.dim.x : i32
      %y = rocdl.workgroup.dim.y : i32
      %z = rocdl.workgroup.dim.z : i32
      %xy = llvm.mul %x, %y : i32
      %xyz = llvm.mul %xy, %z : i32
      llvm.store %xyz, %out : i32, !llvm.ptr
      llvm.return
    }
    // CHECK-LABEL: llvm.func @unknown
    // CHECK: rocdl.workgroup.dim.x : i32
    llvm.func @unknown(%out: !llvm.ptr) attributes {gpu.kernel, rocdl.kernel} {
      %x = rocdl.workgroup.dim.x : i32
      llvm.store %x, %out : i32, !llvm.ptr
      llvm.return
    }
  }
}
