# Safe Harbor. `make run` and `make test` are the two commands a newcomer needs (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PORT ?= 8000

.PHONY: install messages run test test-postgres lint bench schema clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Compile translation catalogues with Babel (pure Python: no GNU gettext needed).
messages: install
	@for po in locale/*/LC_MESSAGES/django.po; do \
	  $(VENV)/bin/pybabel compile --statistics -i $$po -o $${po%.po}.mo || exit 1; done

# Install, write development keys once, migrate, load the demo (once) and serve on SQLite.
run: messages
	$(PY) -m config.devenv
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py migrate --no-input
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py seed_demo --if-empty
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The test suite, on SQLite unless DATABASE_URL says otherwise. Browser tests run when Debian's
# chromium is installed and are skipped (with a message) when it is not.
test: messages
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: messages
	DATABASE_URL=$(PG_URL) $(MAKE) test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Regenerate the committed OpenAPI schema (a test fails when it is out of date).
schema: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --validate --fail-on-warn --file docs/api/openapi.yaml

bench: messages
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache
