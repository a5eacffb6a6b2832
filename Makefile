# TDS New — the two commands are `make run` and `make test`; both depend on `make setup`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
export DJANGO_SETTINGS_MODULE ?= prj_tds_new.settings
# Development: these targets run with DEBUG on, explicitly (the settings default to off,
# production). Production sets nothing here: see the README and deploy/.
export DJANGO_DEBUG ?= on

.PHONY: setup run test bench lint format services db clean

$(VENV)/.installed: pyproject.toml gateway_agent/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]' -e ./gateway_agent
	@touch $@

## setup: idempotent install: system packages, virtualenv, database, migrations, static files
setup: $(VENV)/.installed services
	@$(PY) bin/ensure_database.py
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py compilemessages -v 0 >/dev/null 2>&1 || true

## services: start PostgreSQL, Redis and Mosquitto when not running; install system packages
services:
	@bash bin/services.sh

## run: demo account + web app (and workers), prints the URL; Ctrl-C stops everything
run: export MQTT_URL ?= mqtt://127.0.0.1:1884
run: setup
	@mkdir -p var/mosquitto-dev
	@$(PY) manage.py seed_demo
	@echo "TDS New: open http://127.0.0.1:$${TDS_WEB_PORT:-8000}/  (Ctrl-C stops everything)"
	@$(VENV)/bin/honcho start -f Procfile

## test: the whole suite against the real services
test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: benchmarks; tables printed, JSON under bench/results/
bench: setup
	$(PY) bench/run_all.py

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
