# Two entry points for a new user: `make run` and `make test`. Each creates .venv first when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= data/scenarios/agglopolys.yaml
OUT ?= out/agglopolys

.PHONY: setup run lab dashboard test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m model run $(SCENARIO) --out $(OUT)

test: $(STAMP)
	$(BIN)/ruff check model tests bench scripts
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) out
