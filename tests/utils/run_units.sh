#!/usr/bin/env bash
# Unit tests with coverage, and the coverage floor of the shared core.
#
# usage: run_units.sh COLLECTION_DIR [PYTEST_ARGS...]
#
# Environment (set by the Makefile's units-<line> targets): PYTHON (the venv's
# python, with pytest-cov), COVERAGE_FILE (where coverage data goes: outside the
# layout, which ansible-test must see clean), COV_FAIL_UNDER (default 90).
#
# Runs tests/unit through run_pytest.sh with --cov=plugins (relative: it runs inside
# the layout; --cov=ansible_collections.aemops.ims.plugins does not work with
# ansible-test's pytest plugin), reports coverage of every plugin, then fails when
# plugins/module_utils is below COV_FAIL_UNDER percent.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 COLLECTION_DIR [PYTEST_ARGS...]" >&2
    exit 2
fi
coll_dir=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python}
floor=${COV_FAIL_UNDER:-90}
: "${COVERAGE_FILE:=$(cd "$coll_dir/../../.." && pwd)/coverage/.coverage}"
export COVERAGE_FILE
mkdir -p "$(dirname "$COVERAGE_FILE")"
rm -f "$COVERAGE_FILE" "$COVERAGE_FILE".*

core=$("$python" -c 'from ansible.release import __version__ as v; print(v)')
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# Python 3.12+: coverage measures through sys.monitoring (PEP 669) rather than a trace
# function, which costs the units far less (measured in the commit that added this). A
# COVERAGE_CORE already set wins; older Pythons keep coverage's default (ctrace).
if [ -z "${COVERAGE_CORE:-}" ] && "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    export COVERAGE_CORE=sysmon
fi
echo "units: ansible-core $core, Python $pyver${COVERAGE_CORE:+, coverage core $COVERAGE_CORE}"

"$here/run_pytest.sh" "$coll_dir" tests/unit --cov=plugins --cov-report=term-missing:skip-covered "$@"

cd "$coll_dir"
echo "units: coverage of plugins/module_utils (the shared core) must be at least $floor%"
"$python" -m coverage report --include='plugins/module_utils/*' --fail-under="$floor" --skip-covered --show-missing \
    || { echo "units: plugins/module_utils coverage is below $floor% (ansible-core $core)" >&2; exit 1; }
