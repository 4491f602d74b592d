# The two commands of the README: `make run` and `make test`. Both work on a bare machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEMO_MEMBERS ?= 3000
PYTEST_ARGS ?=
BENCH_MEMBERS ?= 4000000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/eseur_bench

.PHONY: setup run test bench backup restore lint format clean

$(INSTALLED): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(INSTALLED)

setup: $(INSTALLED)

# The embedded demo: SQLite file in the project, Celery eager, whatever the shell's environment says.
run: export DATABASE_URL :=
run: export REDIS_URL :=
run: export DEBUG := 1
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_regions
	$(PY) manage.py seed_demo --members $(DEMO_MEMBERS) --seed 1 --if-empty
	$(PY) manage.py demo_logins
	$(PY) manage.py runserver 127.0.0.1:8000

# Uses DATABASE_URL and REDIS_URL when they are set (CI: PostgreSQL and Redis), SQLite and eager Celery otherwise.
test: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py --members $(BENCH_MEMBERS)

# Backups (README, «Резервные копии»): the database of DATABASE_URL (SQLite when unset) and the media files, into
# BACKUP_DIR (backups/). `make restore BACKUP=backups/<name> DATABASE_URL=postgres://.../new_db` restores into a new
# or empty database, created when missing; RESTORE_ARGS=--force over a non-empty one, --check only to verify.
RESTORE_ARGS ?=
backup: setup
	$(PY) manage.py backup_create

restore: setup
	@test -n "$(BACKUP)" || { echo "Укажите копию: make restore BACKUP=backups/<имя> [DATABASE_URL=...]" >&2; exit 2; }
	$(PY) manage.py backup_restore "$(BACKUP)" $(RESTORE_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache
