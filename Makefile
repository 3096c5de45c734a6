# The two set-up commands of the README: `make demo` (main job on the embedded default)
# and `make test` (the test suite). Both install into .venv first, from this repo's files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Keep a CUDA torch you installed yourself: make install CONSTRAINTS=constraints-no-torch.txt
CONSTRAINTS ?= constraints.txt
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench clean

$(STAMP): pyproject.toml constraints.txt constraints-common.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/tryon demo --catalogue tryon-demo-catalogue

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not flow"

bench: install
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) tryon-demo-catalogue .pytest_cache
