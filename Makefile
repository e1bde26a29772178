# The two commands of the README, and the steps they are made of.
SHELL := /bin/bash
VENV := .venv
SETUP_STAMP := $(VENV)/.setup-done

.PHONY: demo test setup build test-rust test-lit test-python test-release bench pack-gpu clean

# Runs an example: parla-opt verifies and round-trips a program that uses
# all three dialects, then runs it through a pipeline of our pass and
# upstream ones.
demo: $(SETUP_STAMP) build
	@echo "== examples/task_graph.mlir, verified and printed by parla-opt"
	./target/debug/parla-opt examples/task_graph.mlir
	@echo "== the same through builtin.module(parla-verify,func.func(canonicalize,cse))"
	./target/debug/parla-opt examples/task_graph.mlir \
	  --pass-pipeline='builtin.module(parla-verify,func.func(canonicalize,cse))'
	@echo "== a malformed spawn is rejected with a diagnostic"
	-./target/debug/parla-opt examples/invalid_spawn.mlir
	@echo "== the Parla README example, run by the task runtime"
	$(VENV)/bin/python examples/parla/readme.py

# Every test: Rust (unit, integration, snapshots), lit, pytest (on the
# debug build, then on the release wheel users install: some faults show
# only with optimisation).
test: $(SETUP_STAMP) build test-rust test-lit test-python test-release

setup $(SETUP_STAMP): scripts/setup.sh scripts/requirements-dev.txt
	bash scripts/setup.sh
	touch $(SETUP_STAMP)

build:
	cargo build -p parla-opt

test-rust:
	cargo test --workspace --exclude parla-python
	# The `rocm` feature (HIP, linked; off by default): the runtime's HIP
	# tests, and the crates that use it compile.
	cargo test -p parla-runtime --features rocm --lib
	cargo check -p parla-python -p parla-compiler --tests --features parla-python/rocm,parla-compiler/rocm

test-lit: build
	$(VENV)/bin/lit -sv lit-tests

test-python:
	cd python && VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH maturin develop -q
	$(VENV)/bin/python -m pytest -q python/tests

RELEASE_SITE := target/release-site
test-release: $(SETUP_STAMP)
	rm -rf target/release-wheel $(RELEASE_SITE)
	# Its own target folder, never repaired: maturin's wheel repair
	# (pack-gpu) patches the library it links in place.
	cd python && CARGO_TARGET_DIR=$(CURDIR)/target/release-test VIRTUAL_ENV=$(CURDIR)/$(VENV) \
	  PATH=$(CURDIR)/$(VENV)/bin:$$PATH maturin build --release --auditwheel skip -q --out $(CURDIR)/target/release-wheel
	$(VENV)/bin/python -m pip install -q --no-deps --target $(RELEASE_SITE) target/release-wheel/*.whl
	PYTHONPATH=$(CURDIR)/$(RELEASE_SITE) $(VENV)/bin/python -c "import parla, sys; sys.exit(0 if '$(RELEASE_SITE)' in parla.__file__ else 'the release wheel is not the one imported')"
	PYTHONPATH=$(CURDIR)/$(RELEASE_SITE) $(VENV)/bin/python -m pytest -q -p no:cacheprovider python/tests

# Benchmarks (release build; installs dask, a peer, into .venv).
bench: $(SETUP_STAMP)
	cd python && VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH maturin develop --release -q
	$(VENV)/bin/python -m pip install -q dask numba
	$(VENV)/bin/python benchmarks/tasks.py
	$(VENV)/bin/python benchmarks/parir.py
	$(VENV)/bin/python benchmarks/gpu_codegen.py
	cargo bench -p parla-runtime --bench scheduler
	cargo bench -p parla-compiler --bench verify

# What a GPU machine without Rust or LLVM needs to run the tests and the
# benchmarks (target/gpu-pack.tar.gz, under 60 MiB).
pack-gpu: $(SETUP_STAMP)
	bash scripts/pack-gpu.sh

clean:
	cargo clean
	rm -rf $(VENV)
