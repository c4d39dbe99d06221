# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM_STAMP := $(VENV)/.chromium
# The PostgreSQL store's tests start their own server from the Debian package's binaries.
PG_STAMP := $(VENV)/.postgres
# The Spark engine's tests start a local[2] session: pyspark comes with .[dev], Java from Debian.
JAVA_STAMP := $(VENV)/.java
DB ?= cpfr.duckdb
DEMO_DIR ?= demo_data
PLAN_DIR ?= plan

.PHONY: run serve test check audit lint bench-api bench-ingest bench-forecast bench-forecast-scale bench-inventory bench-replenishment bench-attainment bench-exceptions bench-fuzz bench-store bench-network clean

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

serve: $(STAMP)
	$(BIN)/cpfr serve --db $(DB)

# The dashboard's browser test drives Debian's chromium (Playwright downloads no browser).
$(CHROMIUM_STAMP): $(STAMP)
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	touch $(CHROMIUM_STAMP)

.PHONY: chromium
chromium: $(CHROMIUM_STAMP)

$(JAVA_STAMP): $(STAMP)
	command -v java >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y default-jre-headless)
	touch $(JAVA_STAMP)

test: $(STAMP) $(CHROMIUM_STAMP) $(JAVA_STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(MAKE) audit

# Known vulnerabilities of the installed packages (cpfr itself, editable, is skipped). pip-audit asks
# PyPI's JSON API; a mirror without it, or no network, leaves packages unaudited: that is reported
# loudly as NOT AUDITED and does not fail the build, while a vulnerability found always does.
audit: $(STAMP)
	-@$(BIN)/pip-audit --local --skip-editable --progress-spinner off --format json --output $(VENV)/pip-audit.json
	@$(BIN)/python -c "$$AUDIT_SUMMARY" $(VENV)/pip-audit.json

bench-api: $(STAMP)
	$(BIN)/python benchmarks/api_load.py

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

define AUDIT_SUMMARY
import json, pathlib, sys
path = pathlib.Path(sys.argv[1])
try:
    found = json.loads(path.read_text())["dependencies"]
except (OSError, ValueError, KeyError):
    sys.exit(print("pip-audit: NOT AUDITED - the vulnerability service could not be reached (see above)"))
path.unlink()
vulnerable = [d for d in found if d.get("vulns")]
skipped = [d for d in found if "skip_reason" in d and d["skip_reason"] != "distribution marked as editable"]
for d in vulnerable:
    print(f"pip-audit: {d['name']} {d['version']}:", ", ".join(v["id"] + " (fixed in " + ", ".join(v["fix_versions"]) + ")" for v in d["vulns"]))
if skipped:
    print(f"pip-audit: NOT AUDITED - {len(skipped)} of {len(found)} packages unknown to the vulnerability service (a PyPI mirror without its JSON API?), e.g. {skipped[0]['name']}")
print(f"pip-audit: {sum('skip_reason' not in d for d in found)} packages audited, {len(vulnerable)} vulnerable")
sys.exit(1 if vulnerable else 0)
endef
export AUDIT_SUMMARY
bench-network: $(STAMP)
	$(BIN)/python benchmarks/network.py

bench-store: $(STAMP) $(PG_STAMP)
	$(BIN)/python benchmarks/store_backends.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(PLAN_DIR) $(DB) $(DB).wal .pytest_cache .mypy_cache .ruff_cache
