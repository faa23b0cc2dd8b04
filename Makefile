# sipsniff developer targets. `make demo` and `make test` are the two commands a
# fresh machine needs (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORE := sipsniff/_core
CARGO ?= cargo
# pyo3's build script must find the venv's interpreter, not whatever python3 is first.
CARGO_ENV := PYO3_PYTHON=$(abspath $(PY))
RUST_SRC := $(wildcard $(CORE)/Cargo.toml $(CORE)/*/Cargo.toml $(CORE)/*/src/*.rs)

.PHONY: demo test lint typecheck rust-test golden bench fuzz install captures clean
FUZZ_SECONDS ?= 60
FUZZ_EXAMPLES ?= 2000

# pip builds the native core (release profile) with setuptools-rust when cargo is
# on PATH; without it sipsniff installs and runs on the Python engine.
$(STAMP): pyproject.toml $(RUST_SRC)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Analyse the bundled demo capture: summary, calls, diagnoses, and a ladder.
demo: $(STAMP)
	$(VENV)/bin/sipsniff analyze captures/demo.pcap
	$(VENV)/bin/sipsniff analyze --failed --flow captures/demo.pcap
	$(VENV)/bin/sipsniff report captures/demo.pcap -o demo-report.html
	@echo "HTML report written to demo-report.html"

## The whole test suite, lint and type checks included (Rust's too).
test: $(STAMP) lint typecheck rust-test
	$(PY) -m pytest -q

## The native core: its own tests, clippy with warnings denied, rustfmt.
rust-test: $(STAMP)
	cd $(CORE) && $(CARGO_ENV) $(CARGO) fmt --all --check
	cd $(CORE) && $(CARGO_ENV) $(CARGO) clippy -q --workspace --all-targets -- -D warnings
	cd $(CORE) && $(CARGO_ENV) $(CARGO) test -q -p sipsniff-core

lint: $(STAMP)
	$(VENV)/bin/ruff check sipsniff tests
	$(VENV)/bin/ruff format --check sipsniff tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## Rewrite golden files (ladders, reports, real-capture annotations) after a reviewed change.
golden: $(STAMP)
	SIPSNIFF_REGEN=1 $(PY) -m pytest -q tests -k golden

## Benchmark against tshark and sngrep (not a test; needs root for tcpdump capture).
bench: $(STAMP)
	$(PY) tests/bench/bench.py

## Fuzz (bounded; not a test): the native core's entry points for FUZZ_SECONDS each,
## then both engines on FUZZ_EXAMPLES generated and mutated captures (must agree).
fuzz: $(STAMP)
	cd $(CORE) && SIPSNIFF_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CARGO_ENV) $(CARGO) test -q --release -p sipsniff-core --test fuzz -- --nocapture
	SIPSNIFF_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/test_engine.py -k "random or mutated"

## Re-record the bundled captures with SIPp on loopback (root).
captures:
	bash captures/record.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts demo-report.html
	rm -rf build $(CORE)/target sipsniff/_native*.so
