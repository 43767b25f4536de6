# The two set-up commands of the README: `make repro` and `make test`.
# Each builds the virtual environment from requirements.txt when it is missing
# or older than requirements.txt, and pulls the inputs from the DVC remote.

VENV := .venv
export PATH := $(abspath $(VENV))/bin:$(PATH)
INPUTS := data/raw.dvc data/external/nltk_data.dvc

.PHONY: repro test inputs

repro: inputs
	dvc repro

test: inputs
	python -m pytest

inputs: $(VENV)/installed
	dvc pull $(INPUTS)

$(VENV)/installed: requirements.txt
	python3 -m venv $(VENV)
	pip install --quiet --upgrade pip
	pip install --quiet -r requirements.txt
	touch $@
