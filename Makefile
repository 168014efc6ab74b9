# self-deployer: `make demo` plays the whole story on a local emulator; `make test` runs every test.
# Everything the targets need is installed by them: Python packages into .venv (project-local).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BIN := target/debug/self-deployer

.PHONY: test lint unit e2e demo venv build clean

## test: every check CI runs: lint, Rust tests, end-to-end tests on the emulator
test: lint unit e2e

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

## unit: Rust tests (modelled Lambda world on aws-smithy-mocks, CLI runs of the binary)
unit:
	$(CARGO) test --all-targets --locked

## e2e: the binary against moto server, asserting on AWS state
e2e: venv $(BIN)
	cd tests/e2e && SELF_DEPLOYER_BIN=$(CURDIR)/$(BIN) ../../$(VPY) -m pytest -q

## demo: the story on a local emulator: deploy, a failing image, rollback, status
demo: venv $(BIN)
	SELF_DEPLOYER_BIN=$(CURDIR)/$(BIN) $(VPY) scripts/demo.py

## venv: the emulator and test runner, pinned in requirements-dev.txt
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(BIN): FORCE
	$(CARGO) build --locked

## build: release binary for this machine
build:
	$(CARGO) build --release --locked

clean:
	$(CARGO) clean
	rm -rf $(VENV)

.PHONY: FORCE
FORCE:
