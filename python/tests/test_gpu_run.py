"""Running JIT functions, compiled strings and Parla tasks on NVIDIA GPUs.

The first part runs everywhere: how arguments are recognised as GPU arrays
(CUDA array interface, DLPack), which backend a call picks, and what a
call says when there is no GPU. The second part needs a GPU (skipped with
the reason otherwise): results on GPU arrays in place and on host arrays
copied in and back, against NumPy."""

import inspect
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import block_kernels
import math_kernels
from shared_kernels import centre, into_slot
import parla.cuda as cuda
import parla.parir as parir
from parla import Parla, TaskSpace, spawn
from parla.devices import DeviceUnavailableError, cpu, device_table, gpu
from parla.tasks import get_current_context, specialize

GPUS = cuda.devices()
needs_gpu = pytest.mark.skipif(not GPUS, reason=f"{cuda.unavailable_reason()}")
no_gpu_here = pytest.mark.skipif(bool(GPUS), reason="this machine has a GPU")

AXPY_PTX = (Path(__file__).parents[2] / "examples" / "cuda" / "axpy.ptx").read_text()


@parir.jit
def axpy(a, x, y, N):
    parir.label('N')
    for i in range(N):
        y[i] += a * x[i]


@parir.jit
def sum_rows(x, y, N, M):
    parir.label('N')
    for i in range(N):
        parir.label('M')
        for j in range(M):
            y[i] += x[i, j]


@parir.jit
def total(x, out, N):
    with parir.gpu:
        out[0] = 0.0
    parir.label('N')
    for i in range(N):
        out[0] += x[i]


@parir.jit
def add_k_times(x, K, N):
    for k in range(K):
        parir.label('N')
        for i in range(N):
            x[i] += 1.0


def spec(**labels):
    return parir.par({label: parir.threads(n) for label, n in labels.items()})


def cuda_spec(**labels):
    return parir.CompileOptions({label: parir.threads(n) for label, n in labels.items()}, backend="cuda")


class CudaArrayInterface:
    """An object that says it is a GPU array (any address: nothing reads it
    unless a GPU call runs)."""

    def __init__(self, shape, typestr="<f4", pointer=0x7F0000000000):
        self.__cuda_array_interface__ = {
            "shape": shape, "typestr": typestr, "data": (pointer, False), "strides": None, "version": 3,
        }


class DlpackOnly:
    """A host array offered only through DLPack."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, stream=None):
        return self._array.__dlpack__()

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


# ---- everywhere -------------------------------------------------------------

def test_gpu_arrays_do_not_run_on_the_cpu():
    x = CudaArrayInterface((8,))
    with pytest.raises(ValueError, match="`x` is on a GPU, but backend='cpu'"):
        axpy(2.0, x, np.zeros(8, np.float32), 8, opts=parir.CompileOptions({'N': parir.threads(8)}, backend="cpu"))


@no_gpu_here
def test_auto_follows_gpu_arrays_and_says_why_there_is_no_gpu():
    with pytest.raises(RuntimeError, match="no GPU is available"):
        axpy(2.0, CudaArrayInterface((8,)), CudaArrayInterface((8,)), 8, opts=spec(N=8))
    # Host arrays stay on the CPU with backend='auto'.
    y = np.zeros(8, np.float32)
    axpy(2.0, np.ones(8, np.float32), y, 8, opts=spec(N=8))
    np.testing.assert_array_equal(y, 2.0)


def test_unsupported_gpu_element_types_are_named():
    with pytest.raises(TypeError, match="type '<c8' are not supported"):
        axpy(2.0, CudaArrayInterface((8,), "<c8"), np.zeros(8, np.float32), 8, opts=spec(N=8))


def test_dlpack_arrays_are_used_in_place():
    x = np.arange(16, dtype=np.float64)
    y = np.ones(16)
    axpy(3.0, DlpackOnly(x), DlpackOnly(y), 16, opts=spec(N=16))
    np.testing.assert_array_equal(y, 3.0 * x + 1.0)


class OnAnAmdGpu(DlpackOnly):
    """DLPack says ROCm (device type 10): the array is on an AMD GPU, and
    the producer is asked for its work on HIP's default stream (0)."""

    def __init__(self, array):
        super().__init__(array)
        self.streams = []

    def __dlpack__(self, stream=None):
        self.streams.append(stream)
        return self._array.__dlpack__()

    def __dlpack_device__(self):
        return (10, 0)


