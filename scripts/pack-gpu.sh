#!/usr/bin/env bash
# Packs what a GPU machine needs to run the test suite and the benchmarks
# when it has Python (3.11 or later, with numpy, perhaps CuPy and Torch) but
# no Rust toolchain, no LLVM and no network: a stripped abi3 wheel of parla,
# the tests and benchmarks, the pure-Python test dependencies as wheels,
# libdevice (for math functions in kernels) and run.sh.
#
#   scripts/pack-gpu.sh [OUT.tar.gz]      (default target/gpu-pack.tar.gz)
#
# On the GPU machine: mkdir pack && tar xzf gpu-pack.tar.gz -C pack && pack/run.sh [LOG_DIR]
# The pack must stay under 60 MiB; the script fails if it does not.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
OUT="${1:-$ROOT/target/gpu-pack.tar.gz}"
LIMIT_MIB=60

if [ ! -x "$VENV/bin/maturin" ]; then
    echo "pack-gpu: run scripts/setup.sh first (no $VENV/bin/maturin)" >&2
    exit 1
fi

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/wheels"

# maturin's wheel repair patches cargo's output in place (a hard link):
# relink it so that it starts from a clean library, and so that later
# `maturin develop --release` builds do not inherit the patched one.
touch "$ROOT/python/src/lib.rs"
# The extension, release build, symbols stripped; abi3, so one wheel serves
# every CPython from 3.11 on.
(cd "$ROOT/python" && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" \
    maturin build --release --strip --out "$STAGE/wheels" -q)

# Test dependencies, for each CPython the GPU machine may have (some
# ship compiled wheels).
for version in 3.11 3.12 3.13; do
    "$VENV/bin/pip" download -q --only-binary=:all: --no-deps --python-version "$version" \
        --platform manylinux2014_x86_64 --platform any -d "$STAGE/wheels" \
        "pytest>=8" pluggy iniconfig packaging pygments hypothesis sortedcontainers attrs
done

LIBDEVICE="$("$VENV/bin/python" -c 'import parla.parir as p; print(p._libdevice() or "")')"
if [ -n "$LIBDEVICE" ]; then
    cp "$LIBDEVICE" "$STAGE/libdevice.10.bc"
fi

# The repository's layout, which the tests rely on (examples/ beside python/).
mkdir -p "$STAGE/python"
cp -r "$ROOT/python/tests" "$STAGE/python/tests"
cp -r "$ROOT/examples" "$STAGE/examples"
cp -r "$ROOT/benchmarks" "$STAGE/benchmarks"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +

cp "$ROOT/scripts/gpu-pack/run.sh" "$ROOT/scripts/gpu-pack/machine.py" "$STAGE/"

touch "$ROOT/python/src/lib.rs"

mkdir -p "$(dirname "$OUT")"
tar czf "$OUT" -C "$STAGE" .
SIZE=$(stat -c %s "$OUT")
MIB=$(( (SIZE + 1048575) / 1048576 ))
echo "pack-gpu: $OUT: $MIB MiB (limit $LIMIT_MIB MiB)"
tar tzvf "$OUT" | awk '$3 > 1048576 { printf "  %6.1f MiB  %s\n", $3 / 1048576, $6 }'
if [ "$SIZE" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "pack-gpu: the pack is over $LIMIT_MIB MiB" >&2
    exit 1
fi
