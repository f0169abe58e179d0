# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench profile clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# constraints.txt pins torch so the install is fast and reproducible; pyproject keeps a range for users.
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench,report,postgres,ray]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/evoforge demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[hpobench]'
	$(BIN)/python benchmarks/hpo_python_api.py
	$(BIN)/python benchmarks/optimize_overhead.py --trials 100 300 --repeats 3
	$(BIN)/python benchmarks/your_model_cnn.py --trials 24 --seeds 2 --workers 2
	$(BIN)/python benchmarks/nasbench201_search.py
	$(BIN)/python benchmarks/nasbench201_designer.py --all --seeds 50 --queries 300 --workers 2
	$(BIN)/python benchmarks/meta_profile_check.py --seeds 30
	$(BIN)/python benchmarks/digits_evolution.py --trials 100 --workers 2 --seeds 3
	$(BIN)/python benchmarks/digits_design_check.py --seeds 4
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/nasbench201_multiobjective.py --seeds 30 --workers 2
	$(BIN)/python benchmarks/digits_front.py --trials 150 --workers 2 --seed 0
	$(BIN)/python benchmarks/digits_asha.py --wall 240 --seeds 3 --workers 2 --epochs 10 40 --min-epochs 2
	$(BIN)/python benchmarks/oversight_evidence.py --trials 60 --seeds 3 --truth-seeds 8 --workers 2
	$(BIN)/python benchmarks/optimizer_discovery.py --trials 150 --workers 2 --steps 200 --seeds 8
	$(BIN)/python benchmarks/sandbox_hostile.py
	$(BIN)/python benchmarks/store_throughput.py --trials 1000 --scale 5000

# Re-derive the shipped default search profile (about 25 minutes on one core; deterministic).
profile: install
	rm -f evoforge-meta.db
	$(BIN)/evoforge meta --save default --out evoforge/profiles --trials 40 --runs 6 --workers 0

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache evoforge-demo.db*