def test_dlpack_arrays_on_amd_gpus_are_gpu_arrays():
    x = OnAnAmdGpu(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="`y` is on a GPU, but backend='cpu'"):
        axpy(2.0, np.zeros(8, np.float32), x, 8, opts=parir.CompileOptions({'N': parir.threads(8)}, backend="cpu"))
    assert x.streams == [0]


class TorchLike(OnAnAmdGpu):
    """Version 2 of the CUDA array interface (Torch's) names no stream,
    and DLPack too: DLPack is used, and asked for the work on CUDA's
    legacy default stream (1), where Torch makes its current stream's
    pending work visible."""

    def __init__(self, array):
        super().__init__(array)
        self.__cuda_array_interface__ = {
            "shape": array.shape, "typestr": array.dtype.str, "data": (0x7F0000000000, False),
            "strides": None, "version": 2,
        }

    def __dlpack_device__(self):
        return (2, 0)


def test_interfaces_that_name_no_stream_give_way_to_dlpack():
    x = TorchLike(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="`y` is on a GPU, but backend='cpu'"):
        axpy(2.0, np.zeros(8, np.float32), x, 8, opts=parir.CompileOptions({'N': parir.threads(8)}, backend="cpu"))
    assert x.streams == [1]


def gpu_ir(stage):
    args = (2.0, np.zeros(1000, np.float32), np.zeros(1000, np.float32), 1000)
    opts = parir.CompileOptions({'N': parir.threads(1000)}, backend="cuda", arch="sm_80")
    return args, parir.print_compiled(axpy, args, opts, stage=stage)


@pytest.mark.parametrize("stage", ["gpu", "host"])
def test_gpu_ir_compiles_to_host_code_and_ptx_without_a_gpu(stage):
    args, text = gpu_ir(stage)
    function = parir.compile_string("axpy", text)
    assert callable(function)
    if not GPUS:
        with pytest.raises(RuntimeError, match="no GPU is available"):
            function(*args)


def test_malformed_gpu_ir_is_a_clear_error():
    _, text = gpu_ir("gpu")
    with pytest.raises(ValueError, match="does not parse"):
        parir.compile_string("axpy", text.replace("gpu.terminator", "gpu.terminatr"))


def test_ptx_strings_become_kernels_launched_with_a_grid():
    launch = parir.compile_string("axpy", AXPY_PTX)
    assert launch.ptx == AXPY_PTX
    with pytest.raises(ValueError, match="PTX runs on NVIDIA GPUs"):
        parir.compile_string("axpy", AXPY_PTX, parir.CompileOptions(backend="cpu"))
    if not GPUS:
        with pytest.raises(RuntimeError, match="no GPU is available"):
            launch(np.float32(2), np.zeros(4, np.float32), np.zeros(4, np.float32), np.uint32(4), grid=1, block=32)


@pytest.mark.parametrize("grid, block", [(1, -1), (1, 0), ((0, 2**40), 32), (1, (1, 2, 3, 4)), (1, ())])
def test_a_launch_with_sizes_out_of_range_names_them(grid, block):
    """Sizes are checked before anything else (a GPU, the arguments), and
    the message names the grid or block and what was given."""
    launch = parir.compile_string("axpy", AXPY_PTX)
    what = "block" if grid == 1 else "grid"
    with pytest.raises(ValueError, match=f"{what} takes 1 to 3 sizes, each an integer from 1 to 4294967295"):
        launch(np.float32(2), np.zeros(4, np.float32), np.zeros(4, np.float32), np.uint32(4),
               grid=grid, block=block)


def test_sync_without_launches_returns():
    parir.sync()


def test_gpu_placement_and_the_device_table():
    table = device_table()
    assert table[0] == cpu(0)
    assert [d for d in table if d.kind == "gpu"] == [gpu(i) for i in range(len(GPUS))]
    if not GPUS:
        with pytest.raises(DeviceUnavailableError, match="needs a GPU"):
            with Parla():
                @spawn(placement=gpu)
                def never():
                    pass


