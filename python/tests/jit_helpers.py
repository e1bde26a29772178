"""JIT functions another module calls: `outer` calls this module's
`inner`, whichever function the calling module names `inner`."""

import parla.parir as parir


@parir.jit
def inner(y, i):
    y[i] = 1.0


@parir.jit
def outer(y, i):
    inner(y, i)


@parir.jit
def step(y, i):
    y[i] = 5.0


@parir.jit
def run(y, i):
    step(y, i)


@parir.jit
def clip_below(y, n):
    parir.label('N')
    for i in range(n):
        y[i] = max(y[i], 0.0)


def max(a, b):  # defined after the JIT function that reads the name
    return a
