# Two commands: `make run` and `make test`. Everything they need is installed from here.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-test bench demo clean-state

$(VENV)/.app: requirements.txt constraints.txt
	@scripts/install.sh "$(PYTHON)" requirements.txt
	@touch $@

$(VENV)/.test: $(VENV)/.app requirements-test.txt
	@scripts/install.sh "$(PYTHON)" requirements-test.txt
	@touch $@

install: $(VENV)/.app
install-test: $(VENV)/.test

## Serve the app at http://localhost:$(PORT); the first start builds the demo book and model.
## server.py wraps app.py (closes /_stcore/metrics and the websocket's clear_cache). The listening address
## (server_address, default 127.0.0.1: CB_SERVER_ADDRESS=0.0.0.0 serves the network) and the upload limit
## (max_upload_mb; server.maxUploadSize is not settable from a script) come from the settings.
run: $(VENV)/.app
	@scripts/bytecode.sh
	@$(PY) -m cb_core users ensure-admin
	flags=$$($(PY) -c 'from cb_core.config import streamlit_flags; print(" ".join(streamlit_flags()))') && \
	$(PY) -m streamlit run server.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false $$flags

## Install test dependencies (Chromium, PostgreSQL from Debian) and run the whole suite.
test: $(VENV)/.test
	@scripts/test.sh

## Quick benchmark smoke run; figures are appended to bench/RESULTS.md (bench/README.md explains them).
bench: $(VENV)/.app
	$(PY) -m bench --quick

clean-state:
	rm -rf .state
