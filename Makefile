# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM_STAMP := $(VENV)/.chromium
DB ?= cpfr.duckdb
DEMO_DIR ?= demo_data
PLAN_DIR ?= plan

.PHONY: run serve test check lint bench-ingest bench-forecast bench-forecast-scale bench-inventory bench-replenishment bench-attainment bench-exceptions bench-fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cpfr demo run --db $(DB) --out $(DEMO_DIR)
	$(BIN)/cpfr plan --db $(DB) --out $(PLAN_DIR)

serve: $(STAMP)
	$(BIN)/cpfr serve --db $(DB)

# The dashboard's browser test drives Debian's chromium (Playwright downloads no browser).
$(CHROMIUM_STAMP): $(STAMP)
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	touch $(CHROMIUM_STAMP)

.PHONY: chromium
chromium: $(CHROMIUM_STAMP)

test: $(STAMP) $(CHROMIUM_STAMP)
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

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(PLAN_DIR) $(DB) $(DB).wal .pytest_cache .mypy_cache .ruff_cache
