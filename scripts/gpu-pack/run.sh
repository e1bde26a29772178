#!/usr/bin/env bash
# Runs the GPU benchmark, the test suite and the other benchmarks with the
# packed wheel and the machine's own numpy/CuPy/Torch (see pack-gpu.sh).
#
#   [PYTHON=python3] run.sh [LOG_DIR]
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

status=0
# step NAME SECONDS COMMAND...: runs COMMAND with a time limit, logged.
step() {
    local name="$1" limit="$2"
    shift 2
    echo "== $name"
    local started=$SECONDS
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$LOGS/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - started)) s"
    [ "$rc" -eq 0 ] || status=1
}

step machine 60 "$PYTHON" "$HERE/machine.py"
step gpu-benchmark 240 "$PYTHON" "$HERE/benchmarks/gpu.py"
step tests 300 "$PYTHON" -m pytest -q -rs -p no:cacheprovider "$HERE/python/tests"
for bench in gpu_codegen parir tasks; do
    step "$bench-benchmark" 240 "$PYTHON" "$HERE/benchmarks/$bench.py"
done
exit $status