# ---- on a GPU ---------------------------------------------------------------

def gpu_array(host):
    """A GPU copy of `host`: CuPy's, else Torch's, else parla.cuda's."""
    try:
        import cupy
        return cupy.asarray(host)
    except ImportError:
        pass
    try:
        import torch
        if torch.cuda.is_available():
            return torch.from_numpy(np.ascontiguousarray(host)).cuda()
    except ImportError:
        pass
    return cuda.DeviceArray(np.ascontiguousarray(host))


def to_host(array):
    parir.sync()
    if hasattr(array, "get"):  # CuPy
        return array.get()
    if hasattr(array, "cpu"):  # Torch
        return array.cpu().numpy()
    return array.numpy()


@needs_gpu
@pytest.mark.parametrize("backend", ["auto", "cuda"])
def test_gpu_arrays_are_used_in_place(backend):
    n = 100_000
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    dx, dy = gpu_array(x), gpu_array(np.ones(n, np.float32))
    axpy(2.0, dx, dy, n, opts=parir.CompileOptions({'N': parir.threads(n)}, backend=backend))
    np.testing.assert_allclose(to_host(dy), 2.0 * x + 1.0, rtol=1e-6)


@needs_gpu
@pytest.mark.parametrize("n, m", [(1, 1), (37, 1000), (1024, 2048), (3, 5000)])
def test_row_sums_on_host_arrays_are_copied_in_and_back(n, m):
    x = np.random.default_rng(2).random((n, m), dtype=np.float32)
    y = np.zeros(n, np.float32)
    sum_rows(x, y, n, m, opts=cuda_spec(N=n, M=m))
    np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-4)


@needs_gpu
def test_strided_host_arrays_are_copied_with_their_layout():
    x = np.random.default_rng(3).random((64, 200), dtype=np.float32)[:, ::2]
    y = np.zeros(128, np.float32)[::2]
    sum_rows(x, y, 64, 100, opts=cuda_spec(N=64, M=100))
    np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-4)


@needs_gpu
@pytest.mark.parametrize("on_gpu", [False, True])
def test_empty_arrays_are_no_error(on_gpu):
    # CuPy and Torch give empty arrays the address 0, which no GPU owns.
    make = gpu_array if on_gpu else (lambda a: a)
    x, y = make(np.zeros(0, np.float32)), make(np.zeros(0, np.float32))
    axpy(2.0, x, y, 0, opts=cuda_spec(N=32))
    assert (to_host(y) if on_gpu else y).shape == (0,)


@needs_gpu
def test_overlapping_gpu_views_are_refused_whatever_stream_they_name():
    base = gpu_array(np.zeros(1001, np.float32))
    interface = base.__cuda_array_interface__
    pointer = interface["data"][0]

    class View:
        def __init__(self, offset, stream):
            self.__cuda_array_interface__ = {
                "shape": (1000,), "typestr": "<f4", "data": (pointer + 4 * offset, False),
                "strides": None, "version": 3, "stream": stream,
            }

    with pytest.raises(ValueError, match="share memory"):
        axpy(2.0, View(1, None), View(0, 1), 1000, opts=cuda_spec(N=1000))


@needs_gpu
def test_interleaved_host_views_written_on_a_gpu_keep_both_results():
    """`c[::2]` and `c[1::2]` overlap in bytes: they share one staged copy
    (with one each, the second copy back wrote the first view's elements,
    as they were before the call, over its results)."""
    @parir.jit
    def bump_both(x, y, N):
        parir.label('N')
        for i in range(N):
            x[i] += 1.0
            y[i] += 2.0

    c = np.arange(16.0)
    bump_both(c[::2], c[1::2], 8, opts=cuda_spec(N=8))
    np.testing.assert_array_equal(c, np.arange(16.0) + np.tile([1.0, 2.0], 8))
    rows = np.zeros((4, 6), np.float32)
    bump_both(rows[:, 0], rows[:, 1], 4, opts=cuda_spec(N=4))
    np.testing.assert_array_equal(rows[:, :2], np.tile([1.0, 2.0], (4, 1)))
    assert not rows[:, 2:].any()


