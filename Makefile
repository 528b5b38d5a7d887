# The two commands of the contract are `make plan` and `make test`; both set
# themselves up from a clean clone (virtualenv + pinned requirements).
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: plan test venv clean schema bench

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

## Plan cost as flavours grow (3, 30, 100, 300), against the bare-registration floor
bench: $(STAMP)
	$(PY) bench/plan_bench.py

clean:
	rm -rf build .pytest_cache
