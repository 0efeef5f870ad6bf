# Parley: `make run` to chat on http://127.0.0.1:8000, `make test` to check it all.

VENV := .venv
PY := $(VENV)/bin/python
# The first Python 3.12+ on the PATH (pyenv picks one from .python-version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && echo $$p && break; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install static run serve test e2e screenshots lint format clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Parley needs Python 3.12 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Collected, hashed and compressed static files: what WhiteNoise serves with DEBUG off.
static: install
	SECRET_KEY=collectstatic $(PY) manage.py collectstatic --noinput --verbosity 0

# Development: SQLite and the in-memory channel layer, no services needed.
run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# The production shape: daphne with DEBUG off (set SECRET_KEY, REDIS_URL, DATABASE_URL).
serve: static
	$(PY) manage.py migrate --noinput
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) --websocket_timeout -1 config.asgi:application

# axe-core, injected into pages by the accessibility tests.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --silent

test: static tests/node_modules/.package-lock.json
	$(PY) -m pytest

e2e: static tests/node_modules/.package-lock.json
	$(PY) -m pytest -m e2e

# Refresh the README's pictures of two people chatting (light and dark).
screenshots: static
	PARLEY_SCREENSHOTS_DIR=docs $(PY) -m pytest -m e2e -k screenshot

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache tests/node_modules
