# The task runner. `make run` and `make test` install into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format schema lock clean bench bench-smoke web-vendor

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Hibernia needs Python >= 3.11 (set PYTHON=...)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The GraphQL-over-HTTP audit (tests/test_graphql_over_http_audit.py) runs the npm package graphql-http;
# without npm the test is skipped with a message.
AUDIT_MODULES := tests/http_audit/node_modules/.package-lock.json
$(AUDIT_MODULES): tests/http_audit/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/http_audit --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the GraphQL-over-HTTP audit will be skipped"; fi

install: $(STAMP)

## Serve the playground at http://127.0.0.1:8000/graphql on embedded SQLite with demo apps.
run: install
	$(BIN)/hibernia serve --demo

## The whole suite: SQLite always, PostgreSQL too when HIBERNIA_TEST_POSTGRES_URL is set.
test: install $(AUDIT_MODULES)
	$(BIN)/pytest

## Benchmarks on PostgreSQL (add ARGS=--sqlite for SQLite): prints a table, writes bench/results/*.json,
## exits non-zero when a performance target is missed.
bench: install
	$(BIN)/python -m bench $(ARGS)

## The same harness at tiny sizes, checking only the deterministic targets (CI runs it).
bench-smoke: install
	$(BIN)/python -m bench --smoke $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Re-export schema/schema.graphql after changing the GraphQL layer.
schema: install
	$(BIN)/hibernia export-schema --output schema/schema.graphql

## Rebuild the playground's third-party files (app/web/static/vendor/) from web/package-lock.json, byte for
## byte. Needs Node.js and npm; the result is committed, so serving never does.
web-vendor:
	cd web && npm ci --ignore-scripts --no-audit --no-fund && node vendor.mjs

## Re-pin requirements.lock from pyproject.toml's ranges.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
