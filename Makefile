# Build and test entry points for the aemops.ims collection.
# `make help` lists the targets; `make test` is what CI runs (.ci/run).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
UTILS := $(ROOT)/tests/utils

# Main toolchain: ansible-core 2.19 on Python 3.11 (make integration, package, demo, bench).
PYTHON ?= python3
PY ?= 3.11
ANSIBLE_CORE ?= 2.19.14
VENV ?= $(ROOT)/.venv

# The interpreter of Python X.Y: the newest pyenv build of it, else pythonX.Y on PATH.
PYENV_ROOT ?= $(HOME)/.pyenv
python_of = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),python$(1))

# Newest ansible-core, which needs Python 3.12+.
PYTHON_NEWEST ?= $(call python_of,3.12)
PY_NEWEST ?= 3.12
ANSIBLE_CORE_NEWEST ?= 2.21.5
VENV_NEWEST ?= $(ROOT)/.venv-newest

# Supported ansible-core lines (README "Tested with Ansible", meta/runtime.yml). `make test`
# runs the integration suites, sanity and units at both ends (2.16 and 2.21) and the package
# check on 2.19 (the main line); `make test-matrix` runs all three on every line.
# Each line has a pinned ansible-core (CORE_x), a controller Python (PY_x: 2.20+ start
# at 3.12; 2.18, the first line that supports 3.13, runs on 3.13) and a venv (VENV_x).
# Per-line targets: venv-x, units-x, sanity-x, integration-x.
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
PY_2.18 ?= 3.13
PY_2.19 ?= $(PY)
PY_2.20 ?= $(PY_NEWEST)
PY_2.21 ?= $(PY_NEWEST)
PYTHON_$(PY) ?= $(PYTHON)
PYTHON_$(PY_NEWEST) ?= $(PYTHON_NEWEST)
PYTHON_3.13 ?= $(call python_of,3.13)
VENV_2.19 := $(VENV)
VENV_2.21 := $(VENV_NEWEST)
$(foreach line,$(filter-out 2.19 2.21,$(LINES)),$(eval VENV_$(line) ?= $(ROOT)/.venv-$(line)))

# One venv for the release tools (galaxy-importer, ansible-lint, ansible-builder,
# antsibull-changelog/-docs, ruff, mypy): installed once, on the newest line.
VENV_TOOLS ?= $(ROOT)/.venv-tools

REQUIREMENTS := $(ROOT)/meta/ee-requirements.txt
TEST_REQUIREMENTS := $(ROOT)/tests/requirements-test.txt
SANITY_REQUIREMENTS := $(ROOT)/tests/requirements-sanity.txt
TOOLS_REQUIREMENTS := $(ROOT)/tests/requirements-tools.txt

# The collection layout ansible-test and the Python imports need (make collection: demo,
# bench and by-hand runs).
COLLECTION_NAMESPACE ?= $(or $(shell sed -n 's/^namespace: *//p' $(ROOT)/galaxy.yml 2>/dev/null),aemops)
COLLECTION_NAME ?= $(or $(shell sed -n 's/^name: *//p' $(ROOT)/galaxy.yml 2>/dev/null),ims)
COLLECTION_VERSION ?= $(or $(shell sed -n 's/^version: *//p' $(ROOT)/galaxy.yml 2>/dev/null),0.0.0)
BUILD_ROOT ?= $(ROOT)/build
COLL_SUBDIR := ansible_collections/$(COLLECTION_NAMESPACE)/$(COLLECTION_NAME)
COLL_DIR := $(BUILD_ROOT)/$(COLL_SUBDIR)
# Every gate that needs the collection as ansible_collections/aemops/ims mirrors the checkout
# into a layout of its own, build/<target>/... (LAYOUT_ROOT), so that gates running side by
# side never resync a layout under each other nor share what tools write into one
# (ansible-test's tests/output, hypothesis' database, coverage data, mypy's cache).
LAYOUT_ROOT = $(BUILD_ROOT)/$(1)
LAYOUT = $(BUILD_ROOT)/$(1)/$(COLL_SUBDIR)
mirror = $(PYTHON) $(UTILS)/build_collection.py "$(ROOT)" "$(call LAYOUT,$(1))"
# `make package`: the built tarball and the collections path it is installed into.
DIST_DIR := $(BUILD_ROOT)/dist
TARBALL := $(DIST_DIR)/$(COLLECTION_NAMESPACE)-$(COLLECTION_NAME)-$(COLLECTION_VERSION).tar.gz
INSTALLED_ROOT := $(BUILD_ROOT)/installed

