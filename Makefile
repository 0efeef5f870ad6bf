# Parley: `make run` to chat on http://127.0.0.1:8000, `make test` to check it all.

VENV := .venv
PY := $(VENV)/bin/python
# The first Python 3.12+ on the PATH (pyenv picks one from .python-version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && echo $$p && break; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install static messages compilemessages run serve services cluster cluster-down test \
	test-services e2e screenshots bench bench-scaling lint format clean

# Written by `make services`: the local Redis and PostgreSQL, which serve, bench and
# test-services use (make run and make test stay on SQLite and the in-memory layer).
SERVICES := $(shell cat .services.env 2>/dev/null)

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

# The translation catalogs: `make messages` gathers every marked string into locale/*/django.po
# (then translate what is new); `make compilemessages` builds the .mo files Django reads, which
# are not kept in git (msgfmt: the Debian package gettext).
messages: install
	DEBUG=1 $(PY) manage.py makemessages -l de --no-obsolete --no-wrap \
	  --ignore=.venv --ignore=node_modules --ignore=tests --ignore=benchmarks --ignore=staticfiles

compilemessages: install
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=benchmarks

# Development: SQLite and the in-memory channel layer, no services needed.
run: install compilemessages
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# Production: one uvicorn worker per core on one port, DEBUG off (see docs/deploy.md).
serve: static compilemessages
	env $(SERVICES) $(PY) manage.py migrate --noinput
	env $(SERVICES) $(PY) manage.py serve --host $(HOST) --port $(PORT)

# Local Redis and PostgreSQL from the operating system's packages, for the production
# shape on a laptop (apt install redis-server postgresql). Later `make` commands use them.
services:
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { mkdir -p /tmp/parley-redis && \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
	    --dir /tmp/parley-redis --logfile /tmp/parley-redis/redis.log; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start
	@for _ in $$(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && \
	  pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
	@printf 'REDIS_URL=%s\nDATABASE_URL=%s\n' redis://127.0.0.1:6379/0 \
	  postgres://postgres:postgres@127.0.0.1:5432/parley > .services.env
	@echo "Redis and PostgreSQL are up; make serve and make test-services use them (rm .services.env to stop)."

# Parley on several hosts of this machine: nginx, three app hosts, Redis with a replica and
# three Sentinels, PostgreSQL, each host in its own network namespace (as root; else ports on
# 127.0.0.1). From Debian packages: nginx-light redis-server redis-sentinel postgresql.
# docs/deploy.md, "Several hosts".
cluster: static compilemessages
	$(PY) -m config.cluster up

cluster-down: install
	$(PY) -m config.cluster down

# axe-core, injected into pages by the accessibility tests.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --silent

# On whatever DATABASE_URL and REDIS_URL the environment gives: none, the embedded defaults.
test: static compilemessages tests/node_modules/.package-lock.json
	$(PY) -m pytest

# The production shape: every test runs on Redis and PostgreSQL, and none may skip.
test-services: static compilemessages services tests/node_modules/.package-lock.json
	env $$(cat .services.env) PARLEY_REQUIRE_SERVICES=1 $(PY) -m pytest

e2e: static compilemessages tests/node_modules/.package-lock.json
	$(PY) -m pytest -m e2e

# Refresh the README's pictures of two people chatting (light and dark).
screenshots: static compilemessages
	PARLEY_SCREENSHOTS_DIR=docs $(PY) -m pytest -m e2e -k screenshot

# The fan-out benchmark (BENCHMARKS.md): Parley against the workshop app and a bare websockets
# server, on the local Redis and PostgreSQL; wrk (Debian package) measures the pages.
WORKSHOP_VENV := benchmarks/.venv-workshop

$(VENV)/.bench: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	touch $@

$(WORKSHOP_VENV)/.installed: benchmarks/workshop/requirements.txt
	$(PYTHON) -m venv $(WORKSHOP_VENV)
	$(WORKSHOP_VENV)/bin/pip install --quiet -r benchmarks/workshop/requirements.txt
	touch $@

bench: static services $(VENV)/.bench $(WORKSHOP_VENV)/.installed
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
	  echo "wrk is not installed: the page figures are left out"
	env $$(cat .services.env) $(PY) benchmarks/bench.py $(BENCH_ARGS)

# 1, 2 and 3 app processes on one Redis and PostgreSQL: throughput, CPU per delivery and
# per post, Redis's bytes per process, memory per socket (BENCHMARKS.md, docs/capacity.md).
# A private Redis is started for the run, so its CPU is the run's alone; 6 to 10 minutes.
bench-scaling: static services $(VENV)/.bench
	env $$(cat .services.env) $(PY) benchmarks/scaling.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache tests/node_modules .services.env \
	  $(WORKSHOP_VENV) benchmarks/.before-* benchmarks/results/logs benchmarks/results/embedded.sqlite3*
