# pinnlang: the two commands of a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-seeds tutorials smoke benchmarks bench-numpyro docs clean

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

# The statistical tests (marker `statistical`, docs/testing.md) again under other base seeds; each run
# appends every check's margin to outputs/stats_seeds.jsonl, and the worst margins are printed at the end.
SEEDS ?= 1 2 3
test-seeds: $(STAMP)
	@mkdir -p outputs && rm -f outputs/stats_seeds.jsonl; status=0; \
	for s in $(SEEDS); do \
	  echo "== statistical tests, PINNLANG_TEST_SEED=$$s"; \
	  PINNLANG_TEST_SEED=$$s PINNLANG_STATS_LOG=$(CURDIR)/outputs/stats_seeds.jsonl \
	    $(PY) -m pytest -q -ra -m statistical || status=1; \
	done; \
	$(PY) tests/stats_report.py outputs/stats_seeds.jsonl 25; exit $$status

tutorials: $(STAMP)
	$(PY) tutorials/run_all.py

smoke: $(STAMP)
	PINNLANG_SMOKE=1 $(PY) tutorials/run_all.py

benchmarks: $(STAMP)
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/mcmc_overhead.py
	$(PY) benchmarks/pattern_b.py
	$(PY) benchmarks/chains.py
	$(PY) benchmarks/vi_overhead.py
	$(PY) benchmarks/mnist_sghmc.py
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/spec_scripts.py
	$(PY) benchmarks/compile_level.py

# pinnlang against NumPyro on the masterclass's NUTS models (tutorial 16); NumPyro is a benchmark-only
# dependency, installed in an environment of its own
BENCH_VENV := .venv-bench
bench-numpyro:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -e ".[bench]"
	$(BENCH_VENV)/bin/python benchmarks/masterclass_numpyro.py

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) $(BENCH_VENV) outputs site .pytest_cache