# Extra arguments, e.g. make units PYTEST_ARGS='-k jwt -x'
PYTEST_ARGS ?=
INTEGRATION_ARGS ?=
ANSIBLE_TEST_ARGS ?=
SANITY_ARGS ?=
# Coverage floor for plugins/module_utils (the shared core) in units-*.
COV_FAIL_UNDER ?= 90
# Gates that `make test` runs at once (most cold-run time is pip and network-bound).
JOBS ?= 3

# Environment for demo and bench: the venv's tools first on PATH, and the layout as the
# collections path.
RUN_ENV := PATH="$(VENV)/bin:$$PATH" \
	PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_PYTHON="$(VENV)/bin/python" \
	AEMOPS_IMS_COLLECTIONS_PATH="$(BUILD_ROOT)" \
	ANSIBLE_COLLECTIONS_PATH="$(BUILD_ROOT)"
TOOLS_ENV := PATH="$(VENV_TOOLS)/bin:$$PATH" ROOT="$(ROOT)" BUILD_ROOT="$(BUILD_ROOT)"

# `make test` (tests/utils/run_gates.py) runs each gate with NODEPS=1 once the setup
# gates it depends on are done, so gates running side by side never rebuild a venv
# under each other. By hand, every target brings its prerequisites.
deps = $(if $(NODEPS),,$(1))

