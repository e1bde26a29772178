#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine and
# builds the Python extension into .venv/. Idempotent: a second run only
# checks and rebuilds what changed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# LLVM/MLIR 22 (melior 0.27 links it statically), FileCheck-22 for lit,
# libclang for bindgen (mlir-sys, tblgen), ld.lld to link AMD GPU code
# objects, and the HIP runtime the `rocm` feature links (libamdhip64; with
# no AMD GPU it reports none).
PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools libpolly-22-dev
  libzstd-dev libclang-22-dev libomp-22-dev lld-22 libamdhip64-dev
  python3-venv pkg-config
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# Python environment: build and test tools, and the project's Python deps.
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r scripts/requirements-dev.txt

# The native module parla._parla, installed editable into .venv.
(cd python && VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" maturin develop -q)

echo "setup: done"
