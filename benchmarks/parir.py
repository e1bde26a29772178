"""Loop kernels on the CPU: this JIT beside NumPy and Numba
(parallel=True), in one process run.

Prints achieved bandwidth (GB/s) for row sums (4096x8192 float32), axpy
(2^25 float64), softmax rows (2048x4096 float32), a 1-D full reduction
(2^25 float64), a conditional one (the elements above 0.5), the
first two moments into two elements of one array and a bitwise or of
2^25 int64 (which Numba's prange does not reduce); the first-call
(compile) latency of the row sum; and the per-call overhead of a tiny
kernel.

    python benchmarks/parir.py [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import parla.parir as parir

ROWS, COLS = 4096, 8192
AXPY = 1 << 25
SOFT_ROWS, SOFT_COLS = 2048, 4096
REDUCE = 1 << 25


@parir.jit
def row_sums(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[i] += x[i, j]


@parir.jit
def axpy(a, x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = a * x[i] + y[i]


@parir.jit
def softmax(x, y, N, M):
    parir.label('N')
    for i in range(N):
        m = x[i, 0]
        for j in range(M):
            m = max(m, x[i, j])
        s = parir.float32(0.0)
        for j in range(M):
            e = parir.exp(x[i, j] - m)
            y[i, j] = e
            s += e
        for j in range(M):
            y[i, j] = y[i, j] / s


@parir.jit
def total(x, out, N):
    parir.label('N')
    for i in range(N):
        out[0] += x[i]


@parir.jit
def any_bits(x, out, N):
    parir.label('N')
    for i in range(N):
        out[0] |= x[i]


@parir.jit
def total_above(x, out, N):
    parir.label('N')
    for i in range(N):
        if x[i] > 0.5:
            out[0] += x[i]


@parir.jit
def map_and_sum_above(x, z, out, N):
    parir.label('N')
    for i in range(N):
        z[i] = x[i] * 2.0
        if x[i] > 0.5:
            out[0] += x[i]


@parir.jit
def moments(x, out, N):
    parir.label('N')
    for i in range(N):
        out[0] += x[i]
        out[1] += x[i] * x[i]


@parir.jit
def tiny(x, N):
    parir.label('N')
    for i in range(N):
        x[i] = x[i] + 1.0


def best(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def numba_kernels():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(parallel=True, fastmath=False)
    def nb_row_sums(x, y):
        for i in numba.prange(x.shape[0]):
            s = np.float32(0.0)
            for j in range(x.shape[1]):
                s += x[i, j]
            y[i] = s

    @numba.njit(parallel=True)
    def nb_axpy(a, x, y):
        for i in numba.prange(x.shape[0]):
            y[i] = a * x[i] + y[i]

    @numba.njit(parallel=True)
    def nb_softmax(x, y):
        for i in numba.prange(x.shape[0]):
            m = x[i, 0]
            for j in range(x.shape[1]):
                m = max(m, x[i, j])
            s = np.float32(0.0)
            for j in range(x.shape[1]):
                e = np.exp(x[i, j] - m)
                y[i, j] = e
                s += e
            for j in range(x.shape[1]):
                y[i, j] = y[i, j] / s

    @numba.njit(parallel=True)
    def nb_total(x):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            s += x[i]
        return s

    @numba.njit(parallel=True)
    def nb_total_above(x):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            if x[i] > 0.5:
                s += x[i]
        return s

    @numba.njit(parallel=True)
    def nb_map_and_sum_above(x, z):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            z[i] = x[i] * 2.0
            if x[i] > 0.5:
                s += x[i]
        return s

    @numba.njit(parallel=True)
    def nb_moments(x):
        s = 0.0
        q = 0.0
        for i in numba.prange(x.shape[0]):
            s += x[i]
            q += x[i] * x[i]
        return s, q

    @numba.njit(parallel=True)
    def nb_tiny(x):
        for i in numba.prange(x.shape[0]):
            x[i] = x[i] + 1.0

    return (nb_row_sums, nb_axpy, nb_softmax, nb_total, nb_total_above, nb_map_and_sum_above, nb_moments,
            nb_tiny)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repeat = args.repeat
    rng = np.random.default_rng(0)
    x = rng.random((ROWS, COLS), dtype=np.float32)
    y = np.zeros(ROWS, dtype=np.float32)
    ax, ay = rng.random(AXPY), rng.random(AXPY)
    sx = rng.random((SOFT_ROWS, SOFT_COLS), dtype=np.float32)
    sy = np.zeros_like(sx)
    rx = rng.random(REDUCE)
    rz = np.zeros_like(rx)
    bits = rng.integers(0, 1 << 40, REDUCE)
    bits_out = np.zeros(1, dtype=np.int64)
    out = np.zeros(2)
    small = np.zeros(16)

    bytes_rows = x.nbytes + y.nbytes
    bytes_axpy = 3 * ay.nbytes  # read x, read y, write y
    bytes_soft = 2 * sx.nbytes + 2 * sy.nbytes  # read x twice, write y, read and write y
    bytes_total = rx.nbytes
    bytes_map_sum = rx.nbytes + rz.nbytes  # read x, write z
    gbs = lambda nbytes, seconds: nbytes / seconds / 1e9  # noqa: E731

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}; best of {repeat}")
    rows_opts = parir.par({'N': parir.threads(ROWS), 'M': parir.threads(COLS).reduce()})
    start = time.perf_counter()
    row_sums(x, y, ROWS, COLS, opts=rows_opts)
    first_call = time.perf_counter() - start
    assert np.allclose(y, x.sum(axis=1), rtol=1e-3)

    def run_rows():
        y[:] = 0
        row_sums(x, y, ROWS, COLS, opts=rows_opts)

    axpy_opts = parir.par({'N': parir.threads(AXPY)})
    soft_opts = parir.par({'N': parir.threads(SOFT_ROWS)})
    total_opts = parir.par({'N': parir.threads(REDUCE).reduce()})
    tiny_opts = parir.par({'N': parir.threads(16)})

    def run_total():
        out[0] = 0
        total(rx, out, REDUCE, opts=total_opts)

    def run_total_above():
        out[0] = 0
        total_above(rx, out, REDUCE, opts=total_opts)

    def run_map_and_sum_above():
        out[0] = 0
        map_and_sum_above(rx, rz, out, REDUCE, opts=axpy_opts)

    def run_moments():
        out[:] = 0
        moments(rx, out, REDUCE, opts=axpy_opts)

    def run_any_bits():
        bits_out[0] = 0
        any_bits(bits, bits_out, REDUCE, opts=axpy_opts)

    ours = {
        "row sums": gbs(bytes_rows, best(run_rows, repeat)),
        "axpy": gbs(bytes_axpy, best(lambda: axpy(2.0, ax, ay, AXPY, opts=axpy_opts), repeat)),
        "softmax rows": gbs(bytes_soft, best(lambda: softmax(sx, sy, SOFT_ROWS, SOFT_COLS, opts=soft_opts), repeat)),
        "1-D sum": gbs(bytes_total, best(run_total, repeat)),
        "1-D sum if": gbs(bytes_total, best(run_total_above, repeat)),
        "map + sum if": gbs(bytes_map_sum, best(run_map_and_sum_above, repeat)),
        "two moments": gbs(bytes_total, best(run_moments, repeat)),
        "1-D or": gbs(bits.nbytes, best(run_any_bits, repeat)),
    }
    softmax(sx, sy, SOFT_ROWS, SOFT_COLS, opts=soft_opts)
    e = np.exp(sx - sx.max(axis=1, keepdims=True))
    assert np.allclose(sy, e / e.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
    run_total()
    assert np.isclose(out[0], rx.sum())
    run_total_above()
    assert np.isclose(out[0], rx[rx > 0.5].sum())
    run_map_and_sum_above()
    assert np.isclose(out[0], rx[rx > 0.5].sum()) and np.array_equal(rz, 2 * rx)
    run_moments()
    assert np.allclose(out, [rx.sum(), rx @ rx])
    run_any_bits()
    assert bits_out[0] == np.bitwise_or.reduce(bits)
    tiny(small, 16, opts=tiny_opts)
    calls = 20000
    start = time.perf_counter()
    for _ in range(calls):
        tiny(small, 16, opts=tiny_opts)
    overhead = (time.perf_counter() - start) / calls
    start = time.perf_counter()
    for _ in range(calls):
        tiny(small, 16, opts=parir.par({'N': parir.threads(16)}))
    overhead_new_opts = (time.perf_counter() - start) / calls

    def np_softmax():
        e = np.exp(sx - sx.max(axis=1, keepdims=True))
        np.divide(e, e.sum(axis=1, keepdims=True), out=sy)

    numpy_figures = {
        "row sums": gbs(bytes_rows, best(lambda: np.sum(x, axis=1, out=y), repeat)),
        "axpy": gbs(bytes_axpy, best(lambda: np.add(2.0 * ax, ay, out=ay), repeat)),
        "softmax rows": gbs(bytes_soft, best(np_softmax, repeat)),
        "1-D sum": gbs(bytes_total, best(lambda: rx.sum(), repeat)),
        "1-D sum if": gbs(bytes_total, best(lambda: np.where(rx > 0.5, rx, 0.0).sum(), repeat)),
        "map + sum if": gbs(bytes_map_sum, best(lambda: (np.multiply(rx, 2.0, out=rz),
                                                          np.where(rx > 0.5, rx, 0.0).sum()), repeat)),
        "two moments": gbs(bytes_total, best(lambda: (rx.sum(), rx @ rx), repeat)),
        "1-D or": gbs(bits.nbytes, best(lambda: np.bitwise_or.reduce(bits), repeat)),
    }
    numba_figures = None
    numba_first = None
    numba_overhead = None
    kernels = numba_kernels()
    if kernels:
        nb_rows, nb_axpy, nb_soft, nb_total, nb_total_above, nb_map_sum, nb_moments, nb_tiny = kernels
        start = time.perf_counter()
        nb_rows(x, y)
        numba_first = time.perf_counter() - start
        nb_axpy(2.0, ax, ay), nb_soft(sx, sy), nb_total(rx), nb_total_above(rx), nb_moments(rx), nb_tiny(small)
        nb_map_sum(rx, rz)
        numba_figures = {
            "row sums": gbs(bytes_rows, best(lambda: nb_rows(x, y), repeat)),
            "axpy": gbs(bytes_axpy, best(lambda: nb_axpy(2.0, ax, ay), repeat)),
            "softmax rows": gbs(bytes_soft, best(lambda: nb_soft(sx, sy), repeat)),
            "1-D sum": gbs(bytes_total, best(lambda: nb_total(rx), repeat)),
            "1-D sum if": gbs(bytes_total, best(lambda: nb_total_above(rx), repeat)),
            "map + sum if": gbs(bytes_map_sum, best(lambda: nb_map_sum(rx, rz), repeat)),
            "two moments": gbs(bytes_total, best(lambda: nb_moments(rx), repeat)),
        }
        start = time.perf_counter()
        for _ in range(calls):
            nb_tiny(small)
        numba_overhead = (time.perf_counter() - start) / calls
    else:
        print("(numba is not installed: pip install numba to compare with it)")

    print(f"{'kernel':<14} {'parla.parir GB/s':>17} {'numpy GB/s':>11} {'numba GB/s':>11} {'vs numba':>9}")
    for name in ours:
        # Numba's prange has no bitwise reductions (`s |= x[i]` is refused).
        nb = (numba_figures or {}).get(name)
        versus = f"{nb:>11.1f} {ours[name] / nb:>8.2f}x" if nb else f"{'-':>11} {'-':>9}"
        print(f"{name:<14} {ours[name]:>17.1f} {numpy_figures[name]:>11.1f} {versus}")
    print(f"first call (compile + run) of the row sum: parla.parir {first_call * 1e3:.0f} ms"
          + (f", numba {numba_first * 1e3:.0f} ms" if numba_first else ""))
    print(f"warm call overhead (16-element kernel): parla.parir {overhead * 1e6:.2f} us "
          f"({overhead_new_opts * 1e6:.2f} us building parir.par each call)"
          + (f", numba {numba_overhead * 1e6:.2f} us" if numba_overhead else ""))


if __name__ == "__main__":
    main()