.PHONY: help venv venv-newest venv-oldest venv-tools collection units units-newest units-oldest \
	sanity sanity-newest sanity-oldest integration integration-newest integration-oldest package galaxy-importer ansible-lint changelog \
	changelog-release docs-lint ruff mypy ee actionlint ci-matrix sanity-py3.10 test test-matrix test-repeat demo bench \
	clean distclean \
	integration-targets \
	$(foreach line,$(LINES),venv-$(line) units-$(line) sanity-$(line) integration-$(line) ansible-test-integration-$(line))

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
	@echo "  make integration     pytest tests/integration: ansible-playbook against the IMS emulator, ansible-core $(ANSIBLE_CORE)"
	@echo "                       (INTEGRATION_ARGS=...)"
	@echo "  make integration-LINE  the same on one line (integration-oldest = $(OLDEST), integration-newest = $(NEWEST))"
	@echo "  make ansible-test-integration-LINE  the suites as ansible-test integration --venv targets"
	@echo "                       (tests/integration/targets/; ANSIBLE_TEST_ARGS='leaks' runs one target)"
	@echo "  make integration-targets  every suite has its target and every target its suite"
	@echo "                       (tests/utils/check_integration_targets.py and its tests)"
	@echo "  make package         build the tarball, check its file list, install it into an empty collections path,"
	@echo "                       run aemops.ims.demo and the action-group playbook from it against the emulator"
	@echo "  make galaxy-importer galaxy-importer on the tarball (tests/galaxy-importer.cfg); any WARNING/ERROR fails"
	@echo "  make ansible-lint    ansible-lint --profile production on playbooks/ and the module/lookup EXAMPLES"
	@echo "  make changelog       antsibull-changelog lint; CHANGELOG.md matches changelogs/changelog.yaml"
	@echo "  make docs-lint       antsibull-docs lint-collection-docs on the installed tarball: plugin docs and the"
	@echo "                       docsite guides (docs/docsite/extra-docs.yml, docs/docsite/rst/, links.yml)"
	@echo "  make sanity-py3.10   ansible-test sanity --test compile --test import on Python 3.10 ($(PYTHON_3.10)),"
	@echo "                       ansible-core $(CORE_$(PY310_LINE))"
	@echo "  make actionlint      actionlint on .github/workflows/ (the hosted CI, which cannot run here)"
	@echo "  make ci-matrix       the hosted CI's matrix matches the README's Tested with Ansible table"
	@echo "                       (tests/utils/check_ci_matrix.py and its tests)"
	@echo "  make ruff            ruff check + ruff format --check"
	@echo "  make mypy            mypy on plugins/ (mypy.ini), inside the layout"
	@echo "  make ee              ansible-builder introspect --sanitize on the installed tarball"
	@echo "Suites"
	@echo "  make test            every gate, $(JOBS) at a time (JOBS=...), each with its own HOME, caches and tmp"
	@echo "                       (build/state/<gate>), one timed line each; what CI runs: integration on"
	@echo "                       $(TEST_INTEGRATION_LINES), sanity on $(TEST_SANITY_LINES), units on $(TEST_UNITS_LINES), package,"
	@echo "                       galaxy-importer, ansible-lint, changelog, docs-lint, ruff, mypy, ee, sanity-py3.10,"
	@echo "                       actionlint, ci-matrix, integration-targets"
	@echo "  make test-matrix     integration + sanity + units on every line: $(foreach line,$(LINES),$(CORE_$(line))/py$(PY_$(line)))"
	@echo "  make test-repeat N=3 the gates of make test N times, each round from an emptied build/ (venvs kept);"
	@echo "                       lists every gate that did not pass in every round"
	@echo "Other"
	@echo "  make changelog-release  after adding fragments for a new galaxy.yml version: release it, regenerate CHANGELOG.md"
	@echo "  make demo            run the demo playbook against the emulator"
	@echo "  make bench           tests/utils/bench.py: lookup, module and cache against their floors (BENCH_ARGS=...)"
	@echo "  make clean           remove the collection layouts, build output and caches (distclean: the venvs too)"

# --- venvs ------------------------------------------------------------------------

define line_rules
venv-$(1):
	@$$(UTILS)/mkvenv.sh "$$(VENV_$(1))" "$$(PYTHON_$$(PY_$(1)))" "ansible-core==$$(CORE_$(1))" "$$(REQUIREMENTS)" "$$(TEST_REQUIREMENTS)" "$$(SANITY_REQUIREMENTS)"

units-$(1): $$(call deps,venv-$(1))
	@$$(call mirror,units-$(1))
	@PATH="$$(VENV_$(1))/bin:$$$$PATH" PYTHON="$$(VENV_$(1))/bin/python" COV_FAIL_UNDER="$$(COV_FAIL_UNDER)" \
		COVERAGE_FILE="$$(call LAYOUT_ROOT,units-$(1))/coverage/.coverage" \
		$$(UTILS)/run_units.sh "$$(call LAYOUT,units-$(1))" $$(PYTEST_ARGS)

sanity-$(1): $$(call deps,venv-$(1))
	@$$(call mirror,sanity-$(1))
	@$$(UTILS)/run_sanity.sh "$$(VENV_$(1))" "$$(PY_$(1))" "$$(call LAYOUT,sanity-$(1))" $$(SANITY_ARGS)

# run_pytest.sh makes the layout's root the collections path of every playbook run.
integration-$(1): $$(call deps,venv-$(1))
	@$$(call mirror,integration-$(1))
	@"$$(VENV_$(1))/bin/python" -c 'import sys; from ansible.release import __version__ as v; print("integration: ansible-core %s, Python %d.%d" % (v, *sys.version_info[:2]))'
	@PATH="$$(VENV_$(1))/bin:$$$$PATH" PYTHON="$$(VENV_$(1))/bin/python" AEMOPS_IMS_PYTHON="$$(VENV_$(1))/bin/python" \
		$$(UTILS)/run_pytest.sh "$$(call LAYOUT,integration-$(1))" tests/integration $$(INTEGRATION_ARGS)

