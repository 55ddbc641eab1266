# Two commands set up everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Tests run against real PostgreSQL and Redis (started by scripts/services.sh if stopped).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/nutrition_pro
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
TEST_WORKERS ?= 2
BENCH_DATABASE ?= nutrition_pro_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13

.PHONY: install lock run test lint format bench clean

install: $(STAMP)

# requirements.lock pins every package (direct and transitive) to the version CI tested.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# After changing dependencies in pyproject.toml: re-resolve and pin them again.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	{ echo "# Exact versions for reproducible installs (constraints for make install). Refresh: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v "^ai-nutrition-pro"; } > requirements.lock
	rm -rf .lock-venv

run: install
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=true $(BIN)/python manage.py bootstrap_demo
	DJANGO_DEBUG=true $(BIN)/python manage.py demo_samples
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	scripts/services.sh
	DJANGO_DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks use a database of their own (created if missing), never the test or dev data.
bench: install
	scripts/services.sh
	psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DATABASE)'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres $(BENCH_DATABASE)
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DATABASE) \
		REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) var .pytest_cache
