"""Compiled results equal NumPy's and the interpreter's (seq=True) on random
inputs and sizes."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import parla.parir as parir


@parir.jit
def row_stats(x, sums, maxima, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            sums[i] += x[i, j]
        for j in range(M):
            maxima[i] = max(maxima[i], x[i, j])


@parir.jit
def scaled_sum(x, out, a, N):
    parir.label('N')
    for i in range(N):
        out[0] += a * x[i] - 1.0


@parir.jit
def elementwise(x, y, z, N):
    parir.label('N')
    z[:] = x[:] * y[:] + parir.sqrt(parir.abs(x[:]))


sizes = st.integers(min_value=1, max_value=70)
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes, sizes)
def test_row_stats(data, n, m):
    x = data.draw(hnp.arrays(np.float64, (n, m), elements=finite))
    sums, maxima = np.zeros(n), np.full(n, -np.inf)
    row_stats(x, sums, maxima, n, m, opts=parir.par({'N': parir.threads(n), 'M': parir.threads(m).reduce()}))
    np.testing.assert_allclose(sums, x.sum(axis=1), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(maxima, x.max(axis=1))
    seq_sums, seq_maxima = np.zeros(n), np.full(n, -np.inf)
    row_stats(x, seq_sums, seq_maxima, n, m, seq=True)
    np.testing.assert_allclose(sums, seq_sums, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(min_value=1, max_value=5000), finite)
def test_parallel_reduction(data, n, a):
    x = data.draw(hnp.arrays(np.float64, n, elements=finite))
    out = np.zeros(1)
    scaled_sum(x, out, a, n, opts=parir.par({'N': parir.threads(n).reduce()}))
    np.testing.assert_allclose(out[0], np.sum(a * x - 1.0), rtol=1e-7, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(min_value=1, max_value=300), st.sampled_from([np.float32, np.float64]))
def test_slice_expressions(data, n, dtype):
    elements = st.floats(min_value=-100, max_value=100, allow_nan=False, width=32)
    x = data.draw(hnp.arrays(dtype, n, elements=elements))
    y = data.draw(hnp.arrays(dtype, n, elements=elements))
    z = np.zeros(n, dtype=dtype)
    elementwise(x, y, z, n, opts=parir.par({'N': parir.threads(n)}))
    np.testing.assert_allclose(z, x * y + np.sqrt(np.abs(x)), rtol=1e-5 if dtype == np.float32 else 1e-12)


@parir.jit
def slice_reductions(x, sums, smallest, total, N, M):
    parir.label('N')
    parir.label('M')
    sums[:] = parir.sum(x[:, :], axis=1)
    parir.label('M')
    parir.label('N')
    smallest[:] = parir.min(x[:, :], axis=0)
    parir.label('N')
    total[0] = parir.max(x[:, :])


int_dtypes = st.sampled_from([np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64])


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes, sizes, int_dtypes, st.booleans())
def test_slice_reductions_against_numpy_and_seq(data, n, m, dtype, reduce_rows):
    info = np.iinfo(dtype)
    # Small values: the row sums stay in range of the element type.
    x = data.draw(hnp.arrays(dtype, (n, m), elements=st.integers(max(info.min, -1), min(info.max, 1))))
    outputs = lambda: (np.zeros(n, dtype), np.zeros(m, dtype), np.zeros(1, dtype))
    compiled, interpreted = outputs(), outputs()
    spec = {'N': parir.threads(n).reduce() if reduce_rows else parir.threads(n), 'M': parir.threads(m)}
    slice_reductions(x, *compiled, n, m, opts=parir.par(spec))
    np.testing.assert_array_equal(compiled[0], x.sum(axis=1, dtype=dtype))
    np.testing.assert_array_equal(compiled[1], x.min(axis=0))
    np.testing.assert_array_equal(compiled[2][0], x.max())
    slice_reductions(x, *interpreted, n, m, seq=True)
    for a, b in zip(compiled, interpreted):
        np.testing.assert_array_equal(a, b)


@parir.jit
def conditional_stats(x, t, sums, counts, maxima, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if x[i, j] > t:
                sums[i] += x[i, j]
            elif x[i, j] < -t:
                sums[i] -= x[i, j]
        c = 0
        parir.label('M')
        for j in range(M):
            if x[i, j] > t:
                c += 1
        counts[i] = c
        parir.label('M')
        for j in range(M):
            if x[i, j] != t:
                maxima[i] = max(maxima[i], x[i, j])


@settings(max_examples=40, deadline=None)
@given(st.data(), sizes, sizes, st.sampled_from([np.float64, np.float32, np.int32, np.int64]), st.booleans())
def test_conditional_reductions_against_seq(data, n, m, dtype, reduce):
    """Conditional updates (if/elif, += and -=, a local count, max) are
    reductions of the chosen value: the interpreter's answers."""
    if np.dtype(dtype).kind == "f":
        elements = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
        t = data.draw(st.floats(min_value=0, max_value=1e3, width=np.dtype(dtype).itemsize * 8))
    else:
        elements = st.integers(min_value=-1000, max_value=1000)
        t = data.draw(st.integers(min_value=0, max_value=1000))
    x = data.draw(hnp.arrays(dtype, (n, m), elements=elements))
    t = dtype(t)

    def run(**how):
        out = [np.zeros(n, dtype), np.zeros(n, np.int64), np.full(n, -5000, dtype)]
        conditional_stats(x, t, *out, n, m, **how)
        return out

    spec = parir.threads(m).reduce() if reduce else parir.threads(m)
    compiled = run(opts=parir.par({'N': parir.threads(n), 'M': spec}))
    expected = run(seq=True)
    rtol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(compiled[0], expected[0], rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(compiled[1], expected[1])
    np.testing.assert_array_equal(compiled[2], expected[2])
