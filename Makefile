# Build and test entry points for the aemops.ims collection.
# `make help` lists the targets; `make test` is what CI runs (.ci/run).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
UTILS := $(ROOT)/tests/utils

# Main toolchain: ansible-core 2.19 on Python 3.11 (integration tests, demo, bench).
PYTHON ?= python3
PY ?= 3.11
ANSIBLE_CORE ?= 2.19.14
VENV ?= $(ROOT)/.venv

# Newest ansible-core, which needs Python 3.12+.
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON_NEWEST ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12))),python3.12)
PY_NEWEST ?= 3.12
ANSIBLE_CORE_NEWEST ?= 2.21.5
VENV_NEWEST ?= $(ROOT)/.venv-newest

# Supported ansible-core lines (README "Compatibility", meta/runtime.yml). `make test`
# runs units + sanity on the oldest and the newest (and sanity on 2.19, the main line);
# `make test-matrix` runs both on every line.
# Each line has a pinned ansible-core (CORE_x), a Python (PY_x: the controller Pythons
# of 2.20+ start at 3.12) and a venv (VENV_x). Per-line targets: venv-x, units-x, sanity-x.
LINES := 2.16 2.17 2.18 2.19 2.20 2.21
OLDEST := $(firstword $(LINES))
NEWEST := $(lastword $(LINES))
CORE_2.16 ?= 2.16.19
CORE_2.17 ?= 2.17.14
CORE_2.18 ?= 2.18.19
CORE_2.19 ?= $(ANSIBLE_CORE)
CORE_2.20 ?= 2.20.10
CORE_2.21 ?= $(ANSIBLE_CORE_NEWEST)
PY_2.16 ?= $(PY)
PY_2.17 ?= $(PY)
PY_2.18 ?= $(PY)
PY_2.19 ?= $(PY)
PY_2.20 ?= $(PY_NEWEST)
PY_2.21 ?= $(PY_NEWEST)
PYTHON_$(PY) ?= $(PYTHON)
PYTHON_$(PY_NEWEST) ?= $(PYTHON_NEWEST)
VENV_2.19 := $(VENV)
VENV_2.21 := $(VENV_NEWEST)
$(foreach line,$(filter-out 2.19 2.21,$(LINES)),$(eval VENV_$(line) ?= $(ROOT)/.venv-$(line)))

# One venv for the release tools (galaxy-importer, ansible-lint, ansible-builder,
# antsibull-changelog/-docs, ruff, mypy): installed once, on the newest line.
VENV_TOOLS ?= $(ROOT)/.venv-tools

REQUIREMENTS := $(ROOT)/requirements.txt
TEST_REQUIREMENTS := $(ROOT)/tests/requirements-test.txt
SANITY_REQUIREMENTS := $(ROOT)/tests/requirements-sanity.txt
TOOLS_REQUIREMENTS := $(ROOT)/tests/requirements-tools.txt

# The collection layout ansible-test and the Python imports need.
COLLECTION_NAMESPACE ?= $(or $(shell sed -n 's/^namespace: *//p' $(ROOT)/galaxy.yml 2>/dev/null),aemops)
COLLECTION_NAME ?= $(or $(shell sed -n 's/^name: *//p' $(ROOT)/galaxy.yml 2>/dev/null),ims)
COLLECTION_VERSION ?= $(or $(shell sed -n 's/^version: *//p' $(ROOT)/galaxy.yml 2>/dev/null),0.0.0)
BUILD_ROOT ?= $(ROOT)/build
COLL_SUBDIR := ansible_collections/$(COLLECTION_NAMESPACE)/$(COLLECTION_NAME)
COLL_DIR := $(BUILD_ROOT)/$(COLL_SUBDIR)
# ansible-test sanity gets a layout of its own per line (build/sanity-<line>/...), so
# that lines run in parallel without sharing tests/output.
SANITY_ROOT = $(BUILD_ROOT)/sanity-$(1)
# `make package`: the built tarball and the collections path it is installed into.
DIST_DIR := $(BUILD_ROOT)/dist
TARBALL := $(DIST_DIR)/$(COLLECTION_NAMESPACE)-$(COLLECTION_NAME)-$(COLLECTION_VERSION).tar.gz
INSTALLED_ROOT := $(BUILD_ROOT)/installed

# Extra arguments, e.g. make units PYTEST_ARGS='-k jwt -x'
PYTEST_ARGS ?=
INTEGRATION_ARGS ?=
SANITY_ARGS ?=
# Coverage floor for plugins/module_utils (the shared core) in units-*.
COV_FAIL_UNDER ?= 90
# Gates that `make test` runs at once (most cold-run time is pip and network-bound).
JOBS ?= 3

# Environment for everything that runs the collection: the venv's tools first
# on PATH, and the layout as the collections path.
RUN_ENV := PATH="$(VENV)/bin:$$PATH" \
	PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_COLLECTIONS_PATH="$(BUILD_ROOT)" \
	ANSIBLE_COLLECTIONS_PATH="$(BUILD_ROOT)"
RUN_ENV_NEWEST := $(subst $(VENV)/,$(VENV_NEWEST)/,$(RUN_ENV))
TOOLS_ENV := PATH="$(VENV_TOOLS)/bin:$$PATH" ROOT="$(ROOT)" BUILD_ROOT="$(BUILD_ROOT)"

# `make test` (tests/utils/run_gates.py) runs each gate with NODEPS=1 once the setup
# gates it depends on are done, so gates running side by side never rebuild a venv or
# resync the layout under each other. By hand, every target brings its prerequisites.
deps = $(if $(NODEPS),,$(1))

.PHONY: help venv venv-newest venv-oldest venv-tools collection units units-newest units-oldest \
	sanity sanity-newest sanity-oldest integration package galaxy-importer ansible-lint changelog \
	changelog-release docs-lint ruff mypy ee test test-matrix demo bench clean distclean \
	$(foreach line,$(LINES),venv-$(line) units-$(line) sanity-$(line))

help:
	@echo "Setup"
	@echo "  make venv            .venv: Python $(PY) + ansible-core $(ANSIBLE_CORE) + runtime and test requirements"
	@echo "  make venv-newest     .venv-newest: Python $(PY_NEWEST) + ansible-core $(ANSIBLE_CORE_NEWEST) (= venv-$(NEWEST))"
	@echo "  make venv-oldest     .venv-$(OLDEST): Python $(PY_$(OLDEST)) + ansible-core $(CORE_$(OLDEST)) (= venv-$(OLDEST))"
	@echo "  make venv-LINE       the venv of one ansible-core line; LINE in: $(LINES)"
	@echo "  make venv-tools      .venv-tools: galaxy-importer, ansible-lint, ansible-builder, antsibull-*, ruff, mypy"
	@echo "  make collection      mirror the checkout into $(COLL_DIR)"
	@echo "Tests (each one is a gate of make test)"
	@echo "  make units           pytest tests/unit + coverage, ansible-core $(ANSIBLE_CORE) (PYTEST_ARGS=...);"
	@echo "                       plugins/module_utils coverage must be >= $(COV_FAIL_UNDER)%"
	@echo "  make units-LINE      the same on one line (units-oldest = $(OLDEST), units-newest = $(NEWEST))"
	@echo "  make sanity          ansible-test sanity, ansible-core $(ANSIBLE_CORE) / Python $(PY) (SANITY_ARGS=...)"
	@echo "  make sanity-LINE     the same on one line (sanity-oldest = $(OLDEST), sanity-newest = $(NEWEST))"
	@echo "  make integration     pytest tests/integration: ansible-playbook against the IMS emulator (INTEGRATION_ARGS=...)"
	@echo "  make package         build the tarball, check its file list, install it into an empty collections path,"
	@echo "                       run aemops.ims.demo and the action-group playbook from it against the emulator"
	@echo "  make galaxy-importer galaxy-importer on the tarball (tests/galaxy-importer.cfg); any WARNING/ERROR fails"
	@echo "  make ansible-lint    ansible-lint --profile production on playbooks/ and the module/lookup EXAMPLES"
	@echo "  make changelog       antsibull-changelog lint; CHANGELOG.md matches changelogs/changelog.yaml"
	@echo "  make docs-lint       antsibull-docs lint-collection-docs on the installed tarball"
	@echo "  make ruff            ruff check + ruff format --check"
	@echo "  make mypy            mypy on plugins/ (mypy.ini), inside the layout"
	@echo "  make ee              ansible-builder introspect --sanitize on the installed tarball"
	@echo "Suites"
	@echo "  make test            every gate, $(JOBS) at a time (JOBS=...), one timed line each; what CI runs:"
	@echo "                       sanity on $(TEST_SANITY_LINES), units on $(TEST_UNITS_LINES), integration on $(ANSIBLE_CORE),"
	@echo "                       package, galaxy-importer, ansible-lint, changelog, docs-lint, ruff, mypy, ee"
	@echo "  make test-matrix     units + sanity on every line: $(foreach line,$(LINES),$(CORE_$(line))/py$(PY_$(line)))"
	@echo "Other"
	@echo "  make changelog-release  after adding fragments for a new galaxy.yml version: release it, regenerate CHANGELOG.md"
	@echo "  make demo            run the demo playbook against the emulator"
	@echo "  make bench           run tests/utils/bench.py if present"
	@echo "  make clean           remove the collection layouts, build output and caches (distclean: the venvs too)"

# --- venvs ------------------------------------------------------------------------

