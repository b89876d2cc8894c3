# The Makefile is the interface: `make demo` and `make test` are all a newcomer needs.
# Each target sets up what it needs on first use (virtual environment via uv, CDK CLI via npm).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
BIN      := $(VENV)/bin
# Caches stay in the user cache or the repo's ignored folders, never in commits.
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
# Node.js: 22 or 24 (LTS) preferred; 20 still runs the CDK but is past its end of life, and jsii prints an 11-line
# banner on every run unless this is set. `make deploy` / `make diff` set it for you; calling `npx cdk` directly, export
# it first (README, "Deploy").
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT ?= $(HOME)/.cache/aws/jsii

# The first Python >= 3.12 on PATH (or pyenv's), unless PYTHON is given: `make test PYTHON=/path/to/python3.13`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
# uv from PATH, else installed once into .build/uv with the chosen Python's pip.
UV ?= $(shell command -v uv 2>/dev/null || echo .build/uv/bin/uv)

.PHONY: help dev demo test unit functional infra-tests e2e lint format synth cfn-lint bootstrap diff deploy bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.build/uv/bin/uv:
	@test -n "$(PYTHON)" || { echo "Costwarden needs Python >= 3.12 (set PYTHON=/path/to/python3.12)"; exit 1; }
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .build/uv uv

# --compile-bytecode: .pyc files written once at install, so every later process imports pandas from bytecode even
# where PYTHONDONTWRITEBYTECODE is set (containers, CI); without them each CLI call recompiles it (~2 s more).
$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(if $(findstring .build/uv,$(UV)),.build/uv/bin/uv)
	@test -n "$(PYTHON)" || { echo "Costwarden needs Python >= 3.12 (set PYTHON=/path/to/python3.12)"; exit 1; }
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON) --quiet
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

dev: $(VENV)/.synced node_modules/.installed  ## set up everything (venv + CDK CLI)

demo: $(VENV)/.synced  ## run the whole guardrail day on a simulated AWS account (writes demo-out/)
	$(BIN)/costwarden demo --out demo-out

# node_modules: the infra tests validate state machines with asl-validator (npm, pinned in package.json).
test: $(VENV)/.synced node_modules/.installed lint  ## lint, type-check and run every test tier (unit, functional, infra, e2e)
	$(BIN)/pytest -q -n 2 --dist loadfile

unit: $(VENV)/.synced  ## pure logic tests
	$(BIN)/pytest -q tests/unit

functional: $(VENV)/.synced  ## tests against moto in-process and the local Slack stand-in
	$(BIN)/pytest -q tests/functional

infra-tests: $(VENV)/.synced node_modules/.installed  ## CDK template assertions, cdk-nag, asl-validator, cfn-lint, quotas
	$(BIN)/pytest -q tests/infra

e2e: $(VENV)/.synced  ## end-to-end runs against a local moto server
	$(BIN)/pytest -q tests/e2e

lint: $(VENV)/.synced  ## ruff, mypy and the architecture's import contracts (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.synced  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

synth: $(VENV)/.synced node_modules/.installed  ## build the Lambda bundles (no Docker) and write cdk.out/
	npx cdk synth --quiet

cfn-lint: synth  ## lint the synthesized template
	$(BIN)/cfn-lint --non-zero-exit-code error cdk.out/*.template.json

# The documented deploy commands, with the same environment as every other target. Extra CDK CLI arguments in ARGS:
# `make deploy ARGS="--require-approval never"`, `make diff ARGS="--context costwarden=..."`.
bootstrap: $(VENV)/.synced node_modules/.installed  ## once per account and region: cdk bootstrap (ARGS="aws://ACCOUNT/REGION")
	npx cdk bootstrap $(ARGS)

diff: $(VENV)/.synced node_modules/.installed  ## what `cdk deploy` would change in the account of your AWS profile
	npx cdk diff $(ARGS)

deploy: $(VENV)/.synced node_modules/.installed  ## build the bundles and deploy the stack (cdk deploy) to your AWS profile
	npx cdk deploy $(ARGS)

bench: $(VENV)/.synced  ## benchmarks of the acceptance criteria (prints a table; see README)
	$(BIN)/python -m bench

# Not in `make test` nor in `make bench`: it installs Cloud Custodian 0.9.53 into its own venv (.build/peer/c7n, uv,
# idempotent) and takes ~15 minutes on 2 cores. `make bench-peer ARGS="--pairs 3 --sizes 1000"` for a shorter run.
.PHONY: bench-peer
bench-peer: $(VENV)/.synced | $(if $(findstring .build/uv,$(UV)),.build/uv/bin/uv)  ## Costwarden beside Cloud Custodian on one moto server (README, docs/benchmarks.md)
	PEER_UV=$(UV) $(BIN)/python -m bench.bench_peer --peer $(ARGS)

clean:  ## remove build outputs (keeps caches)
	rm -rf cdk.out .build/assets .build/team-directory demo-out bench-out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
