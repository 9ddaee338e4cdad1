# gridflow — the two commands a city IT team needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export GRIDFLOW_DATABASE_URL ?= sqlite:///var/gridflow.db
export GRIDFLOW_CITY_DIR ?= examples/demo_city

.PHONY: run test check install system-deps lint unit unit-browser unit-pg unit-plain bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The demo city lives in an instance folder of its own (database, photos, models, keys), so
# `make run` never touches the database GRIDFLOW_DATABASE_URL names.
DEMO     := var/demo
DEMO_ENV := GRIDFLOW_DATABASE_URL=sqlite:///$(DEMO)/demo.db GRIDFLOW_INSTANCE_DIR=$(DEMO) \
	GRIDFLOW_ATTACHMENTS_DIR=$(DEMO)/attachments GRIDFLOW_MODELS_DIR=$(DEMO)/models \
	GRIDFLOW_CITY_DIR=examples/demo_city

run: install
	mkdir -p $(DEMO)
	$(DEMO_ENV) $(BIN)/gridflow init --example demo_city
	$(DEMO_ENV) $(BIN)/gridflow knowledge demo
	$(DEMO_ENV) $(BIN)/gridflow serve --host $(HOST) --port $(PORT)

# Debian packages the full suite needs: PostgreSQL for the second pass of the tests, and
# Chromium with CJK fonts for the browser tests (tests/browser; never `playwright install`).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	  else \
	    echo "PostgreSQL is needed for the tests: sudo apt-get install postgresql" >&2; exit 1; \
	  fi; \
	fi
	@if [ ! -x /usr/bin/chromium ] || ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	  else \
	    echo "The browser tests need: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Test tiers (markers in pyproject.toml, given in tests/conftest.py): `browser` needs Chromium,
# `slow` spawns processes, fuzzes or simulates, `postgres` runs only in the PostgreSQL pass.
FAST := not browser and not slow

# The quick loop: lint and the fast SQLite tier; no root, no system packages.
check: lint
	$(BIN)/python -m pytest -q -m "$(FAST)"

# Every SQLite test but the browser ones: needs nothing beyond the venv.
unit: install
	$(BIN)/python -m pytest -q -m "not browser"

unit-browser: install system-deps
	$(BIN)/python -m pytest -q -m browser

# The SQLite non-browser tiers again with the fast path off: every hot statement through plain
# SQLAlchemy `Connection.execute` (engine/prepared.py), as if a release had broken it.
unit-plain: install
	GRIDFLOW_FAST_PATH=0 $(BIN)/python -m pytest -q -m "not browser"

# The same suite on PostgreSQL: a throw-away server in a temporary directory (tests/pg_server.py).
unit-pg: install system-deps
	GRIDFLOW_TEST_DB=postgresql $(BIN)/python -m pytest -q

test: lint unit unit-browser unit-pg unit-plain

bench: install
	for b in tests/bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# An offline install kit: gridflow and every dependency as wheels in wheelhouse/, for a server
# without Internet access (README, "Running in production"). Build it on the same Debian
# release, CPU architecture and Python minor version as the server: numpy, scipy, shapely and
# psycopg-binary wheels are per platform. Then, on the server:
#   python3.11 -m venv /opt/gridflow/venv
#   /opt/gridflow/venv/bin/pip install --no-index --find-links wheelhouse gridflow
WHEELHOUSE ?= wheelhouse
.PHONY: wheelhouse
wheelhouse: $(BIN)/python
	rm -rf $(WHEELHOUSE)
	mkdir -p $(WHEELHOUSE)
	$(BIN)/pip wheel --quiet --wheel-dir $(WHEELHOUSE) .
	echo '*' > $(WHEELHOUSE)/.gitignore
	@echo "$$(ls $(WHEELHOUSE)/*.whl | wc -l) wheels in $(WHEELHOUSE)/ ($$(du -sh $(WHEELHOUSE) | cut -f1))"
