# Desborde: `make demo` runs the appliance on its embedded defaults, `make test` runs every test.
# Both install what is missing first: Debian packages when run as root, then a .venv.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
APT    := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

RUNTIME_DEBS := python3-venv python3-dev gcc unixodbc sox libsox-fmt-base libsox-fmt-mp3
TEST_DEBS    := $(RUNTIME_DEBS) sip-tester kamailio baresip-core tshark espeak-ng unixodbc-dev \
                libsqliteodbc odbc-postgresql postgresql chromium systemd nginx-light

.PHONY: demo test lint typecheck unit bench sounds clean system-runtime system-test

demo: system-runtime $(VENV)/.runtime
	$(VENV)/bin/desborde demo

test: system-test $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy

unit: $(VENV)/.test
	$(VENV)/bin/pytest tests/unit

bench: system-test $(VENV)/.test
	$(PY) -m bench.run

sounds:
	bash sounds/make_prompts.sh

# Debian packages: installed only when missing, and only when we are root (otherwise say what to do).
system-runtime:
	@bash deploy/ensure-debs.sh $(RUNTIME_DEBS)

system-test:
	@bash deploy/ensure-debs.sh $(TEST_DEBS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet -e '.[all]'
	touch $@

$(VENV)/.test: $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
