# Two commands for a new user: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT
# Where the project writes (the SQLite file, the embedded broker, uploads, nginx's and
# supervisord's files, a private Janus's socket); the settings read it too.
VAR_DIR ?= $(CURDIR)/var
export VAR_DIR

# Development defaults; a deployment sets DEBUG=0 with SECRET_KEY and ALLOWED_HOSTS.
DEBUG ?= 1
export DEBUG

.DEFAULT_GOAL := help
.PHONY: help setup serve-setup run serve-prod restart-web test test-js lint docs lint-js format clean bench-rooms bench-notify bench-mesh bench-media bench-burst bench-bigroom bench-latency bench-replay bench-speech test-newest lock

help:
	@echo "make run    set up .venv, migrate, load demo data once, serve on http://$(HOST):$(PORT)"
	@echo "make serve-prod  the production layout under supervisord: nginx, WEB_PROCESSES daphne processes, Celery, Janus (docs/operations/production.md)"
	@echo "make restart-web restart serve-prod's web processes one at a time (a deploy that drops no room)"
	@echo "make test   set up .venv, migrate, run the whole test suite (tests/js with Node.js)"
	@echo "make lint   the docs site (--strict), ruff, mypy on the service layer, the import layers, makemigrations --check, ESLint (with Node.js)"
	@echo "make docs   the documentation site (docs/) into var/site/"
	@echo "make lock   the lock files (requirements/) from pyproject.toml's ranges, with hashes"
	@echo "make test-newest   the tests of what leans on channels, channels-redis and daphne, against their newest releases"
	@echo "make bench-rooms   room fan-out benchmark (needs REDIS_URL; docs/benchmarks.md)"
	@echo "make bench-notify  notification fan-out benchmark (docs/benchmarks.md)"
	@echo "make bench-burst   1,000 room sockets at once through nginx (needs REDIS_URL, nginx; docs/benchmarks.md)"
	@echo "make bench-bigroom the big room end to end: fan-out, 2,000 listeners on two processes, a chat storm (Postgres, Redis)"
	@echo "make bench-mesh    browser audio mesh benchmark (needs Chromium; docs/benchmarks.md)"
	@echo "make bench-media   media server benchmark (needs Janus and root; docs/benchmarks.md)"
	@echo "make bench-latency mouth-to-ear latency, mesh and media server (needs Chromium, Janus, root)"
	@echo "make bench-replay  a recorded room of 10 minutes through Janus, then its replay (needs Janus, ffmpeg, root)"
	@echo "make bench-speech  a replay's transcript: CPU per second of audio, word errors (needs espeak-ng, ffmpeg)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Roundtable needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

# What serving needs (make run, serve-prod), then the test, lint and documentation tools on
# top (make test, lint, docs, the benchmarks): a first `make run` waits for the first only.
# Both install the exact versions and hashes of the lock files (requirements/, `make lock`).
$(VENV)/.installed-serve: pyproject.toml requirements/serve.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/serve.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed: $(VENV)/.installed-serve requirements/dev.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	@touch $@

# The lock files from pyproject.toml's ranges: the newest versions within them, for Linux
# and Python 3.11 (the supported machines), each with its hashes.
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --quiet --python-platform x86_64-unknown-linux-gnu --python-version 3.11.7 --generate-hashes --custom-compile-command "make lock" -o requirements/serve.txt
	$(BIN)/uv pip compile pyproject.toml --quiet --python-platform x86_64-unknown-linux-gnu --python-version 3.11.7 --extra dev --generate-hashes --custom-compile-command "make lock" -o requirements/dev.txt

serve-setup: $(VENV)/.installed-serve
	@mkdir -p $(VAR_DIR)/staticfiles $(VAR_DIR)/media
	$(BIN)/python manage.py migrate --noinput

setup: $(VENV)/.installed serve-setup

# The web server (HTTP and WebSocket) and the Celery worker with its beat schedule,
# side by side (deploy/Procfile); Ctrl-C stops both.
# With `janus` installed (and no JANUS_URL of your own) a private Janus runs beside them, its
# API on a Unix socket under var/, and rooms past the mesh move to it.
run: serve-setup
	$(BIN)/python manage.py seed_demo --if-empty
	@if [ -n "$$JANUS_URL" ]; then \
	  echo "Big rooms: on (media server at $$JANUS_URL)"; processes="web worker"; \
	elif command -v janus >/dev/null 2>&1; then \
	  echo "Big rooms: on (a private Janus, configured under $(VAR_DIR)/janus/)"; \
	  export JANUS_URL="unix:$(VAR_DIR)/janus/janus.sock"; processes="web worker media"; \
	else \
	  echo "Big rooms: off (apt-get install janus to lift the mesh's cap; docs/media-server.md)"; \
	  processes="web worker"; \
	fi; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f deploy/Procfile -d . start $$processes

