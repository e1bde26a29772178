"""What the GPU benchmark's kernels would reach with other code-generation
choices, measured in one run so that the next change can be chosen from
figures: hand-written CUDA C++ versions of axpy (the access patterns the
hardware rewards), and row sums compiled from edited IR with other unroll
counts for each thread's reduction loop.

    python benchmarks/gpu_tuning.py

GB/s as in `gpu.py` (bytes a kernel must move / median time between CUDA
events) and as a fraction of a device-to-device copy. Needs an NVIDIA GPU
and CuPy (which builds the CUDA C++ with NVRTC)."""

from __future__ import annotations

import statistics
import sys

import numpy as np

import parla.cuda as cuda
import parla.parir as parir
from gpu_kernels import axpy, sum_rows

if not cuda.devices():
    print(f"gpu tuning skipped: {cuda.unavailable_reason()}")
    sys.exit(0)
try:
    import cupy
except ImportError:
    print("gpu tuning skipped: it needs CuPy")
    sys.exit(0)

AXPY_CUDA = r"""
extern "C" __global__ void one(float a, const float* x, float* y, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
extern "C" __global__ void four_loads_first(float a, const float* __restrict__ x,
                                            float* __restrict__ y, long n) {
    long base = (long)blockIdx.x * blockDim.x * 4 + threadIdx.x;
    float xs[4], ys[4];
    #pragma unroll
    for (int k = 0; k < 4; k++) {
        long i = base + k * blockDim.x;
        if (i < n) { xs[k] = x[i]; ys[k] = y[i]; }
    }
    #pragma unroll
    for (int k = 0; k < 4; k++) {
        long i = base + k * blockDim.x;
        if (i < n) y[i] = ys[k] + a * xs[k];
    }
}
extern "C" __global__ void four_in_order(float a, const float* x, float* y, long n) {
    long base = (long)blockIdx.x * blockDim.x * 4 + threadIdx.x;
    #pragma unroll
    for (int k = 0; k < 4; k++) {
        long i = base + k * blockDim.x;
        if (i < n) y[i] += a * x[i];
    }
}
extern "C" __global__ void float4s(float a, const float4* x, float4* y, long n4) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 p = x[i], q = y[i];
        q.x += a * p.x; q.y += a * p.y; q.z += a * p.z; q.w += a * p.w;
        y[i] = q;
    }
}
"""


def seconds(run, repeats=30) -> float:
    run()
    cupy.cuda.Device().synchronize()
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(repeats):
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) / 1e3)
    return statistics.median(times)


def main() -> None:
    n = 1 << 28
    rng = np.random.default_rng(0)
    x = cupy.asarray(rng.random(n, dtype=np.float32))
    y = cupy.asarray(rng.random(n, dtype=np.float32))
    copy_to = cupy.empty_like(x)
    ceiling = 2 * x.nbytes / seconds(lambda: cupy.copyto(copy_to, x))
    print(f"device-to-device copy: {ceiling / 1e9:.0f} GB/s (the ceiling)\n")

    def row(name, bytes_moved, run):
        rate = bytes_moved / seconds(run)
        print(f"  {name:48} {rate / 1e9:6.0f} GB/s {rate / ceiling:5.0%}")

    print(f"axpy of 2^28 float32 ({3 * x.nbytes / 2**30:.0f} GiB moved):")
    module = cupy.RawModule(code=AXPY_CUDA, options=("-arch=sm_90",))
    a = np.float32(2.0)
    for kernel, per_thread, block in [("one", 1, 1024), ("one", 1, 256), ("four_in_order", 4, 256),
                                      ("four_loads_first", 4, 1024), ("four_loads_first", 4, 256),
                                      ("float4s", 4, 256)]:
        function = module.get_function(kernel)
        count = n // 4 if kernel == "float4s" else n
        grid = (n // per_thread + block - 1) // block
        row(f"CUDA C++ {kernel}, {per_thread}/thread, {block} threads",
            3 * x.nbytes, lambda: function((grid,), (block,), (a, x, y, np.int64(count))))
    row("ours", 3 * x.nbytes, lambda: axpy(a, x, y, n, opts=parir.par({'N': parir.threads(n)})))

    rows = 16384
    matrix = x.reshape(rows, n // rows)
    sums = cupy.zeros(rows, np.float32)
    print(f"\nrow sums of {rows}x{rows} float32, each row's 1024 threads adding 16 elements:")
    row("CuPy", matrix.nbytes, lambda: cupy.sum(matrix, axis=1, out=sums))
    options = parir.CompileOptions({'N': parir.threads(rows), 'M': parir.threads(1024).reduce()}, backend="cuda")
    gpu_ir = parir.print_compiled(sum_rows, [matrix, sums, rows, rows], opts=options, stage="gpu")
    want = cupy.asnumpy(matrix).sum(axis=1, dtype=np.float64)
    for count in (4, 8, 16):
        edited = gpu_ir.replace("count = 4 : i32", f"count = {count} : i32")
        function = parir.compile_string("sum_rows", edited, opts=parir.CompileOptions(backend="cuda"))
        sums[...] = 0
        function(matrix, sums, rows, rows)
        error = float(np.max(np.abs(cupy.asnumpy(sums) - want) / np.abs(want)))
        label = f"ours, reduction loop unrolled {count} times" + (" (as compiled)" if count == 4 else "")
        row(f"{label}{'' if error < 1e-4 else ' WRONG'}", matrix.nbytes,
            lambda: function(matrix, sums, rows, rows))


if __name__ == "__main__":
    main()