@needs_gpu
def test_one_host_array_for_two_parameters_is_staged_once():
    """`f(a, a)` compiles as one array: one device copy, and only what the
    call writes goes back (a second copy of `a`, not written, used to be
    copied back over the result)."""
    @parir.jit
    def add_into(x, y, N):
        parir.label('N')
        for i in range(N):
            y[i] += x[i]

    a = np.arange(5000, dtype=np.float32)
    add_into(a, a, 5000, opts=cuda_spec(N=5000))
    np.testing.assert_array_equal(a, 2 * np.arange(5000, dtype=np.float32))
    frozen = np.ones(5000, np.float32)
    frozen.setflags(write=False)
    y = np.zeros(5000, np.float32)
    add_into(frozen, y, 5000, opts=cuda_spec(N=5000))
    np.testing.assert_array_equal(y, 1.0)


@needs_gpu
@pytest.mark.parametrize("name", sorted(block_kernels.CASES))
def test_block_level_code_matches_numpy(name):
    """One writer per block and barriers between block-level code and the
    inner loops (block_kernels.py): without them blocks raced on outer
    reductions and threads read values before thread 0 wrote them."""
    function, case = block_kernels.CASES[name]
    args, spec, expected = case()
    for _ in range(3):  # races show up in some runs only
        run_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        function(*run_args, opts=parir.CompileOptions(spec, backend="cuda"))
        for index, want in expected.items():
            np.testing.assert_allclose(run_args[index], want, rtol=1e-4, err_msg=f"argument {index}")


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(math_kernels.CASES))
def test_math_functions_on_the_gpu_match_them_run_as_python(name, dtype):
    got, want = math_kernels.compiled_and_python(name, dtype, "cuda")
    # libdevice is within 2 ulp of the exact result (CUDA's table).
    tolerance = dict(rtol=1e-15, atol=0) if dtype == np.float64 else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got, want, equal_nan=True, **tolerance)


@needs_gpu
@pytest.mark.parametrize("m", [7, 1003, 4096])
def test_row_sums_with_fewer_threads_than_columns(m):
    # Each thread adds several columns: a loop unrolled 4 times, and a
    # remainder loop for the last ones (128 threads: 0 to 3 left over).
    x = np.random.default_rng(m).random((19, m), dtype=np.float32)
    y = np.zeros(19, np.float32)
    opts = parir.CompileOptions({'N': parir.threads(19), 'M': parir.threads(128).reduce()}, backend="cuda")
    sum_rows(x, y, 19, m, opts=opts)
    np.testing.assert_allclose(y, x.astype(np.float64).sum(axis=1), rtol=1e-4)


@needs_gpu
def test_sums_of_negative_zeros_keep_the_sign_on_the_gpu():
    @parir.jit
    def add_into(x, y, N):
        parir.label('N')
        for i in range(N):
            y[0] += x[i]

    y = np.full(1, -0.0, np.float32)
    add_into(np.full(3000, -0.0, np.float32), y, 3000, opts=cuda_spec(N=3000))
    assert y[0] == 0.0 and np.signbit(y[0])


@needs_gpu
@pytest.mark.parametrize("n", [1, 1000, 1 << 20, (5 << 20) + 3])
def test_full_reductions_across_blocks(n):
    x = np.random.default_rng(4).random(n).astype(np.float32)
    out = np.full(1, 99.0, np.float32)
    total(x, out, n, opts=cuda_spec(N=n))
    np.testing.assert_allclose(out[0], x.astype(np.float64).sum(), rtol=1e-4)


@needs_gpu
def test_sequential_outer_loops_launch_a_kernel_per_iteration():
    x = gpu_array(np.zeros(5000, np.float32))
    add_k_times(x, 7, 5000, opts=cuda_spec(N=5000))
    np.testing.assert_array_equal(to_host(x), 7.0)


@parir.jit
def add_until_a_break(x, y, N):
    with parir.gpu:
        k = 0
        for k in range(10):
            if k == 3:
                break
            if k == 1:
                continue
            parir.label('N')
            for i in range(N):
                x[i] += k
        y[0] = k


@needs_gpu
def test_break_and_continue_around_kernels_in_device_blocks():
    # The loop's exit flag and counter stay on the host, which launches.
    x = np.zeros(5000, np.float32)
    y = np.zeros(1, np.int64)
    add_until_a_break(x, y, 5000, opts=cuda_spec(N=5000))
    np.testing.assert_array_equal(x, 2.0)
    assert y[0] == 3


