# Everything starts from `python3` and `make`: the venv is built on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint docs matrix dist demo bench bench-quick bench-limits bench-every-storage bench-serve bench-seed bench-long-run bench-big-files bench-suite clean

install: $(STAMP)

$(STAMP): requirements-dev.txt setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

test: lint docs
	$(BIN)/python -m pytest

# The documentation site in docs/_build/html, with warnings as errors.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict inmemorystorage_fs

# Every supported Django x Python (see noxfile.py), in MATRIX_JOBS nox processes side by side,
# then docs/compatibility.rst's table from what ran; the exit status is nox's.
MATRIX_JOBS ?= 2
matrix: $(STAMP)
	MATRIX_JOBS=$(MATRIX_JOBS) $(BIN)/python tools/run_matrix.py; status=$$?; \
	test -f .nox/report.json && $(BIN)/python tools/matrix_report.py .nox/report.json && exit $$status

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build
	$(BIN)/twine check --strict dist/*

demo: $(STAMP)
	$(BIN)/python example/demo.py

# Side-by-side with Django's storages; results also go to benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/bench.py --quick

# Per-write cost with max_size at 10 and 10,000 files (goal: at most 2x).
bench-limits: $(STAMP)
	$(BIN)/python benchmarks/bench_limits.py

# views.serve from memory vs django.views.static.serve from tmpfs: 1 KiB req/s,
# 64 MiB MB/s, called directly and over a live server; peak memory (under a minute).
bench-serve: $(STAMP)
	$(BIN)/python benchmarks/bench_serve.py

# Per-test cost of fresh_storage(aliases="__all__", fields=True) vs fresh_storage(),
# 50 models with 2 FileFields each, and a profile of where it goes.
bench-every-storage: $(STAMP)
	$(BIN)/python benchmarks/bench_every_storage.py

# Per-test cost of a 1,000- and a 100,000-file seed against an empty storage (entering, and
# a first read) and a copy (~2 min).
bench-seed: $(STAMP)
	$(BIN)/python benchmarks/bench_seed.py

# A generated pytest-django suite (400 upload tests, 2,000 others) under FileSystemStorage
# + tmp_path, Django's InMemoryStorage, django-override-storage and ours (~4 min;
# bench_suite.py --quick: ~1.5 min); autouse overhead, a profile, plugin import time.
bench-suite: $(STAMP)
	$(BIN)/python benchmarks/bench_suite.py

# 10,000 fresh storages in one process: memory and live objects must not grow.
bench-long-run: $(STAMP)
	$(BIN)/python benchmarks/bench_long_run.py

# What bounds a 64 MiB streamed save: page faults, against tmpfs.
bench-big-files: $(STAMP)
	$(BIN)/python benchmarks/bench_big_files.py

clean:
	rm -rf $(VENV) .nox build dist *.egg-info demo-export .pytest_cache .mypy_cache .ruff_cache .hypothesis
