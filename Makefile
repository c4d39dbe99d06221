# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PostgreSQL store's tests start their own server from the Debian package's binaries.
PG_STAMP := $(VENV)/.postgres
DB ?= cpfr.duckdb
DEMO_DIR ?= demo_data
PLAN_DIR ?= plan

.PHONY: run test check lint bench-ingest bench-forecast bench-forecast-scale bench-inventory bench-replenishment bench-attainment bench-exceptions bench-fuzz bench-store clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Installs the `postgresql` package (server binaries only are used: the package's own cluster is
# not started by the tests) when initdb is missing; needs root or sudo, as apt-get does.
$(PG_STAMP): $(STAMP)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi
	touch $(PG_STAMP)

run: $(STAMP)
	$(BIN)/cpfr demo run --db $(DB) --out $(DEMO_DIR)
	$(BIN)/cpfr plan --db $(DB) --out $(PLAN_DIR)

test: $(STAMP) $(PG_STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench-ingest: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

bench-forecast: $(STAMP)
	$(BIN)/python benchmarks/forecast_accuracy.py

bench-forecast-scale: $(STAMP)
	$(BIN)/python benchmarks/forecast_scale.py
	$(BIN)/python benchmarks/reconcile_scale.py

bench-inventory: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/inventory_solvers.py

bench-replenishment: $(STAMP)
	$(BIN)/python benchmarks/replenishment.py

bench-attainment: $(STAMP)
	$(BIN)/python benchmarks/attainment_calibration.py

bench-exceptions: $(STAMP)
	$(BIN)/python benchmarks/exception_detection.py

bench-fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py

bench-store: $(STAMP) $(PG_STAMP)
	$(BIN)/python benchmarks/store_backends.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(PLAN_DIR) $(DB) $(DB).wal .pytest_cache .mypy_cache .ruff_cache
