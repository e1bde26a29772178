"""The four GPU benchmark kernels, shared by `gpu.py` (bandwidth on a GPU)
and `gpu_codegen.py` (code generation, no GPU needed): row sums, axpy,
softmax rows and a full 1-D sum."""

import parla.parir as parir


@parir.jit
def sum_rows(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[i] += x[i, j]


@parir.jit
def axpy(a, x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] += a * x[i]


@parir.jit
def softmax_rows(x, out, N, M):
    parir.label('N')
    for i in range(N):
        m = x[i, 0]
        parir.label('M')
        for j in range(M):
            m = max(m, x[i, j])
        s = parir.float32(0.0)
        parir.label('M')
        for j in range(M):
            s += parir.exp(x[i, j] - m)
        parir.label('M')
        for j in range(M):
            out[i, j] = parir.exp(x[i, j] - m) / s


@parir.jit
def total(x, out, N):
    """The sum of `x` into `out[0]`, zeroed first by one GPU thread: two
    kernels."""
    with parir.gpu:
        out[0] = 0.0
    parir.label('N')
    for i in range(N):
        out[0] += x[i]
