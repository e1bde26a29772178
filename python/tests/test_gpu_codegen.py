"""GPU code generation without a GPU: PTX and AMDGCN from print_compiled,
checked by NVIDIA's assembler (ptxas, from the nvidia-cuda-nvcc-cu12
wheel) where it is installed."""

import os
import re
import subprocess

import numpy as np
import pytest

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
def tanh_all(x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = parir.tanh(x[i])


@parir.jit
def softmax_rows(x, out, N, M):
    parir.label('N')
    for i in range(N):
        m = x[i, 0]
        parir.label('M')
        for j in range(M):
            m = max(m, x[i, j])
        s = 0.0
        parir.label('M')
        for j in range(M):
            s += parir.exp(x[i, j] - m)
        parir.label('M')
        for j in range(M):
            out[i, j] = parir.exp(x[i, j] - m) / s


N, M = 256, 1000


def rows_args():
    return [np.zeros((N, M), np.float32), np.zeros(N, np.float32), N, M]


def rows_spec(backend, arch=None, tpb=None):
    inner = parir.threads(M).reduce()
    if tpb is not None:
        inner = inner.tpb(tpb)
    return parir.CompileOptions({'N': parir.threads(N), 'M': inner}, backend=backend, arch=arch)


def assemble(ptx: str, arch: str, tmp_path) -> str:
    """ptxas's report (registers, spills) for `ptx`; skips without ptxas."""
    tool = parir._ptxas()
    if tool is None:
        pytest.skip("ptxas is not installed (pip install nvidia-cuda-nvcc-cu12)")
    source = tmp_path / "kernel.ptx"
    source.write_text(ptx)
    done = subprocess.run(
        [str(tool), "-v", "--gpu-name", arch, str(source), "-o", str(tmp_path / "kernel.cubin")],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_row_sums_become_a_block_reduction_in_ptx(arch, tmp_path):
    ptx = parir.print_compiled(sum_rows, rows_args(), rows_spec("cuda", arch))
    assert f".target {arch}" in ptx
    assert ".visible .entry sum_rows_kernel" in ptx
    # Per-thread partial sums combined with warp shuffles and shared memory.
    assert "shfl.sync.bfly" in ptx
    assert ".shared" in ptx
    report = assemble(ptx, arch, tmp_path)
    assert "0 bytes spill stores, 0 bytes spill loads" in report, report


def test_block_size_follows_the_specification():
    gpu = parir.print_compiled(sum_rows, rows_args(), rows_spec("cuda", tpb=128), stage="gpu")
    launch = re.search(r"gpu\.launch blocks.*", gpu).group(0)
    assert "threads" in launch
    ptx = parir.print_compiled(sum_rows, rows_args(), rows_spec("cuda", tpb=128))
    assert ".maxntid 128, 1, 1" in ptx
    # Without tpb: the thread count rounded up to a multiple of 32, at most 1024.
    ptx = parir.print_compiled(sum_rows, rows_args(), rows_spec("cuda"))
    assert ".maxntid 1024, 1, 1" in ptx


def test_stages_for_gpus_show_kernels_and_the_host_side():
    args = [2.0, np.zeros(5000, np.float32), np.zeros(5000, np.float32), 5000]
    opts = parir.CompileOptions({'N': parir.threads(5000)}, backend="cuda")
    gpu = parir.print_compiled(axpy, args, opts, stage="gpu")
    assert "gpu.launch" in gpu and "looppar.for" not in gpu
    host = parir.print_compiled(axpy, args, opts, stage="host")
    assert "gpu.launch_func" in host and "gpu.binary @axpy_kernel" in host
    with pytest.raises(ValueError, match="stage must be one of looppar, gpu, host, ptx"):
        parir.print_compiled(axpy, args, opts, stage="llvm")


def test_math_functions_link_libdevice(tmp_path):
    x = np.zeros((N, M), np.float32)
    args = [x, np.zeros_like(x), N, M]
    opts = parir.CompileOptions({'N': parir.threads(N), 'M': parir.threads(M)}, backend="cuda", arch="sm_90")
    if parir._libdevice() is None:
        with pytest.raises(RuntimeError, match="libdevice"):
            parir.print_compiled(softmax_rows, args, opts)
        return
    ptx = parir.print_compiled(softmax_rows, args, opts)
    # __nv_expf, linked from libdevice and inlined: no calls remain.
    assert "__nv_" not in ptx
    assert "ex2.approx" in ptx
    report = assemble(ptx, "sm_90", tmp_path)
    assert "0 bytes spill stores" in report, report


@pytest.mark.parametrize("arch", ["gfx90a", "gfx942"])
def test_amdgcn_without_rocm(arch):
    code = parir.print_compiled(sum_rows, rows_args(), rows_spec("rocm", arch))
    assert f'.amdgcn_target "amdgcn-amd-amdhsa--{arch}"' in code
    assert "sum_rows_kernel:" in code
    assert "s_barrier" in code  # the block reduction's synchronisation


def test_amd_math_needs_the_rocm_device_libraries():
    if os.environ.get("ROCM_PATH"):
        pytest.skip("ROCM_PATH is set")
    # exp is an AMDGPU instruction; tanh comes from the device library.
    x = np.zeros(N, np.float32)
    opts = parir.CompileOptions({'N': parir.threads(N)}, backend="rocm")
    with pytest.raises(RuntimeError, match="ROCm device libraries"):
        parir.print_compiled(tanh_all, [x, np.zeros_like(x), N], opts)


def test_gpu_code_keeps_user_errors_at_their_line():
    @parir.jit
    def racy(x, N):
        parir.label('N')
        for i in range(N):
            x[0] = x[i]

    opts = parir.CompileOptions({'N': parir.threads(N)}, backend="cuda")
    with pytest.raises(parir.CompileError) as error:
        parir.print_compiled(racy, [np.zeros(N, np.float32), N], opts)
    assert "test_gpu_codegen.py" in str(error.value)


def test_wrong_arch_is_rejected():
    with pytest.raises(ValueError, match="does not name a cuda architecture"):
        parir.CompileOptions({}, backend="cuda", arch="gfx90a")
    with pytest.raises(ValueError, match="does not name a rocm architecture"):
        parir.CompileOptions({}, backend="rocm", arch="sm_90")


def test_running_on_a_gpu_backend_says_what_is_missing():
    args = [2.0, np.zeros(10, np.float32), np.zeros(10, np.float32), 10]
    with pytest.raises(RuntimeError, match="print_compiled"):
        axpy(*args, opts=parir.CompileOptions({'N': parir.threads(10)}, backend="cuda"))


@parir.jit
def narrow_and_wide(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('S')
        for j in range(32):
            y[i, j] = 1.0
        parir.label('B')
        for j in range(M):
            x[i, j] = x[i, j] * 2.0


def test_the_cost_model_splits_lopsided_siblings_into_kernels():
    def launches(m):
        x, y = np.zeros((4, m), np.float32), np.zeros((4, 32), np.float32)
        opts = parir.CompileOptions(
            {'N': parir.threads(4), 'S': parir.threads(32), 'B': parir.threads(m)}, backend="cuda")
        return parir.print_compiled(narrow_and_wide, [x, y, 4, m], opts, stage="gpu").count("gpu.launch ")

    # A million-thread loop beside a 32-thread one: a kernel each.
    assert launches(1_000_000) == 2
    # 32 beside 64 threads: one kernel, a few threads idle.
    assert launches(64) == 1


@parir.jit
def total(x, y, N):
    parir.label('N')
    for i in range(N):
        y[0] += x[i]


@parir.jit
def largest(x, y, N):
    parir.label('N')
    for i in range(N):
        y[0] = max(y[0], x[i])


@pytest.mark.parametrize("fun, dtype, instruction", [
    (total, np.float32, "atom.global.add.f32"),
    (total, np.int64, "atom.global.add.u64"),
    (largest, np.int32, "atom.global.max.s32"),
    (largest, np.float32, "atom."),  # a compare-and-swap loop
])
def test_reductions_over_the_whole_grid_combine_blocks_atomically(fun, dtype, instruction, tmp_path):
    n = 1 << 20
    args = [np.zeros(n, dtype), np.zeros(1, dtype), n]
    opts = parir.CompileOptions({'N': parir.threads(n)}, backend="cuda", arch="sm_90")
    gpu = parir.print_compiled(fun, args, opts, stage="gpu")
    assert "gpu.all_reduce" in gpu
    ptx = parir.print_compiled(fun, args, opts)
    # One atomic per block, after a block reduction: not one per element.
    assert ptx.count("atom.") == 1 or instruction == "atom."
    assert instruction in ptx
    report = assemble(ptx, "sm_90", tmp_path)
    assert "0 bytes spill stores" in report, report
