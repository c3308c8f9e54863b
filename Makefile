# Two entry points for a new user: `make run` and `make test`. Each creates .venv first when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= data/scenarios/agglopolys.yaml
OUT ?= out/agglopolys

# JupyterLab refuses to start as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_PORT ?= 8888
DASHBOARD_PORT ?= 8866
# Voilà in French (notebooks/voila/templates/mcm) with one kernel pre-executed, so the page opens
# on computed figures instead of waiting for the notebook to run.
VOILA := JUPYTER_PATH=$(CURDIR)/notebooks $(BIN)/voila --template=mcm --preheat_kernel=True \
	--pool_size=1 --no-browser --port $(DASHBOARD_PORT) --Voila.ip=127.0.0.1

.PHONY: setup run scenario dashboard simulateur analyse test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -m model.ui.vega  # the charts' JavaScript bundle, built once and cached
	touch $(STAMP)

setup: $(STAMP)

# Main job: the Simulateur notebook in JupyterLab, on localhost with a fresh token.
run: $(STAMP)
	@token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(24))"); \
	echo ""; \
	echo "Simulateur : http://127.0.0.1:$(LAB_PORT)/lab/tree/01_simulateur.ipynb?token=$$token"; \
	echo ""; \
	$(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port $(LAB_PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks --IdentityProvider.token=$$token

# The reference scenario (or SCENARIO=...) from the command line, outputs in OUT.
scenario: $(STAMP)
	$(BIN)/python -m model run $(SCENARIO) --out $(OUT)

# The plenary dashboard (Voilà, no code on screen) on http://127.0.0.1:$(DASHBOARD_PORT)/
dashboard: $(STAMP)
	$(VOILA) notebooks/03_pleniere.ipynb

# The Simulateur without code on screen (Voilà): http://127.0.0.1:$(DASHBOARD_PORT)/
simulateur: $(STAMP)
	$(VOILA) notebooks/01_simulateur.ipynb

# The analyst notebook, parameterised with papermill; outputs in out/analyse. papermill does not
# create the executed notebook's folder (out/), run_batch creates out/analyse itself.
analyse: $(STAMP)
	mkdir -p out
	$(BIN)/papermill notebooks/04_analyse.ipynb out/analyse.ipynb --cwd . -p out_dir out/analyse

test: $(STAMP)
	$(BIN)/ruff check model tests bench scripts notebooks
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) out