# The same suites as ansible-test integration targets (tests/integration/targets/), as the hosted CI runs them.
ansible-test-integration-$(1): $$(call deps,venv-$(1))
	@$$(call mirror,ansible-test-integration-$(1))
	@$$(UTILS)/run_ansible_test_integration.sh "$$(VENV_$(1))" "$$(call LAYOUT,ansible-test-integration-$(1))" $$(ANSIBLE_TEST_ARGS)
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
integration: integration-2.19
integration-newest: integration-$(NEWEST)
integration-oldest: integration-$(OLDEST)

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

# The guides reach the docsite only from the installed tarball's docs/docsite/: lint them there,
# references to plugins and options included (--check-extra-docs-refs). The installed copy
# lies inside this git work tree, where antsibull-docs would copy only git-tracked files
# (none under build/) and then find no plugin of this collection: the ceiling stops that.
docs-lint: $(call deps,venv-tools package)
	@test -f "$(INSTALLED_ROOT)/$(COLL_SUBDIR)/docs/docsite/extra-docs.yml" || \
		{ echo "docs-lint: the installed collection has no docs/docsite/extra-docs.yml" >&2; exit 1; }
	@cd "$(INSTALLED_ROOT)/$(COLL_SUBDIR)" && $(TOOLS_ENV) ANSIBLE_COLLECTIONS_PATH="$(INSTALLED_ROOT)" \
		GIT_CEILING_DIRECTORIES="$(INSTALLED_ROOT)" \
		antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
		--validate-collection-refs all --disallow-unknown-collection-refs .
	@echo "docs-lint: antsibull-docs lint-collection-docs found nothing in the plugin docs and" \
		"$$(ls "$(INSTALLED_ROOT)/$(COLL_SUBDIR)/docs/docsite/rst" | wc -l) docsite guides"

# ruff format covers every Python file; ruff check covers RUFF_CHECK_PATHS: the shipped
# plugins and every test, the emulator and the release tooling included.
RUFF_CHECK_PATHS ?= plugins tests
ruff: $(call deps,venv-tools)
	@cd "$(ROOT)" && "$(VENV_TOOLS)/bin/ruff" --version && \
		"$(VENV_TOOLS)/bin/ruff" check --no-cache $(RUFF_CHECK_PATHS) && \
		"$(VENV_TOOLS)/bin/ruff" format --no-cache --check .

mypy: $(call deps,venv-tools)
	@$(call mirror,mypy)
	@cd "$(call LAYOUT_ROOT,mypy)" && MYPYPATH="$(call LAYOUT_ROOT,mypy)" "$(VENV_TOOLS)/bin/mypy" --config-file "$(ROOT)/mypy.ini" \
		--cache-dir "$(call LAYOUT_ROOT,mypy)/.mypy_cache" "$(COLL_SUBDIR)/plugins"

ee: $(call deps,venv-tools package)
	@$(TOOLS_ENV) $(UTILS)/check_ee.sh "$(INSTALLED_ROOT)" requests PyJWT cryptography urllib3

# Python 3.10 is a controller Python of 2.16 and 2.17 that no venv here runs on: the 2.16
# venv's ansible-test (Python 3.11) runs compile and import on pyenv's 3.10 (SANITY_PYTHON),
# the two tests that depend on the Python version (the others run in sanity-2.16 already).
PY310_LINE ?= $(OLDEST)
PYTHON_3.10 ?= $(call python_of,3.10)
sanity-py3.10: $(call deps,venv-$(PY310_LINE))
	@$(call mirror,sanity-py3.10)
	@SANITY_PYTHON="$(PYTHON_3.10)" $(UTILS)/run_sanity.sh "$(VENV_$(PY310_LINE))" 3.10 "$(call LAYOUT,sanity-py3.10)" \
		--test compile --test import $(SANITY_ARGS)

