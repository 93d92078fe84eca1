#!/usr/bin/env bash
# Run pytest over one test directory of the collection layout.
#
# usage: run_pytest.sh COLLECTION_DIR TEST_DIR [PYTEST_ARGS...]
#
# COLLECTION_DIR is .../ansible_collections/aemops/ims (built by
# build_collection.py); its grandparent's parent goes on PYTHONPATH so that
# ``import ansible_collections.aemops.ims...`` works. Fails when the test
# directory is missing or when pytest collects no tests (pytest exit code 5),
# so an empty suite can never pass silently.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 COLLECTION_DIR TEST_DIR [PYTEST_ARGS...]" >&2
    exit 2
fi

coll_dir=$1
test_dir=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

cd "$coll_dir"
if [ ! -d "$test_dir" ]; then
    echo "ERROR: $test_dir does not exist in the collection; no tests to run" >&2
    exit 1
fi

python=${PYTHON:-python}
build_root=$(cd ../../.. && pwd)

# Load test modules the way `ansible-test units` does: with ansible-test's own
# pytest plugin, which installs Ansible's collection loader for the layout and
# names test modules ansible_collections.<ns>.<name>.tests..., so tests can
# import plugins, module_utils and test helpers by their collection names and
# use Ansible's plugin loaders (lookup_loader.get('aemops.ims.xxx')).
plugin_dir=$("$python" -c 'import os, ansible_test; print(os.path.join(os.path.dirname(ansible_test.__file__), "_util", "target", "pytest", "plugins"))')
min_python=$("$python" -c 'from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS as v; print(v[0])')

export PYTHONPATH="$build_root:$plugin_dir${PYTHONPATH:+:$PYTHONPATH}"

# The unit suite uses test helpers that ansible-core added in 2.19; on older lines
# tests/utils/pytest_core_compat.py provides them (it is a no-op on 2.19+).
compat=()
if ! "$python" -c 'import ansible.module_utils.testing' >/dev/null 2>&1; then
    export PYTHONPATH="$PYTHONPATH:$here"
    compat=(-p pytest_core_compat)
fi
export ANSIBLE_COLLECTIONS_PATH="$build_root"
export AEMOPS_IMS_COLLECTIONS_PATH="$build_root"
export ANSIBLE_CONTROLLER_MIN_PYTHON_VERSION="$min_python"
# Keep the layout clean for ansible-test (no __pycache__/.pyc, no .pytest_cache).
export PYTHONDONTWRITEBYTECODE=1

status=0
"$python" -m pytest -p no:cacheprovider -p ansible_pytest_collections ${compat[@]+"${compat[@]}"} "$test_dir" "$@" || status=$?

case "$status" in
    0) ;;
    5)
        echo "ERROR: pytest collected no tests in $test_dir (exit code 5); treating as a failure" >&2
        exit 1
        ;;
    *)
        exit "$status"
        ;;
esac
