# Build and test entry points for the aemops.ims collection.
# `make help` lists the targets; `make test` is what CI runs (.ci/run).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
UTILS := $(ROOT)/tests/utils

# Main toolchain: ansible-core 2.19 on Python 3.11.
PYTHON ?= python3
PY ?= 3.11
ANSIBLE_CORE ?= 2.19.14
VENV ?= $(ROOT)/.venv

# Newest ansible-core, which needs Python 3.12+ (sanity-newest, units-newest).
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON_NEWEST ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12))),python3.12)
PY_NEWEST ?= 3.12
ANSIBLE_CORE_NEWEST ?= 2.21.5
VENV_NEWEST ?= $(ROOT)/.venv-newest

REQUIREMENTS := $(ROOT)/requirements.txt
TEST_REQUIREMENTS := $(ROOT)/tests/requirements-test.txt
SANITY_REQUIREMENTS := $(ROOT)/tests/requirements-sanity.txt

# The collection layout ansible-test and the Python imports need.
COLLECTION_NAMESPACE ?= $(or $(shell sed -n 's/^namespace: *//p' $(ROOT)/galaxy.yml 2>/dev/null),aemops)
COLLECTION_NAME ?= $(or $(shell sed -n 's/^name: *//p' $(ROOT)/galaxy.yml 2>/dev/null),ims)
BUILD_ROOT ?= $(ROOT)/build
COLL_DIR := $(BUILD_ROOT)/ansible_collections/$(COLLECTION_NAMESPACE)/$(COLLECTION_NAME)

# Extra arguments, e.g. make units PYTEST_ARGS='-k jwt -x'
PYTEST_ARGS ?=
INTEGRATION_ARGS ?=
SANITY_ARGS ?=

# Environment for everything that runs the collection: the venv's tools first
# on PATH, and the layout as the collections path.
RUN_ENV := PATH="$(VENV)/bin:$$PATH" \
	PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_COLLECTIONS_PATH="$(BUILD_ROOT)" \
	ANSIBLE_COLLECTIONS_PATH="$(BUILD_ROOT)"
RUN_ENV_NEWEST := $(subst $(VENV)/,$(VENV_NEWEST)/,$(RUN_ENV))

.PHONY: help venv venv-newest collection units units-newest sanity sanity-newest integration test demo bench clean distclean

help:
	@echo "make venv           .venv: Python $(PY) + ansible-core $(ANSIBLE_CORE) + runtime and test requirements"
	@echo "make venv-newest    .venv-newest: Python $(PY_NEWEST) + ansible-core $(ANSIBLE_CORE_NEWEST) + the same requirements"
	@echo "make collection     mirror the checkout into $(COLL_DIR)"
	@echo "make units          pytest tests/unit (PYTEST_ARGS=...)"
	@echo "make units-newest   the same with ansible-core $(ANSIBLE_CORE_NEWEST) / Python $(PY_NEWEST) (not in make test)"
	@echo "make sanity         ansible-test sanity, ansible-core $(ANSIBLE_CORE) / Python $(PY) (SANITY_ARGS=...)"
	@echo "make sanity-newest  ansible-test sanity, ansible-core $(ANSIBLE_CORE_NEWEST) / Python $(PY_NEWEST)"
	@echo "make integration    pytest tests/integration: ansible-playbook against the IMS emulator (INTEGRATION_ARGS=...)"
	@echo "make test           all of the above, timed; what CI runs"
	@echo "make demo           run the demo playbook against the emulator"
	@echo "make bench          run tests/utils/bench.py if present"
	@echo "make clean          remove the collection layout and caches (distclean: the venvs too)"

venv:
	@$(UTILS)/mkvenv.sh "$(VENV)" "$(PYTHON)" "ansible-core==$(ANSIBLE_CORE)" "$(REQUIREMENTS)" "$(TEST_REQUIREMENTS)" "$(SANITY_REQUIREMENTS)"

venv-newest:
	@$(UTILS)/mkvenv.sh "$(VENV_NEWEST)" "$(PYTHON_NEWEST)" "ansible-core==$(ANSIBLE_CORE_NEWEST)" "$(REQUIREMENTS)" "$(TEST_REQUIREMENTS)" "$(SANITY_REQUIREMENTS)"

collection:
	@$(PYTHON) $(UTILS)/build_collection.py "$(ROOT)" "$(COLL_DIR)"

units: venv collection
	@$(RUN_ENV) $(UTILS)/run_pytest.sh "$(COLL_DIR)" tests/unit $(PYTEST_ARGS)

# Not part of `make test`: the unit tests on the newest ansible-core.
units-newest: venv-newest collection
	@$(RUN_ENV_NEWEST) $(UTILS)/run_pytest.sh "$(COLL_DIR)" tests/unit $(PYTEST_ARGS)

integration: venv collection
	@$(RUN_ENV) $(UTILS)/run_pytest.sh "$(COLL_DIR)" tests/integration $(INTEGRATION_ARGS)

sanity: venv collection
	@$(UTILS)/run_sanity.sh "$(VENV)" "$(PY)" "$(COLL_DIR)" $(SANITY_ARGS)

sanity-newest: venv-newest collection
	@$(UTILS)/run_sanity.sh "$(VENV_NEWEST)" "$(PY_NEWEST)" "$(COLL_DIR)" $(SANITY_ARGS)

test:
	@MAKE="$(MAKE)" $(UTILS)/run_gates.sh \
		"venv=venv (py$(PY))" \
		"venv-newest=venv-newest (py$(PY_NEWEST))" \
		"collection=collection" \
		"units=units (ansible-core $(ANSIBLE_CORE)/py$(PY))" \
		"sanity=sanity (ansible-core $(ANSIBLE_CORE)/py$(PY))" \
		"sanity-newest=sanity (ansible-core $(ANSIBLE_CORE_NEWEST)/py$(PY_NEWEST))" \
		"integration=integration (ansible-core $(ANSIBLE_CORE)/py$(PY))"

demo: venv collection
	@$(RUN_ENV) $(UTILS)/demo.sh

bench: venv collection
	@if [ -f "$(UTILS)/bench.py" ]; then \
		$(RUN_ENV) "$(VENV)/bin/python" "$(UTILS)/bench.py"; \
	else \
		echo "bench: tests/utils/bench.py does not exist yet"; \
	fi

clean:
	rm -rf "$(COLL_DIR)" "$(BUILD_ROOT)/logs" "$(ROOT)/tests/output" "$(ROOT)/.pytest_cache" "$(ROOT)/.hypothesis" \
		"$(ROOT)/.mypy_cache" "$(ROOT)/.ruff_cache" "$(ROOT)/.coverage" "$(ROOT)/htmlcov"
	@if [ "$(BUILD_ROOT)" = "$(ROOT)/build" ]; then rm -rf "$(ROOT)/build"; fi
	find "$(ROOT)" \( -path "$(ROOT)/.venv*" -o -path "$(ROOT)/.git" \) -prune \
		-o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf "$(VENV)" "$(VENV_NEWEST)"
