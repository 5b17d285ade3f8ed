# Prism: `make run` installs and runs the pipeline on the demo data; `make test` installs and
# runs the whole test suite (CI calls exactly that). Needs Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)

.PHONY: install run test dev dev-production bench bench-fanout bench-shards bench-incremental lint services

# The editable install maps each top-level package when it runs, so a new package (a new
# */__init__.py) reinstalls too. Bytecode is compiled at install time: where
# PYTHONDONTWRITEBYTECODE is set, every process (each test worker, each run) would otherwise
# compile great-expectations, pandas and Dagster again (~5 s of CPU each).
$(BIN)/.installed: pyproject.toml $(wildcard */__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/prism demo-data
	$(BIN)/prism run

test: install services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile --cov --cov-report=term --cov-fail-under=92

dev: install
	$(BIN)/dagster dev

# The same UI and daemon on the production instance (runs in PostgreSQL at
# $PRISM_DAGSTER_PG_URL): README, "Running at scale".
dev-production: install
	DAGSTER_HOME=$(CURDIR)/deploy/postgres $(BIN)/dagster dev

bench: install
	$(BIN)/python bench/run.py

# The BMEcat writer alone: 1 and 10 customer catalogs of 1M products (issue #13, target 4).
bench-fanout: install
	$(BIN)/python bench/bmecat_fanout.py

# The run after 1 % of prices and stock rows changed (CHANGE=pim: 1 % of PIM products), timed
# and compared with a full run on the same inputs (bench/incremental.py).
CHANGE ?= erp
bench-incremental: install
	$(BIN)/python bench/incremental.py --change $(CHANGE)

bench-portal: install
	$(BIN)/python bench/portal_load.py --runs 3

bench-prices: install
	$(BIN)/python bench/price_api.py --workdir var/bench-prices

bench-feed: install
	$(BIN)/python bench/feed_api.py

# Sharded runs: 1M products with 1, 2 and 4 shards on the multiprocess executor, wall time and
# each step's peak memory (bench/shards.py; needs the sharded job, execution.shards).
bench-shards: install
	$(BIN)/python bench/shards.py

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

services:
	@bash .ci/services
