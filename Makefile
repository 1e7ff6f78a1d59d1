# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

# Honcho runs the same Procfile as docker-compose. Without Redis only the web
# process starts and jobs run in-process (the app says so once at start).
REDIS_UP := $(shell python3 -c 'import os, socket, urllib.parse as u; p = u.urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")); s = socket.socket(); s.settimeout(0.3); print("yes" if s.connect_ex((p.hostname or "127.0.0.1", p.port or 6379)) == 0 else "no")')
PROCESSES := $(if $(filter yes,$(REDIS_UP)),web worker beat,web)

.PHONY: install lock run reset test fuzz first-runs lint format bench messages migrate backup clean

install: $(VENV)/.installed

# Every package, transitive ones included, at the version and hash in the lock.
$(VENV)/.installed: requirements-dev.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Rewrite both locks from pyproject.toml, with pip-tools in a venv of its own (it is not
# a dependency of the project).
LOCKVENV ?= /tmp/ssp-lockvenv
PIP_COMPILE = $(LOCKVENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links
lock:
	test -x $(LOCKVENV)/bin/pip-compile || \
		(python3 -m venv $(LOCKVENV) && $(LOCKVENV)/bin/pip install --quiet pip-tools==7.6.2)
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev -o requirements-dev.lock pyproject.toml

# As the tables' owner (MIGRATE_DATABASE_URL, when set), then the app role's grants.
migrate: install
	DATABASE_AS_OWNER=true $(PY) manage.py migrate --noinput
	$(PY) manage.py db_roles --verbosity 0

backup: install
	$(PY) manage.py backup_database

run: migrate
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  SSP intake is starting on http://$${BIND:-127.0.0.1:8000} ($(PROCESSES))"
	@echo "  Log in as frontdesk, outreach, manager, coordinator or admin"
	@echo "  with the password harm-reduction-2026. Stop with Ctrl-C."
	@echo ""
	$(BIN)/honcho start $(PROCESSES)

# Start over: the next `make run` migrates and seeds the demo again. Settings decide
# which database that is (DATABASE_URL, from the environment or .env): an SQLite file
# is deleted; a PostgreSQL database is emptied (flush), never dropped.
DB_IN_USE = $(PY) -c 'import django; django.setup(); from django.conf import settings; \
	db = settings.DATABASES["default"]; print(db["ENGINE"].rsplit(".", 1)[-1], db["NAME"])'
reset: install
	@set -e; db=$$(DJANGO_SETTINGS_MODULE=config.settings $(DB_IN_USE)); \
	engine=$${db%% *}; name=$${db#* }; \
	case "$$engine" in \
	  sqlite3) \
	    echo "Deleting the SQLite database $$name"; \
	    rm -f "$$name" "$$name-journal" "$$name-wal" "$$name-shm" ;; \
	  postgresql) \
	    echo "Emptying the PostgreSQL database $$name (manage.py flush; tables stay)"; \
	    DATABASE_AS_OWNER=true $(PY) manage.py flush --noinput ;; \
	  *) echo "make reset knows SQLite and PostgreSQL, not $$engine" >&2; exit 1 ;; \
	esac; \
	echo 'Done: the next `make run` sets up the demo from scratch.'

# Two workers by default (CI has 2 cores); PYTEST_WORKERS=0 runs in one process.
# Native tracebacks: pytest's own rendering re-parses source and once crashed the whole
# run (xdist INTERNALERROR) on a failure raised deep in a stack.
PYTEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal --tb=native $(PYTEST_ARGS)

# schemathesis at full strength: 50 generated cases per operation and role (the suite
# runs 5 to keep within its time budget).
fuzz: install
	SSP_FUZZ_EXAMPLES=50 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal tests/ops/test_api_fuzz.py $(PYTEST_ARGS)

# Every real first run: migrate + a one-year seed on a fresh SQLite file at 17 moments
# (each day of a delivery cycle, a first of the month, both DST changes; `make test`
# runs two of them).
first-runs: install
	SSP_FIRST_RUNS=all $(PY) -m pytest tests/ops/test_demo_any_hour.py $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Needs GNU gettext (msgfmt, msgmerge). The .mo is committed, so running the app does not;
# tests/org/test_i18n.py fails when the .mo and the .po disagree.
messages: install
	$(PY) manage.py makemessages -l es --no-location --no-obsolete --no-wrap -i .venv -i staticfiles -i tests -i var -i bench -i "*/vendor/*"
	$(PY) manage.py compilemessages -l es

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles
