#!/usr/bin/env bash
# Run the integration targets (tests/integration/targets/) with ansible-test, offline except for PyPI.
#
# usage: run_ansible_test_integration.sh VENV_DIR COLLECTION_DIR [ANSIBLE_TEST_ARGS...]
#
# VENV_DIR holds the ansible-core whose ansible-test is used, on the venv's Python (the controller
# and target Python of the run); COLLECTION_DIR is a layout .../ansible_collections/aemops/ims
# (build_collection.py). ansible-test --venv makes its controller venv under the layout's
# tests/output/.tmp/delegation/ and installs tests/integration/requirements.txt into it;
# seed_get_pip.py puts an offline stand-in of get-pip into ~/.ansible/test/cache first, as
# run_sanity.sh does. Each target's runme.sh runs one pytest suite (setup_pytest_suite).
#
# The targets are listed first (--list-targets), then run; ANSIBLE_TEST_ARGS go to both,
# e.g. a target name to run one: run_ansible_test_integration.sh ... leaks
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 VENV_DIR COLLECTION_DIR [ANSIBLE_TEST_ARGS...]" >&2
    exit 2
fi
venv=$(cd "$1" && pwd)
coll_dir=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ansible-test looks up "python$pyver" on PATH: make it resolve to this venv.
export PATH="$venv/bin:$PATH"
unset PYTHONPATH

"$venv/bin/python" "$here/seed_get_pip.py"

cd "$coll_dir"
core=$("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)')
log_dir=$(cd ../../.. && pwd)/logs
log="$log_dir/integration-targets-ansible-core-$core-py$pyver.log"
mkdir -p "$log_dir"

targets=$("$venv/bin/ansible-test" integration --venv --python "$pyver" --color no --list-targets "$@")
if [ -z "$targets" ]; then
    echo "ERROR: ansible-test integration lists no target" >&2
    exit 1
fi
echo "ansible-test integration: ansible-core $core, Python $pyver, targets: $(tr '\n' ' ' <<<"$targets")(full log: $log)"

# The first run installs the requirements into the controller venv and pip reports every
# package; keep that in the log and show the rest.
noise='^(Collecting |  Downloading |Processing |Installing collected packages|Successfully installed|Looking in |Requirement already satisfied|WARNING: Location .file:|Using cached |  Using cached )|━|^\s*$'
status=0
# --continue-on-error, as the hosted CI's action runs them: every failing target is reported.
"$venv/bin/ansible-test" integration --venv --python "$pyver" --requirements --continue-on-error --color no "$@" 2>&1 \
    | tee "$log" | { grep --line-buffered -Ev "$noise" || true; } || status=$?
if [ "$status" -ne 0 ]; then
    echo "ansible-test integration failed (exit code $status); full log: $log" >&2
fi
exit "$status"