define line_rules
venv-$(1):
	@$$(UTILS)/mkvenv.sh "$$(VENV_$(1))" "$$(PYTHON_$$(PY_$(1)))" "ansible-core==$$(CORE_$(1))" "$$(REQUIREMENTS)" "$$(TEST_REQUIREMENTS)" "$$(SANITY_REQUIREMENTS)"

units-$(1): $$(call deps,venv-$(1) collection)
	@PATH="$$(VENV_$(1))/bin:$$$$PATH" PYTHON="$$(VENV_$(1))/bin/python" COV_FAIL_UNDER="$$(COV_FAIL_UNDER)" \
		COVERAGE_FILE="$$(BUILD_ROOT)/coverage/units-$(1)/.coverage" \
		$$(UTILS)/run_units.sh "$$(COLL_DIR)" $$(PYTEST_ARGS)

sanity-$(1): $$(call deps,venv-$(1))
	@$$(PYTHON) $$(UTILS)/build_collection.py "$$(ROOT)" "$$(call SANITY_ROOT,$(1))/$$(COLL_SUBDIR)"
	@$$(UTILS)/run_sanity.sh "$$(VENV_$(1))" "$$(PY_$(1))" "$$(call SANITY_ROOT,$(1))/$$(COLL_SUBDIR)" $$(SANITY_ARGS)
endef
$(foreach line,$(LINES),$(eval $(call line_rules,$(line))))

venv: venv-2.19
venv-newest: venv-$(NEWEST)
venv-oldest: venv-$(OLDEST)

venv-tools:
	@$(UTILS)/mkvenv.sh "$(VENV_TOOLS)" "$(PYTHON_NEWEST)" "ansible-core==$(ANSIBLE_CORE_NEWEST)" "$(TOOLS_REQUIREMENTS)" "$(REQUIREMENTS)"

collection:
	@$(PYTHON) $(UTILS)/build_collection.py "$(ROOT)" "$(COLL_DIR)"

# --- tests --------------------------------------------------------------------------

units: units-2.19
units-newest: units-$(NEWEST)
units-oldest: units-$(OLDEST)
sanity: sanity-2.19
sanity-newest: sanity-$(NEWEST)
sanity-oldest: sanity-$(OLDEST)

integration: $(call deps,venv collection)
	@$(RUN_ENV) $(UTILS)/run_pytest.sh "$(COLL_DIR)" tests/integration $(INTEGRATION_ARGS)

# Build + list + install the tarball and run playbooks from it (tests/utils/package_check.py).
package: $(call deps,venv)
	@PATH="$(VENV)/bin:$$PATH" "$(VENV)/bin/python" $(UTILS)/package_check.py \
		--root "$(ROOT)" --dist "$(DIST_DIR)" --install "$(INSTALLED_ROOT)"

# The gates below need the tools venv; galaxy-importer, docs-lint and ee use the
# tarball / installed collection of `make package`.
galaxy-importer: $(call deps,venv-tools package)
	@$(TOOLS_ENV) $(UTILS)/run_galaxy_importer.sh "$(TARBALL)"

# run_ansible_lint.sh lints a mirror of its own (BUILD_ROOT/lint), which is also the collections path.
ansible-lint: $(call deps,venv-tools)
	@$(TOOLS_ENV) $(UTILS)/run_ansible_lint.sh

changelog: $(call deps,venv-tools)
	@$(TOOLS_ENV) $(UTILS)/check_changelog.sh

changelog-release: venv-tools
	@$(TOOLS_ENV) $(UTILS)/check_changelog.sh --release

