# Two commands on a fresh machine (Python 3.11 and make):
#   make run    install into .venv and run the bot (SQLite under data/)
#   make test   install into .venv and run the whole check: ruff, mypy --strict, pytest
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench preview clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot

test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

pytest: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m bench.votes
	$(PY) -m bench.formatting
	$(PY) -m bench.latency
	$(PY) -m bench.flood
	$(PY) -m bench.burst
	$(PY) -m bench.scale
	$(PY) -m bench.instances
	$(PY) -m bench.search
	$(PY) -m bench.charts
	$(PY) -m bench.archive
	$(PY) -m bench.feeds

preview: $(STAMP)
	$(PY) -m bot preview tests/fixtures/seed_article.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
