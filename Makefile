# The two commands the README opens with. Each creates or updates .venv by itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench docs contract clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## serve every API on 127.0.0.1:8080
	$(PY) -m mockserver serve --host 127.0.0.1 --port 8080

test: $(STAMP)  ## the whole test suite (what .ci/run runs)
	$(PY) tests/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check mockserver tests contracts bench
	$(VENV)/bin/ruff format --check mockserver tests contracts bench

docs: $(STAMP)
	$(PY) -m mockserver docs --out site

contract: $(STAMP)
	$(PY) -m mockserver contract

clean:
	rm -rf $(VENV) site build dist test-artifacts

bench: $(STAMP)  ## load/scale benchmark vs Prism and a bare ASGI floor (bench/README.md); QUICK=1 for a smoke run
	$(PY) bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)
