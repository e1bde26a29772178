"""GPU bandwidth of JIT kernels beside Torch and CuPy on the same arrays,
with a device-to-device copy as the ceiling, and the cost of a first call
(compile to PTX, load, launch).

    python benchmarks/gpu.py

Prints GB/s (bytes a kernel must move / time, the median of 20 calls
between CUDA events), the fraction of the copy bandwidth, and our time
over each peer's. Each kernel's result is first
checked against NumPy (the script fails if one is wrong). Needs an NVIDIA
GPU, and Torch or CuPy for the arrays and the peers (both when present)."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import parla.cuda as cuda
import parla.parir as parir
from gpu_kernels import axpy, softmax_rows, sum_rows, total

if not cuda.devices():
    print(f"gpu benchmark skipped: {cuda.unavailable_reason()}")
    sys.exit(0)

try:
    import torch

    if not torch.cuda.is_available():
        torch = None
except ImportError:
    torch = None
try:
    import cupy
except ImportError:
    cupy = None
if torch is None and cupy is None:
    print("gpu benchmark skipped: it needs Torch or CuPy (for the arrays and the peers)")
    sys.exit(0)


def synchronize():
    parir.sync()
    if torch is not None:
        torch.cuda.synchronize()
    if cupy is not None:
        cupy.cuda.get_current_stream().synchronize()


class Events:
    """A pair of CUDA events on the default stream, where every library here
    queues its work (ours too, for Torch tensors and CuPy arrays on their
    default streams): the GPU's time between them, host work before a
    launch included."""

    def __init__(self):
        if torch is not None:
            self.start, self.end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
        else:
            self.start, self.end = cupy.cuda.Event(), cupy.cuda.Event()

    def seconds(self, run) -> float:
        self.start.record()
        run()
        self.end.record()
        self.end.synchronize()
        if torch is not None:
            return self.start.elapsed_time(self.end) / 1e3
        return cupy.cuda.get_elapsed_time(self.start, self.end) / 1e3


def seconds(run, repeats=20) -> float:
    """The median time of `run` (after a warm-up) between CUDA events."""
    run()
    synchronize()
    events = Events()
    return statistics.median(events.seconds(run) for _ in range(repeats))


def wall_seconds(run, repeats=20) -> float:
    """The median wall-clock time of `run` (after a warm-up), waiting for
    the GPU after each."""
    run()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def to_numpy(array) -> np.ndarray:
    synchronize()
    return array.cpu().numpy() if hasattr(array, "cpu") else array.get()


def matches(name, got, want, rtol=1e-3) -> bool:
    """Whether our result `got` (host) agrees with `want` (NumPy, float64);
    says so either way, so that no figure below stands for a wrong kernel."""
    got = np.asarray(got, np.float64)
    error = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30)))
    ok = error <= rtol
    print(f"  {name}: {'matches NumPy' if ok else 'WRONG'} (largest relative error {error:.1e})")
    return ok


def arrays(host_arrays):
    """The same data for each library, on the GPU: (ours, Torch's, CuPy's).
    We run on Torch tensors in place, and CuPy's arrays share their memory;
    without Torch, on CuPy arrays."""
    if torch is not None:
        ours = [torch.from_numpy(a).cuda() for a in host_arrays]
        return ours, ours, [cupy.asarray(a) for a in ours] if cupy is not None else None
    ours = [cupy.asarray(a) for a in host_arrays]
    return ours, [None] * len(ours), ours


def main() -> None:
    device = cuda.devices()[0]
    print(f"device: {device['name']} ({device['arch']}, {device['memory'] / 2**30:.0f} GiB)")
    rng = np.random.default_rng(0)

    # The ceiling: a device-to-device copy of 1 GiB (read + write).
    n = 1 << 28
    src, dst = (torch.empty(n, device="cuda"), torch.empty(n, device="cuda")) if torch is not None else (
        cupy.empty(n, np.float32), cupy.empty(n, np.float32))
    copy = seconds(lambda: dst.copy_(src) if torch is not None else cupy.copyto(dst, src))
    ceiling = 2 * n * 4 / copy / 1e9
    print(f"device-to-device copy: {ceiling:.0f} GB/s (the ceiling)\n")
    del src, dst

    rows, cols = 16384, 16384
    x2 = rng.random((rows, cols), dtype=np.float32)
    xs = rng.random(1 << 28, dtype=np.float32)
    cases = []

    (x, y), (tx, ty), c = arrays([x2, np.zeros(rows, np.float32)])
    row_opts = parir.par({'N': parir.threads(rows), 'M': parir.threads(1024).reduce()})
    cases.append(("row sums 16384x16384 f32", rows * cols * 4 + rows * 4,
                  lambda: sum_rows(x, y, rows, cols, opts=row_opts),
                  (lambda: torch.sum(tx, dim=1, out=ty)) if torch is not None else None,
                  (lambda: cupy.sum(c[0], axis=1, out=c[1])) if c is not None else None))

    (a, b), (ta, tb), c2 = arrays([xs, np.ones_like(xs)])
    n1 = xs.size
    cases.append(("axpy 2^28 f32", 3 * n1 * 4,
                  lambda: axpy(np.float32(2.0), a, b, n1, opts=parir.par({'N': parir.threads(n1)})),
                  (lambda: tb.add_(ta, alpha=2.0)) if torch is not None else None,
                  (lambda: cupy.add(c2[1], 2.0 * c2[0], out=c2[1])) if c2 is not None else None))

    srows, scols = 65536, 4096
    x3 = rng.random((srows, scols), dtype=np.float32)
    (sx, so), (tsx, tso), c3 = arrays([x3, np.zeros_like(x3)])
    soft_opts = parir.par({'N': parir.threads(srows), 'M': parir.threads(1024)})
    cases.append(("softmax rows 65536x4096 f32", 2 * x3.nbytes,
                  lambda: softmax_rows(sx, so, srows, scols, opts=soft_opts),
                  (lambda: torch.softmax(tsx, dim=1)) if torch is not None else None,
                  None))

    (r, out), (tr, tout), c4 = arrays([xs, np.zeros(1, np.float32)])
    cases.append(("sum of 2^28 f32", n1 * 4,
                  lambda: total(r, out, n1, opts=parir.par({'N': parir.threads(n1).reduce()})),
                  (lambda: tout.copy_(tr.sum())) if torch is not None else None,
                  (lambda: c4[1].__setitem__(Ellipsis, c4[0].sum())) if c4 is not None else None))

    # Each kernel once on fresh inputs, against NumPy, before any timing.
    print("results:")
    correct = True
    y[...] = 0
    sum_rows(x, y, rows, cols, opts=row_opts)
    correct &= matches("row sums", to_numpy(y), x2.sum(axis=1, dtype=np.float64))
    b[...] = 1
    axpy(np.float32(2.0), a, b, n1, opts=parir.par({'N': parir.threads(n1)}))
    correct &= matches("axpy", to_numpy(b), 2.0 * xs.astype(np.float64) + 1.0, rtol=1e-6)
    softmax_rows(sx, so, srows, scols, opts=soft_opts)
    sample = [0, 12345, srows - 1]
    picked = x3[sample].astype(np.float64)
    want = np.exp(picked - picked.max(axis=1, keepdims=True))
    correct &= matches("softmax rows (3 rows)", to_numpy(so)[sample], want / want.sum(axis=1, keepdims=True))
    total(r, out, n1, opts=parir.par({'N': parir.threads(n1).reduce()}))
    correct &= matches("sum", to_numpy(out), np.array([xs.sum(dtype=np.float64)]))
    print()

    print(f"{'kernel':30} {'ours GB/s':>10} {'of copy':>8} {'torch GB/s':>11} {'ours/torch':>11} "
          f"{'cupy GB/s':>10} {'ours/cupy':>10}")
    for name, bytes_moved, ours, with_torch, with_cupy in cases:
        ours_s = seconds(ours)
        row = f"{name:30} {bytes_moved / ours_s / 1e9:10.0f} {bytes_moved / ours_s / 1e9 / ceiling:8.0%}"
        for peer in (with_torch, with_cupy):
            if peer is None:
                row += f" {'-':>11} {'-':>10}"
                continue
            peer_s = seconds(peer)
            row += f" {bytes_moved / peer_s / 1e9:11.0f} {peer_s / ours_s:10.2f}x"
        print(row)

    # The host's part of a call: small arrays (a kernel of about a
    # microsecond), calls queued back to back, so that the host's time per
    # call is what limits them.
    print("\nhost time per call, axpy of 2^16 float32, 2000 calls queued:")
    n = 1 << 16
    small_opts = parir.par({'N': parir.threads(n)})
    peers = []
    if torch is not None:
        tx, ty = torch.ones(n, device="cuda"), torch.zeros(n, device="cuda")
        peers += [("ours on Torch tensors", lambda: axpy(np.float32(2.0), tx, ty, n, opts=small_opts)),
                  ("torch add_", lambda: ty.add_(tx, alpha=2.0))]
    if cupy is not None:
        cx, cy = cupy.ones(n, np.float32), cupy.zeros(n, np.float32)
        peers += [("ours on CuPy arrays", lambda: axpy(np.float32(2.0), cx, cy, n, opts=small_opts)),
                  ("cupy add", lambda: cupy.add(cy, cx, out=cy))]
    for name, run in peers:
        run()
        synchronize()
        start = time.perf_counter()
        for _ in range(2000):
            run()
        host = (time.perf_counter() - start) / 2000
        synchronize()
        print(f"  {name:24} {host * 1e6:6.1f} us")

    # First call: compile (PTX and host code), load, launch, wait.
    parir.clear_cache()
    n = 1 << 20
    fx, fy = arrays([np.ones(n, np.float32), np.zeros(n, np.float32)])[0]
    synchronize()
    start = time.perf_counter()
    axpy(np.float32(3.0), fx, fy, n, opts=parir.par({'N': parir.threads(n)}))
    synchronize()
    first = time.perf_counter() - start
    later = wall_seconds(lambda: axpy(np.float32(3.0), fx, fy, n, opts=parir.par({'N': parir.threads(n)})))
    print(f"\nfirst call of axpy (compile, load, launch): {first * 1e3:.0f} ms; later calls {later * 1e6:.0f} us, each waited for")
    if not correct:
        print("some kernels computed wrong results: their figures mean nothing")
        sys.exit(1)


if __name__ == "__main__":
    main()