@parir.jit
def strided_axpy(a, x, y, first, step, N):
    parir.label('N')
    for i in range(first, N, step):
        y[i] += a * x[i]


@needs_gpu
@pytest.mark.parametrize("n, first, step, threads", [
    (1 << 22, 0, 1, 1 << 22),
    ((1 << 22) + 12345, 0, 1, (1 << 22) + 12345),
    (10_000_001, 1, 3, 4_200_000),
])
def test_large_flat_loops_update_every_element_once(n, first, step, threads):
    """Loops of 2^22 threads or more run four iterations per thread, with a
    partial last round where the grid does not divide the trip count:
    every element of the range is updated once, the others not at all."""
    rng = np.random.default_rng(n)
    host_x = rng.random(n, dtype=np.float32)
    host_y = rng.random(n, dtype=np.float32)
    x, y = gpu_array(host_x), gpu_array(host_y)
    strided_axpy(np.float32(2.0), x, y, first, step, n, opts=cuda_spec(N=threads))
    got = to_host(y)
    updated = np.zeros(n, bool)
    updated[first::step] = True
    np.testing.assert_allclose(got[updated], host_y[updated] + 2 * host_x[updated], rtol=1e-6)
    np.testing.assert_array_equal(got[~updated], host_y[~updated])


@parir.jit
def minus_earlier(x, T, N):
    for t in range(T):
        parir.label('N')
        x[:] = x[:] - x[t]


@needs_gpu
@pytest.mark.parametrize("where", ["gpu", "host"])
def test_reads_of_a_slice_statements_destination_come_first_on_the_gpu(where):
    """x[0] is read before the statement writes it (as NumPy does), by a
    one-thread kernel: the host never reads the GPU's memory."""
    n = 5000
    host = np.arange(n, dtype=np.float32) + 5
    x = gpu_array(host) if where == "gpu" else host.copy()
    centre(x, n, opts=cuda_spec(N=n))
    result = to_host(x) if where == "gpu" else x
    np.testing.assert_array_equal(result, host - host[0])
    # In a host loop: device memory for the read in every iteration.
    x = gpu_array(host) if where == "gpu" else host.copy()
    minus_earlier(x, 3, n, opts=cuda_spec(N=n))
    want = host.copy()
    minus_earlier(want, 3, n, seq=True)
    np.testing.assert_array_equal(to_host(x) if where == "gpu" else x, want)

@needs_gpu
def test_conditional_reductions_into_an_element_read_from_an_array():
    """The element's index comes from an array on the GPU: each update is
    tested in the kernel; where the test fails, nothing is touched."""
    x = np.arange(64, dtype=np.float64)
    for k, want in ((1, [0.0, x.sum()]), (-10**12, [0.0, 0.0])):
        slots = gpu_array(np.zeros(2))
        into_slot(gpu_array(x), slots, gpu_array(np.array([k])), 64, opts=parir.CompileOptions(
            {'N': parir.threads(64).reduce()}, backend="cuda"))
        np.testing.assert_allclose(to_host(slots), want)

@parir.jit
def gathered(x, at, y, N):
    parir.label('N')
    for i in range(N):
        y[i] = x[at[i]]


@needs_gpu
@pytest.mark.parametrize("on_gpu", [False, True])
def test_debug_checks_bounds_in_kernels_and_times_each_stage(on_gpu, capsys):
    # The index comes from an array, so only the kernel can find it out of
    # bounds (a constant one is a CompileError before anything runs).
    host_x = np.arange(6, dtype=np.float32)
    host_at = np.arange(1, 7)
    x, at = (gpu_array(host_x), gpu_array(host_at)) if on_gpu else (host_x, host_at)
    y = gpu_array(np.zeros(6, np.float32)) if on_gpu else np.zeros(6, np.float32)
    with pytest.raises(IndexError) as caught:
        gathered(x, at, y, 6, opts=cuda_spec(N=6), debug=True)
    lines, first = inspect.getsourcelines(gathered.__wrapped__)
    line = first + next(n for n, text in enumerate(lines) if "y[i] = x[at[i]]" in text)
    assert f"{__file__}:{line}:" in str(caught.value), caught.value
    assert "y[i] = x[at[i]]" in str(caught.value)
    # In bounds, debug=True gives the same results and prints each stage
    # with the time the compilation had taken when it was ready.
    gathered(x, at, y, 5, opts=cuda_spec(N=5), debug=True)
    result = to_host(y) if on_gpu else y
    np.testing.assert_array_equal(result[:5], host_x[1:])
    printed = capsys.readouterr().out
    times = [float(t) for t in re.findall(r"=== gathered: after \w+ \((\d+\.\d) ms\) ===", printed)]
    assert len(times) == 4 and times == sorted(times) and times[-1] > 0, printed
    assert "after ptx" in printed and "memref<1xi64>" in printed


