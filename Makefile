# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

# Honcho runs the same Procfile as docker-compose. Without Redis only the web
# process starts and jobs run in-process (the app says so once at start).
REDIS_UP := $(shell python3 -c 'import os, socket, urllib.parse as u; p = u.urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")); s = socket.socket(); s.settimeout(0.3); print("yes" if s.connect_ex((p.hostname or "127.0.0.1", p.port or 6379)) == 0 else "no")')
PROCESSES := $(if $(filter yes,$(REDIS_UP)),web worker beat,web)

.PHONY: install run test lint format bench migrate clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  SSP intake is starting on http://$${BIND:-127.0.0.1:8000} ($(PROCESSES))"
	@echo "  Log in as frontdesk, outreach, manager, coordinator or admin"
	@echo "  with the password harm-reduction-2026. Stop with Ctrl-C."
	@echo ""
	$(BIN)/honcho start $(PROCESSES)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles
