# slicefarm: `make run` sets up and starts the farm, `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
WARM   := $(VENV)/.jit-warm

.PHONY: install run test lint format bench clean

# Create the virtual environment and install the project with its dev extras.
# Re-runs only when pyproject.toml changes (the stamp file is newer otherwise).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Compile the scheduler's numba kernels into their on-disk cache, again whenever they change
# (a cold cache makes the scheduler take its slower Python path rather than compile in a solve).
$(WARM): $(STAMP) $(wildcard farm/jit_*.py)
	$(BIN)/python -m farm.jit_warm
	@touch $@

install: $(STAMP) $(WARM)

run: install
	$(BIN)/slicefarm serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint $(WARM)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
