# toolforge: `make demo` and `make test` set everything up first (idempotently).
VENV := .venv
PY := $(VENV)/bin/python
TF := $(VENV)/bin/toolforge
PYTEST_ARGS ?=

.PHONY: setup demo test lint bench clean

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check toolforge tests benchmarks
	$(VENV)/bin/mypy

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf demo-out .pytest_cache
