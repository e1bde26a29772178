#!/usr/bin/env bash
# Runs the GPU benchmark, the test suite and the other benchmarks with the
# packed wheel and the machine's own numpy/CuPy/Torch (see pack-gpu.sh).
#
#   [PYTHON=python3] [STEPS="machine gpu-tests ..."] run.sh [LOG_DIR]
#
# STEPS picks steps (default: all of them, in the order below): machine,
# gpu-tests (the GPU test files), gpu-benchmark, gpu-tuning (other
# code-generation choices beside ours), tests (the rest of the suite), gpu_codegen-benchmark, parir-benchmark, tasks-benchmark.
#
# Each step's output goes to the terminal and to LOG_DIR/<step>.log (default
# ./pack-logs); a step that fails or runs past its time limit does not stop
# the later ones, and the exit status says whether all of them passed.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
LOGS="${1:-$PWD/pack-logs}"
SITE="$HERE/site"
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1

# The wheel goes into a directory on PYTHONPATH, not into a virtual
# environment: where python3 is itself a virtual environment (as on machines
# whose Torch lives in one), a new one would see the base interpreter's
# packages instead of its numpy, CuPy and Torch.
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade \
    --target "$SITE" "$HERE"/wheels/parla-*.whl || exit 1
if ! "$PYTHON" -c 'import pytest, hypothesis' 2>/dev/null; then
    "$PYTHON" -m pip install -q --no-index --find-links "$HERE/wheels" --no-compile \
        --target "$SITE" pytest hypothesis || exit 1
fi
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
if [ -f "$HERE/libdevice.10.bc" ]; then
    export PARLA_LIBDEVICE="$HERE/libdevice.10.bc"
fi

STEPS="${STEPS:-machine gpu-tests gpu-benchmark gpu-tuning tests gpu_codegen-benchmark parir-benchmark tasks-benchmark}"
# A hung test is stopped (with every thread's stack printed) rather than
# holding up the steps after it, where pytest-timeout is installed.
PER_TEST=()
if "$PYTHON" -c 'import pytest_timeout' 2>/dev/null; then
    PER_TEST=(--timeout=60 --timeout-method=thread)
fi
GPU_TESTS=(test_cuda.py test_gpu_run.py test_gpu_codegen.py)

status=0
# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, logged,
# when STEPS names it.
step() {
    local name="$1" limit="$2"
    shift 2
    case " $STEPS " in *" $name "*) ;; *) return ;; esac
    if [ -n "${STEP_LIMIT:-}" ] && [ "$STEP_LIMIT" -lt "$limit" ]; then
        limit=$STEP_LIMIT
    fi
    echo "== $name"
    local started=$SECONDS
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$LOGS/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - started)) s"
    [ "$rc" -eq 0 ] || status=1
}

PYTEST=("$PYTHON" -m pytest -q -rs -p no:cacheprovider "${PER_TEST[@]}")
step machine 60 "$PYTHON" "$HERE/machine.py"
step gpu-tests 300 "${PYTEST[@]}" "${GPU_TESTS[@]/#/$HERE/python/tests/}"
step gpu-benchmark 240 "$PYTHON" "$HERE/benchmarks/gpu.py"
step gpu-tuning 120 "$PYTHON" "$HERE/benchmarks/gpu_tuning.py"
step tests 300 "${PYTEST[@]}" "${GPU_TESTS[@]/#/--ignore=$HERE/python/tests/}" "$HERE/python/tests"
for bench in gpu_codegen parir tasks; do
    step "$bench-benchmark" 240 "$PYTHON" "$HERE/benchmarks/$bench.py"
done
exit $status
