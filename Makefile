# pinnlang: the two commands of a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test tutorials smoke benchmarks docs clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) solvers/poisson_1d.py --plot outputs/poisson_1d.png

test: $(STAMP)
	$(PY) -m pytest -q -ra

tutorials: $(STAMP)
	$(PY) tutorials/run_all.py

smoke: $(STAMP)
	PINNLANG_SMOKE=1 $(PY) tutorials/run_all.py

benchmarks: $(STAMP)
	$(PY) benchmarks/overhead.py

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) outputs site .pytest_cache
