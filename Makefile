# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

# Service-backed tests read these; locally they skip when the service is unreachable,
# under CI=true they fail loudly instead.
export LASTMILE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export LASTMILE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export LASTMILE_TEST_MQTT_URL ?= mqtt://127.0.0.1:1883

.PHONY: demo test lint typecheck venv browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

# Browser tests drive Debian's Chromium; install it once when missing (needs root, as on CI).
# A failed install only warns: the browser tests then skip and say why.
browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium"

demo: $(STAMP)
	$(BIN)/lastmile demo

test: $(STAMP) browser
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
