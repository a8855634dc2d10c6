# Fleet's everyday commands. `make test` and `make demo` work on a fresh clone: they
# create the virtual environment they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-faults test-platform demo-platform bench-platform-run test-fast test-quick test-thorough lint demo bench run clean wheel-check

# `make run`: the production processes on this machine's Postgres and Redis.
RUN_DB ?= fleet
export FLEET_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(RUN_DB)
export FLEET_BROKER_URL ?= redis://127.0.0.1:6379/0
export FLEET_REDIS_URL ?= redis://127.0.0.1:6379/0
export FLEET_GALLERY__URL ?= http://127.0.0.1:8700
RUN_AGENTS ?= 10
# `make run` is watched by a person: readable log lines (not JSON), the action workers'
# per-action lines left to the `feed` process (one line per action, `fleet activity
# tail`), and the dispatcher's note of when the next agent is due while none is.
export FLEET_LOG_FORMAT ?= console
export FLEET_ACTION_LOGLEVEL ?= WARNING

install: $(VENV)/.installed

# The sandbox gallery is a distribution of its own (packages/fleet-sandbox): the demo, the
# tests and the benchmarks run it.
$(VENV)/.installed: pyproject.toml packages/fleet-sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e packages/fleet-sandbox -e '.[dev]'
	touch $@

# Every test but the long fault scenarios (the faults marker), in two runs: the tests
# that start no worker processes on TEST_JOBS pytest-xdist workers (one per core, at most
# 4: each holds its own databases and connections), then the slow ones on SLOW_JOBS
# workers (two where there are two cores): the end-to-end tests (real workers, beat and
# servers counted in real time) one at a time on one of them, as they must not slow each
# other past their deadlines (``xdist_group("realtime")``, tests/conftest.py), the
# benchmarks' smoke runs beside them. Both run; either failing fails. About 15 min on two
# quiet cores (docs/testing.md).
TEST_JOBS ?= $(shell $(PYTHON) -c 'import os; print(max(1, min(4, os.cpu_count() or 1)))')
SLOW_JOBS ?= $(shell $(PYTHON) -c 'import os; print(max(1, min(2, os.cpu_count() or 1)))')
test: install
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -m "not faults and not slow and not platform" -n $(TEST_JOBS) --dist worksteal; \
	parallel=$$?; \
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -m "slow and not faults and not platform" -n $(SLOW_JOBS) --dist loadgroup && exit $$parallel

# The long fault scenarios (tests/chaos/: workers SIGKILLed, Redis, Postgres and beats lost
# mid-run, a worker host cut off for a minute), each on servers of its own:
# about 20-30 minutes on two cores. CI runs them after make test (docs/testing.md).
test-faults: install
	$(BIN)/pytest -m faults tests/chaos

# The conformance suite (tests/platforms/): one set of contract tests on the sandbox and on
# real servers of the Mastodon client API (Takahē, GoToSocial) run from ../shared/platforms
# (skipped, with the reason, where it is absent): about a minute once Takahē's environment
# is cached (docs/platforms.md). CI runs it after make test.
test-platform: install
	$(BIN)/pytest -m platform tests/platforms

# The suite without the end-to-end and chaos tests (real worker processes): a few minutes.
test-fast: install
	$(BIN)/pytest -m "not slow and not platform"

# Every test that needs no server (SQLite, the in-memory broker, fakeredis), aimed at
# under a minute on two quiet cores. Skipped, each with why (docs/testing.md): the tests
# needing Postgres or Redis, the end-to-end ones (slow), in-process runs of many seconds
# (long) and the gallery page in Chromium (browser); make test-fast runs the last two.
# One pytest-xdist worker per core; a worker that runs out of tests takes the rest's.
# Python keeps the bytecode it compiles (__pycache__, gitignored) even where the
# environment sets PYTHONDONTWRITEBYTECODE: else every run, in each worker and each
# subprocess, compiles fleet/ and tests/ again (seconds of CPU a process).
test-quick: install
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --no-servers -q -n auto --dist worksteal

# Every property test (Hypothesis) with 20 times its examples, to find the rare case
# before a user's make test does (docs/testing.md); about 20 minutes on two busy cores.
test-thorough: install
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest -m property --timeout 3600

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The wheel as users install it: built, installed in a fresh venv, run outside the checkout.
wheel-check: install
	.ci/wheel-check $(BIN)/python

demo: install
	$(BIN)/fleet demo

# The demo on a real Takahē: `fleet demo --platform takahe`, the same fleet and live view,
# Takahē started from FLEET_TAKAHE_DIR (in this checkout's CI layout,
# ../shared/platforms/takahe). Exit 2, saying what is missing, where it is absent.
# Every call meets a real server: 8 agents, 12 simulated hours in 80 steps (a step takes
# seconds on two busy cores, docs/platforms.md); DEMO_PLATFORM_ARGS to change it.
FLEET_PLATFORMS_DIR ?= ../shared/platforms
FLEET_TAKAHE_DIR ?= $(FLEET_PLATFORMS_DIR)/takahe
DEMO_PLATFORM_ARGS ?= --agents 8 --speed 2160 --duration 20
demo-platform: install
	FLEET_TAKAHE_DIR=$(FLEET_TAKAHE_DIR) $(BIN)/fleet demo --platform takahe $(DEMO_PLATFORM_ARGS)

# 24 agents for two simulated hours on Takahē, its books counted from Takahē's database,
# as JSON (bench/platform_run.py, no live view).
bench-platform-run: install
	$(BIN)/python -m bench.platform_run

bench: install
	$(BIN)/python -m bench.create_agents
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.actions
	$(BIN)/python -m bench.capacity
	$(BIN)/python -m bench.week
	$(BIN)/python -m bench.sandbox
	$(BIN)/python -m bench.content_tokens
	$(BIN)/python -m bench.cost
	$(BIN)/python -m bench.comments
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.realism
	$(BIN)/python -m bench.embeddings
	$(BIN)/python -m bench.images
	$(BIN)/python -m bench.console
	$(BIN)/python -m bench.drafts
	$(BIN)/python -m bench.community --seeds 3,4,5,6 --jobs 2

run: install
	mkdir -p .run
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$(RUN_DB)'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE "$(RUN_DB)"'
	$(BIN)/fleet db upgrade
	@# The same configuration for a second shell's `fleet` (it reads .env here).
	@# Written from the environment (make's own expansion would eat a dollar sign), 0600,
	@# each value quoted: fleet.settings.write_env_file.
	@if [ ! -f .env ]; then \
		$(BIN)/python -c 'from fleet.settings import write_run_env; write_run_env()' || exit 2; \
		echo "make run: wrote .env, readable by you only (fleet in this directory reads this fleet)"; \
	elif ! grep -q '^FLEET_DATABASE_URL=' .env; then \
		echo "make run: warning: .env names no FLEET_DATABASE_URL: fleet in another shell reads the embedded default"; \
	fi
	@if [ "$$($(BIN)/fleet agents counts --json)" = "{}" ]; then \
		for persona in $$($(BIN)/fleet personas list --json | $(BIN)/python -c 'import json,sys; print(" ".join(p["slug"] for p in json.load(sys.stdin)))'); do \
			$(BIN)/fleet agents create --persona $$persona --count $(RUN_AGENTS) --start; \
		done; \
	fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache .hypothesis
