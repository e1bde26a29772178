"""GPU code generation time, without a GPU: Python source to PTX (sm_90)
and to AMDGCN (gfx90a) for the four GPU benchmark kernels (row sums, axpy,
softmax rows, 1-D sum), the host code's JIT compilation, an AMD executable (kernels linked into a code
object by ld.lld, host code JIT-compiled), and NVIDIA's assembler on the PTX (the step the driver repeats
when it loads a module). Compilation is most of a first
call's cost; the original Parir spends a second or more in nvcc there.

Also prints the kernels' register and spill counts from ptxas.

    python benchmarks/gpu_codegen.py [--repeat R]
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import re
import subprocess
import tempfile
import time

import numpy as np

import parla.parir as parir

ROWS, COLS = 16384, 8192
VECTOR = 1 << 26


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
        parir.label('M')
        for j in range(M):
            m = max(m, x[i, j])
        s = parir.float32(0.0)
        parir.label('M')
        for j in range(M):
            s += parir.exp(x[i, j] - m)
        parir.label('M')
        for j in range(M):
            y[i, j] = parir.exp(x[i, j] - m) / s


@parir.jit
def total(x, out, N):
    parir.label('N')
    for i in range(N):
        out[0] += x[i]


def cases():
    """(name, function, arguments, parallel specification)."""
    matrix = np.zeros((ROWS, COLS), np.float32)
    rows = {'N': parir.threads(ROWS), 'M': parir.threads(COLS)}
    vector = np.zeros(VECTOR, np.float32)
    return [
        ("row sums", row_sums, [matrix, np.zeros(ROWS, np.float32), ROWS, COLS], rows),
        ("axpy", axpy, [2.0, vector, vector.copy(), VECTOR], {'N': parir.threads(VECTOR)}),
        ("softmax rows", softmax, [matrix, matrix.copy(), ROWS, COLS], rows),
        ("1-D sum", total, [vector, np.zeros(1, np.float32), VECTOR], {'N': parir.threads(VECTOR)}),
    ]


def best_ms(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tool = parir._ptxas()
    print(f"# GPU code generation on {platform.processor() or platform.machine()}, "
          f"{platform.system()}, Python {platform.python_version()}, best of {args.repeat}")
    if tool is None:
        print("# ptxas not installed (pip install nvidia-cuda-nvcc-cu12): assembly columns left empty")
    print(f"{'kernel':<14}{'to PTX ms':>11}{'host JIT ms':>13}{'to AMDGCN ms':>14}{'AMD exec ms':>13}"
          f"{'ptxas ms':>10}{'registers':>11}{'spills':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, function, arguments, spec in cases():
            cuda = parir.CompileOptions(spec, backend="cuda", arch="sm_90")
            rocm = parir.CompileOptions(spec, backend="rocm", arch="gfx90a")
            ptx_ms, ptx = best_ms(lambda: parir.print_compiled(function, arguments, cuda), args.repeat)
            # The host function, PTX embedded, lowered and JIT-compiled: the
            # rest of what a first call compiles.
            host = parir.print_compiled(function, arguments, cuda, stage="host")
            entry = re.search(r"func\.func @(\w+)", host).group(1)
            host_ms, _ = best_ms(lambda: parir.compile_string(entry, host), args.repeat)
            try:
                amd_ms, _ = best_ms(lambda: parir.print_compiled(function, arguments, rocm), args.repeat)
                amd = f"{amd_ms:14.1f}"
                # What a first call on an AMD GPU compiles: kernels linked
                # into a code object (ld.lld), host code JIT-compiled.
                gpu_stage = parir.print_compiled(function, arguments, rocm, stage="gpu")
                exec_ms, _ = best_ms(lambda: parir.compile_string(entry, gpu_stage, rocm), args.repeat)
                amd += f"{exec_ms:13.1f}"
            except RuntimeError:  # math functions need the ROCm device libraries
                amd = f"{'(needs ROCm)':>14}{'':>13}"
            assembled, registers, spills = "", "", ""
            if tool is not None:
                source = pathlib.Path(scratch) / "kernel.ptx"
                source.write_text(ptx)
                command = [str(tool), "-v", "--gpu-name", "sm_90", str(source), "-o", str(source.with_suffix(".cubin"))]
                ms, done = best_ms(lambda: subprocess.run(command, capture_output=True, text=True, check=True),
                                   args.repeat)
                assembled = f"{ms:.1f}"
                registers = ",".join(re.findall(r"Used (\d+) registers", done.stderr))
                spills = str(sum(int(n) for n in re.findall(r"(\d+) bytes spill stores", done.stderr)))
            print(f"{name:<14}{ptx_ms:11.1f}{host_ms:13.1f}{amd}{assembled:>10}{registers:>11}{spills:>8}")


if __name__ == "__main__":
    main()
