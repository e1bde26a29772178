"""JIT functions that several test files run, on the CPU and on GPUs."""

import parla.parir as parir


@parir.jit
def centre(x, N):
    """NumPy reads x[0] before the statement writes it."""
    parir.label('N')
    x[:] = x[:] - x[0]


@parir.jit
def into_slot(x, y, k, N):
    """A conditional update of an element whose index is read from an
    array: the condition guards the index."""
    parir.label('N')
    for i in range(N):
        if k[0] >= 0:
            y[k[0]] += x[i]
