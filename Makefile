# self-deployer: `make demo` plays the whole story on a local emulator; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: test lint unit build clean

## test: every check CI runs (lint, unit and integration tests)
test: lint unit

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

## unit: cargo tests (modelled Lambda world on aws-smithy-mocks, CLI runs of the binary)
unit:
	$(CARGO) test --all-targets --locked

## build: release binary for this machine
build:
	$(CARGO) build --release --locked

clean:
	$(CARGO) clean
