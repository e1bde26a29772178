"""What the GPU pack runs on: the GPUs, the driver, and the versions of
Python, numpy, CuPy and Torch, printed before the tests and benchmarks."""

import shutil
import subprocess
import sys

import numpy

import parla
import parla.cuda as cuda

if shutil.which("nvidia-smi"):
    query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    print(subprocess.run(query, capture_output=True, text=True).stdout.strip())
print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, parla from {parla.__file__}")
print("GPUs:", cuda.devices() or cuda.unavailable_reason())
for name in ("cupy", "torch"):
    try:
        print(name, __import__(name).__version__)
    except Exception as error:  # absent, or present without a usable GPU
        print(name, "unavailable:", error)
