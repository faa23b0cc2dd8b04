# sipsniff developer targets. `make demo` and `make test` are the two commands a
# fresh machine needs (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck golden bench install captures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
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

## The whole test suite, lint and type checks included.
test: $(STAMP) lint typecheck
	$(PY) -m pytest -q

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

## Re-record the bundled captures with SIPp on loopback (root).
captures:
	bash captures/record.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts demo-report.html