@needs_gpu
def test_edited_gpu_ir_runs():
    args, text = gpu_ir("gpu")
    edited = text.replace("arith.mulf", "arith.addf", 1)  # a * x[i] becomes a + x[i]
    x = np.arange(1000, dtype=np.float32)
    y = np.zeros(1000, np.float32)
    parir.compile_string("axpy", edited)(2.0, x, y, 1000)
    np.testing.assert_array_equal(y, 2.0 + x)


@needs_gpu
def test_ptx_kernels_run_and_missing_kernels_name_the_cuda_error():
    x, y = np.arange(1000, dtype=np.float32), np.ones(1000, np.float32)
    launch = parir.compile_string("axpy", AXPY_PTX)
    launch(np.float32(2), x, y, np.uint32(1000), grid=(1000 + 255) // 256, block=256)
    np.testing.assert_array_equal(y, 2 * x + 1)
    with pytest.raises(cuda.CudaError) as error:
        parir.compile_string("no_such_kernel", AXPY_PTX)(np.float32(2), x, y, np.uint32(1000), grid=1, block=32)
    assert error.value.name == "CUDA_ERROR_NOT_FOUND"
    launch(np.float32(1), x, y, np.uint32(1000), grid=4, block=256)  # still usable
    np.testing.assert_array_equal(y, 3 * x + 1)


@needs_gpu
def test_ptx_the_driver_refuses_is_an_error_with_its_compiler_log():
    """The driver's PTX compiler says where and why (its log, which a plain
    cuModuleLoadData leaves out)."""
    broken = AXPY_PTX.replace("fma.rn.f32 %f3, %f1, %f2, %f3;", "bogus.f32 %f3, %f1;")
    assert broken != AXPY_PTX
    x, y = np.arange(64, dtype=np.float32), np.ones(64, np.float32)
    with pytest.raises(cuda.CudaError) as error:
        parir.compile_string("axpy", broken)(np.float32(2), x, y, np.uint32(64), grid=1, block=64)
    assert error.value.name == "CUDA_ERROR_INVALID_PTX"
    assert re.search(r"line \d+", str(error.value)), str(error.value)
    parir.compile_string("axpy", AXPY_PTX)(np.float32(2), x, y, np.uint32(64), grid=1, block=64)
    np.testing.assert_array_equal(y, 2 * x + 1)


@needs_gpu
@pytest.mark.skipif(cuda.nvrtc() is None, reason="NVRTC is not installed")
def test_cuda_cpp_compiles_with_nvrtc():
    scale = parir.compile_string(
        "scale", 'extern "C" __global__ void scale(float *x, float a, long n) {'
                 ' long i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] *= a; }')
    x = np.arange(300, dtype=np.float32)
    scale(x, np.float32(3), 300, grid=3, block=128)
    np.testing.assert_array_equal(x, 3 * np.arange(300, dtype=np.float32))


@needs_gpu
@pytest.mark.skipif(cuda.nvrtc() is None, reason="NVRTC is not installed")
def test_kernels_get_more_than_48_kib_of_dynamic_shared_memory():
    # Past 48 KiB the driver must be told first (sm_80 and later allow more).
    reverse = parir.compile_string(
        "reverse", 'extern "C" __global__ void reverse(float *x, int n) {'
                   ' extern __shared__ float tile[];'
                   ' for (int i = threadIdx.x; i < n; i += blockDim.x) tile[i] = x[i];'
                   ' __syncthreads();'
                   ' for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = tile[n - 1 - i]; }')
    n = 24 * 1024  # 96 KiB of floats
    x = np.arange(n, dtype=np.float32)
    reverse(x, np.int32(n), grid=1, block=256, shared_bytes=4 * n)
    np.testing.assert_array_equal(x, np.arange(n, dtype=np.float32)[::-1])


@needs_gpu
@pytest.mark.skipif(cuda.nvrtc() is None, reason="NVRTC is not installed")
def test_static_and_dynamic_shared_memory_past_48_kib_together():
    """The 48 KiB a launch gets without asking is for static and dynamic
    shared memory together: 32 KiB of each needs the driver told too."""
    shift = parir.compile_string(
        "shift", 'extern "C" __global__ void shift(float *x, int n) {'
                 ' __shared__ float fixed[8192]; extern __shared__ float tile[];'
                 ' for (int i = threadIdx.x; i < n; i += blockDim.x) { fixed[i] = x[i]; tile[i] = 1.0f; }'
                 ' __syncthreads();'
                 ' for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = fixed[i] + tile[i]; }')
    n = 8192
    x = np.arange(n, dtype=np.float32)
    shift(x, np.int32(n), grid=1, block=256, shared_bytes=4 * n)
    np.testing.assert_array_equal(x, np.arange(n, dtype=np.float32) + 1)


@needs_gpu
def test_a_thread_without_a_gpu_context_calls_on_gpu_arrays():
    """A fresh thread has no current CUDA context: finding which GPU holds
    its arrays works there too."""
    x, y = gpu_array(np.ones(1000, np.float32)), gpu_array(np.zeros(1000, np.float32))
    failures = []

    def call():
        try:
            axpy(2.0, x, y, 1000, opts=spec(N=1000))
            parir.sync()
        except Exception as error:  # reported below
            failures.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert not failures, failures
    np.testing.assert_array_equal(to_host(y), 2.0)


@needs_gpu
def test_a_kernel_name_with_a_nul_is_an_error_not_a_panic():
    module = cuda.PtxModule(AXPY_PTX)
    assert not module.has_kernel("ax\0py")
    with pytest.raises(ValueError, match="contains a NUL character"):
        parir.compile_string("ax\0py", AXPY_PTX)(np.float32(2), np.zeros(4, np.float32),
                                                 np.zeros(4, np.float32), np.uint32(4), grid=1, block=32)


@needs_gpu
def test_gpu_tasks_get_a_gpu_and_their_kernels_finish_before_dependents():
    n = 1 << 16
    seen = {}
    x = gpu_array(np.zeros(n, np.float32))
    ones = gpu_array(np.ones(n, np.float32))
    with Parla():
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu)
        def fill():
            seen["context"] = repr(get_current_context())
            axpy(1.0, ones, x, n, opts=spec(N=n))  # auto: the task's GPU and stream

        @spawn(T[1], [T[0]], placement=[cpu, gpu])
        def check():
            seen["values"] = to_host(x)

    assert seen["context"] == "GPUEnvironment(GPU:0)"
    np.testing.assert_array_equal(seen["values"], 1.0)


