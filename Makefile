# The two set-up commands of the README: `make repro` and `make test`.
# Each builds the virtual environment from requirements.txt when it is missing
# or older than requirements.txt, and pulls the inputs from the DVC remote.

VENV := .venv
export PATH := $(abspath $(VENV))/bin:$(PATH)
INPUTS := data/raw.dvc data/external/nltk_data.dvc
# `dvc plots show` uses this page (.dvc/config, plots.html_template): Vega inlined, no CDN.
PLOTS_TEMPLATE := .dvc/offline-plots.html

.PHONY: repro test inputs

repro: inputs
	dvc repro

test: inputs
	python -m pytest

inputs: $(VENV)/installed $(PLOTS_TEMPLATE)
	dvc pull $(INPUTS)

$(PLOTS_TEMPLATE): scripts/offline_plots_template.py $(VENV)/installed
	python scripts/offline_plots_template.py $@

$(VENV)/installed: requirements.txt
	python3 -m venv $(VENV)
	pip install --quiet --upgrade pip
	pip install --quiet -r requirements.txt
	touch $@
