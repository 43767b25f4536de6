# The README's set-up commands: `make repro` and `make test` (and, while editing,
# `make test-fast` and `make lint`). Each builds the virtual environment from
# requirements.txt when it is missing or older, and pulls the inputs from the DVC remote.

VENV := .venv
export PATH := $(abspath $(VENV))/bin:$(PATH)
INPUTS := data/raw.dvc data/external/nltk_data.dvc data/external/movie_descriptions.dvc
# `dvc plots show`'s page with Vega inlined, no CDN; set in .dvc/config.local (not in git),
# so a fresh clone before `make` still gets DVC's own page.
PLOTS_TEMPLATE := .dvc/offline-plots.html

.PHONY: repro test test-fast test-cpus lint inputs

# First, whether this CPU computes the arithmetic dvc.lock was made with (if not, dvc repro
# trains another model than the committed one, and says so here).
repro: inputs
	@python -m movie_genre.modeling.fingerprint --check tests/arithmetic/fingerprint.txt || true
	dvc repro

test: inputs
	python -m pytest

# About a minute and a half: everything but the tests that run the pipeline, train models,
# time things or start the predict command many times.
test-fast: inputs
	python -m pytest -m "not slow"

# The arithmetic fingerprint natively and on emulated CPUs, an Intel (Haswell-v4) and an AMD
# (EPYC-Rome), side by side, every line on each: about 10 minutes on 2 cores. Needs Debian's qemu-user.
test-cpus: $(VENV)/installed
	python scripts/test_cpus.py

lint: $(VENV)/installed
	ruff check .

inputs: $(VENV)/installed $(PLOTS_TEMPLATE)
	dvc pull $(INPUTS)

$(PLOTS_TEMPLATE): scripts/offline_plots_template.py $(VENV)/installed
	python scripts/offline_plots_template.py $@
	dvc config --local plots.html_template offline-plots.html

$(VENV)/installed: requirements.txt
	python3 -m venv $(VENV)
	pip install --quiet --upgrade pip
	pip install --quiet -r requirements.txt
	touch $@