@needs_gpu
def test_variants_and_gpu_indices():
    @specialize
    def where():
        return "cpu"

    @where.variant(gpu)
    def where_gpu():
        return "gpu"

    found = []
    lock = threading.Lock()
    with Parla():
        for i, place in enumerate([cpu, gpu, gpu(0)]):
            @spawn(placement=place)
            def task(place=place):
                with lock:
                    found.append((repr(place), where()))
    assert sorted(found) == sorted([("cpu", "cpu"), ("gpu", "gpu"), ("GPU:0", "gpu")])
    with pytest.raises(ValueError, match="does not exist"):
        with Parla():
            @spawn(placement=gpu(len(GPUS)))
            def never():
                pass


@needs_gpu
def test_calls_wait_for_the_streams_their_arrays_name():
    """`__cuda_array_interface__` version 3: the consumer orders its work
    after the producer's `stream`. Here a non-blocking stream is still
    writing the array when a GPU task, on a stream of its own, reads it."""
    cupy = pytest.importorskip("cupy")

    class OnStream:
        def __init__(self, array, stream):
            self.__cuda_array_interface__ = dict(array.__cuda_array_interface__, stream=stream.ptr)

    n = 1 << 24
    producer = cupy.cuda.Stream(non_blocking=True)
    with producer:
        x = cupy.zeros(n, cupy.float32)
        for _ in range(200):  # some milliseconds of work
            x += 1.0
    out = cupy.zeros(1, cupy.float32)
    seen = {}
    with Parla():
        @spawn(placement=gpu)
        def read():
            total(OnStream(x, producer), out, n, opts=spec(N=n))
            seen["total"] = float(out.get()[0])
    np.testing.assert_allclose(seen["total"], 200.0 * n, rtol=1e-4)


