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
## Streamlit's upload limit (server.maxUploadSize, not settable from a script) is the max_upload_mb setting.
run: $(VENV)/.app
	@$(PY) -m cb_core users ensure-admin
	max_upload_mb=$$($(PY) -c 'from cb_core.config import get_settings; print(get_settings().max_upload_mb)') && \
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false --server.maxUploadSize $$max_upload_mb

## Install test dependencies (Chromium, PostgreSQL from Debian) and run the whole suite.
test: $(VENV)/.test
	@scripts/test.sh

## Quick benchmark smoke run; figures are appended to bench/RESULTS.md (bench/README.md explains them).
bench: $(VENV)/.app
	$(PY) -m bench --quick

clean-state:
	rm -rf .state
