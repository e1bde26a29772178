"""Kernels whose outer loop maps to blocks and whose block-level code (the
outer body outside the inner parallel loops) writes, reads what the inner
loops wrote, or holds inner loops under conditions and sequential loops:
the code that needs one writer per block and barriers. Each comes with its
arguments, its parallel specification and NumPy's answer. The GPU code
generation tests assemble them; the GPU tests run them."""

import numpy as np

import parla.parir as parir

N, M = 48, 700


def rows(seed=0):
    return np.random.default_rng(seed).random((N, M), dtype=np.float32) + 0.5


@parir.jit
def normalize(x, y, N, M):
    parir.label('N')
    for i in range(N):
        y[i] = 0.0
        parir.label('M')
        for j in range(M):
            y[i] += x[i, j]
        parir.label('M')
        for j in range(M):
            x[i, j] = x[i, j] / y[i]


def normalize_case():
    x = rows(1)
    args = [x.copy(), np.full(N, 7.0, np.float32), N, M]
    expected = {0: x / x.sum(axis=1, keepdims=True), 1: x.sum(axis=1)}
    return args, {'N': parir.threads(N), 'M': parir.threads(256)}, expected


@parir.jit
def reversed_rows(x, tmp, out, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            tmp[i, j] = x[i, j] * 2.0
        parir.label('M')
        for j in range(M):
            out[i, j] = tmp[i, M - 1 - j]


def reversed_rows_case():
    x = rows(2)
    args = [x, np.zeros_like(x), np.zeros_like(x), N, M]
    return args, {'N': parir.threads(N), 'M': parir.threads(128)}, {2: (2 * x)[:, ::-1]}


@parir.jit
def total_of_rows(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[0] += x[i, j]


def total_of_rows_case():
    x = rows(3)
    args = [x, np.zeros(1, np.float32), N, M]
    return args, {'N': parir.threads(N), 'M': parir.threads(256).reduce()}, {1: [x.astype(np.float64).sum()]}


@parir.jit
def largest_of_all(x, y, N, M):
    parir.label('N')
    parir.label('M')
    y[0] = parir.max(x[:, :])


def largest_of_all_case():
    x = rows(4)
    args = [x, np.zeros(1, np.float32), N, M]
    return args, {'N': parir.threads(N), 'M': parir.threads(128)}, {1: [x.max()]}


@parir.jit
def block_level_updates(x, bins, counts, y, flags, N, M):
    parir.label('N')
    for i in range(N):
        counts[bins[i]] += 1
        for k in range(3):
            y[i, k] += x[i, k]
        if x[i, 0] > 1.0:
            flags[i] = 1
        parir.label('M')
        for j in range(M):
            x[i, j] = x[i, j] * 2.0


def block_level_updates_case():
    x = rows(5)
    bins = np.random.default_rng(6).integers(0, 8, N)
    y = np.ones((N, 3), np.float32)
    args = [x.copy(), bins, np.zeros(8, np.int64), y.copy(), np.zeros(N, np.int64), N, M]
    expected = {
        0: 2 * x,
        2: np.bincount(bins, minlength=8),
        3: y + x[:, :3],
        4: (x[:, 0] > 1.0).astype(np.int64),
    }
    return args, {'N': parir.threads(N), 'M': parir.threads(256)}, expected


@parir.jit
def conditional_maxima(x, y, N, M):
    parir.label('N')
    for i in range(N):
        if x[i, 0] > 1.0:
            parir.label('M')
            for j in range(M):
                y[i] = max(y[i], x[i, j])


def conditional_maxima_case():
    x = rows(7)
    x[3, 0], x[3, 5] = 1.2, np.nan  # NaN propagates, as in NumPy's max
    y = np.zeros(N, np.float32)
    expected = np.where(x[:, 0] > 1.0, x.max(axis=1), 0.0)
    return [x, y, N, M], {'N': parir.threads(N), 'M': parir.threads(256).reduce()}, {1: expected}


@parir.jit
def three_levels(x, y, N, K, M):
    parir.label('N')
    for i in range(N):
        parir.label('K')
        for k in range(K):
            parir.label('M')
            for j in range(M):
                y[i, k] += x[i, k, j]


def three_levels_case():
    x = np.random.default_rng(8).random((6, 5, 300), dtype=np.float32)
    args = [x, np.zeros((6, 5), np.float32), 6, 5, 300]
    spec = {'N': parir.threads(6), 'K': parir.threads(5), 'M': parir.threads(128).reduce()}
    return args, spec, {1: x.astype(np.float64).sum(axis=2)}


@parir.jit
def local_normalize(x, N, M):
    parir.label('N')
    for i in range(N):
        s = parir.float32(0.0)
        parir.label('M')
        for j in range(M):
            s += x[i, j]
        parir.label('M2')
        for j in range(M):
            x[i, j] = x[i, j] / s


def local_normalize_case():
    # Fewer blocks than rows: each block normalises several rows in turn,
    # reusing the reduction's shared memory.
    x = rows(9)
    spec = {'N': parir.threads(4), 'M': parir.threads(256).reduce(), 'M2': parir.threads(256)}
    return [x.copy(), N, M], spec, {0: x / x.sum(axis=1, keepdims=True)}


@parir.jit
def device_block_with_a_host_loop(x, y, K, N):
    with parir.gpu:
        y[0] = 1.0
        for k in range(K):
            y[0] = y[0] * 2.0
            parir.label('N')
            for i in range(N):
                x[i] += y[0]


def device_block_with_a_host_loop_case():
    # Each iteration of the host loop: a one-thread kernel doubles y[0],
    # then the parallel loop's kernel adds it (2 + 4 + 8 + 16 + 32).
    args = [np.zeros(1000, np.float32), np.zeros(1, np.float32), 5, 1000]
    return args, {'N': parir.threads(1000)}, {0: np.full(1000, 62.0), 1: [32.0]}


@parir.jit
def halve_until_small(x, largest, N, M):
    parir.label('N')
    for i in range(N):
        while largest[i] > 0.01:
            largest[i] = 0.0
            parir.label('M')
            for j in range(M):
                x[i, j] = x[i, j] * 0.5
            parir.label('R')
            for j in range(M):
                largest[i] = max(largest[i], x[i, j])


def halve_until_small_case():
    # A block-level while loop: its condition reads what the body's inner
    # loops wrote; rows stop after different numbers of halvings.
    x = rows(10) * np.linspace(1, 100, N, dtype=np.float32)[:, None]
    expected, largest = x.copy(), np.full(N, 1.0, np.float32)
    for i in range(N):
        while largest[i] > 0.01:
            expected[i] *= np.float32(0.5)
            largest[i] = expected[i].max()
    spec = {'N': parir.threads(16), 'M': parir.threads(256), 'R': parir.threads(256).reduce()}
    return [x.copy(), np.full(N, 1.0, np.float32), N, M], spec, {0: expected, 1: largest}


@parir.jit
def nested_row_sums(x, y, N, M, K):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            for k in range(K):
                y[i] += x[i, j, k]


def nested_row_sums_case():
    # Each iteration of the inner parallel loop reduces a sequential loop:
    # a block reduction of the iterations' partial sums.
    x = np.random.default_rng(11).random((8, 300, 5), dtype=np.float32)
    args = [x, np.ones(8, np.float32), 8, 300, 5]
    return args, {'N': parir.threads(8), 'M': parir.threads(128)}, {1: 1.0 + x.astype(np.float64).sum(axis=(1, 2))}


@parir.jit
def group_sums(x, groups, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[groups[i]] += x[i, j]


def group_sums_case():
    # Rows of one group add into one element: each row's sum is combined
    # atomically (it used to be stored over the other rows' sums).
    x = rows(12)
    groups = np.random.default_rng(13).integers(0, 3, N)
    expected = np.bincount(groups, weights=x.astype(np.float64).sum(axis=1), minlength=3)
    return [x, groups, np.zeros(3, np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, {2: expected}


@parir.jit
def counts_above(x, counts, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            counts[i] += 1 if x[i, j] > 1.0 else 0


def counts_above_case():
    # A Python int added to int32 elements: a block reduction in int32.
    x = rows(14)
    expected = (x > 1.0).sum(axis=1).astype(np.int32)
    return [x, np.zeros(N, np.int32), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, {1: expected}


@parir.jit
def device_sum_then_scale(x, total, N):
    with parir.gpu:
        s = 0.0
        for i in range(N):
            s += x[i]
        total[0] = s
        parir.label('N')
        for i in range(N):
            x[i] = x[i] / total[0]


def device_sum_then_scale_case():
    # A local of `with parir.gpu:` code lives in the one kernel that uses it.
    x = rows(15)[0]
    return [x.copy(), np.zeros(1, np.float32), M], {'N': parir.threads(M)}, {0: x / x.sum(), 1: [x.sum()]}


@parir.jit
def conditional_row_sums(x, y, N, M):
    parir.label('N')
    for i in range(N):
        s = 0.0
        parir.label('M')
        for j in range(M):
            if x[i, j] > 1.0:
                s += x[i, j]
        y[i] = s


def conditional_row_sums_case():
    # A conditional update of a block-level local: a block reduction of
    # the value chosen under the condition (0 where it is false).
    x = rows(16)
    expected = np.where(x > 1.0, x, 0).astype(np.float64).sum(axis=1)
    return [x, np.zeros(N, np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256).reduce()}, {1: expected}


@parir.jit
def latest_extremes(x, y, N, M):
    parir.label('N')
    for i in range(N):
        m = -1
        parir.label('M')
        for j in range(M):
            if x[i, j] < 0.52:
                m = max(m, j)
            elif x[i, j] > 1.48:
                m = max(m, 2 * j)
        y[i] = m


def latest_extremes_case():
    x = rows(17)
    scores = np.where(x < 0.52, np.arange(M), np.where(x > 1.48, 2 * np.arange(M), -1))
    return [x, np.zeros(N, np.int64), N, M], {'N': parir.threads(N), 'M': parir.threads(128)}, {1: scores.max(axis=1)}


@parir.jit
def signed_row_updates(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if x[i, j] > 1.0:
                y[i] += x[i, j]
            else:
                y[i] -= 1.0


def signed_row_updates_case():
    # Both branches update the element: the contribution is chosen.
    x = rows(18)
    expected = 2.0 + np.where(x > 1.0, x, -1.0).astype(np.float64).sum(axis=1)
    return [x, np.full(N, 2.0, np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256).reduce()}, {1: expected}


@parir.jit
def guarded_group_sums(x, groups, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            if groups[i] >= 0:
                y[groups[i]] += x[i, j]


def guarded_group_sums_case():
    # Rows of group -1 belong to no group: the condition guards the index,
    # so their element (out of bounds) is never touched.
    x = rows(19)
    groups = np.random.default_rng(20).integers(-1, 3, N)
    kept = groups >= 0
    expected = np.bincount(groups[kept], weights=x[kept].astype(np.float64).sum(axis=1), minlength=3)
    return [x, groups, np.zeros(3, np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, {2: expected}


@parir.jit
def layer_norm(x, y, N, M):
    parir.label('N')
    for i in range(N):
        s = 0.0
        q = 0.0
        parir.label('M')
        for j in range(M):
            s += x[i, j]
            q += x[i, j] * x[i, j]
        mean = s / M
        scale = 1.0 / parir.sqrt(q / M - mean * mean + 1e-5)
        parir.label('M')
        for j in range(M):
            y[i, j] = (x[i, j] - mean) * scale


def layer_norm_case():
    # Two reductions in one inner loop: a block reduction each.
    x = rows(21)
    wide = x.astype(np.float64)
    expected = (wide - wide.mean(axis=1, keepdims=True)) / np.sqrt(wide.var(axis=1, keepdims=True) + 1e-5)
    return [x, np.zeros_like(x), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, {1: expected}


@parir.jit
def mean_above(x, y, N, M):
    parir.label('N')
    for i in range(N):
        s = 0.0
        count = 0
        parir.label('M')
        for j in range(M):
            if x[i, j] > 1.0:
                s += x[i, j]
                count += 1
        y[i] = s / max(count, 1)


def mean_above_case():
    # One condition around updates of two locals: both chosen at once,
    # then a block reduction each.
    x = rows(22)
    above = x > 1.0
    expected = np.where(above, x, 0).astype(np.float64).sum(axis=1) / np.maximum(above.sum(axis=1), 1)
    return [x, np.zeros(N, np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, {1: expected}


@parir.jit
def device_local_sum_then_scale(x, total, N):
    with parir.gpu:
        s = 0.0
        parir.label('N')
        for i in range(N):
            s += x[i]
        total[0] = s
        parir.label('N')
        for i in range(N):
            x[i] = x[i] / s


def device_local_sum_then_scale_case():
    # A local that four kernels share: device memory of the call.
    x = rows(23)[0]
    return [x.copy(), np.zeros(1, np.float32), M], {'N': parir.threads(M)}, {0: x / x.sum(), 1: [x.sum()]}


@parir.jit
def row_differences(x, y, below, N, M):
    parir.label('N')
    for i in range(N):
        s = 0.0
        c = 0
        parir.label('M')
        for j in range(M):
            s -= x[i, j]
            c = c - (x[i, j] < 0.5)
        y[i] = s
        below[i] = c


def row_differences_case():
    # Subtractions from block-level locals (a float, and an int less a
    # NumPy bool): sums of the negated values, block reductions.
    x = rows(24)
    expected_below = -(x < 0.5).sum(axis=1)
    return ([x, np.zeros(N, np.float32), np.zeros(N, np.int64), N, M], {'N': parir.threads(N), 'M': parir.threads(256)},
            {1: -x.astype(np.float64).sum(axis=1), 2: expected_below})


@parir.jit
def repeated_row_updates(x, y, N, M):
    parir.label('N')
    for i in range(N):
        for k in range(i % 4):
            parir.label('M')
            for j in range(M):
                y[i, j] += x[i, j] * k


def repeated_row_updates_case():
    # A sequential loop of block-level code around an inner parallel loop:
    # barriers in its body, and a trip count that differs between blocks.
    x = rows(26)
    repeats = np.array([sum(range(i % 4)) for i in range(N)], np.float32)
    return [x, np.zeros((N, M), np.float32), N, M], {'N': parir.threads(N), 'M': parir.threads(256)}, \
        {1: x * repeats[:, None]}


@parir.jit
def conditional_bitwise_rows(x, every, some, odd, N, M):
    parir.label('N')
    for i in range(N):
        a = np.int32(-1)
        o = np.int32(0)
        e = np.int32(0)
        parir.label('M')
        for j in range(M):
            if x[i, j] > 0:
                a &= x[i, j]
                o |= x[i, j]
            else:
                e ^= x[i, j]
        every[i] = a
        some[i] = o
        odd[i] = e


def conditional_bitwise_rows_case():
    # Conditional and / or / xor of a row's ints: block reductions from
    # the identities (all bits set, 0) where the condition is false.
    x = np.random.default_rng(27).integers(-(1 << 20), 1 << 20, (N, M)).astype(np.int32)
    positive = np.where(x > 0, x, -1)
    rest = np.where(x > 0, 0, x)
    return ([x, *(np.zeros(N, np.int32) for _ in range(3)), N, M], {'N': parir.threads(N), 'M': parir.threads(256)},
            {1: np.bitwise_and.reduce(positive, axis=1), 2: np.bitwise_or.reduce(np.maximum(x, 0), axis=1),
             3: np.bitwise_xor.reduce(rest, axis=1)})


CASES = {
    "conditional_bitwise_rows": (conditional_bitwise_rows, conditional_bitwise_rows_case),
    "row_differences": (row_differences, row_differences_case),
    "normalize": (normalize, normalize_case),
    "reversed_rows": (reversed_rows, reversed_rows_case),
    "total_of_rows": (total_of_rows, total_of_rows_case),
    "largest_of_all": (largest_of_all, largest_of_all_case),
    "block_level_updates": (block_level_updates, block_level_updates_case),
    "conditional_maxima": (conditional_maxima, conditional_maxima_case),
    "three_levels": (three_levels, three_levels_case),
    "local_normalize": (local_normalize, local_normalize_case),
    "device_block_with_a_host_loop": (device_block_with_a_host_loop, device_block_with_a_host_loop_case),
    "halve_until_small": (halve_until_small, halve_until_small_case),
    "nested_row_sums": (nested_row_sums, nested_row_sums_case),
    "group_sums": (group_sums, group_sums_case),
    "counts_above": (counts_above, counts_above_case),
    "device_sum_then_scale": (device_sum_then_scale, device_sum_then_scale_case),
    "conditional_row_sums": (conditional_row_sums, conditional_row_sums_case),
    "latest_extremes": (latest_extremes, latest_extremes_case),
    "signed_row_updates": (signed_row_updates, signed_row_updates_case),
    "guarded_group_sums": (guarded_group_sums, guarded_group_sums_case),
    "layer_norm": (layer_norm, layer_norm_case),
    "mean_above": (mean_above, mean_above_case),
    "device_local_sum_then_scale": (device_local_sum_then_scale, device_local_sum_then_scale_case),
    "repeated_row_updates": (repeated_row_updates, repeated_row_updates_case),
}