docs-lint: $(call deps,venv-tools package)
	@cd "$(INSTALLED_ROOT)/$(COLL_SUBDIR)" && $(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH="$(INSTALLED_ROOT)" \
		antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all --disallow-unknown-collection-refs .
	@echo "docs-lint: antsibull-docs lint-collection-docs found nothing"

# ruff format covers every Python file; ruff check covers RUFF_CHECK_PATHS (the shipped
# plugins and the release tooling; widen to . once tests/ passes it too).
RUFF_CHECK_PATHS ?= plugins tests/utils
ruff: $(call deps,venv-tools)
	@cd "$(ROOT)" && "$(VENV_TOOLS)/bin/ruff" --version && \
		"$(VENV_TOOLS)/bin/ruff" check --no-cache $(RUFF_CHECK_PATHS) && \
		"$(VENV_TOOLS)/bin/ruff" format --no-cache --check .

mypy: $(call deps,venv-tools collection)
	@cd "$(BUILD_ROOT)" && MYPYPATH="$(BUILD_ROOT)" "$(VENV_TOOLS)/bin/mypy" --config-file "$(ROOT)/mypy.ini" \
		--cache-dir "$(BUILD_ROOT)/.mypy_cache" "$(COLL_SUBDIR)/plugins"

ee: $(call deps,venv-tools package)
	@$(TOOLS_ENV) $(UTILS)/check_ee.sh "$(INSTALLED_ROOT)" requests PyJWT cryptography

# --- suites -------------------------------------------------------------------------

# TARGET[:DEPENDENCY,...]=LABEL for tests/utils/run_gates.py: a gate starts when the
# gates it depends on passed; up to JOBS run at once. Long poles are listed first.
# Sanity runs on the same Python never run side by side (they share ansible-test's
# venv cache, ~/.ansible/test/venv/<test>/<python>/...): one EXCLUSIVE group per Python.
comma := ,
empty :=
space := $(empty) $(empty)
sanity_on = $(subst $(space),$(comma),$(strip $(foreach line,$(LINES),$(if $(filter $(1),$(PY_$(line))),sanity-$(line)))))
SANITY_EXCLUSIVE := $(subst $(space),;,$(strip $(foreach py,$(sort $(foreach line,$(LINES),$(PY_$(line)))),$(call sanity_on,$(py)))))
# What `make test` runs per line: sanity at both ends and on the main line (2.19, the
# one the integration tests use); units at both ends. test-matrix runs every line.
TEST_SANITY_LINES ?= $(OLDEST) $(NEWEST) 2.19
TEST_UNITS_LINES ?= $(OLDEST) $(NEWEST)
venv_gate = "venv-$(1)=venv (ansible-core $(CORE_$(1))/py$(PY_$(1)))"
sanity_gate = "sanity-$(1):venv-$(1)=sanity (ansible-core $(CORE_$(1))/py$(PY_$(1)))"
units_gate = "units-$(1):venv-$(1),collection=units + coverage (ansible-core $(CORE_$(1))/py$(PY_$(1)))"

test:
	@MAKE="$(MAKE)" JOBS="$(JOBS)" LOG_DIR="$(BUILD_ROOT)/logs/gates" EXCLUSIVE="$(SANITY_EXCLUSIVE)" \
		$(PYTHON) $(UTILS)/run_gates.py \
		"collection=collection layout" \
		$(foreach line,2.19 $(filter-out 2.19,$(sort $(TEST_SANITY_LINES) $(TEST_UNITS_LINES))),$(call venv_gate,$(line))) \
		"venv-tools=venv (release tools, py$(PY_NEWEST))" \
		"integration:venv-2.19,collection=integration (ansible-core $(ANSIBLE_CORE)/py$(PY))" \
		$(foreach line,$(TEST_SANITY_LINES),$(call sanity_gate,$(line))) \
		$(foreach line,$(TEST_UNITS_LINES),$(call units_gate,$(line))) \
		"package:venv-2.19=package: build, list, install, run playbooks" \
		"galaxy-importer:venv-tools,package=galaxy-importer" \
		"ansible-lint:venv-tools=ansible-lint (production)" \
		"changelog:venv-tools=antsibull-changelog" \
		"docs-lint:venv-tools,package=antsibull-docs lint-collection-docs" \
		"ruff:venv-tools=ruff" \
		"mypy:venv-tools,collection=mypy" \
		"ee:venv-tools,package=ansible-builder introspect"

# Every line: units + sanity (sanity one line per Python at a time).
test-matrix:
	@MAKE="$(MAKE)" JOBS="$(JOBS)" LOG_DIR="$(BUILD_ROOT)/logs/matrix" EXCLUSIVE="$(SANITY_EXCLUSIVE)" $(PYTHON) $(UTILS)/run_gates.py \
		"collection=collection layout" \
		$(foreach line,$(LINES),$(call venv_gate,$(line))) \
		$(foreach line,$(LINES),$(call sanity_gate,$(line))) \
		$(foreach line,$(LINES),$(call units_gate,$(line)))

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
		"$(ROOT)/.mypy_cache" "$(ROOT)/.ruff_cache" "$(ROOT)/.coverage" "$(ROOT)/htmlcov" \
		"$(BUILD_ROOT)/dist" "$(BUILD_ROOT)/installed" "$(BUILD_ROOT)/coverage" "$(BUILD_ROOT)/.mypy_cache" "$(BUILD_ROOT)/lint" \
		$(foreach line,$(LINES),"$(call SANITY_ROOT,$(line))")
	@if [ "$(BUILD_ROOT)" = "$(ROOT)/build" ]; then rm -rf "$(ROOT)/build"; fi
	find "$(ROOT)" \( -path "$(ROOT)/.venv*" -o -path "$(ROOT)/.git" \) -prune \
		-o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf "$(VENV)" "$(VENV_NEWEST)" "$(VENV_TOOLS)" $(foreach line,$(LINES),"$(VENV_$(line))")
