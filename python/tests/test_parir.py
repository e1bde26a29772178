"""parla.parir on the CPU: the Parir README's examples, semantics, and
compiled results against NumPy and against seq=True."""

import math
import re
import time

import numpy as np
import pytest

import block_kernels
import math_kernels
import parla.parir as parir
from shared_kernels import centre, into_slot


@parir.jit
def sum_rows(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[i] += x[i, j]


@parir.jit
def sum_rows_slices(x, y, N, M):
    parir.label('N')
    parir.label('M')
    y[:] = parir.sum(x[:, :], axis=1)


@parir.jit
def sum_all(x, y, N, M):
    parir.label('N')
    parir.label('M')
    y[0] = parir.sum(x[:, :])


@parir.jit
def total(x, y, N):
    with parir.gpu:
        y[0] = 0.0
        parir.label('N')
        for i in range(N):
            y[0] += x[i]


@parir.jit
def axpy(a, x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = a * x[i] + y[i]


SIZES = [1, 2, 31, 33, 97, 256]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("m", [1, 31, 64])
def test_readme_sum_rows(n, m):
    x = np.random.default_rng(n * m).random((n, m), dtype=np.float32)
    y = np.zeros(n, dtype=np.float32)
    sum_rows(x, y, n, m, opts=parir.par({'N': parir.threads(n), 'M': parir.threads(m).reduce()}))
    np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-5)
    # The same without .reduce(): the inner loop only updates y[i].
    y2 = np.zeros(n, dtype=np.float32)
    sum_rows(x, y2, n, m, opts=parir.par({'N': parir.threads(n)}))
    np.testing.assert_allclose(y2, x.sum(axis=1), rtol=1e-5)


@pytest.mark.parametrize("n", SIZES)
def test_readme_slices(n):
    x = np.random.default_rng(n).random((n, 37))
    y = np.zeros(n)
    sum_rows_slices(x, y, n, 37, opts=parir.par({'N': parir.threads(n), 'M': parir.threads(37)}))
    np.testing.assert_allclose(y, x.sum(axis=1))
    z = np.zeros(1)
    sum_all(x, z, n, 37, opts=parir.par({'N': parir.threads(n), 'M': parir.threads(37)}))
    np.testing.assert_allclose(z[0], x.sum())


@parir.jit
def shift_window(x, y, N):
    parir.label('N')
    y[2:N + 2] = x[0:N] * 2.0 + y[2:N + 2]


@parir.jit
def column_extremes(x, low, high, N, M):
    parir.label('M')
    parir.label('N')
    low[:] = parir.min(x[:, :], axis=0)
    parir.label('M')
    parir.label('N')
    high[:] = parir.max(x[:, :], axis=0)


@parir.jit
def add_row_products(x, y, N, M):
    parir.label('N')
    parir.label('M')
    y[:] *= parir.prod(x[:, :], axis=1)


def test_negative_axes_count_from_the_last_and_empty_min_max_are_errors():
    @parir.jit
    def row_sums(x, y, N, M):
        parir.label('N')
        parir.label('M')
        y[:] = parir.sum(x[:, :], axis=-1)

    x = np.arange(12.0).reshape(3, 4)
    y = np.zeros(3)
    row_sums(x, y, 3, 4, opts=parir.par({'N': parir.threads(3), 'M': parir.threads(4)}))
    np.testing.assert_array_equal(y, x.sum(axis=-1))

    @parir.jit
    def smallest(x, y, N):
        parir.label('N')
        y[0] = parir.min(x[:])

    with pytest.raises(parir.CompileError, match="parir.min over an empty slice: NumPy raises ValueError"):
        smallest(np.zeros(0), np.zeros(1), 0, opts=parir.par({'N': parir.threads(1)}))


def test_debug_reports_min_or_max_of_a_slice_that_is_empty_at_run_time():
    # x[0:i] is empty in iteration 0 only: known at run time, checked
    # under debug=True with NumPy's error.
    @parir.jit
    def prefix_max(x, y, K, N):
        parir.label('N')
        for i in range(N):
            y[i] = parir.max(x[0:i + K])

    x, y = np.arange(1.0, 9.0), np.zeros(8)
    with pytest.raises(ValueError, match=r"test_parir.py:\d+:\d+: parir.max over an empty slice .*debug=True"):
        prefix_max(x, y, 0, 8, opts=parir.par({'N': parir.threads(8)}), debug=True)
    with pytest.raises(ValueError, match="zero-size array"):
        prefix_max(x, y, 0, 8, opts=parir.par({'N': parir.threads(8)}), seq=True)
    prefix_max(x, y, 1, 8, opts=parir.par({'N': parir.threads(8)}), debug=True)
    np.testing.assert_array_equal(y, x)


def test_negative_slice_bounds_count_from_the_end():
    @parir.jit
    def corners(x, y, N):
        parir.label('N')
        y[:, :] = x[1:, :-1] - x[:-1, -4:]

    x = np.arange(20.0).reshape(4, 5) ** 2
    y = np.zeros((3, 4))
    corners(x, y, 3, opts=parir.par({'N': parir.threads(3)}))
    np.testing.assert_array_equal(y, x[1:, :-1] - x[:-1, -4:])


@parir.jit
def add_one_between(x, y, a, b):
    parir.label('N')
    y[a:b] = x[a:b] + 1.0


@pytest.mark.parametrize("debug", [False, True])
def test_a_slice_that_ends_before_it_starts_is_empty(debug):
    """x[2:1] is empty in NumPy, with bounds known when compiling or only
    at run time."""
    x = np.arange(8.0)
    for a, b in [(2, 1), (2, 5), (np.array([5])[0], np.array([3])[0])]:
        y, want = np.zeros(8), np.zeros(8)
        add_one_between(x, y, a, b, opts=parir.par({'N': parir.threads(8)}), debug=debug)
        add_one_between(x, want, a, b, seq=True)
        np.testing.assert_array_equal(y, want)

    @parir.jit
    def rows_between(x, y, bounds, n):
        parir.label('N')
        for i in range(n):
            y[i, bounds[0]:bounds[1]] = x[i, bounds[0]:bounds[1]] + 1.0

    for bounds in ([5, 3], [3, 5]):
        y, want = np.zeros((2, 8)), np.zeros((2, 8))
        rows_between(np.ones((2, 8)), y, np.array(bounds), 2, opts=parir.par({'N': parir.threads(2)}), debug=debug)
        rows_between(np.ones((2, 8)), want, np.array(bounds), 2, seq=True)
        np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("n", [1, 5, 31, 33])
def test_slices_with_ranges_start_each_slice_at_its_own_lower_bound(n):
    rng = np.random.default_rng(n)
    x, y = rng.random(n), rng.random(n + 4)
    expected = y.copy()
    expected[2:n + 2] = x * 2.0 + y[2:n + 2]
    shift_window(x, y, n, opts=parir.par({'N': parir.threads(n)}))
    np.testing.assert_allclose(y, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8, np.int64])
def test_slice_min_max_over_an_axis_for_every_kind_of_number(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 200, (33, 7)).astype(dtype)
    low, high = np.zeros(7, dtype), np.zeros(7, dtype)
    for spec in ({'M': parir.threads(7)}, {'M': parir.threads(7), 'N': parir.threads(33).reduce()}):
        column_extremes(x, low, high, 33, 7, opts=parir.par(spec))
        np.testing.assert_array_equal(low, x.min(axis=0))
        np.testing.assert_array_equal(high, x.max(axis=0))


@parir.jit
def extremes_every_way(x, out, N):
    parir.label('N')
    out[0] = parir.max(x[:])
    parir.label('N')
    out[1] = parir.min(x[:])
    parir.label('R')
    for i in range(N):
        out[2] = max(out[2], x[i])
    parir.label('R')
    for i in range(N):
        out[3] = min(out[3], x[i])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["nan first", "nan middle", "nan last", "all -inf", "all +inf"])
