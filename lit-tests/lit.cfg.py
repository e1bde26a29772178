# lit configuration for parla's FileCheck tests.
import os
import shutil

import lit.formats

config.name = "parla"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.local.cfg", "Inputs"]
config.test_source_root = os.path.dirname(__file__)

repo = os.path.dirname(config.test_source_root)
profile = os.environ.get("PARLA_PROFILE", "debug")
tools = os.path.join(repo, "target", profile)
if not os.path.exists(os.path.join(tools, "parla-opt")):
    lit_config.fatal(f"parla-opt not found in {tools}: run `cargo build -p parla-opt` first")

llvm_bin = "/usr/lib/llvm-22/bin"
filecheck = shutil.which("FileCheck-22") or os.path.join(llvm_bin, "FileCheck")
if not os.path.exists(filecheck):
    lit_config.fatal("FileCheck-22 not found: run scripts/setup.sh (package llvm-22-tools)")

config.environment["PATH"] = os.pathsep.join([tools, llvm_bin, config.environment.get("PATH", "")])
config.substitutions.append(("FileCheck", filecheck))