# The hosted CI (.github/workflows/) cannot run here: lint it (actionlint, with shellcheck
# on its run: scripts), and check that its matrix says what the README's table says.
actionlint: $(call deps,venv-tools)
	@cd "$(ROOT)" && PATH="$(VENV_TOOLS)/bin:$$PATH" && echo "actionlint $$(actionlint -version | head -1)," \
		"$$(shellcheck --version | sed -n 's/^version: /shellcheck /p')" && \
		actionlint -no-color .github/workflows/*.yml && echo "actionlint: .github/workflows/ clean"

ci-matrix: $(call deps,venv-tools)
	@"$(VENV_TOOLS)/bin/python" $(UTILS)/check_ci_matrix.py --root "$(ROOT)"
	@cd "$(ROOT)" && PYTHONDONTWRITEBYTECODE=1 "$(VENV_TOOLS)/bin/python" -m pytest -q -p no:cacheprovider \
		tests/utils/test_check_ci_matrix.py

# make test runs the integration suites with pytest (integration-LINE); the hosted CI runs them
# as ansible-test targets (ansible-test-integration-LINE). This keeps the two in step: one
# target per suite, each with the shared runme.sh and the aliases ansible-test needs.
# (Through ansible-test, each target costs 3-7 s more than pytest, one emulator start each,
# and a fresh clone first builds a controller venv from PyPI per line: about a minute more of
# make test for the same tests; see the commit that added this gate.)
integration-targets: $(call deps,venv-tools)
	@"$(VENV_TOOLS)/bin/python" $(UTILS)/check_integration_targets.py --root "$(ROOT)"
	@cd "$(ROOT)" && PYTHONDONTWRITEBYTECODE=1 "$(VENV_TOOLS)/bin/python" -m pytest -q -p no:cacheprovider \
		tests/utils/test_check_integration_targets.py

# --- suites -------------------------------------------------------------------------

# TARGET[:DEPENDENCY,...]=LABEL for tests/utils/run_gates.py: a gate starts when the
# gates it depends on passed; up to JOBS run at once, each with a HOME, caches and
# temporary directory of its own (run_gates.py gate_environment), so no two gates share
# state and any two may run side by side. Long poles are listed first.
# What `make test` runs per line: the integration suites, sanity and units at both ends;
# the main line (2.19) is what package runs on. test-matrix runs all three on every line.
# (Sanity on 2.19 as well cost 170 CPU-seconds, about 85 s of a 2-CPU run, for findings
# that its neighbours' sanity runs report too; test-matrix keeps it.)
TEST_INTEGRATION_LINES ?= $(OLDEST) $(NEWEST)
TEST_SANITY_LINES ?= $(OLDEST) $(NEWEST)
TEST_UNITS_LINES ?= $(OLDEST) $(NEWEST)
versions = ansible-core $(CORE_$(1))/py$(PY_$(1))
venv_gate = "venv-$(1)=venv ($(call versions,$(1)))"
integration_gate = "integration-$(1):venv-$(1)=integration ($(call versions,$(1)))"
sanity_gate = "sanity-$(1):venv-$(1)=sanity ($(call versions,$(1)))"
units_gate = "units-$(1):venv-$(1)=units + coverage ($(call versions,$(1)))"
TEST_LINES = $(sort 2.19 $(PY310_LINE) $(TEST_INTEGRATION_LINES) $(TEST_SANITY_LINES) $(TEST_UNITS_LINES))
TEST_GATES = \
	$(foreach line,$(TEST_LINES),$(call venv_gate,$(line))) \
	"venv-tools=venv (release tools, py$(PY_NEWEST))" \
	$(foreach line,$(TEST_INTEGRATION_LINES),$(call integration_gate,$(line))) \
	$(foreach line,$(TEST_SANITY_LINES),$(call sanity_gate,$(line))) \
	"sanity-py3.10:venv-$(PY310_LINE)=sanity compile + import (ansible-core $(CORE_$(PY310_LINE))/py3.10)" \
	$(foreach line,$(TEST_UNITS_LINES),$(call units_gate,$(line))) \
	"package:venv-2.19=package: build, list, install, run playbooks" \
	"galaxy-importer:venv-tools,package=galaxy-importer" \
	"ansible-lint:venv-tools=ansible-lint (production)" \
	"changelog:venv-tools=antsibull-changelog" \
	"docs-lint:venv-tools,package=antsibull-docs lint-collection-docs" \
	"ruff:venv-tools=ruff" \
	"mypy:venv-tools=mypy" \
	"ee:venv-tools,package=ansible-builder introspect" \
	"actionlint:venv-tools=actionlint (.github/workflows)" \
	"ci-matrix:venv-tools=hosted CI matrix = README table" \
	"integration-targets:venv-tools=ansible-test integration targets = suites"
MATRIX_GATES = \
	$(foreach line,$(LINES),$(call venv_gate,$(line))) \
	$(foreach line,$(LINES),$(call integration_gate,$(line))) \
	$(foreach line,$(LINES),$(call sanity_gate,$(line))) \
	$(foreach line,$(LINES),$(call units_gate,$(line)))
# The gates' sub-makes see the gate's HOME as $(HOME): hand them the pyenv of this one.
GATES_ENV = MAKE="$(MAKE)" JOBS="$(JOBS)" STATE_DIR="$(BUILD_ROOT)/state" PYENV_ROOT="$(PYENV_ROOT)"

test:
	@$(GATES_ENV) LOG_DIR="$(BUILD_ROOT)/logs/gates" $(PYTHON) $(UTILS)/run_gates.py $(TEST_GATES)

test-matrix:
	@$(GATES_ENV) LOG_DIR="$(BUILD_ROOT)/logs/matrix" $(PYTHON) $(UTILS)/run_gates.py $(MATRIX_GATES)

# The flake guard: the whole `make test` gate set N times, each round from an emptied
# build directory (the venvs stay); reports every gate that did not pass every round.
N ?= 3
test-repeat:
	@$(GATES_ENV) LOG_DIR="$(BUILD_ROOT)/logs/repeat" $(PYTHON) $(UTILS)/run_gates.py \
		--rounds "$(N)" --clean "$(BUILD_ROOT)" $(TEST_GATES)

demo: venv collection
	@$(RUN_ENV) $(UTILS)/demo.sh

# BENCH_ARGS: e.g. --rounds 11, --only controller, --markdown build/bench.md, --smoke (a quick check that it runs).
BENCH_ARGS ?=
bench: venv collection
	@$(RUN_ENV) "$(VENV)/bin/python" "$(UTILS)/bench.py" $(BENCH_ARGS)

clean:
	rm -rf "$(COLL_DIR)" "$(BUILD_ROOT)/logs" "$(ROOT)/tests/output" "$(ROOT)/.pytest_cache" "$(ROOT)/.hypothesis" \
		"$(ROOT)/.mypy_cache" "$(ROOT)/.ruff_cache" "$(ROOT)/.coverage" "$(ROOT)/htmlcov" \
		"$(BUILD_ROOT)/dist" "$(BUILD_ROOT)/installed" "$(BUILD_ROOT)/lint" "$(BUILD_ROOT)/state" "$(call LAYOUT_ROOT,mypy)" \
		"$(call LAYOUT_ROOT,sanity-py3.10)" \
		$(foreach line,$(LINES),$(foreach gate,units sanity integration ansible-test-integration,"$(call LAYOUT_ROOT,$(gate)-$(line))"))
	@if [ "$(BUILD_ROOT)" = "$(ROOT)/build" ]; then rm -rf "$(ROOT)/build"; fi
	find "$(ROOT)" \( -path "$(ROOT)/.venv*" -o -path "$(ROOT)/.git" \) -prune \
		-o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf "$(VENV)" "$(VENV_NEWEST)" "$(VENV_TOOLS)" $(foreach line,$(LINES),"$(VENV_$(line))")