@needs_gpu
def test_torch_work_on_its_current_stream_is_waited_for():
    torch = pytest.importorskip("torch")
    n = 1 << 24
    with torch.cuda.stream(torch.cuda.Stream()):
        x = torch.zeros(n, device="cuda")
        for _ in range(200):  # some milliseconds of work on Torch's stream
            x += 1.0
        out = torch.zeros(1, device="cuda")
        total(x, out, n, opts=cuda_spec(N=n))
        torch.cuda.synchronize()
    np.testing.assert_allclose(out.item(), 200.0 * n, rtol=1e-4)


@needs_gpu
def test_cupy_follows_the_task_device_and_stream():
    cupy = pytest.importorskip("cupy")
    streams = []
    with Parla():
        for i in range(2):
            @spawn(placement=gpu)
            def task():
                streams.append(cupy.cuda.get_current_stream().ptr)
    assert all(s != 0 for s in streams)


# AMD GPUs: through HIP in builds with the `rocm` feature. Compiling (and
# linking code objects with ld.lld) needs no GPU; running needs one.
from parla import _parla  # noqa: E402

AMD_GPUS, AMD_REASON = _parla.amd_devices()
needs_amd_gpu = pytest.mark.skipif(not AMD_GPUS, reason=f"no AMD GPU: {AMD_REASON}")


def amd(spec):
    return parir.CompileOptions(spec, backend="rocm")


def test_amd_gpu_ir_links_without_a_gpu_and_calls_say_why():
    args = (2.0, np.zeros(1000, np.float32), np.zeros(1000, np.float32), 1000)
    opts = parir.CompileOptions({'N': parir.threads(1000)}, backend="rocm", arch="gfx942")
    # The 'host' stage holds assembly, for reading: not loadable.
    with pytest.raises(ValueError, match="AMD GPUs cannot load: pass the 'gpu' stage"):
        parir.compile_string("axpy", parir.print_compiled(axpy, args, opts, stage="host"), opts)
    text = parir.print_compiled(axpy, args, opts, stage="gpu")
    try:
        function = parir.compile_string("axpy", text, opts)
    except RuntimeError as error:
        if "ld.lld" not in str(error):
            raise
        pytest.skip(str(error))  # a machine without LLVM's linker (setup installs it)
    assert callable(function)
    with pytest.raises(ValueError, match="PTX runs on NVIDIA GPUs, not with backend='rocm'"):
        parir.compile_string("axpy", AXPY_PTX, opts)
    if not AMD_GPUS:
        with pytest.raises(RuntimeError, match="no GPU is available: .*(HIP|AMD)"):
            function(*args)


@needs_amd_gpu
def test_amd_jit_calls_match_numpy():
    x = np.arange(4096, dtype=np.float32)
    y = np.ones(4096, np.float32)
    axpy(2.0, x, y, 4096, opts=amd({'N': parir.threads(4096)}))
    np.testing.assert_array_equal(y, 2 * x + 1)

    rows = np.random.default_rng(1).random((300, 2000), dtype=np.float32)
    sums = np.zeros(300, np.float32)
    sum_rows(rows, sums, 300, 2000, opts=amd({'N': parir.threads(300), 'M': parir.threads(2000).reduce()}))
    np.testing.assert_allclose(sums, rows.sum(axis=1), rtol=1e-4)

    z = np.zeros(5000, np.float32)
    add_k_times(z, 7, 5000, opts=amd({'N': parir.threads(5000)}))
    np.testing.assert_array_equal(z, 7.0)
    parir.sync()