def test_float_min_max_propagate_nan_and_reach_infinities_in_every_form(dtype, case):
    # As numpy's max/min: a NaN anywhere gives NaN, whichever thread meets
    # it and whatever follows; infinities are values like any other.
    n = 1000
    x = np.linspace(-5, 5, n).astype(dtype)
    position = {"nan first": 0, "nan middle": n // 2, "nan last": n - 1}.get(case)
    if position is not None:
        x[position] = np.nan
    elif case == "all -inf":
        x[:] = -np.inf
    else:
        x[:] = np.inf
    for threads in (1, 4, 64):
        out = np.array([0, 0, -np.inf, np.inf], dtype=dtype)
        extremes_every_way(x, out, n, opts=parir.par({'N': parir.threads(threads), 'R': parir.threads(threads).reduce()}))
        expected = np.array([x.max(), x.min(), x.max(), x.min()], dtype=dtype)
        np.testing.assert_array_equal(out, expected, err_msg=f"{threads} threads")


def test_slice_reduction_updates_continue_from_the_destination():
    rng = np.random.default_rng(4)
    x, y = rng.random((9, 5)) + 0.5, rng.random(9)
    expected = y * x.prod(axis=1)
    add_row_products(x, y, 9, 5, opts=parir.par({'N': parir.threads(9)}))
    np.testing.assert_allclose(y, expected)


@parir.jit
def reductions_of_expressions(x, w, a, b, rows, columns, dot, total, largest, N, M):
    parir.label('N')
    parir.label('M')
    rows[:] = parir.sum(x[:, :] * w[:, :], axis=1)
    parir.label('M')
    parir.label('N')
    columns[:] = parir.max(parir.abs(x[:, :] - 0.5), axis=0)
    parir.label('N')
    dot[0] = parir.sum(a[:] * b[:])
    parir.label('N')
    parir.label('M')
    total[0] = parir.sum(x[:, :] * 2.0 + w[:, :])
    parir.label('N')
    largest[0] = parir.max(a[1:] - b[:-1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_slice_reductions_of_expressions_of_slices(dtype):
    """parir.sum(a[:] * b[:]) and friends reduce the expression's elements,
    as NumPy does (of every axis, or of one), in the expression's dtype,
    with the reduced loops parallel or not."""
    rng = np.random.default_rng(5)
    n, m = 37, 23
    x, w = rng.random((n, m)).astype(dtype), rng.random((n, m)).astype(dtype)
    a, b = rng.random(n).astype(dtype), rng.random(n).astype(dtype)
    expected = [(x * w).sum(axis=1), np.abs(x - 0.5).max(axis=0), [(a * b).sum()], [(x * 2.0 + w).sum()],
                [(a[1:] - b[:-1]).max()]]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for spec in ({'N': parir.threads(n), 'M': parir.threads(m).reduce()},
                 {'N': parir.threads(n).reduce(), 'M': parir.threads(m)}):
        found = [np.zeros(n, dtype), np.zeros(m, dtype), np.zeros(1, dtype), np.zeros(1, dtype), np.zeros(1, dtype)]
        reductions_of_expressions(x, w, a, b, *found, n, m, opts=parir.par(spec))
        for f, e in zip(found, expected):
            np.testing.assert_allclose(f, e, rtol=rtol)
    interpreted = [np.zeros(n, dtype), np.zeros(m, dtype), np.zeros(1, dtype), np.zeros(1, dtype), np.zeros(1, dtype)]
    reductions_of_expressions(x, w, a, b, *interpreted, n, m, seq=True)
    for f, e in zip(interpreted, expected):
        np.testing.assert_allclose(f, e, rtol=rtol)


@parir.jit
def counts_and_wide_sums(x, small, counts, total, products, N, M):
    parir.label('N')
    parir.label('M')
    counts[:] = parir.sum(x[:, :] > 0.5, axis=1)
    parir.label('N')
    total[0] = parir.sum(small[:])
    parir.label('N')
    products[0] = parir.prod(small[:4] + 1)


@pytest.mark.parametrize("into", [np.int64, np.int32, np.uint16, np.int8])
def test_slice_sums_of_bools_and_narrower_integers_count_in_the_destinations_type(into):
    """NumPy sums bools and small integers in 64 bits and the store wraps
    the result to the destination: the same bits as summing in the
    destination's type, which is what runs (the sums into single elements
    of 8 and 16 bits wrap, where NumPy raises OverflowError)."""
    rng = np.random.default_rng(8)
    n, m = 300, 41
    x = rng.random((n, m))
    small = rng.integers(-128, 128, n).astype(np.int8)
    expected = [np.sum(x > 0.5, axis=1).astype(into), np.array([small.sum()]).astype(into),
                np.array([np.prod(small[:4] + np.int8(1), dtype=np.int64)]).astype(into)]
    for spec in ({'N': parir.threads(n), 'M': parir.threads(m).reduce()},
                 {'N': parir.threads(n).reduce(), 'M': parir.threads(m)}):
        found = [np.zeros(n, into), np.zeros(1, into), np.zeros(1, into)]
        counts_and_wide_sums(x, small, *found, n, m, opts=parir.par(spec))
        for f, e in zip(found, expected):
            np.testing.assert_array_equal(f, e)
    if np.iinfo(into).bits >= 32:
        # Python stores wider values into single elements only in range.
        found = [np.zeros(n, into), np.zeros(1, into), np.zeros(1, into)]
        counts_and_wide_sums(x, small, *found, n, m, seq=True)
        for f, e in zip(found, expected):
            np.testing.assert_array_equal(f, e)


@parir.jit
def normalise_rows(y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        y[i, :] = y[i, :] / y[i, 0]


def test_slice_statements_read_single_elements_of_their_destination_before_writing_as_numpy_does():
    x = np.arange(1.0, 1001.0)
    expected = x - x[0]
    centre(x, 1000, opts=parir.par({'N': parir.threads(64)}))
    np.testing.assert_array_equal(x, expected)
    y = np.random.default_rng(6).random((50, 70)) + 1.0
    expected = y / y[:, :1]
    normalise_rows(y, 50, 70, opts=parir.par({'N': parir.threads(50), 'M': parir.threads(32)}))
    np.testing.assert_allclose(y, expected)
    z = np.arange(1.0, 11.0)
    centre(z, 10, seq=True)
    np.testing.assert_array_equal(z, np.arange(10.0))


@pytest.mark.parametrize("n", [1, 7, 1000, 100_003])
def test_readme_gpu_block_reduction(n):
    x = np.random.default_rng(n).random(n)
    y = np.full(1, 123.0)
    total(x, y, n, opts=parir.par({'N': parir.threads(n).reduce()}))
    np.testing.assert_allclose(y[0], x.sum())
    y_seq = np.full(1, 123.0)
    total(x, y_seq, n, seq=True)
    np.testing.assert_allclose(y[0], y_seq[0])


def test_reduce_accepts_every_reduction_found_without_it():
    # `.reduce()` names what is found anyway: `y[0] -= x[i]`, a local
    # `s += x[i]` (which the README's own examples write without it).
    @parir.jit
    def minus(x, y, n):
        parir.label('N')
        for i in range(n):
            y[0] -= x[i]

    @parir.jit
    def local_sum(x, y, n):
        with parir.gpu:
            s = 0.0
            parir.label('N')
            for i in range(n):
                s += x[i]
            y[0] = s

    # Several, into elements of one array or locals.
    @parir.jit
    def stats(x, y, n):
        parir.label('N')
        for i in range(n):
            y[0] += x[i]
            y[1] = max(y[1], x[i])
            if x[i] > 500.0:
                y[2] += 1.0

    @parir.jit
    def local_stats(x, y, n):
        with parir.gpu:
            s = 0.0
            top = 0.0
            parir.label('N')
            for i in range(n):
                s += x[i]
                top = max(top, x[i])
            y[0] = s + top

    x = np.arange(1000.0)
    for f, start, want in [(minus, 100.0, 100.0 - x.sum()), (local_sum, 0.0, x.sum()),
                           (stats, [0.0, -np.inf, 0.0], [x.sum(), x.max(), 499.0]),
                           (local_stats, 0.0, x.sum() + x.max())]:
        for spec in [parir.threads(64), parir.threads(64).reduce()]:
            y = np.full(3, start) if f is stats else np.full(1, start)
            f(x, y, 1000, opts=parir.par({'N': spec}))
            np.testing.assert_array_equal(y, want)
    gpu = parir.print_compiled(stats, [x, np.zeros(3), 1000], parir.CompileOptions(
        {'N': parir.threads(1000).reduce()}, backend="cuda", arch="sm_90"), stage="gpu")
    # The sum, the max and the conditional count (an element at a constant
    # index, in bounds whatever the condition) are block reductions, each
    # block's result combined by one atomic update.
    assert gpu.count("gpu.all_reduce") == 3 and gpu.count("memref.atomic_rmw") == 3, gpu


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32])
@pytest.mark.parametrize("threads", [4, 1000])
def test_products_over_a_parallel_loop(dtype, threads):
    # No atomic instruction multiplies: the CPU combines the threads' partial
    # products in an OpenMP reduction instead.
    @parir.jit
    def product(x, y, N):
        parir.label('N')
        for i in range(N):
            y[0] *= x[i]

    x = (np.arange(37) % 2 + 1).astype(dtype)
    y = np.full(1, 3, dtype)
    product(x, y, 37, opts=parir.par({'N': parir.threads(threads)}))
    assert y[0] == 3 * 2 ** 18


@pytest.mark.parametrize("n", [0, 5])
def test_sums_of_negative_zeros_keep_the_sign(n):
    # IEEE addition's identity is -0.0: a sum that adds only -0.0 (or
    # nothing) to -0.0 stays -0.0, as the sequential loop leaves it.
    @parir.jit
    def add_into(x, y, N):
        parir.label('N')
        for i in range(N):
            y[0] += x[i]

    x = np.full(n, -0.0)
    for spec in ({'N': parir.threads(64).reduce()}, None):
        y = np.full(1, -0.0)
        add_into(x, y, n, **({'opts': parir.par(spec)} if spec else {'seq': True}))
        assert y[0] == 0.0 and np.signbit(y[0])


def test_axpy_matches_numpy_and_seq():
    rng = np.random.default_rng(1)
    x, y = rng.random(1001), rng.random(1001)
    expected = 2.5 * x + y
    y_seq = y.copy()
    axpy(2.5, x, y_seq, 1001, seq=True)
    axpy(2.5, x, y, 1001, opts=parir.par({'N': parir.threads(1001)}))
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(y, y_seq)


DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_arithmetic_on_every_dtype(dtype):
    @parir.jit
    def kernel(a, b, n):
        parir.label('N')
        for i in range(n):
            b[i] = a[i] * 3 + a[i] // 2 - a[i] % 3

    a = (np.arange(37) * 7 % 13).astype(dtype)
    b = np.zeros(37, dtype=dtype)
    kernel(a, b, 37, opts=parir.par({'N': parir.threads(37)}))
    np.testing.assert_array_equal(b, (a * 3 + a // 2 - a % 3).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_on_every_dtype(dtype):
    a = (np.arange(1, 41) % 5 + 1).astype(dtype)
    out = np.zeros(1, dtype=dtype)
    mx = np.zeros(1, dtype=dtype)

    @parir.jit
    def reduce(a, out, mx, n):
        parir.label('N')
        for i in range(n):
            out[0] += a[i]
        parir.label('M')
        for i in range(n):
            mx[0] = max(mx[0], a[i])

    reduce(a, out, mx, 40, opts=parir.par({'N': parir.threads(40).reduce(), 'M': parir.threads(40).reduce()}))
    assert out[0] == a.sum(dtype=dtype)
    assert mx[0] == a.max()


@parir.jit
def bitwise_reductions(x, flags, y, N):
    parir.label('N')
    for i in range(N):
        y[0] &= x[i]
    parir.label('N')
    for i in range(N):
        y[1] |= x[i]
    parir.label('N')
    for i in range(N):
        y[2] = y[2] ^ x[i]
    parir.label('N')
    for i in range(N):
        if x[i] % 3 == 0:
            y[3] |= x[i]
    parir.label('N')
    for i in range(N):
        flags[0] ^= x[i] % 7 == 0
    parir.label('N')
    for i in range(N):
        flags[1] &= x[i] != 5


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.uint64])
@pytest.mark.parametrize("reduce", [True, False])
def test_bitwise_updates_of_one_element_are_reductions(dtype, reduce):
    """`y[0] |= x[i]` (and `&=`, `^=`, spelled out or under an if) over a
    parallel loop is a reduction of its own kind, as `+=` is: it once was
    an atomic instruction per iteration (20x slower than a sum on 2
    cores), and `.reduce()` refused it. Into bools, with bools, on the
    bytes; beside NumPy's reductions of the same values."""
    n = 5000
    x = np.random.default_rng(7).integers(0, np.iinfo(dtype).max, n, endpoint=True, dtype=dtype)
    x[x % 7 == 0] += 1  # one multiple of 7 more or less, known below
    x[:3] = [7, 5, 14]
    threads = parir.threads(n).reduce() if reduce else parir.threads(n)
    start = np.array([-1, 0, 6, 0], dtype=np.int64).astype(dtype)
    expected = [np.bitwise_and.reduce(x) & start[0], np.bitwise_or.reduce(x), np.bitwise_xor.reduce(x) ^ start[2],
                np.bitwise_or.reduce(x[x % 3 == 0])]
    expected_flags = [bool(np.count_nonzero(x % 7 == 0) % 2), False]
    for call in ({'opts': parir.par({'N': threads})}, {'seq': True}):
        y, flags = start.copy(), np.array([False, True])
        bitwise_reductions(x, flags, y, n, **call)
        assert y.tolist() == [int(v) for v in expected], call
        assert flags.tolist() == expected_flags, call
    gpu = parir.print_compiled(bitwise_reductions, (x, flags, y, n),
                               parir.CompileOptions({'N': threads}, backend="cuda", arch="sm_90"), stage="gpu")
    for kind in ("and", "or", "xor"):
        assert re.search(rf"gpu.all_reduce\s+{kind}\b", gpu), kind


def test_bitwise_reductions_keep_numpy_types():
    """Bitwise updates combine in the element's type, whose low bits are
    those of NumPy's promoted result; operands NumPy cannot combine
    bitwise are CompileErrors; into a bool element, an integer (not a
    truth value) runs as written, as NumPy computes it (`b ^= 3` is
    `bool(b ^ 3)`)."""
    @parir.jit
    def into(x, y, N):
        parir.label('R')
        for r in range(1):
            for i in range(N):
                y[r] ^= x[i]

    x = np.array([3, -2, 7], np.int64)
    y = np.array([5], np.int8)
    opts = parir.par({'R': parir.threads(1)})
    into(x, y, 3, opts=opts)
    assert y[0] == np.int8(5 ^ 3 ^ -2 ^ 7)
    for start in (True, False):
        b, b_seq = np.array([start]), np.array([start])
        into(x, b, 3, opts=opts)
        into(x, b_seq, 3, seq=True)
        assert b[0] == b_seq[0]
    with pytest.raises(parir.CompileError, match="bitwise operators need one integer type, and int64 with uint64"):
        into(np.zeros(3, np.uint64), np.zeros(1, np.int64), 3, opts=opts)
    with pytest.raises(parir.CompileError, match="bitwise operators need integer operands"):
        into(np.zeros(3), np.zeros(1, np.int64), 3, opts=opts)


@parir.jit
def extremes_into(x, y, N):
    parir.label('N')
    for i in range(N):
        y[0] = max(y[0], x[i])
    parir.label('N')
    for i in range(N):
        y[1] = min(y[1], x[i])


@parir.jit
def extremes_in_order(x, y, N):
    parir.label('R')
    for r in range(1):
        for i in range(N):
            y[r] = max(y[r], x[i])
            y[r + 1] = min(y[r + 1], x[i])


@pytest.mark.parametrize("element, values", [
    (np.uint32, np.int32), (np.uint8, np.int16), (np.int8, np.uint8), (np.int16, np.int64),
    (np.uint64, np.uint8), (np.int32, np.uint32)])
def test_min_and_max_of_values_the_element_cannot_hold_compare_as_python_does(element, values):
    """`y[0] = max(y[0], x[i])` with values of another type: Python
    compares the numbers and stores the winner, wrapped to the element's
    type. A uint32 maximum of int32 values once compared -3 as 4294967293;
    where the values beyond the element's range never win (negative ones
    in a max into unsigned elements) the reduction raises them to its
    bound; where they may (a uint8 minimum of -1 is 255, at every step),
    a sequential loop runs in order and a parallel one is a CompileError."""
    info = np.iinfo(values)
    x = np.array([3, info.min, 5, info.max, 2, -1 if info.min < 0 else 0], dtype=values)
    fits = {"max": True, "min": True}
    e = np.iinfo(element)
    fits["max"] = int(info.max) <= int(e.max)
    fits["min"] = int(info.min) >= int(e.min)
    start = np.array([4, 4, 4], dtype=element)
    # Python's comparison of the numbers, the winner stored as the
    # compiled store wraps it (NumPy raises OverflowError for some).
    wrap = lambda v: int(np.array(v, dtype=object).astype(np.int64).astype(element))  # noqa: E731
    high, low = 4, 4
    for v in map(int, x):
        high, low = wrap(max(high, v)), wrap(min(low, v))
    expected = np.array([high, low, 4], dtype=element)
    got = start.copy()
    extremes_in_order(x, got, len(x), opts=parir.par({'R': parir.threads(1)}))
    assert got.tolist() == expected.tolist()
    parallel = start.copy()
    opts = parir.par({'N': parir.threads(len(x))})
    if fits["max"] and fits["min"]:
        extremes_into(x, parallel, len(x), opts=opts)
        assert parallel[:2].tolist() == expected[:2].tolist()
    else:
        with pytest.raises(parir.CompileError, match="cannot hold them all"):
            extremes_into(x, parallel, len(x), opts=opts)


def test_min_and_max_reductions_of_floats_and_into_bools_compare_as_python_does():
    """A float below an unsigned element's range never wins its max (-4.0
    once converted first, to 65532), nor a NaN; into a bool element only
    bools combine as a max or min of truths (`min(False, -27)` is -27,
    which is True), others run as written."""
    x = np.array([-4.0, 1.0, np.nan, 3.5])
    y = np.array([2, 9, 9], np.uint16)
    extremes_into(x, y, 4, opts=parir.par({'N': parir.threads(4)}))
    assert y[:2].tolist() == [3, 1]
    y = np.array([2, 9, 9], np.uint16)
    extremes_into(x[:2], y, 2, opts=parir.par({'N': parir.threads(2).reduce()}))
    assert y[:2].tolist() == [2, 1]  # min(9, -4.0), stored as the cast gives it, then min(that, 1.0)

    x = np.array([-27, 0], np.int64)
    flags, flags_seq = np.array([False, False, False]), np.array([False, False, False])
    extremes_in_order(x, flags, 2, opts=parir.par({'R': parir.threads(1)}))
    extremes_in_order(x, flags_seq, 2, seq=True)
    assert flags.tolist() == flags_seq.tolist()
    with pytest.raises(parir.CompileError, match="race"):
        extremes_into(x, flags, 2, opts=parir.par({'N': parir.threads(2)}))


@parir.jit
def add_into_first(x, y, N):
    parir.label('R')
    for r in range(1):
        for i in range(N):
            y[r] += x[i]


@parir.jit
def add_all(x, y, N):
    parir.label('N')
    for i in range(N):
        y[0] += x[i]


def test_sums_of_uint64_and_int64_round_at_every_step_as_numpy_adds_them():
    """NumPy adds uint64 and int64 in float64: a nest adding one into the
    other rounds at every step (in order), and a parallel one is a
    CompileError; it once summed exactly."""
    x = np.array([2**53, 1, 1, 1], np.uint64)
    y, y_seq = np.zeros(1, np.int64), np.zeros(1, np.int64)
    add_into_first(x, y, 4, opts=parir.par({'R': parir.threads(1)}))
    add_into_first(x, y_seq, 4, seq=True)
    assert y.tolist() == y_seq.tolist() == [2**53]
    with pytest.raises(parir.CompileError, match=r"adds .or multiplies. uint64 values .which NumPy adds to int64 "
                                                 r"in float64. into an integer element"):
        add_all(x, y, 4, opts=parir.par({'N': parir.threads(4)}))


@pytest.mark.parametrize("n", [3, 256, 4096])
@pytest.mark.parametrize("fill", ["all", "none", "one"])
def test_bool_reductions_are_any_and_all(n, fill):
    """NumPy adds bools as a logical or and multiplies them as a logical
    and, and a bool array's sum stored into a bool is `any`: reductions
    once summed bytes, which wrapped at 256 (4096 trues gave False)."""
    @parir.jit
    def reduce(x, rows, flags, row_any, N, M):
        parir.label('N')
        for i in range(N):
            flags[0] += x[i]
        parir.label('N')
        for i in range(N):
            flags[1] *= x[i]
        parir.label('N')
        flags[2] = parir.sum(x[:])
        parir.label('N')
        flags[3] = parir.prod(x[:])
        parir.label('R')
        for r in range(2):
            for j in range(M):
                row_any[r] += rows[r, j]

    x = {"all": np.ones(n, bool), "none": np.zeros(n, bool), "one": np.arange(n) == n // 2}[fill]
    rows = np.stack([x, ~x])
    expected_flags = [x.any(), x.all(), x.any(), x.all()]
    for call in ({'opts': parir.par({'N': parir.threads(n).reduce(), 'R': parir.threads(2)})},
                 {'opts': parir.par({'N': parir.threads(n), 'R': parir.threads(2)})},
                 {'seq': True}):
        flags = np.array([False, True, False, True])
        row_any = np.zeros(2, bool)
        reduce(x, rows, flags, row_any, n, n, **call)
        assert flags.tolist() == expected_flags, call
        assert row_any.tolist() == rows.any(axis=1).tolist(), call
        assert flags.view(np.uint8).max() <= 1 and row_any.view(np.uint8).max() <= 1


@parir.jit
def group_sums_unlabelled(x, groups, y, N, M):
    """block_kernels.group_sums with a sequential inner loop."""
    parir.label('N')
    for i in range(N):
        for j in range(M):
            y[groups[i]] += x[i, j]


@pytest.mark.parametrize("labelled", [True, False])
def test_row_sums_into_elements_that_rows_share_are_atomic(labelled):
    """The sum of each row, added to the element of its group: rows of one
    group share the element, so each row's sum is combined atomically. It
    used to be stored over the other rows' sums."""
    group_sums = block_kernels.group_sums if labelled else group_sums_unlabelled
    n, m = 20000, 50
    x = np.random.default_rng(3).random((n, m))
    groups = np.random.default_rng(4).integers(0, 2, n)
    expected = np.bincount(groups, weights=x.sum(axis=1), minlength=2)
    spec = {'N': parir.threads(n), 'M': parir.threads(64)} if labelled else {'N': parir.threads(n)}
    for _ in range(3):
        y = np.zeros(2)
        group_sums(x, groups, y, n, m, opts=parir.par(spec))
        np.testing.assert_allclose(y, expected, rtol=1e-9)


def test_reductions_that_round_at_every_step_run_as_written():
    """Floats into an integer element round at every step (NumPy casts
    each result back): a nest of them runs in the written order, from the
    element's value; as a parallel reduction it is a CompileError."""
    @parir.jit
    def scale(a, x, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                a[i] *= x[j]

    @parir.jit
    def shift(a, x, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                a[i] -= x[j]

    @parir.jit
    def total(a, x, N):
        parir.label('N')
        for i in range(N):
            a[0] += x[i]

    opts = parir.par({'N': parir.threads(2)})
    for function, start, x in ((scale, [4, 3], [0.5, 2.0]), (shift, [2, -3], [0.5, -0.7])):
        compiled, reference = np.array(start), np.array(start)
        function(compiled, np.array(x), 2, 2, opts=opts)
        function(reference, np.array(x), 2, 2, seq=True)
        assert compiled.tolist() == reference.tolist(), function.__name__
    with pytest.raises(parir.CompileError, match="rounds at every step"):
        total(np.zeros(1, np.int64), np.array([0.5, 0.7]), 2, opts=opts)


def test_reductions_that_round_into_shared_integer_elements_are_refused():
    # Each step rounds, and rows of one group would share the element.
    with pytest.raises(parir.CompileError, match="rounds at every step"):
        group_sums_unlabelled(np.ones((8, 4)), np.zeros(8, np.int64), np.zeros(2, np.int64), 8, 4,
                   opts=parir.par({'N': parir.threads(8)}))
    # So is a parallel inner loop, whose iterations would combine in any
    # order: once a late ValueError from the race check, located in the IR.
    with pytest.raises(parir.CompileError, match="rounds at every step") as caught:
        sum_rows(np.ones((8, 4)), np.zeros(8, np.int32), 8, 4,
                 opts=parir.par({'N': parir.threads(8), 'M': parir.threads(4).reduce()}))
    assert caught.value.file == __file__


@parir.jit
def scatter_scaled(b, h, n):
    parir.label('N')
    for i in range(n):
        h[b[i]] += 2.5


@parir.jit
def scatter_rescaled(b, h, n):
    parir.label('N')
    for i in range(n):
        h[b[i]] = h[b[i]] * 1.5


def test_float_updates_of_integer_elements_at_data_indices_are_refused():
    """`h[b[i]] += 2.5` into integers rounds at every step, which no
    atomic update reproduces in another order: refused where iterations
    may share the element, as such reductions are."""
    b = np.zeros(1000, np.int64)
    opts = parir.par({'N': parir.threads(1000)})
    for function in (scatter_scaled, scatter_rescaled):
        with pytest.raises(parir.CompileError, match="rounds a float into an integer element at every step"):
            function(b, np.zeros(2, np.int64), 1000, opts=opts)
    h = np.zeros(2, np.int64)
    scatter_scaled(b, h, 1000, seq=True)
    assert h.tolist() == [2000, 0]


@pytest.mark.parametrize("update, contribution, message", [
    ("add", np.array([-1, 0]), "adds .or multiplies. numbers into a bool element"),
    ("subtract", np.array([1, 0]), "adds .or multiplies. numbers into a bool element"),
    ("subtract", np.array([True, False]), "NumPy does not subtract booleans"),
])
def test_reductions_into_bools_take_truth_values(update, contribution, message):
    """NumPy's bool += int keeps whether each step's sum is nonzero
    ((True + -1) is False), which no or of truth values computes."""
    @parir.jit
    def add(a, x, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                a[i] += x[j]

    @parir.jit
    def subtract(a, x, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                a[i] -= x[j]

    function = {"add": add, "subtract": subtract}[update]
    with pytest.raises(parir.CompileError, match=message):
        function(np.array([True, False]), contribution, 2, 2, opts=parir.par({'N': parir.threads(2)}))


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_subtracted_unsigned_values_are_negated_in_the_elements_type(dtype):
    # -u of a uint8 u wraps (-200 is 56): NumPy subtracts in the wider type.
    @parir.jit
    def subtract(a, u, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                a[i] -= u[j]

    a = np.array([0, 1000], dtype)
    subtract(a, np.array([200, 3], np.uint8), 2, 2, opts=parir.par({'N': parir.threads(2)}))
    assert a.tolist() == [-203, 797]


def test_math_functions_and_casts():
    @parir.jit
    def functions(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i, 0] = parir.exp(x[i]) + parir.log(x[i]) + parir.sqrt(x[i])
            y[i, 1] = parir.sin(x[i]) * parir.cos(x[i]) - parir.tanh(x[i])
            y[i, 2] = parir.atan2(x[i], 2.0) + abs(-x[i]) + parir.min(x[i], 0.5) + parir.max(x[i], 0.5)
            y[i, 3] = parir.float64(parir.int32(x[i] * 10.0)) + parir.float32(x[i])
            y[i, 4] = x[i] ** 2 + 2 ** 3 + x[i] / 3 + (7 // 2) + (x[i] if x[i] > 0.5 else -parir.inf)

    x = np.linspace(0.1, 2.0, 19)
    y = np.zeros((19, 5))
    functions(x, y, 19, opts=parir.par({'N': parir.threads(19)}))
    expected = np.stack([
        np.exp(x) + np.log(x) + np.sqrt(x),
        np.sin(x) * np.cos(x) - np.tanh(x),
        np.arctan2(x, 2.0) + np.abs(-x) + np.minimum(x, 0.5) + np.maximum(x, 0.5),
        (x * 10.0).astype(np.int32).astype(np.float64) + x.astype(np.float32).astype(np.float64),
        x**2 + 8 + x / 3 + 3 + np.where(x > 0.5, x, -np.inf),
    ], axis=1)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.uint16, np.int32, np.uint32, np.uint64])
def test_floats_stored_into_integers_wrap_as_numpy_does(dtype):
    @parir.jit
    def store(a, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = a[i]

    a = np.array([-2.5, -129.0, -300.0, 5.9, 300.0, 2.0**40 + 3, 2.0**63 + 2.0**20])
    # Beyond what C converts through (int, or int64 for uint32), NumPy's
    # own answer differs between machines.
    a = a[:{np.uint32: 6, np.uint64: 7}.get(dtype, 5)]
    y = np.zeros(len(a), dtype)
    store(a, y, len(a), opts=parir.par({'N': parir.threads(len(a))}))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(y, a.astype(dtype))


@parir.jit
def through_floats(x, y, z, n):
    parir.label('N')
    for i in range(n):
        y[i] = float(x[i])
        z[i] = x[i] * 1.0


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32])
def test_integers_through_floats_keep_the_floats_rounding(dtype):
    """int64 -> float64 -> int: the float has rounded 2**53 + 1 to 2**53,
    beyond what C converts into int, which gives int's minimum on the CPU
    (wrapped to 0 in 8 and 16 bits); the low bits of the integer are gone.
    (A conversion out of range is undefined to LLVM, which could fold the
    pair into the integer itself.)"""
    x = np.array([2**53 + 1, -2**53 - 1, 300, -7], np.int64)
    y, z = np.zeros(4, dtype), np.zeros(4, dtype)
    through_floats(x, y, z, 4, opts=parir.par({'N': parir.threads(4)}))
    expected = np.array([-2**31, -2**31, 300, -7], np.int64).astype(dtype)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(z, expected)


def test_functions_named_like_the_c_routines_they_call():
    """A JIT function `exp` whose code calls C's `exp` (and `erf`, `powf`)
    once called itself until the stack overflowed: compiled code names
    its entry so that no C symbol can be it."""
    @parir.jit
    def exp(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = np.exp(x[i])

    @parir.jit
    def erf(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = math.erf(x[i])

    @parir.jit
    def powf(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i] ** x[i]

    x = np.linspace(0.1, 3.0, 8)
    opts = parir.par({'N': parir.threads(4)})
    for function, expected in ((exp, np.exp(x)), (erf, [math.erf(v) for v in x])):
        y = np.zeros(8)
        function(x, y, 8, opts=opts)
        np.testing.assert_allclose(y, expected, rtol=1e-15)
    x32 = x.astype(np.float32)
    y = np.zeros(8, np.float32)
    powf(x32, y, 8, opts=opts)
    np.testing.assert_allclose(y, x32 ** x32, rtol=1e-6)
    llvm = parir.print_compiled(exp, [x, y, 8], opts, stage="llvm")
    assert "llvm.func @parla.entry.exp(" in llvm
    # The lowered text of `erf` declares C's erf beside its own body:
    # compiled back under the function's name, it is the body that runs.
    y = np.zeros(8)
    text = parir.print_compiled(erf, [x, y, 8], opts, stage="llvm")
    assert "llvm.func @erf(" in text
    parir.compile_string("erf", text)(x, y, 8)
    np.testing.assert_allclose(y, [math.erf(v) for v in x], rtol=1e-15)
    looppar = parir.print_compiled(exp, [x, y, 8], opts, stage="looppar")
    assert "func.func @exp(" in looppar


@parir.jit
def stepped_sums(y, n):
    parir.label('N')
    for i in range(n):
        s = 0
        for j in range(i, 100, 7):
            s += j
        y[i] = s


def test_closed_form_sums_of_stepped_loops_link():
    """LLVM sums `range(i, 100, 7)` in closed form with 128-bit division,
    a compiler runtime routine the engine binds."""
    y = np.zeros(8, np.int64)
    stepped_sums(y, 8, opts=parir.par({'N': parir.threads(4)}))
    assert y.tolist() == [sum(range(i, 100, 7)) for i in range(8)]


@parir.jit
def store_scalar(s, y, n):
    parir.label('N')
    for i in range(n):
        y[i] = s


@parir.jit
def store_element(a, y, n):
    parir.label('N')
    for i in range(n):
        y[i] = a[0]


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16, np.int32, np.uint32, np.int64, np.uint64])
def test_floats_known_when_compiling_convert_as_the_code_does(dtype):
    # A scalar argument is a constant in the code: it converts as an array
    # element does (NaN, inf and out-of-range values included).
    P = parir.par({'N': parir.threads(1)})
    for value in [0.5, -2.5, 300.7, 3e9, 1e10, 1e19, 2.0**63 + 2048, 1e20, np.inf, -np.inf, np.nan]:
        for s in [value, np.float32(value)]:
            known, loaded = np.zeros(1, dtype), np.zeros(1, dtype)
            store_scalar(s, known, 1, opts=P)
            store_element(np.array([s]), loaded, 1, opts=P)
            assert known[0] == loaded[0], (dtype, s, known, loaded)


@parir.jit
def scalar_arithmetic(a, b, c, y, n):
    parir.label('N')
    for i in range(n):
        y[i, 0] = a + b
        y[i, 1] = a * b
        y[i, 2] = a // b
        y[i, 3] = a % b
        y[i, 4] = a * b + c


@pytest.mark.parametrize("a,b,c", [
    (np.int8(-128), np.int8(2), np.int8(1)),
    (np.uint8(200), np.uint8(2), np.uint8(7)),
    (np.uint16(40000), np.uint16(3), np.uint16(1)),
    (np.uint64(2**64 - 3), np.uint64(10), np.uint64(5)),
    (np.int64(-2**63), np.int64(-1), np.int64(1)),
    (np.float32(0.6789), np.float32(0.4321), np.float32(0.0194)),
    (np.uint32(7), np.int8(-3), np.int16(2)),
])
def test_typed_scalars_compute_in_their_dtype(a, b, c):
    # Typed scalars are constants: what is folded when compiling is what
    # NumPy (and the code, on arrays) computes, wrapping and rounding alike.
    with np.errstate(all="ignore"):
        want = np.array([a + b, a * b, a // b, a % b, a * b + c])
    y = np.zeros((1, 5), want.dtype)
    scalar_arithmetic(a, b, c, y, 1, opts=parir.par({'N': parir.threads(1)}))
    np.testing.assert_array_equal(y[0], want)


def test_python_ints_fold_exactly_or_say_they_do_not_fit():
    @parir.jit
    def floor_division(a, b, y, n):
        parir.label('N')
        for i in range(n):
            y[i, 0] = a // b
            y[i, 1] = a % b

    P = parir.par({'N': parir.threads(1)})
    y = np.zeros((1, 2), np.int64)
    for a, b in [(-7, -2**63), (3, 2**63 - 1), (1, 2**63 - 1), (-2**63, 7), (2**63 - 1, -2)]:
        floor_division(a, b, y, 1, opts=P)
        np.testing.assert_array_equal(y[0], [a // b, a % b])
    with pytest.raises(parir.CompileError, match="does not fit 64 bits"):
        floor_division(-2**63, -1, y, 1, opts=P)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint64])
def test_shifts_by_any_count_match_numpy(dtype):
    @parir.jit
    def shifts(a, b, left, right, n):
        parir.label('N')
        for i in range(n):
            left[i] = a[i] << b[i]
            right[i] = a[i] >> b[i]

    info = np.iinfo(dtype)
    values = np.array([1, 5, info.max, info.min, info.max // 3, 0][:6], dtype)
    counts = np.arange(-2, 70)
    a = np.repeat(values, len(counts)).astype(dtype)
    b = np.tile(counts, len(values)).astype(dtype)
    n = len(a)
    left, right = np.zeros(n, dtype), np.zeros(n, dtype)
    shifts(a, b, left, right, n, opts=parir.par({'N': parir.threads(64)}))
    np.testing.assert_array_equal(left, np.left_shift(a, b))
    np.testing.assert_array_equal(right, np.right_shift(a, b))


def test_constant_powers_fold_and_conditional_values_keep_python_ints_whole():
    @parir.jit
    def scaled(x, y, z, n):
        parir.label('N')
        for i in range(n):
            y[i] = parir.int64(x[i]) * 2**40 + 2**-1 * 2
            z[i] = x[i] if x[i] > 0 else -1  # -1 does not fit uint8: chosen as an int64

    x = np.array([0, 5, 255], np.uint8)
    found = [np.zeros(3, np.int64), np.zeros(3, np.int64)]
    expected = [np.zeros(3, np.int64), np.zeros(3, np.int64)]
    scaled(x, *found, 3, opts=parir.par({'N': parir.threads(3)}))
    scaled(x, *expected, 3, seq=True)
    for f, e in zip(found, expected):
        np.testing.assert_array_equal(f, e)
    assert found[1].tolist() == [-1, 5, 255]


def test_control_flow_and_locals_match_seq():
    @parir.jit
    def control(x, y, n):
        parir.label('N')
        for i in range(n):
            k = 0
            v = x[i]
            while v > 1.0:
                v = v / 2.0
                k += 1
            if k > 2 and v < 0.9:
                y[i] = -1.0
            elif k == 0 or not v > 0.2:
                y[i] = parir.sqrt(v)
            else:
                y[i] = max(v, 0.75) + k
            for j in range(10, 0, -3):
                y[i] += j * 0.001

    x = np.random.default_rng(3).random(50) * 30
    y, y_seq = np.zeros(50), np.zeros(50)
    control(x, y, 50, opts=parir.par({'N': parir.threads(50)}))
    control(x, y_seq, 50, seq=True)
    np.testing.assert_allclose(y, y_seq)


def test_a_local_used_as_loop_variable_keeps_the_last_value_after_the_loop():
    @parir.jit
    def last_values(y, n, m):
        parir.label('N')
        for i in range(n):
            j = 7
            for j in range(3):
                y[i] += 1.0
            y[i] += j * 100.0  # 2 after the loop
            k = -1
            for k in range(m, 0, -4):
                y[i] += 0.5
            y[i] += k * 1000.0  # the last value, or -1 when the loop did not run

    for m in (9, 0):
        found, expected = np.zeros(3), np.zeros(3)
        last_values(found, 3, m, opts=parir.par({'N': parir.threads(3)}))
        last_values(expected, 3, m, seq=True)
        np.testing.assert_array_equal(found, expected)


def test_dict_arguments_zero_d_and_one_element_scalars():
    @parir.jit
    def scaled(d, n, bias):
        parir.label('N')
        for i in range(n):
            d["out"][i] = d["inp"][i] * d["scale"] + bias

    d = {"inp": np.arange(6.0), "out": np.zeros(6), "scale": 3.0}
    scaled(d, 6, np.array([0.5]), opts=parir.par({'N': parir.threads(6)}))
    np.testing.assert_array_equal(d["out"], np.arange(6.0) * 3 + 0.5)
    # A 0-d array is a typed scalar (int16 here: 0.5 * 2 truncates in the store).
    out = np.zeros(6, dtype=np.int16)
    scaled({"inp": np.arange(6, dtype=np.int16), "out": out, "scale": np.array(2, dtype=np.int16)}, 6, np.array([1], dtype=np.int16),
           opts=parir.par({'N': parir.threads(6)}))
    np.testing.assert_array_equal(out, np.arange(6) * 2 + 1)


def test_calls_between_jit_functions():
    @parir.jit
    def double_into(a, i, v):
        a[i] = v * 2

    @parir.jit
    def caller(a, n):
        parir.label('N')
        for i in range(n):
            double_into(a, i, i + 1)

    a = np.zeros(10, dtype=np.int32)
    caller(a, 10, opts=parir.par({'N': parir.threads(10)}))
    np.testing.assert_array_equal(a, 2 * np.arange(1, 11))
    # seq=True runs the callee as Python too.
    b = np.zeros(10, dtype=np.int32)
    caller(b, 10, seq=True)
    np.testing.assert_array_equal(b, a)

    # A helper redefined (the name rebound where the caller finds it: here
    # the enclosing function's variable) is the one called from then on,
    # with the same arguments as before.
    @parir.jit
    def triple_into(a, i, v):
        a[i] = v * 3

    double_into = triple_into
    caller(a, 10, opts=parir.par({'N': parir.threads(10)}))
    np.testing.assert_array_equal(a, 3 * np.arange(1, 11))


def test_a_compile_that_began_before_its_callee_was_rebound_is_not_kept():
    """A call that notices a rebound callee clears the specialisations;
    one compiled meanwhile with the old callee (in another thread) runs
    for its own call but is not kept (it once filled the cleared cache,
    and every later call of those arguments ran the old callee)."""
    import threading

    @parir.jit
    def helper(y, i):
        y[i] = 2.0

    @parir.jit
    def calls_helper(y, n):
        parir.label('N')
        for i in range(n):
            helper(y, i)

    opts = lambda n: parir.par({'N': parir.threads(n)})
    calls_helper(np.zeros(3), 3, opts=opts(3))
    first = threading.Thread(target=lambda: calls_helper(np.zeros(100), 100, opts=opts(100)))
    first.start()
    time.sleep(0.005)  # the first call compiles (tens of ms) with the old helper

    @parir.jit
    def helper(y, i):  # noqa: F811 (rebound on purpose)
        y[i] = 3.0

    calls_helper(np.zeros(7), 7, opts=opts(7))
    first.join()
    y = np.zeros(100)
    calls_helper(y, 100, opts=opts(100))
    assert y[0] == 3.0


def test_callees_resolve_names_where_they_were_defined():
    """A callee's own calls mean what they mean in its module (or the
    function it was defined in), not in the caller's: once they were
    looked up among the caller's globals, which here name another
    `inner` (and a closure's helper lost to a module's of the same
    name)."""
    import jit_helpers

    @parir.jit
    def inner(y, i):
        y[i] = 2.0

    globals()["inner"] = inner
    globals()["outer"] = jit_helpers.outer

    @parir.jit
    def through_another_module(y, n):
        parir.label('N')
        for i in range(n):
            outer(y, i)
            inner(y, i + n)

    opts = parir.par({'N': parir.threads(3)})
    y = np.zeros(6)
    through_another_module(y, 3, opts=opts)
    assert y.tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]

    def make():
        @parir.jit
        def inner(y, i):
            y[i] = 3.0

        @parir.jit
        def caller(y, n):
            parir.label('N')
            for i in range(n):
                inner(y, i)
        return caller

    y = np.zeros(3)
    make()(y, 3, opts=opts)
    assert y.tolist() == [3.0, 3.0, 3.0]

    # A function of another module with this one's name is another
    # function, not a recursion; this one under another name is one.
    @parir.jit
    def step(y, n):
        parir.label('N')
        for i in range(n):
            jit_run(y, i)

    globals()["jit_run"] = jit_helpers.run
    y = np.zeros(3)
    step(y, 3, opts=opts)
    assert y.tolist() == [5.0, 5.0, 5.0]

    @parir.jit
    def again(y, n):
        parir.label('N')
        for i in range(n):
            alias(y, i)

    globals()["alias"] = again
    with pytest.raises(parir.CompileError, match="`alias` calls itself"):
        again(y, 3, opts=opts)


def test_a_rebound_builtin_name_is_an_error_not_the_builtin():
    """JIT code reads `max`, `abs`, `len`, ... as Python's builtins; where
    the function's module (or an enclosing function) binds the name to
    something else, Python would call that instead, so compiling the
    builtin would answer otherwise: a CompileError at the use, checked at
    each call, as callees are (the module's `max` is defined after the JIT
    function)."""
    import jit_helpers

    opts = parir.par({'N': parir.threads(4)})
    y = np.array([-1.0, 2.0, -3.0, 4.0])
    with pytest.raises(parir.CompileError, match=r"`max` here is the function max of .*jit_helpers.py:\d+ "
                                                 r"\(a global of module jit_helpers\)") as error:
        jit_helpers.clip_below(y, 4, opts=opts)
    assert error.value.file.endswith("jit_helpers.py")
    assert "max(y[i], 0.0)" in error.value.source_line
    assert y.tolist() == [-1.0, 2.0, -3.0, 4.0]
    saved = jit_helpers.max
    # Bound to None, the name is no builtin either (Python would raise).
    jit_helpers.max = None
    try:
        with pytest.raises(parir.CompileError, match="`max` here is a NoneType value"):
            jit_helpers.clip_below(y, 4, opts=opts)
    finally:
        jit_helpers.max = saved
    del jit_helpers.max
    try:
        jit_helpers.clip_below(y, 4, opts=opts)
    finally:
        jit_helpers.max = saved
    assert y.tolist() == [0.0, 2.0, 0.0, 4.0]

    def make():
        def abs(v):
            return v * v

        @parir.jit
        def magnitudes(x, y, n):
            parir.label('N')
            for i in range(n):
                y[i] = abs(x[i])
        return magnitudes

    with pytest.raises(parir.CompileError, match="`abs` here is the function .*abs .*an enclosing function"):
        make()(np.ones(4), y, 4, opts=opts)

    # A called JIT function's own reads are checked where it was defined.
    def make_caller():
        def len(a):
            return 0

        @parir.jit
        def fill(y, i):
            y[i] = len(y)

        @parir.jit
        def caller(y, n):
            parir.label('N')
            for i in range(n):
                fill(y, i)
        return caller

    with pytest.raises(parir.CompileError, match="`len` here is the function .*len") as error:
        make_caller()(y, 4, opts=opts)
    assert error.value.source_line.strip() == "y[i] = len(y)"


@parir.jit
def row_histograms(bins, hist, n, m):
    parir.label('N')
    for i in range(n):
        for j in range(m):
            hist[i, bins[i, j]] += 1
            hist[i, 0] = hist[i, 0] * 1


def test_updates_at_data_indices_of_an_iterations_own_row_run():
    """`hist[i, bins[i, j]] += 1`: the data chooses the column, but the
    row is the iteration's own, so nothing is shared (not a race)."""
    bins = np.random.default_rng(4).integers(1, 5, (6, 40))
    hist = np.zeros((6, 5), np.int64)
    row_histograms(bins, hist, 6, 40, opts=parir.par({'N': parir.threads(6)}))
    expected = np.zeros((6, 5), np.int64)
    row_histograms(bins, expected, 6, 40, seq=True)
    np.testing.assert_array_equal(hist, expected)


@parir.jit
def shifted_columns(x, y):
    parir.label('N')
    y[:, :] = x[:, 1:3]


@parir.jit
def scatter_columns(x, y):
    parir.label('N')
    for i in range(x.shape[0]):
        for j in range(2):
            y[i, j + 1] = x[i, j] + x[i, 0]


def test_arrays_with_negative_strides():
    """x[:, ::-1] read and written: the memref lowering's index arithmetic
    may not wrap below zero, so a reversed view (read past its first
    column as [3, 3] for every row, once) runs on a contiguous copy,
    written back; one that overlaps another argument is a ValueError."""
    opts = parir.par({'N': parir.threads(2)})
    x = np.arange(20.0).reshape(4, 5)[:, ::-1]
    y = np.zeros((4, 2))
    shifted_columns(x, y, opts=opts)
    np.testing.assert_array_equal(y, x[:, 1:3])
    base = np.zeros((4, 5))
    target = base[::-1, ::-1]
    scatter_columns(np.arange(8.0).reshape(4, 2), target, opts=opts)
    expected = np.zeros((4, 5))
    scatter_columns(np.arange(8.0).reshape(4, 2), expected[::-1, ::-1], seq=True)
    np.testing.assert_array_equal(base, expected)
    with pytest.raises(ValueError, match="negative stride .* shares memory with another argument"):
        shifted_columns(base[:, ::-1], base[:, :2], opts=opts)


def test_several_early_exits_in_one_loop():
    """Two `continue`s (or `break`s) in a row: the statements after the
    first moved into its branch without their own exit removed, which
    then stood alone as 'outside a loop'."""
    @parir.jit
    def skip_twice(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] < 0:
                continue
            if x[i] > 1.0:
                continue
            y[i] += 2.0
            for j in range(n):
                if j == 2:
                    break
                if x[j] > 1.0:
                    break
                y[i] += 1.0

    x = np.array([-1.0, 0.5, 2.0, 0.25])
    expected, found = np.zeros(4), np.zeros(4)
    skip_twice(x, expected, 4, seq=True)
    skip_twice(x, found, 4, opts=parir.par({'N': parir.threads(4)}))
    assert found.tolist() == expected.tolist() == [0.0, 4.0, 0.0, 4.0]


def test_a_call_of_a_function_of_parallel_loops_stands_outside_them():
    """`scale(x, n)` at the top of a function whose callee holds the
    parallel loop: the call computes nothing where it stands; the callee's
    own statements must be in parallel loops (or on the device)."""
    @parir.jit
    def scale_into(x, y, n, k):
        parir.label('N')
        for i in range(n):
            y[i] = x[i] * k

    @parir.jit
    def first_row_only(x, y, n):
        y[0] = x[0]

    globals()["scale_into"] = scale_into
    globals()["first_row_only"] = first_row_only

    @parir.jit
    def scale_twice(x, y, z, n):
        scale_into(x, y, n, 2.0)
        scale_into(y, z, n, -1)

    @parir.jit
    def calls_sequential_code(x, y, n):
        first_row_only(x, y, n)

    @parir.jit
    def computes_an_argument(x, y, n):
        scale_into(x, y, n, x[0])

    x, y, z = np.arange(8.0), np.zeros(8), np.zeros(8)
    scale_twice(x, y, z, 8, opts=parir.par({'N': parir.threads(8)}))
    np.testing.assert_array_equal(z, -2 * x)
    with pytest.raises(parir.CompileError, match=r"(?s)outside every parallel loop.*y\[0\] = x\[0\]"):
        calls_sequential_code(x, y, 8, opts=parir.par({'N': parir.threads(8)}))
    with pytest.raises(parir.CompileError, match=r"(?s)outside every parallel loop.*scale_into\(x, y, n, x\[0\]\)"):
        computes_an_argument(x, y, 8, opts=parir.par({'N': parir.threads(8)}))


def test_non_contiguous_arrays():
    @parir.jit
    def copy(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i]

    base = np.arange(40.0)
    y = np.zeros(20)
    copy(base[::2], y, 20, opts=parir.par({'N': parir.threads(20)}))
    np.testing.assert_array_equal(y, base[::2])

    @parir.jit
    def transpose(x, y, n, m):
        parir.label('N')
        for i in range(n):
            for j in range(m):
                y[i, j] = x[i, j]

    x = np.arange(20.0).reshape(4, 5)
    out = np.zeros((5, 4))
    transpose(x.T, out, 5, 4, opts=parir.par({'N': parir.threads(5)}))
    np.testing.assert_array_equal(out, x.T)


def test_specialisations_are_cached():
    x = np.ones((4, 3), dtype=np.float32)
    y = np.zeros(4, dtype=np.float32)
    opts = parir.par({'N': parir.threads(4)})
    sum_rows._native.clear()
    sum_rows(x, y, 4, 3, opts=opts)
    assert sum_rows._native.cache_size == 1
    y[:] = 0
    sum_rows(x, y, 4, 3, opts=opts)  # same specialisation: no compilation
    assert sum_rows._native.cache_size == 1
    np.testing.assert_array_equal(y, 3)
    sum_rows(x, y, 4, 2, opts=opts)  # a new scalar value: a new one
    assert sum_rows._native.cache_size == 2


def test_float_scalars_specialise_by_their_bits():
    """-0.0 and 0.0 are two specialisations (1 / x tells them apart), and a
    NaN is one, reused."""
    @parir.jit
    def inverse(y, a):
        parir.label('N')
        for i in range(1):
            y[i] = np.float64(1.0) / a

    y = np.zeros(1)
    opts = parir.par({'N': parir.threads(1)})
    seen = []
    for a in (0.0, -0.0, 0.0, math.nan, math.nan, 2.5):
        inverse(y, a, opts=opts)
        seen.append(y[0])
    assert seen[:3] == [math.inf, -math.inf, math.inf] and math.isnan(seen[3]) and seen[5] == 0.4
    assert inverse._native.cache_size == 4


def test_the_specialisations_kept_are_bounded_the_least_recently_used_going_first():
    """Each new scalar value compiles a specialisation (about 1 MB each):
    a loop passing a changing value once grew the process without limit.
    64 are kept per function; the least recently used is compiled again
    when it comes back."""
    @parir.jit
    def scale(x, y, a, n):
        parir.label('N')
        for i in range(n):
            y[i] = a * x[i]

    x, y = np.arange(4.0), np.zeros(4)
    opts = parir.par({'N': parir.threads(4)})
    for k in range(66):
        if k == 2:
            scale(x, y, 0.0, 4, opts=opts)  # 0.0 used again: 1.0 is the oldest
        scale(x, y, float(k), 4, opts=opts)
        np.testing.assert_array_equal(y, k * x)
    assert scale._native.cache_size == 64
    scale(x, y, 1.0, 4, opts=opts)  # dropped, compiled again
    np.testing.assert_array_equal(y, x)
    assert scale._native.cache_size == 64


def test_print_compiled_stages_and_compile_string():
    x = np.arange(12.0).reshape(3, 4)
    y = np.zeros(3)
    opts = parir.par({'N': parir.threads(3)})
    looppar = parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts, stage="looppar")
    assert '"looppar.parallelize"() {label = "N", threads = 3 : i64}' in looppar
    assert '{label = "N"}' in looppar
    scf = parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts, stage="scf")
    assert "scf.parallel" in scf and "looppar" not in scf
    llvm = parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts)
    assert "llvm.func @parla.entry.sum_rows" in llvm
    # The IR, edited by hand (the row's accumulation, which starts from
    # y[i] as the sequential loop is written, subtracts instead of adding),
    # compiles back and takes the original arguments.
    assert looppar.count("arith.addf") == 1
    fn = parir.compile_string("sum_rows", looppar.replace("arith.addf", "arith.subf", 1), opts=opts)
    y[:] = 0
    fn(x, y, 3, 4)
    np.testing.assert_allclose(y, -x.sum(axis=1))
    with pytest.raises(ValueError, match="does not parse"):
        parir.compile_string("sum_rows", "func.func @broken(")


def test_compile_string_checks_arrays_against_the_entry_signature():
    # The code was specialised on these arrays: others would be read and
    # written out of bounds, so calls are checked against the parameters.
    x = np.arange(12.0).reshape(3, 4)
    y = np.zeros(3)
    opts = parir.par({'N': parir.threads(3)})
    fn = parir.compile_string("sum_rows", parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts, stage="looppar"))
    with pytest.raises(ValueError, match=r"array argument 0 .* \(memref<3x4xf64>\): a float64 array of shape \(2, 2\) has size 2 in dimension 0, not 3"):
        fn(np.ones((2, 2)), y, 3, 4)
    with pytest.raises(ValueError, match="a float32 array of shape \\(3, 4\\) has f32 elements, not f64"):
        fn(x.astype(np.float32), y, 3, 4)
    with pytest.raises(ValueError, match="has 1 dimension\\(s\\), not 2"):
        fn(y, y, 3, 4)
    with pytest.raises(ValueError, match=r"@sum_rows takes 2 array\(s\) \(its memref parameters\), but the call passes 1"):
        fn(x, 3.0, 3, 4)
    wide = np.zeros((3, 8))[:, :4]
    with pytest.raises(ValueError, match="has stride 8 \\(elements\\) in dimension 0, not 4"):
        fn(wide, y, 3, 4)
    fn(x, y, 3, 4)
    np.testing.assert_array_equal(y, x.sum(axis=1))
    # The llvm stage takes memref descriptors, which keep only ranks; its
    # entry keeps the memref types (`parla.array_types`), checked as at
    # the other stages (arrays of the wrong size or dtype were once taken
    # and written out of bounds). Text without them: ranks only.
    llvm = parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts, stage="llvm")
    assert "parla.array_types = [memref<3x4xf64>, memref<3xf64>]" in llvm
    lowered = parir.compile_string("sum_rows", llvm)
    y[:] = 0
    lowered(x, y, 3, 4)
    np.testing.assert_array_equal(y, x.sum(axis=1))
    with pytest.raises(ValueError, match="has 1 dimension\\(s\\), not 2"):
        lowered(y, y, 3, 4)
    with pytest.raises(ValueError, match=r"\(memref<3xf64>\): a float64 array of shape \(1,\) has size 1 in dimension 0, not 3"):
        lowered(x, np.zeros(1), 3, 4)
    with pytest.raises(ValueError, match="an int64 array of shape \\(3, 4\\) has i64 elements, not f64"):
        lowered(x.astype(np.int64), y, 3, 4)
    untyped = parir.compile_string("sum_rows", llvm.replace("parla.array_types", "edited.away"))
    y[:] = 0
    untyped(x, y, 3, 4)
    np.testing.assert_array_equal(y, x.sum(axis=1))
    with pytest.raises(ValueError, match="has 1 dimension\\(s\\), not 2"):
        untyped(y, y, 3, 4)
    # Which array an llvm-stage store writes is not followed: every array
    # counts as written, so a read-only one is refused.
    frozen = np.zeros(3)
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="array argument 1 is read-only, but the function writes it"):
        lowered(x, frozen, 3, 4)
    np.testing.assert_array_equal(frozen, 0.0)
    with pytest.raises(ValueError, match="the code has no function @sum_cols"):
        parir.compile_string("sum_cols", parir.print_compiled(sum_rows, [x, y, 3, 4], opts=opts, stage="scf"))
    with pytest.raises(ValueError, match="parameter 0 of @scaled has type i64: compile_string runs functions whose parameters are all memrefs"):
        parir.compile_string("scaled", "func.func @scaled(%n: i64) { return }")


def test_debug_prints_every_stage_with_times(capsys):
    x = np.ones((2, 2))
    y = np.zeros(2)
    sum_rows(x, y, 2, 2, opts=parir.par({'N': parir.threads(2)}), debug=True)
    out = capsys.readouterr().out
    for stage in ("looppar", "scf", "llvm"):
        assert f"=== sum_rows: after {stage} (" in out
    assert "compiled and ran in" in out


def test_clear_cache_and_sync():
    parir.clear_cache()
    parir.sync()
    x = np.ones((2, 2))
    y = np.zeros(2)
    sum_rows(x, y, 2, 2, opts=parir.parallelize({'N': parir.threads(2)}))
    np.testing.assert_array_equal(y, 2)


def test_compile_options():
    with pytest.raises(ValueError, match="backend must be one of"):
        parir.CompileOptions(backend="tpu")
    with pytest.raises(ValueError, match="multiple of 32"):
        parir.threads(64).tpb(100)
    assert repr(parir.threads(64).tpb(64).reduce()) == "parir.threads(64).tpb(64).reduce()"
    cpu = parir.CompileOptions({'N': parir.threads(2)}, backend="cpu")
    y = np.zeros(2)
    sum_rows(np.ones((2, 3)), y, 2, 3, opts=cpu)
    np.testing.assert_array_equal(y, 3)
    y = np.zeros(2)
    sum_rows(np.ones((2, 3)), y, 2, 3, opts=parir.par({'N': parir.threads(2), 'M': parir.seq()}))
    np.testing.assert_array_equal(y, 3)


def test_conditional_values_evaluate_only_the_side_chosen():
    # Python evaluates only the chosen side: x[i + 1] is never read past the
    # end (debug=True would report it).
    @parir.jit
    def next_or_last(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i + 1] if i + 1 < n else -1.0
            if i + 1 < n and x[i + 1] > 0.5:
                y[i] += 10.0
            if i == n - 1 or x[i + 1] < 0.0:
                y[i] += 100.0

    x = np.random.default_rng(5).random(33)
    y = np.zeros(33)
    next_or_last(x, y, 33, opts=parir.par({'N': parir.threads(33)}), debug=True)
    want = np.zeros(33)
    next_or_last(x, want, 33, seq=True)
    np.testing.assert_array_equal(y, want)


def test_and_or_give_an_operand_as_python_does():
    @parir.jit
    def pick(a, b, out, n):
        parir.label('N')
        for i in range(n):
            out[0, i] = a[i] and b[i]
            out[1, i] = a[i] or b[i]

    a, b = np.array([3.0, 0.0, 7.5, 0.0]), np.array([4.0, 5.0, 0.0, 0.0])
    out = np.zeros((2, 4))
    pick(a, b, out, 4, opts=parir.par({'N': parir.threads(4)}))
    np.testing.assert_array_equal(out[0], [x and y for x, y in zip(a, b)])
    np.testing.assert_array_equal(out[1], [x or y for x, y in zip(a, b)])


def test_boolean_constants():
    @parir.jit
    def flags(x, b, n):
        parir.label('N')
        for i in range(n):
            if True:
                x[i] = 1 - (x[i] > 0.5)
            b[i] = False if x[i] > 0.0 else True

    x, b = np.array([0.25, 0.75]), np.ones(2, bool)
    flags(x, b, 2, opts=parir.par({'N': parir.threads(2)}))
    np.testing.assert_array_equal(x, [1.0, 0.0])
    np.testing.assert_array_equal(b, [False, True])


@parir.jit
def bool_arithmetic(x, y, k, m, flag, N):
    parir.label('N')
    for i in range(N):
        y[i, 0] = (i > 0) + (i > 1)  # Python bools: ints, 0 to 2
        y[i, 1] = (x[i] > 0) + (x[i] > 1)  # NumPy bools: or
        y[i, 2] = (k > 0) + (m > 0)  # of Python int arguments: 2
        y[i, 3] = -(i > 2)
        y[i, 4] = ~(i > 2)  # -2 for True
        y[i, 5] = True + True
        y[i, 6] = flag + flag  # a Python bool argument
        y[i, 7] = (not (i > 2)) + (not x[i] > 0)  # `not` is Python's
        y[i, 8] = (x[i] > 0) + (i > 1)  # NumPy bool + Python bool: or
        y[i, 9] = math.isnan(x[i]) + math.isnan(x[i])  # Python bools
        y[i, 10] = np.isnan(x[i]) + np.isnan(x[i])  # NumPy bools
        y[i, 11] = abs(i > 2) + (i > 2) * 3
        y[i, 12] = ((i > 1) & (i > 2)) + ((i > 1) | (i > 2))  # bools, then 2
        y[i, 13] = max(i > 1, i > 2) + min(i > 1, i > 2)
        y[i, 14] = bool(i) + bool(i - 1)
        c = i > 1
        y[i, 15] = c + c - (True if i > 3 else False)
        y[i, 16] = (i > 1) - (i > 2) + (i > 1) / 2 + (i > 0) // (i >= 0)


def test_python_bools_are_ints_among_python_numbers():
    """Comparisons of Python numbers (loop variables, int arguments), `not`,
    `bool()`, math.isnan and literals are Python bools, which add as ints;
    a NumPy value on either side makes a NumPy bool, whose + is or."""
    x = np.array([0.0, 2.0, 0.5, np.nan, -1.0, 3.0])
    found, expected = np.zeros((6, 17)), np.zeros((6, 17))
    bool_arithmetic(x, found, 3, 4, True, 6, opts=parir.par({'N': parir.threads(6)}))
    bool_arithmetic(x, expected, 3, 4, True, 6, seq=True)
    np.testing.assert_array_equal(found, expected)
    assert found[:, 0].tolist() == [0, 1, 2, 2, 2, 2]
    assert found[:, 1].tolist() == [0, 1, 1, 0, 0, 1]
    assert found[0, 2] == 2 and found[0, 5] == 2 and found[0, 6] == 2
    assert found[:, 4].tolist() == [-1, -1, -1, -2, -2, -2]


def test_shifts_powers_and_floor_divisions_of_numpy_bools_are_int8():
    """NumPy computes `>>`, `<<`, `**`, `//` and `%` of two bools as int8,
    so what follows wraps at int8 (these once computed wider)."""
    @parir.jit
    def wraps(b, y, n):
        parir.label('N')
        for i in range(n):
            y[i, 0] = (b[i] >> b[0]) + np.int8(127)
            y[i, 1] = (b[i] << b[0]) + np.int8(127)
            y[i, 2] = (b[i] ** b[i]) + np.int8(127)
            y[i, 3] = (b[1] // b[1]) + np.int8(127)
            y[i, 4] = (b[1] % b[1]) + np.int8(127)
            y[i, 5] = (b[i] << b[0]) * np.int16(32767) * np.int16(2)

    b = np.array([False, True, True])
    found, expected = np.zeros((3, 6)), np.zeros((3, 6))
    wraps(b, found, 3, opts=parir.par({'N': parir.threads(3)}))
    with np.errstate(over="ignore"):
        wraps(b, expected, 3, seq=True)
    np.testing.assert_array_equal(found, expected)
    assert found[1].tolist() == [-128, -128, -128, -128, 127, -2]


def test_booleans_and_unsigned_values_follow_numpy():
    @parir.jit
    def mix(a, b, u, s, o, au, n):
        parir.label('N')
        for i in range(n):
            s[i] = a[i] + b[i]  # or, a bool
            o[i] = a[i] * b[i] + (a[i] ^ b[i]) * 2 + a[i] + u[i]  # bool meets uint8: uint8
            au[i] = abs(u[i])  # never negative: unchanged

    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    u = np.array([200, 255, 0, 7], np.uint8)
    found = [np.zeros(4, np.int64), np.zeros(4, np.int64), np.zeros(4, np.uint8)]
    expected = [np.zeros(4, np.int64), np.zeros(4, np.int64), np.zeros(4, np.uint8)]
    mix(a, b, u, *found, 4, opts=parir.par({'N': parir.threads(4)}))
    mix(a, b, u, *expected, 4, seq=True)
    for f, e in zip(found, expected):
        np.testing.assert_array_equal(f, e)
    assert found[0].tolist() == [1, 1, 1, 0]
    assert found[2].tolist() == [200, 255, 0, 7]

    def negate(a, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = -a[i]

    def subtract(a, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = a[i] - a[i]

    for f, message in ((negate, "NumPy does not negate booleans"),
                       (subtract, "NumPy does not subtract booleans")):
        with pytest.raises(parir.CompileError, match=message):
            parir.jit(f)(a, np.zeros(4), 4, opts=parir.par({'N': parir.threads(4)}))


@parir.jit
def divmod_(a, b, q, r, n):
    parir.label('N')
    for i in range(n):
        q[i] = a[i] // b[i]
        r[i] = a[i] % b[i]


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint16])
def test_integer_floor_division_matches_numpy_even_by_zero_and_minus_one(dtype):
    # The CPU traps on x // 0 and on INT_MIN // -1; the kernel gives NumPy's
    # results instead of killing the process.
    info = np.iinfo(dtype)
    values = np.array([info.min, info.min + 1, -7, -1, 0, 1, 7, info.max], dtype=np.int64)
    values = values[(values >= info.min) & (values <= info.max)].astype(dtype)
    a, b = (x.ravel().copy() for x in np.meshgrid(values, values))
    q, r = np.zeros_like(a), np.zeros_like(a)
    divmod_(a, b, q, r, a.size, opts=parir.par({'N': parir.threads(a.size)}))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(q, np.floor_divide(a, b))
        np.testing.assert_array_equal(r, np.remainder(a, b))


def test_float_floor_division_and_modulo_follow_python():
    pairs = [(1.0, 0.1), (7.0, -2.0), (-7.5, 2.0), (0.7, 0.1), (-0.0, 3.0), (0.0, -3.0), (5.0, 2.5), (1e300, 1e-300)]
    a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    q, r = np.zeros_like(a), np.zeros_like(a)
    divmod_(a, b, q, r, a.size, opts=parir.par({'N': parir.threads(a.size)}))
    want_q = [x // y for x, y in pairs]
    want_r = [x % y for x, y in pairs]
    assert q.tolist() == want_q and r.tolist() == want_r
    assert [np.signbit(v) for v in r] == [np.signbit(v) for v in want_r]


def test_constant_indices_count_from_the_end_and_are_checked_when_compiling():
    @parir.jit
    def ends(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[-1] - x[0]

    @parir.jit
    def past_the_end(x, n):
        parir.label('N')
        for i in range(n):
            x[4] = 1.0

    x, y = np.arange(4.0), np.zeros(3)
    ends(x, y, 3, opts=parir.par({'N': parir.threads(3)}))
    np.testing.assert_array_equal(y, 3.0)
    with pytest.raises(parir.CompileError, match="index 4 is out of bounds for axis 0 with size 4"):
        past_the_end(x, 4, opts=parir.par({'N': parir.threads(4)}))


def test_constant_indices_of_slice_statements_count_from_the_end():
    @parir.jit
    def last_rows(x, y):
        parir.label('N')
        y[-1, :] = x[-1, :] + x[-2, :]

    @parir.jit
    def before_the_first(x, y):
        parir.label('N')
        y[0, :] = x[-3, :]

    x, y = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
    last_rows(x, y, opts=parir.par({'N': parir.threads(3)}))
    np.testing.assert_array_equal(y, [[0.0, 0.0, 0.0], x[1] + x[0]])
    with pytest.raises(parir.CompileError, match=r"(?s)index -3 is out of bounds for axis 0 with size 2.*x\[-3, :\]"):
        before_the_first(x, y, opts=parir.par({'N': parir.threads(3)}))


@parir.jit
def guarded_by_scalars(x, y, z, slot, k, n):
    parir.label('N')
    for i in range(n):
        if slot >= 0:
            y[slot] += x[i]
    parir.label('N')
    for i in range(n):
        z[i] = x[k] if k < n else 1 // k
    parir.label('N')
    for i in range(1):
        if k < n:
            y[:k] = x[:k]


@pytest.mark.parametrize("debug", [False, True])
def test_code_under_conditions_known_false_when_compiling_never_runs(debug):
    """A specialised scalar that makes a branch dead makes what only running
    it would raise (a constant index out of bounds, a slice past the end)
    no error, as in Python; where the branch is taken, they stay errors."""
    opts = parir.par({'N': parir.threads(8)})
    x, y, z = np.arange(8.0), np.zeros(2), np.full(8, 5.0)
    guarded_by_scalars(x, y, z, -10**12, 10**12, 8, opts=opts, debug=debug)
    np.testing.assert_array_equal(y, [0.0, 0.0])
    np.testing.assert_array_equal(z, 0.0)   # 1 // 10**12
    guarded_by_scalars(x, y, z, 1, 2, 8, opts=opts, debug=debug)
    np.testing.assert_array_equal(y, [0.0, 1.0])   # y[1] = 28.0, then y[:2] = x[:2]
    np.testing.assert_array_equal(z, 2.0)
    with pytest.raises(parir.CompileError, match="index 2 is out of bounds for axis 0 with size 2"):
        guarded_by_scalars(x, y, z, 2, 0, 8, opts=opts, debug=debug)
    with pytest.raises(parir.CompileError, match="the slice 0:5 is out of bounds"):
        guarded_by_scalars(x, y, z, 0, 5, 8, opts=opts, debug=debug)


def test_integer_division_by_zero_gives_numpys_zero_and_a_literal_zero_is_an_error():
    @parir.jit
    def halve(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = x[i] // 0

    with pytest.raises(parir.CompileError, match="division or modulo by zero"):
        halve(np.ones(2, np.int64), 2, opts=parir.par({'N': parir.threads(2)}))

    # A scalar argument of 0 divides array elements as NumPy does (0);
    # between Python ints, Python raises ZeroDivisionError.
    @parir.jit
    def by_scalar(x, k, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i] // k + x[i] % k

    @parir.jit
    def python_ints(y, k, m, n):
        parir.label('N')
        for i in range(n):
            y[i] = k // m

    for k in (0, np.int8(0), 3):
        y, want = np.full(4, 9, np.int32), np.full(4, 9, np.int32)
        by_scalar(np.arange(4, dtype=np.int32), k, y, 4, opts=parir.par({'N': parir.threads(4)}))
        with np.errstate(divide="ignore"):
            by_scalar(np.arange(4, dtype=np.int32), k, want, 4, seq=True)
        np.testing.assert_array_equal(y, want)
    with pytest.raises(parir.CompileError, match="division or modulo by zero"):
        python_ints(np.zeros(2), 5, 0, 2, opts=parir.par({'N': parir.threads(2)}))


@parir.jit
def against_minus_one(a, gt, biggest, smallest, N):
    parir.label('N')
    for i in range(N):
        gt[i] = a[i] > -1
        biggest[i] = max(a[i], -1)
        smallest[i] = min(a[i], -1)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_unsigned_values_compare_exactly_with_negative_ints(dtype):
    a = np.array([5, 200], dtype)
    found = [np.zeros(2, np.int64) for _ in range(3)]
    expected = [np.zeros(2, np.int64) for _ in range(3)]
    if dtype == np.uint64:
        # No type holds both; comparisons are still exact.
        @parir.jit
        def compare_only(a, gt, le, N):
            parir.label('N')
            for i in range(N):
                gt[i] = a[i] > -1
                le[i] = -1 >= a[i]
        compare_only(a, found[0], found[1], 2, opts=parir.par({'N': parir.threads(2)}))
        assert found[0].tolist() == [1, 1] and found[1].tolist() == [0, 0]
        return
    against_minus_one(a, *found, 2, opts=parir.par({'N': parir.threads(2)}))
    against_minus_one(a, *expected, 2, seq=True)
    for f, e in zip(found, expected):
        np.testing.assert_array_equal(f, e)


@parir.jit
def scaled_and_tested(out, v, N):
    parir.label('N')
    for i in range(N):
        out[i] = v * 1.0
        if v > 0:
            out[i] += 1.0


def test_a_uint64_scalar_above_int64s_range_keeps_its_value():
    v = np.uint64(2**63 + 2**11)
    out, expected = np.zeros(1), np.zeros(1)
    scaled_and_tested(out, v, 1, opts=parir.par({'N': parir.threads(1)}))
    scaled_and_tested(expected, v, 1, seq=True)
    assert out[0] == expected[0] > 0


@parir.jit
def add_one(x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = x[i] + 1.0


def test_arrays_a_function_writes_must_take_the_writes():
    opts = parir.par({'N': parir.threads(4)})
    frozen = np.arange(4.0)
    frozen.setflags(write=False)
    y = np.zeros(4)
    add_one(frozen, y, 4, opts=opts)  # read-only inputs and lists are fine
    add_one([1.0, 2.0, 3.0, 4.0], y, 4, opts=opts)
    np.testing.assert_array_equal(y, [2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match="`y` is read-only, but the function writes it"):
        add_one(y, frozen, 4, opts=opts)
    np.testing.assert_array_equal(frozen, np.arange(4.0))
    with pytest.raises(TypeError, match="`y` is a list or tuple, which the function writes"):
        add_one(y, [0.0] * 4, 4, opts=opts)


def test_arrays_numpy_makes_for_a_call_live_until_it_returns():
    """A list (or an object with `__array__`) becomes an array that only
    the call holds: it was freed before the kernel ran, which read freed
    memory (a crash for large lists, whose memory goes back to the OS)."""
    @parir.jit
    def total(x, out, N):
        parir.label('N')
        for i in range(N):
            out[0] += x[i]

    class Fresh:
        def __init__(self, n):
            self.n = n

        def __array__(self, dtype=None, copy=None):
            return np.full(self.n, 2.0)

    n = 1 << 21
    opts = parir.par({'N': parir.threads(n)})
    for argument, expected in (([1.0] * n, n), (Fresh(n), 2.0 * n)):
        for _ in range(3):
            out = np.zeros(1)
            total(argument, out, n, opts=opts)
            reused = np.full(n, 7.0)  # takes the memory if it was freed
            assert out[0] == expected, type(argument)
            del reused


def test_one_array_passed_for_two_parameters_is_one_array_and_overlapping_views_are_refused():
    @parir.jit
    def subtract_first(x, y, N):
        parir.label('N')
        y[:] = x[:] - x[0]

    @parir.jit
    def axpy(a, x, y, N):
        parir.label('N')
        for i in range(N):
            y[i] = a * x[i] + y[i]

    opts = parir.par({'N': parir.threads(8)})
    a = np.arange(1.0, 9.0)
    subtract_first(a, a, 8, opts=opts)  # x[0] read before the loop, as NumPy does
    np.testing.assert_array_equal(a, np.arange(8.0))
    axpy(2.0, a, a, 8, opts=opts)
    np.testing.assert_array_equal(a, 3 * np.arange(8.0))

    b = np.arange(9.0)
    with pytest.raises(ValueError, match="`x` and `y` are views that share memory, and the function writes `y`"):
        add_one(b[:-1], b[1:], 8, opts=opts)
    np.testing.assert_array_equal(b, np.arange(9.0))

    # Interleaved views share no element: fine.
    c = np.arange(16.0)
    add_one(c[::2], c[1::2], 8, opts=opts)
    np.testing.assert_array_equal(c[1::2], np.arange(0.0, 16.0, 2) + 1)


@parir.jit
def count_iterations(c, a, b, s):
    parir.label('ONE')
    for k in range(1):
        for i in range(a, b, s):
            c[0] += 1


@pytest.mark.parametrize("a, b, s", [
    (0, 2**63 - 1, 2**62), (-2**63, 2**63 - 1, 2**62), (2**63 - 1, -2**63, -2**62),
    (0, 10, 2**63 - 1), (-5, 2**63 - 1, 2**63 - 1), (5, 0, 2), (0, 5, -1), (10, -3, -4),
])
def test_ranges_with_extreme_bounds_and_steps_run_pythons_number_of_iterations(a, b, s):
    c = np.zeros(1, np.int64)
    count_iterations(c, a, b, s, opts=parir.par({'ONE': parir.threads(1)}))
    assert c[0] == len(range(a, b, s))


@parir.jit
def histogram(bins, counts, N):
    parir.label('N')
    for i in range(N):
        counts[bins[i]] += 1


@parir.jit
def scattered_updates(bins, x, total, low, high, flags, N):
    parir.label('N')
    for i in range(N):
        total[bins[i]] -= x[i]
        low[bins[i]] = min(low[bins[i]], x[i])
        high[i % 3] = max(high[i % 3], x[i])
        flags[bins[i]] |= 1 << (i % 40)


@parir.jit
def narrow_updates(bins, x, y, N):
    parir.label('N')
    for i in range(N):
        y[bins[i]] += x[i]


@pytest.mark.parametrize("threads,debug", [(4, False), (1024, False), (1024, True)])
def test_updates_of_elements_that_iterations_share_are_atomic(threads, debug):
    # A histogram, and updates into elements chosen by data or by i % 3:
    # every iteration's update counts, in any order, as NumPy's ufunc.at.
    n = 200_000
    rng = np.random.default_rng(11)
    bins = rng.integers(0, 5, n)
    x = rng.random(n)
    counts = np.zeros(5, np.int64)
    histogram(bins, counts, n, opts=parir.par({'N': parir.threads(threads)}), debug=debug)
    np.testing.assert_array_equal(counts, np.bincount(bins, minlength=5))

    total, low, high, flags = np.zeros(5), np.full(5, np.inf), np.zeros(3), np.zeros(5, np.int64)
    scattered_updates(bins, x, total, low, high, flags, n, opts=parir.par({'N': parir.threads(threads)}), debug=debug)
    want_total, want_low, want_flags = np.zeros(5), np.full(5, np.inf), np.zeros(5, np.int64)
    np.subtract.at(want_total, bins, x)
    np.minimum.at(want_low, bins, x)
    np.bitwise_or.at(want_flags, bins, np.int64(1) << (np.arange(n) % 40))
    np.testing.assert_allclose(total, want_total, rtol=1e-9)
    np.testing.assert_array_equal(low, want_low)
    np.testing.assert_array_equal(high, [x[r::3].max() for r in range(3)])
    np.testing.assert_array_equal(flags, want_flags)

    # float32 elements updated with float64 values: each contribution is
    # rounded to float32 before it is added.
    y = np.zeros(5, np.float32)
    narrow_updates(bins, x, y, n, opts=parir.par({'N': parir.threads(threads)}), debug=debug)
    np.testing.assert_allclose(y, np.bincount(bins, weights=x, minlength=5), rtol=1e-4)


@pytest.mark.parametrize("debug", [False, True])
def test_updates_through_indices_read_from_arrays_are_atomic_under_debug(debug):
    # Under debug each access loads its index inside its own bounds check,
    # so the update's load and store read bins[i] twice: still one element.
    n = 64
    args = [np.zeros(n, np.int64), np.zeros(n), np.zeros(5), np.zeros(5), np.zeros(3),
            np.zeros(5, np.int64), n]
    text = parir.print_compiled(scattered_updates, args, parir.par({'N': parir.threads(8)}),
                                stage='scf', debug=debug)
    atomics = sorted(line.split()[3] for line in text.splitlines() if "memref.atomic_rmw" in line)
    assert atomics == ["addf", "maximumf", "minimumf", "ori"]


def test_updates_that_each_iteration_owns_stay_plain_stores():
    x = np.zeros(8)

    @parir.jit
    def own(x, N):
        parir.label('N')
        for i in range(N):
            x[i] += 1.0

    text = parir.print_compiled(own, [x, 8], parir.par({'N': parir.threads(8)}), stage='scf')
    assert "atomic" not in text and "memref.store" in text
    text = parir.print_compiled(histogram, [np.zeros(8, np.int64), np.zeros(2, np.int64), 8],
                                parir.par({'N': parir.threads(8)}), stage='scf')
    assert "memref.atomic_rmw addi" in text


# ---- conditional reductions ------------------------------------------------

@parir.jit
def banded_counts(x, counts, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if x[i, j] < -0.5:
                counts[i] -= 1
            elif x[i, j] > 0.5:
                counts[i] += 2


@parir.jit
def largest_below(x, limit, y, N):
    parir.label('N')
    for i in range(N):
        if x[i] < limit:
            y[0] = max(y[0], x[i])


@parir.jit
def guarded_rows(x, rows, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if rows[i] >= 0:
                y[rows[i]] += x[i, j]


@pytest.mark.parametrize("reduce", [False, True])
def test_conditional_reductions_match_python(reduce):
    """`if c: s += v` (an else or elif updating the same way, min/max,
    locals and elements, inner and outermost loops): reductions of the
    value chosen under the condition, with or without `.reduce()`."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 300))
    spec = parir.threads(300).reduce() if reduce else parir.threads(300)
    opts = parir.par({'N': parir.threads(6), 'M': spec})
    for function, args, out in [
        (block_kernels.conditional_row_sums, [x, np.zeros(6), 6, 300], 1),
        (banded_counts, [x, np.full(6, 7, np.int32), 6, 300], 1),
    ]:
        compiled = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        reference = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        function(*compiled, opts=opts)
        function(*reference, seq=True)
        np.testing.assert_allclose(compiled[out], reference[out], rtol=1e-12)
    flat = x.ravel()
    y = np.full(1, -np.inf)
    outer = parir.threads(flat.size).reduce() if reduce else parir.threads(flat.size)
    largest_below(flat, 1.0, y, flat.size, opts=parir.par({'N': outer}))
    assert y[0] == flat[flat < 1.0].max()


def test_conditional_updates_keep_their_identities_exact():
    """Where no branch updates, the chosen value is the exact identity:
    a sum of nothing into -0.0 stays -0.0, a max over nothing leaves NaN."""
    @parir.jit
    def from_negative_zero(x, y, N, M):
        parir.label('N')
        for i in range(N):
            s = -0.0
            parir.label('M')
            for j in range(M):
                if x[i, j] > 0.0:
                    s += x[i, j]
            y[i] = s

    x = np.full((2, 50), -1.0)
    y = np.ones(2)
    from_negative_zero(x, y, 2, 50, opts=parir.par({'N': parir.threads(2), 'M': parir.threads(50).reduce()}))
    assert np.signbit(y).all() and (y == 0).all()
    y = np.full(1, np.nan)
    largest_below(np.arange(10.0), 5.0, y, 10, opts=parir.par({'N': parir.threads(10).reduce()}))
    assert np.isnan(y[0])


def test_conditions_that_guard_an_index_keep_it_untouched():
    """`if rows[i] >= 0: y[rows[i]] += ...`: Python reads and writes the
    element only where the condition holds, and programs guard invalid
    indices so; the nest's combination into the element is skipped where
    it is out of bounds (an access 8 TB away would fault)."""
    x = np.random.default_rng(4).random((4, 64))
    rows = np.array([0, -10**12, 2, -1])
    y = np.zeros(3)
    guarded_rows(x, rows, y, 4, 64, opts=parir.par({'N': parir.threads(4), 'M': parir.threads(64).reduce()}))
    np.testing.assert_allclose(y, [x[0].sum(), 0.0, x[2].sum()])

    for k, want in ((1, [0.0, x[0].sum()]), (-10**12, [0.0, 0.0])):
        for debug in (False, True):
            slots = np.zeros(2)
            into_slot(x[0], slots, np.array([k]), 64, opts=parir.par({'N': parir.threads(64).reduce()}), debug=debug)
            np.testing.assert_allclose(slots, want)
    # Under debug=True the same: no update, no access, no error; an update
    # out of bounds is the error Python raises, at the update's line.
    y[:] = 0.0
    guarded_rows(x, rows, y, 4, 64, opts=parir.par({'N': parir.threads(4), 'M': parir.threads(64)}), debug=True)
    np.testing.assert_allclose(y, [x[0].sum(), 0.0, x[2].sum()])
    with pytest.raises(IndexError, match=r"(?s)test_parir.py:\d+:\d+: index out of bounds.*y\[rows\[i\]\] \+="):
        guarded_rows(x, np.array([0, 3, 2, -1]), y, 4, 64, opts=parir.par({'N': parir.threads(4)}), debug=True)
    # Also where the updates cancel out (the element's sum is unchanged).
    cancelling = np.array([[1.0, -1.0, 2.0, -2.0]] * 4)
    with pytest.raises(IndexError, match="index out of bounds"):
        guarded_rows(cancelling, np.array([0, 7, 0, 0]), y, 4, 4,
                     opts=parir.par({'N': parir.threads(4), 'M': parir.threads(4).reduce()}), debug=True)


def test_conditional_updates_that_round_at_every_step_run_as_written():
    """Floats into an integer element under a condition: the nest runs as
    written (each taken step truncates), the same as Python's loop."""
    @parir.jit
    def bump(a, x, N, M):
        parir.label('N')
        for i in range(N):
            for j in range(M):
                if x[j] > 0.5:
                    a[i] += 1.5

    x = np.random.default_rng(5).random(40)
    compiled, reference = np.array([3, -2]), np.array([3, -2])
    bump(compiled, x, 2, 40, opts=parir.par({'N': parir.threads(2)}))
    bump(reference, x, 2, 40, seq=True)
    assert compiled.tolist() == reference.tolist()


def test_several_locals_under_one_condition_in_an_outermost_loop():
    """`if c: s += x[i]; count += 1` over the outermost parallel loop: both
    updates are the loop's reductions (no atomic per element); the
    interpreter's answer."""
    @parir.jit
    def sum_and_count(x, y, n):
        with parir.gpu:
            s = 0.0
            count = 0
            parir.label('N')
            for i in range(n):
                if x[i] > 0.5:
                    s += x[i]
                    count += 1
            y[0] = s
            y[1] = count

    x = np.random.default_rng(6).random(1000)
    compiled, reference = np.zeros(2), np.zeros(2)
    sum_and_count(x, compiled, 1000, opts=parir.par({'N': parir.threads(16)}))
    sum_and_count(x, reference, 1000, seq=True)
    np.testing.assert_allclose(compiled, reference)
    scf = parir.print_compiled(sum_and_count, [x, np.zeros(2), 1000], parir.par({'N': parir.threads(16)}),
                               stage="scf")
    assert "atomic_rmw" not in scf and "scf.reduce(" in scf, scf


def test_inner_parallel_sums_into_locals_reassociate_on_the_cpu():
    """Both sums of a layer norm's inner loop may combine in any order (and
    vectorise); a sequential loop's sum keeps its order."""
    function, case = block_kernels.CASES["layer_norm"]
    args, spec, _ = case()
    scf = parir.print_compiled(function, args, parir.par(spec), stage="scf")
    assert scf.count("fastmath<reassoc> : f64") == 2, scf


def test_several_reductions_over_the_outermost_loop():
    """A sum, a max, a product and a count of one parallel loop: one
    OpenMP reduction each on the CPU; on GPUs each block's results combine
    atomically (a product, with no atomic form, keeps the grid to one
    block)."""
    @parir.jit
    def stats(x, total, top, prod, count, N):
        parir.label('N')
        for i in range(N):
            total[0] += x[i]
            top[0] = max(top[0], x[i])
            prod[0] *= 1.0 + x[i] * 1e-4
            count[0] += 1 if x[i] > 0.5 else 0

    x = np.random.default_rng(7).random(10000)

    def run(**how):
        out = [np.zeros(1), np.full(1, -np.inf), np.ones(1), np.zeros(1, np.int64)]
        stats(x, *out, 10000, **how)
        return out

    for compiled, reference in zip(run(opts=parir.par({'N': parir.threads(10000)})), run(seq=True)):
        np.testing.assert_allclose(compiled, reference, rtol=1e-9)
    args = [x, *run(seq=True), 10000]
    scf = parir.print_compiled(stats, args, parir.par({'N': parir.threads(10000)}), stage="scf")
    assert "atomic_rmw" not in scf and scf.count("scf.reduce.return") == 4, scf
    gpu = parir.print_compiled(stats, args, parir.CompileOptions({'N': parir.threads(10000)}, backend="cuda",
                                                                 arch="sm_90"), stage="gpu")
    assert gpu.count("gpu.all_reduce") == 4, gpu
    assert re.search(r"gpu\.launch blocks\([^)]*\) in \(%\w+ = %c1,", gpu), gpu


@parir.jit
def sequential_row_sums(x, y, N, M):
    parir.label('N')
    for i in range(N):
        for j in range(M):
            y[i] += x[i, j]


@parir.jit
def sequential_total(x, y, M):
    parir.label('N')
    for i in range(1):
        for j in range(M):
            y[0] += x[j]


def test_sequential_loops_combine_in_the_order_written():
    """A reduction over a loop that runs sequentially (unlabelled, or a
    label the call leaves out) adds in the order written, from the
    element's value, as Python does: y[i] + x[i, 0] + x[i, 1] + ...;
    over a parallel loop it may combine in any order, and vectorises."""
    x = np.ones((4, 8))
    y, want = np.full(4, 1e16), np.full(4, 1e16)
    sequential_row_sums(x, y, 4, 8, opts=parir.par({'N': parir.threads(4)}))
    sequential_row_sums(x, want, 4, 8, seq=True)
    np.testing.assert_array_equal(y, want)   # each 1.0 rounds away
    cancelling = np.array([1e16, 1.0, -1e16, 1.0] * 50)
    y, want = np.zeros(1), np.zeros(1)
    sequential_total(cancelling, y, 200, opts=parir.par({'N': parir.threads(1)}))
    sequential_total(cancelling, want, 200, seq=True)
    np.testing.assert_array_equal(y, want)
    y = np.zeros(4)
    ir = parir.print_compiled(sequential_row_sums, [x, y, 4, 8], parir.par({'N': parir.threads(4)}),
                              stage="looppar")
    assert "reassoc" not in ir, ir
    ir = parir.print_compiled(sum_rows, [x, y, 4, 8], parir.par({'N': parir.threads(4), 'M': parir.threads(8)}),
                              stage="looppar")
    assert "fastmath<reassoc>" in ir, ir


def test_reductions_into_elements_of_one_array_are_reductions_each():
    """`y[0] += x[i]; y[1] += x[i] * x[i]` (also per row, `y[i, 0]`,
    `y[i, 1]`): each element is touched by its own update only, so each is
    a reduction, not an atomic per iteration."""
    @parir.jit
    def moments(x, y, N):
        parir.label('N')
        for i in range(N):
            y[0] += x[i]
            y[1] += x[i] * x[i]
            y[2] = max(y[2], x[i])

    @parir.jit
    def row_moments(x, y, N, M):
        parir.label('N')
        for i in range(N):
            parir.label('M')
            for j in range(M):
                y[i, 0] += x[i, j]
                y[i, 1] = max(y[i, 1], x[i, j])

    x = np.random.default_rng(8).random(10000)
    opts = parir.par({'N': parir.threads(10000)})
    y = np.array([0.0, 0.0, -np.inf])
    moments(x, y, 10000, opts=opts)
    np.testing.assert_allclose(y, [x.sum(), (x * x).sum(), x.max()], rtol=1e-9)
    scf = parir.print_compiled(moments, [x, y, 10000], opts, stage="scf")
    assert "atomic_rmw" not in scf and scf.count("scf.reduce.return") == 3, scf
    ptx = parir.print_compiled(moments, [x, y, 10000], parir.CompileOptions(
        {'N': parir.threads(10000)}, backend="cuda", arch="sm_90"))
    assert ptx.count("\tatom.") == 3, ptx   # one per element per block (the max a compare-and-swap)

    x2 = np.random.default_rng(9).random((64, 300))
    for spec in ({'N': parir.threads(64), 'M': parir.threads(300)}, {'N': parir.threads(64)}):
        y2 = np.zeros((64, 2))
        row_moments(x2, y2, 64, 300, opts=parir.par(spec))
        np.testing.assert_allclose(y2, np.stack([x2.sum(1), x2.max(1)], axis=1), rtol=1e-9)
    gpu = parir.print_compiled(row_moments, [x2, y2, 64, 300], parir.CompileOptions(
        {'N': parir.threads(64), 'M': parir.threads(300)}, backend="cuda", arch="sm_90"), stage="gpu")
    assert gpu.count("gpu.all_reduce") == 2 and "atomic" not in gpu, gpu


def test_reductions_of_one_loop_keep_products_and_negative_zeros():
    """`p[0] *= 2` beside another reduction stays a product that the loop
    reduces (rewritten as a shift it was no reduction, and iterations
    raced on `p`); a second sum of -0.0s stays -0.0."""
    @parir.jit
    def sum_and_doubling(x, s, p, N):
        parir.label('N')
        for i in range(N):
            s[0] += x[i]
            p[0] *= 2

    @parir.jit
    def max_and_sum(x, m, s, N):
        parir.label('N')
        for i in range(N):
            m[0] = max(m[0], x[i])
            s[0] += x[i]

    opts = parir.par({'N': parir.threads(62)})
    args = [np.ones(62), np.zeros(1), np.ones(1, np.int64), 62]
    scf = parir.print_compiled(sum_and_doubling, args, opts, stage="scf")
    assert scf.count("scf.reduce.return") == 2 and "shli" not in scf, scf
    sum_and_doubling(*args, opts=opts)
    assert args[1][0] == 62 and args[2][0] == 2**62
    s = np.full(1, -0.0)
    max_and_sum(np.full(8, -0.0), np.full(1, -np.inf), s, 8, opts=parir.par({'N': parir.threads(8)}))
    assert s[0] == 0 and np.signbit(s[0])


@parir.jit
def bool_orders(a, b, y, N):
    parir.label('N')
    for i in range(N):
        y[i, 0] = a[i] > b[i]
        y[i, 1] = a[i] < b[i]
        y[i, 2] = a[i] >= b[i]
        y[i, 3] = a[i] <= b[i]
        y[i, 4] = a[i] > False
        y[i, 5] = max(a[i], b[i])
        m = a[i]
        m = min(m, b[i])
        y[i, 6] = m


@parir.jit
def bool_order_slice(a, b, y):
    parir.label('N')
    y[:] = a[:] > b[:]


def test_bools_order_as_numpy_orders_them():
    """False < True: an i1 True is -1 as a signed integer, so comparisons,
    min and max of bools are unsigned; a min of bools stays a bool."""
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    y = np.zeros((4, 7), bool)
    bool_orders(a, b, y, 4, opts=parir.par({'N': parir.threads(4)}))
    want = np.stack([a > b, a < b, a >= b, a <= b, a > False, np.maximum(a, b), np.minimum(a, b)], axis=1)
    np.testing.assert_array_equal(y, want)
    z = np.zeros(4, bool)
    bool_order_slice(a, b, z, opts=parir.par({'N': parir.threads(4)}))
    np.testing.assert_array_equal(z, a > b)


@parir.jit
def scaled_by(a, y, c, N):
    parir.label('N')
    for i in range(N):
        y[i] = a[i] * c


def test_numpy_float_scalars_keep_their_dtype_and_python_bools_are_bools():
    """np.float64 derives from float but is a NumPy scalar: float32s times
    it are float64 (1e300 does not overflow to inf); a Python True added
    to bools is a logical or, as NumPy adds it."""
    a = np.array([2.0, 3.0], np.float32)
    y = np.zeros(2)
    scaled_by(a, y, np.float64(1e300), 2, opts=parir.par({'N': parir.threads(2)}))
    np.testing.assert_array_equal(y, a * np.float64(1e300))
    scaled_by(a, y, np.float64(0.1), 2, opts=parir.par({'N': parir.threads(2)}))
    np.testing.assert_array_equal(y, a * np.float64(0.1))
    bools, out = np.array([True, False]), np.zeros(2, np.int64)

    @parir.jit
    def plus(a, y, c, N):
        parir.label('N')
        for i in range(N):
            y[i] = a[i] + c
    plus(bools, out, True, 2, opts=parir.par({'N': parir.threads(2)}))
    np.testing.assert_array_equal(out, bools + True)


@parir.jit
def bool_updates(a, y, N):
    parir.label('N')
    for i in range(N):
        y[0] += a[i]
        y[1] *= a[i]
        y[2] |= a[i]
        y[3] &= a[i]
        y[4] ^= a[i]


@pytest.mark.parametrize("pattern", [[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
def test_updates_of_bool_elements_that_iterations_share_run(pattern):
    """Sums, products, or, and, xor into bools, several in one loop: NumPy's
    `or` and `and` for + and *, on the stored bytes."""
    a = np.array(pattern * 41, bool)
    y = np.array([False, True, False, True, False])
    bool_updates(a, y, a.size, opts=parir.par({'N': parir.threads(64)}))
    xor = bool(np.logical_xor.reduce(a))
    np.testing.assert_array_equal(y, [a.any(), a.all(), a.any(), a.all(), xor])


def test_updates_spelled_out_are_reductions_as_augmented_ones():
    """`y[i] = y[i] + x[i, j]` (also `v + y[i]`, `y[i] - v`, `*`) is the
    update `y[i] += ...`: `.reduce()` accepts it, and a local's too."""
    @parir.jit
    def row_sums(x, y, N, M):
        parir.label('N')
        for i in range(N):
            parir.label('M')
            for j in range(M):
                y[i] = x[i, j] * 2.0 + y[i]

    @parir.jit
    def local_difference(x, y, N, M):
        parir.label('N')
        for i in range(N):
            s = 0.0
            parir.label('M')
            for j in range(M):
                s = s - x[i, j]
            y[i] = s

    x = np.random.default_rng(3).random((6, 50))
    y = np.ones(6)
    row_sums(x, y, 6, 50, opts=parir.par({'N': parir.threads(6), 'M': parir.threads(32).reduce()}))
    np.testing.assert_allclose(y, 1 + 2 * x.sum(axis=1))
    local_difference(x, y, 6, 50, opts=parir.par({'N': parir.threads(6), 'M': parir.threads(32).reduce()}))
    np.testing.assert_allclose(y, -x.sum(axis=1))


@parir.jit
def scaled_and_positive_sum(x, y, z, N):
    parir.label('N')
    for i in range(N):
        z[i] = x[i] * 2.0
        if x[i] > 0.0:
            y[0] += x[i]


def test_a_conditional_update_of_a_known_element_beside_other_statements_is_a_reduction():
    """`if x[i] > 0: y[0] += x[i]` beside another statement: y[0] is in
    bounds whatever the condition, so the update is made unconditional
    (adding -0.0 where it is false) and reduced, not an atomic update from
    every qualifying iteration; on GPUs, a block reduction."""
    x = np.random.default_rng(5).standard_normal(100_000)
    y, z = np.zeros(1), np.zeros_like(x)
    opts = parir.par({'N': parir.threads(x.size)})
    scaled_and_positive_sum(x, y, z, x.size, opts=opts)
    np.testing.assert_allclose(y[0], x[x > 0].sum(), rtol=1e-12)
    np.testing.assert_array_equal(z, 2 * x)
    scf = parir.print_compiled(scaled_and_positive_sum, [x, y, z, x.size], opts, stage="scf")
    assert "atomic" not in scf and "scf.reduce" in scf, scf
    gpu = parir.print_compiled(scaled_and_positive_sum, [x, y, z, x.size],
                               parir.CompileOptions({'N': parir.threads(x.size)}, backend="cuda", arch="sm_90"),
                               stage="gpu")
    assert "gpu.all_reduce" in gpu, gpu


@parir.jit
def windows(x, y, z, w, N):
    parir.label('N')
    for i in range(N):
        y[i] = parir.sum(x[i, i - 3:i + 3])
        z[i] = parir.prod(x[0, i * 3 - 4:])
        w[i] = parir.max(x[1, :i + 20])


def test_slice_reductions_read_bounds_known_only_when_running_as_python_does():
    """`parir.sum(x[i, i - 3:i + 3])`: a negative bound counts from the end
    and bounds clamp to the axis, as NumPy slices, instead of reading
    before the row (or the array)."""
    x = np.arange(1.0, 55.0).reshape(6, 9) / 10
    y, z, w = np.zeros(6), np.zeros(6), np.zeros(6)
    windows(x, y, z, w, 6, opts=parir.par({'N': parir.threads(6)}))
    want = [(x[i, i - 3:i + 3].sum(), x[0, i * 3 - 4:].prod(), x[1, :i + 20].max()) for i in range(6)]
    np.testing.assert_allclose(np.stack([y, z, w], axis=1), want, rtol=1e-12)

    @parir.jit
    def from_k(x, y, k):
        parir.label('N')
        for i in range(1):
            y[0] = parir.sum(x[k:])
    # Constant bounds of a reduction clamp too (a scalar argument here).
    for k in (-100, -2, 3, 100):
        y = np.zeros(1)
        from_k(x[0], y, k, opts=parir.par({'N': parir.threads(1)}))
        np.testing.assert_allclose(y[0], x[0, k:].sum(), rtol=1e-12)


@parir.jit
def copy_on_device_in_loop(x, y, N):
    parir.label('N')
    for i in range(N):
        with parir.gpu:
            y[i] = x[i]


def test_a_gpu_block_inside_a_parallel_loop_adds_nothing():
    """Each iteration of a parallel loop runs on the device already: a
    `with parir.gpu:` in it is its body (GPU code generation failed)."""
    x, y = np.arange(8.0), np.zeros(8)
    copy_on_device_in_loop(x, y, 8, opts=parir.par({'N': parir.threads(8)}))
    np.testing.assert_array_equal(y, x)
    ptx = parir.print_compiled(copy_on_device_in_loop, [x, y, 8], parir.CompileOptions(
        {'N': parir.threads(8)}, backend="cuda", arch="sm_90"), stage="ptx")
    assert ".entry" in ptx


@parir.jit
def after_inner_loops(y, N):
    parir.label('N')
    for k in range(N):
        for i in range(3):
            y[k] += 1
        y[k] += i * 10
        with_step = 0
        for j in range(10, 0, -4):
            with_step += 1
        y[k] += j * 100 + with_step


def test_a_loop_that_certainly_runs_leaves_its_variable_bound():
    """`for i in range(3): ...` then `i`: 2, as in Python (it was 'not
    defined'), also counting down."""
    y, want = np.zeros(4), np.zeros(4)
    after_inner_loops(y, 4, opts=parir.par({'N': parir.threads(4)}))
    after_inner_loops(want, 4, seq=True)
    np.testing.assert_array_equal(y, want)
    assert y[0] == 3 + 20 + 200 + 3


@parir.jit
def extremes_on_device(x, y):
    with parir.gpu:
        y[0] = parir.min(x[:, :])
        y[1] = parir.max(x[:, :])
        s = 0.0
        k = 0
        while k < 4:
            s += x[k, 0]
            k += 1
        y[2] = s


def test_code_only_on_one_device_thread_needs_no_parallelism():
    """A function of `with parir.gpu:` code alone (one device thread) is
    called without opts; its slice reductions keep their accumulators in
    the block, so they compile for GPUs too."""
    x, y = np.random.default_rng(2).random((4, 5)), np.zeros(3)
    extremes_on_device(x, y)
    np.testing.assert_allclose(y, [x.min(), x.max(), x[:, 0].sum()], rtol=1e-12)
    ptx = parir.print_compiled(extremes_on_device, [x, y], parir.CompileOptions(backend="cuda", arch="sm_90"),
                               stage="ptx")
    assert ".entry" in ptx


@parir.jit
def bool_extremes_shared(x, y, N):
    parir.label('N')
    for i in range(N):
        y[i % 3] = max(y[i % 3], x[i])
        y[3 + i % 2] = min(x[i] > False, y[3 + i % 2])


def test_max_and_min_into_shared_bool_elements_are_atomic():
    """max/min of bools are or/and: on elements that iterations share
    (`y[i % 3]`) they are atomic updates of the stored byte, not races."""
    x = np.zeros(100, bool)
    x[[4, 50]] = True
    y = np.array([False, False, False, True, True])
    want = y.copy()
    bool_extremes_shared(x, y, 100, opts=parir.par({'N': parir.threads(100)}))
    bool_extremes_shared(x, want, 100, seq=True)
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(y, [False, True, True, False, False])


@parir.jit
def exclusive_prefix(x, y, n):
    parir.label('N')
    for i in range(n):
        for j in range(i):
            y[i - 1] += x[j]


@parir.jit
def sums_over_no_columns(x, y, n, m):
    parir.label('N')
    for i in range(n):
        for j in range(m):
            y[i + 1] += x[i, j]


@pytest.mark.parametrize("debug", [False, True])
def test_a_reduction_nest_that_runs_no_iteration_touches_no_element(debug, capsys):
    """`for j in range(i): y[i - 1] += x[j]` at i = 0 runs nothing, and
    Python touches no y[-1]: the element is read and combined into only
    where it is in bounds (it was a compile error, and before that an
    access before the array)."""
    x, y, want = np.arange(8.0), np.zeros(8), np.zeros(8)
    exclusive_prefix(x, y, 8, opts=parir.par({'N': parir.threads(8)}), debug=debug)
    exclusive_prefix(x, want, 8, seq=True)
    np.testing.assert_array_equal(y, want)
    z = np.zeros(4)
    sums_over_no_columns(np.ones((4, 0)), z, 4, 0, opts=parir.par({'N': parir.threads(4)}), debug=debug)
    np.testing.assert_array_equal(z, 0.0)
    capsys.readouterr()


@parir.jit
def add_all_into_second(x, y, n):
    parir.label('P')
    for p in range(1):
        for i in range(n):
            y[1] += x[i]


def test_a_reduction_whose_contribution_reads_its_array_under_another_name_runs_as_written():
    """Called as f(a, a), `y[1] += x[i]` reads y[1] itself at i = 1 after
    earlier updates: no reduction of x into an accumulator, but Python's
    order."""
    a = np.ones(4)
    add_all_into_second(a, a, 4, opts=parir.par({'P': parir.threads(1)}))
    b = np.ones(4)
    for i in range(4):
        b[1] += b[i]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(math_kernels.CASES))
def test_math_numpy_and_parir_functions_match_them_run_as_python(name, dtype):
    got, want = math_kernels.compiled_and_python(name, dtype, "cpu")
    # float64 to the last digits: expm1 and log1p of 1e-10 too, which
    # exp(x) - 1 and log(1 + x) would get wrong from the 8th digit on.
    tolerance = dict(rtol=1e-14, atol=0) if dtype == np.float64 else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got, want, equal_nan=True, **tolerance)


@parir.jit
def shapes_everywhere(x, y, d):
    parir.label('N')
    for i in range(x.shape[0]):
        n, m = x.shape
        parir.label('M')
        for j in range(x.shape[-1]):
            y[i] += x[i, j] * len(x) + x.size * x.ndim + d["a"].shape[0] + n * m


@parir.jit
def shapes_up_front(x, y, k):
    n, m = x.shape
    scale = 2 * k + m
    parir.label('N')
    for i in range(n):
        for j in range(m):
            y[i] += x[i, j] * scale


def test_locals_known_when_compiling_may_stand_outside_the_parallel_loops():
    """`n, m = x.shape` at the top of a function computes nothing (the
    shape is a constant of the call), nor does a local assigned once from
    such values; a local assigned from the data, or twice, is still code
    outside every parallel loop."""
    x = np.arange(12.0).reshape(3, 4)
    y, expected = np.zeros(3), np.zeros(3)
    opts = parir.par({'N': parir.threads(3)})
    shapes_up_front(x, y, 5, opts=opts)
    shapes_up_front(x, expected, 5, seq=True)
    assert y.tolist() == expected.tolist() == (x.sum(axis=1) * 14).tolist()
    gpu = parir.print_compiled(shapes_up_front, [x, y, 5], parir.CompileOptions({'N': parir.threads(3)}, backend="cuda", arch="sm_90"),
                               stage="gpu")
    assert "gpu.launch" in gpu

    @parir.jit
    def from_the_data(x, y):
        s = x[0, 0]
        parir.label('N')
        for i in range(x.shape[0]):
            y[i] = s

    with pytest.raises(parir.CompileError, match=r"would run outside every parallel loop.*assigned here only once"):
        from_the_data(x, y, opts=opts)


def test_shapes_are_constants_of_the_call():
    x = np.random.default_rng(3).random((5, 7))
    d = {"a": np.zeros(11)}
    y = np.zeros(5)
    shapes_everywhere(x, y, d, opts=parir.par({'N': parir.threads(5), 'M': parir.threads(7).reduce()}))
    expected = np.zeros(5)
    shapes_everywhere(x, expected, d, seq=True)
    np.testing.assert_allclose(y, expected)
    # Another shape, another specialisation.
    x2 = x[:3, :4].copy()
    y2 = np.zeros(3)
    shapes_everywhere(x2, y2, d, opts=parir.par({'N': parir.threads(3), 'M': parir.threads(4).reduce()}))
    np.testing.assert_allclose(y2, (x2 * 3).sum(axis=1) + 4 * (12 * 2 + 11 + 12))


@parir.jit
def tuple_assignments(x, y, N):
    parir.label('N')
    for i in range(N):
        a, b = x[i, 0], 2.0 * x[i, 1]
        a, b = b, a  # through temporaries: b reads what a assigned
        y[i, 0], y[i, 1], y[i, 2] = a, b, a - b
        x[i, 0], x[i, 1], x[i, 2] = x[i, 1], x[i, 2], x[i, 0]


@parir.jit
def two_sums_at_once(x, y, N):
    parir.label('N')
    for i in range(N):
        s, q = 0.0, 0.0
        parir.label('M')
        for j in range(x.shape[1]):
            s, q = s + x[i, j], q + x[i, j] * x[i, j]
        y[i, 0], y[i, 1] = s, q


def test_tuple_assignment_evaluates_every_value_first():
    x = np.random.default_rng(4).random((9, 3))
    got = [x.copy(), np.zeros((9, 3)), 9]
    want = [x.copy(), np.zeros((9, 3)), 9]
    tuple_assignments(*got, opts=parir.par({'N': parir.threads(9)}))
    tuple_assignments(*want, seq=True)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(want[0], x[:, [1, 2, 0]])


@pytest.mark.parametrize("reduce", [False, True])
def test_tuple_updates_of_locals_are_reductions(reduce):
    x = np.random.default_rng(5).random((7, 300))
    y = np.zeros((7, 2))
    inner = parir.threads(300).reduce() if reduce else parir.threads(300)
    two_sums_at_once(x, y, 7, opts=parir.par({'N': parir.threads(7), 'M': inner}))
    np.testing.assert_allclose(y, np.stack([x.sum(axis=1), (x * x).sum(axis=1)], axis=1))


@parir.jit
def positive_row_sums(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if x[i, j] < 0:
                continue
            y[i] += x[i, j]


@parir.jit
def skipping_rows_and_elements(x, y, N, M):
    parir.label('N')
    for i in range(N):
        if i % 3 == 0:
            y[i] = -1.0
            continue
        s = 0.0
        for j in range(M):
            if x[i, j] > 0.5:
                if x[i, j] > 0.9:
                    continue
                s += 10.0 * x[i, j]
            s += x[i, j]
        k = 0
        while k < 6:
            k += 1
            if k % 2 == 0:
                continue
            s += k
        y[i] = s


@pytest.mark.parametrize("spec", ["reduce", "outer only"])
def test_continue_skips_the_rest_of_an_iteration(spec):
    x = np.random.default_rng(6).standard_normal((40, 50))
    inner = {'M': parir.threads(50).reduce()} if spec == "reduce" else {}
    y = np.zeros(40)
    positive_row_sums(x, y, 40, 50, opts=parir.par({'N': parir.threads(40), **inner}))
    np.testing.assert_allclose(y, np.where(x < 0, 0, x).sum(axis=1))
    got, want = np.zeros(40), np.zeros(40)
    skipping_rows_and_elements(x, got, 40, 50, opts=parir.par({'N': parir.threads(40)}))
    skipping_rows_and_elements(x, want, 40, 50, seq=True)
    np.testing.assert_allclose(got, want)


@parir.jit
def searches_that_break(x, out, t, N, M, S):
    parir.label('N')
    for i in range(N):
        out[i, 0] = -1
        for j in range(M):
            if x[i, j] > t:
                out[i, 0] = j
                break
        j = -5
        for j in range(M - 1, -1, -2):  # the variable keeps the value it broke at
            if x[i, j] < 0.1:
                break
        out[i, 1] = j
        w = 0
        while True:
            w += 1
            if w * w > i:
                break
        out[i, 2] = w
        c = 0
        for k in range(10, 0, S):  # a step known only as an argument array
            if k == 4:
                continue
            if k < 2:
                break
            c += k
        out[i, 3] = c


def test_break_leaves_sequential_loops_as_python_does():
    x = np.random.default_rng(7).random((20, 30))
    for step in [np.array([-1]), np.array([-3])]:
        got, want = np.zeros((20, 4), np.int64), np.zeros((20, 4), np.int64)
        searches_that_break(x, got, 0.9, 20, 30, step, opts=parir.par({'N': parir.threads(20)}))
        searches_that_break(x, want, 0.9, 20, 30, step[0], seq=True)
        np.testing.assert_array_equal(got, want)


@parir.jit
def special_values(x, N):
    parir.label('N')
    for i in range(N):
        x[i, 0] = float('inf')
        x[i, 1] = float('-Infinity')
        x[i, 2] = float('nan')
        x[i, 3] = float(' 2.5e1 ')
        x[i, 4] = math.inf - np.inf
        x[i, 5] = -math.nan


def test_special_float_values_as_python_spells_them():
    got, want = np.zeros((2, 6)), np.zeros((2, 6))
    special_values(got, 2, opts=parir.par({'N': parir.threads(2)}))
    special_values(want, 2, seq=True)
    np.testing.assert_array_equal(got, want)
    assert np.isposinf(got[0, 0]) and np.isneginf(got[0, 1]) and got[0, 3] == 25.0


@parir.jit
def fill_between(y, n):
    parir.label('N')
    y[n[0]:n[1]] = 7.0


@parir.jit
def copy_prefix(x, y, n):
    parir.label('N')
    y[0:n[0]] = x[0:n[0]]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("bounds", [(-2, 6), (2, -1), (0, 40), (-100, 3), (5, 2), (-3, 99)])
def test_slice_bounds_read_when_the_code_runs_are_pythons(bounds, debug):
    """From the end when negative, clamped to the axis, empty when the end
    comes first: as Python, not writes outside the array."""
    n = np.array(bounds)
    got, want = np.zeros(6), np.zeros(6)
    fill_between(got, n, opts=parir.par({'N': parir.threads(2)}), debug=debug)
    fill_between(want, n, seq=True)
    np.testing.assert_array_equal(got, want)
    x = np.arange(6.0)
    got, want = np.zeros(6), np.zeros(6)
    copy_prefix(x, got, n, opts=parir.par({'N': parir.threads(2)}), debug=debug)
    copy_prefix(x, want, n, seq=True)
    np.testing.assert_array_equal(got, want)


@parir.jit
def truth_values(x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = bool(x[i])


def test_bool_is_pythons_truth():
    x = np.array([0.0, -0.0, 2.5, np.nan, -np.inf])
    y = np.zeros(5, bool)
    truth_values(x, y, 5, opts=parir.par({'N': parir.threads(5)}))
    np.testing.assert_array_equal(y, [bool(v) for v in x])


@parir.jit
def powers(x, e, y, z, n):
    parir.label('N')
    for i in range(n):
        y[i] = x[i] ** e[i]
        z[i] = np.int64(3) ** i + x[i] ** 40


def test_integer_powers_with_exponents_known_only_when_running():
    """`x[i] ** e[i]` and `np.int64(3) ** i` of integers (and exponents
    above 16) compute by squaring, wrapping as NumPy's do; they were
    CompileErrors. (A power of two Python ints, `3 ** i`, stays one: a
    float for a negative exponent, an exact int beyond 64 bits.)
    A negative exponent, where NumPy raises, gives 0 (1 and -1 to it stay
    1 and ±1), and ValueError with debug=True."""
    x = np.array([2, -3, 7, 1, -1, 0, 5, 3], np.int64)
    e = np.array([10, 3, 21, 5, 7, 0, 63, 40], np.int64)
    n = len(x)
    y, z = np.zeros(n, np.int64), np.zeros(n, np.int64)
    y_seq, z_seq = np.zeros(n, np.int64), np.zeros(n, np.int64)
    opts = parir.par({'N': parir.threads(n)})
    powers(x, e, y, z, n, opts=opts)
    with np.errstate(over="ignore"):
        powers(x, e, y_seq, z_seq, n, seq=True)
    assert y.tolist() == y_seq.tolist() and z.tolist() == z_seq.tolist()
    narrow = np.array([3, 2], np.uint8), np.array([5, 9], np.uint8)
    y8, y8_seq = np.zeros(2, np.uint8), np.zeros(2, np.uint8)
    powers(*narrow, y8, np.zeros(2, np.uint8), 2, opts=parir.par({'N': parir.threads(2)}))
    powers(*narrow, y8_seq, np.zeros(2, np.uint8), 2, seq=True)
    assert y8.tolist() == y8_seq.tolist() == [243, 0]
    negative = np.array([-1, -2, -3, -4], np.int64)
    bases = np.array([2, 1, -1, -1], np.int64)
    y = np.full(4, 9, np.int64)
    powers(bases, negative, y, np.zeros(4, np.int64), 4, opts=parir.par({'N': parir.threads(4)}))
    assert y.tolist() == [0, 1, -1, 1]
    with pytest.raises(ValueError, match="integers to negative integer powers are not allowed"):
        powers(bases, negative, y, np.zeros(4, np.int64), 4, opts=parir.par({'N': parir.threads(4)}), debug=True)


@parir.jit
def integer_functions(a, b, f, r, n):
    parir.label('N')
    for i in range(n):
        f[i] = np.fmod(a[i], b[i])
        r[i] = np.floor(a[i]) + np.ceil(a[i]) + np.trunc(a[i])


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16])
def test_fmod_floor_ceil_trunc_of_integers_are_numpys(dtype):
    """np.fmod of integers is C's remainder (the dividend's sign; 0 for a
    zero divisor), once a CompileError; np.floor/ceil/trunc of an integer
    is that integer, of its type (NumPy 2.3 on), once a float64 that lost
    digits past 2**53."""
    info = np.iinfo(dtype)
    a = np.array([7, info.min, info.max, 5, 9, 0], dtype)
    b = np.array([3, 3, 7, 0, 1, 4], dtype)
    if info.min < 0:
        a[0], b[4] = -7, -1
    f, r = np.zeros(6, dtype), np.zeros(6, dtype)
    f_seq, r_seq = np.zeros(6, dtype), np.zeros(6, dtype)
    integer_functions(a, b, f, r, 6, opts=parir.par({'N': parir.threads(6)}))
    with np.errstate(divide="ignore", over="ignore"):
        integer_functions(a, b, f_seq, r_seq, 6, seq=True)
    assert f.tolist() == f_seq.tolist()
    assert r.tolist() == r_seq.tolist()


@parir.jit
def extremes_of_index(y, n):
    parir.label('N')
    for i in range(n):
        y[0] = max(y[0], i)
    parir.label('N')
    for i in range(n):
        y[1] += i


@parir.jit
def or_into(x, y, n):
    parir.label('N')
    for i in range(n):
        y[0] |= x[i]


def test_reductions_at_the_edges_of_the_element_types():
    """Floats at and past the end of an integer element's range (2**63 as
    a float, inf, NaN) never win its min (its bound as a float once
    overflowed to the type's minimum); a uint64 element's max of int64
    values in order compares them exactly (float64 rounded 2**63 - 1);
    loop indices into narrow or uint64 elements stay reductions; an or of
    integers into a bool element is the truth of the or."""
    opts = parir.par({'N': parir.threads(4)})
    for element, values in ((np.int64, [1e19, 2.0**63, math.inf, math.nan]),
                            (np.uint64, [2.0**64, 1e30, math.inf, math.nan]),
                            (np.int32, np.array([2.0**31] * 4, np.float32))):
        y = np.array([5, 5, 5], element)
        extremes_into(np.asarray(values), y, 4, opts=opts)
        assert y[1] == 5, (element, y)
    y = np.array([5, 18446744073709551615, 0], np.uint64)
    x = np.array([2**63 - 1, 1], np.int64)
    extremes_in_order(x, y, 2, opts=parir.par({'R': parir.threads(1)}))
    assert y[:2].tolist() == [2**63 - 1, 1]
    for element in (np.uint8, np.int32, np.uint64):
        y = np.zeros(2, element)
        extremes_of_index(y, 10, opts=parir.par({'N': parir.threads(10)}))
        assert y.tolist() == [9, 45]
    flags = np.array([False])
    or_into(np.array([0, 0, 4, 0]), flags, 4, opts=opts)
    assert flags.tolist() == [True]
    with pytest.raises(parir.CompileError, match="bitwise operators need integer operands"):
        or_into(np.zeros(4), flags, 4, opts=opts)


@parir.jit
def relu_of_row_max(x, y, n):
    parir.label('N')
    for i in range(n):
        y[i] = max(parir.max(x[i, :]), 0.0)


@parir.jit
def python_power(y, n):
    parir.label('N')
    for i in range(n):
        y[i] = 2 ** i


def test_powers_and_reductions_that_would_answer_otherwise_are_refused():
    """An expression around a slice reduction (`max(parir.max(x[i, :]),
    0.0)`) once dropped the expression; a power of Python ints with an
    exponent known only when running would be int64 where Python's is a
    float or exact. A uint64 exponent of 2**63 and more is no negative
    one."""
    with pytest.raises(parir.CompileError, match="a slice reduction must be the whole value of its statement"):
        relu_of_row_max(-np.ones((2, 3)), np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)}))
    with pytest.raises(parir.CompileError, match="a power of Python ints"):
        python_power(np.zeros(4), 4, opts=parir.par({'N': parir.threads(4)}))
    y = np.zeros(1, np.uint64)
    powers(np.array([3], np.uint64), np.array([2**63 + 1], np.uint64), y, np.zeros(1, np.uint64), 1,
           opts=parir.par({'N': parir.threads(1)}), debug=True)
    assert y[0] == np.uint64(3) ** np.uint64(2**63 + 1)


def test_expressions_nested_as_deep_as_python_takes_compile(tmp_path, capsys):
    """A sum of 2500 terms nests 2500 levels deep: Python compiles it, and
    so must the JIT (its syntax walk once hit the recursion limit, and the
    compiler's walks overflowed the thread's stack). Under debug=True each
    of its checked accesses once cost a print of the whole function in
    the passes (melior's conversions of values): minutes, now a second."""
    terms = 2500
    source = ("import parla.parir as parir\n"
              "def long_sum(x, y, n):\n"
              "    parir.label('N')\n"
              "    for i in range(n):\n"
              f"        y[i] = {' + '.join(['x[i]'] * terms)} - {' - '.join(['x[0]'] * 10)}\n")
    path = tmp_path / "long_sum.py"
    path.write_text(source)
    namespace = {}
    exec(compile(source, str(path), "exec"), namespace)
    long_sum = parir.jit(namespace["long_sum"])
    x, y = np.arange(1.0, 5.0), np.zeros(4)
    long_sum(x, y, 4, opts=parir.par({'N': parir.threads(4)}))
    np.testing.assert_array_equal(y, terms * x - 10 * x[0])
    checked = np.zeros(4)
    long_sum(x, checked, 4, opts=parir.par({'N': parir.threads(4)}), debug=True)
    np.testing.assert_array_equal(checked, y)
    capsys.readouterr()