# The production layout (docs/operations/production.md): supervisord runs nginx on $(HOST):$(PORT)
# in front of WEB_PROCESSES daphne processes (127.0.0.1, ports from WEB_PORT up), the Celery
# worker and beat, and a private Janus when `janus` is installed and JANUS_URL is not set,
# restarting whichever dies. It serves with DEBUG off unless DEBUG is set where make is
# called, refuses settings unfit to serve, and stays in the foreground: Ctrl-C or SIGTERM
# stops everything it started.
ifeq ($(origin DEBUG),file)
serve-prod restart-web: DEBUG = 0
endif
WEB_PROCESSES ?= $(shell nproc 2>/dev/null || echo 1)
WEB_PORT ?= 8001
WORKER_PROCESSES ?= 1
TRUSTED_PROXIES ?= 127.0.0.1
serve-prod restart-web: export WEB_PROCESSES := $(WEB_PROCESSES)
serve-prod restart-web: export WEB_PORT := $(WEB_PORT)
serve-prod restart-web: export WORKER_PROCESSES := $(WORKER_PROCESSES)
serve-prod restart-web: export TRUSTED_PROXIES := $(TRUSTED_PROXIES)
serve-prod restart-web: export PROXY_LISTEN := $(HOST):$(PORT)
serve-prod: serve-setup
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT) with $(WEB_PROCESSES) web process(es)"
	@if [ -n "$$JANUS_URL" ] || ! command -v janus >/dev/null 2>&1; then \
	  exec $(BIN)/python -m deploy.supervisor run; \
	else \
	  export JANUS_URL="unix:$(VAR_DIR)/janus/janus.sock"; exec $(BIN)/python -m deploy.supervisor run --media; \
	fi

# A deploy without dropping a room: `make serve-prod` keeps running; in another terminal, with
# the same settings, this restarts its web processes one at a time (each back before the next
# stops; their sockets reconnect to the others and keep their places).
restart-web: $(VENV)/.installed-serve
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python -m deploy.supervisor restart-web

test: setup test-js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests of what leans on channels, channels-redis and daphne
# (docs/development/upstream.md) against their newest releases, past pyproject.toml's upper
# bounds, in a virtual environment of its own; it says which versions it ran. Needs REDIS_URL.
NEWEST := $(VAR_DIR)/venv-newest
test-newest: setup
	@test -n "$$REDIS_URL" || { echo "make test-newest: set REDIS_URL (the channel layers' tests need Redis)"; exit 1; }
	@test -x $(NEWEST)/bin/python || $(PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/python -m pip install --quiet --upgrade pip
	$(NEWEST)/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(NEWEST)/bin/python -m pip install --quiet --no-deps -e .
	$(NEWEST)/bin/python -m pip install --quiet --upgrade channels channels-redis daphne
	@$(NEWEST)/bin/python -c 'from importlib.metadata import version; print("make test-newest runs", ", ".join(f"{p} {version(p)}" for p in ("channels", "channels-redis", "daphne")))'
	$(NEWEST)/bin/python -m pytest -q tests/test_redis.py tests/test_server.py tests/test_server_stop.py tests/test_socket_limits.py tests/test_socket_session.py tests/rooms $(PYTEST_ARGS)

# The browser code's pure parts (room state, reconnect schedule, SDP tuning) under Node's own
# test runner: no packages to install. Without Node.js 18 or newer they are skipped, saying
# so, unless REQUIRE_NODE is set (CI).
test-js:
	@if node -e "process.exit(Number(process.versions.node.split('.')[0]) >= 18 ? 0 : 1)" 2>/dev/null; then \
	  node --test --test-reporter=dot tests/js/*.test.js; \
	elif [ -n "$$REQUIRE_NODE" ]; then \
	  echo "make test: REQUIRE_NODE is set but Node.js 18 or newer is missing"; exit 1; \
	else \
	  echo "make test: tests/js skipped: they need Node.js 18 or newer"; \
	fi

lint: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	@if node -e "$$NODE_FOR_ESLINT" 2>/dev/null && command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory lint-js; \
	else \
	  echo "make lint: static/js not linted: ESLint needs Node.js 20.19 or newer with npm"; \
	fi

# ESLint, and TypeScript's checker over the modules that say `// @ts-check` (tsconfig.json:
# no build, nothing emitted), from package-lock.json, installed into node_modules/ when the
# lock changes. They run on the Node.js versions of its package.json "engines" (checked
# here, so others skip).
export NODE_FOR_ESLINT := const [a, b] = process.versions.node.split(".").map(Number); \
  process.exit((a === 20 && b >= 19) || (a === 22 && b >= 13) || a >= 24 ? 0 : 1)
lint-js: node_modules/.installed
	npx --no-install eslint static/js tests/js
	npx --no-install tsc -p tsconfig.json

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

# Needs Redis and, for figures worth comparing, Postgres: set REDIS_URL and DATABASE_URL.
bench-rooms: setup
	$(BIN)/python benchmarks/room_fanout.py $(BENCH_ARGS)

bench-notify: setup
	$(BIN)/python benchmarks/notify_fanout.py $(BENCH_ARGS)

bench-burst: setup
	$(BIN)/python benchmarks/socket_burst.py $(BENCH_ARGS)

bench-bigroom: setup
	$(BIN)/python benchmarks/big_room.py $(BENCH_ARGS)

bench-mesh: setup
	$(BIN)/python benchmarks/mesh_audio.py $(BENCH_ARGS)

bench-media: setup
	$(BIN)/python benchmarks/media_audio.py $(BENCH_ARGS)

bench-latency: setup
	$(BIN)/python benchmarks/latency.py $(BENCH_ARGS)

bench-replay: setup
	$(BIN)/python benchmarks/replay.py $(BENCH_ARGS)

bench-speech: setup
	$(BIN)/python benchmarks/speech.py $(BENCH_ARGS)

# The documentation site (docs/, mkdocs.yml) into var/site/.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .ruff_cache .hypothesis
