#!/usr/bin/env bash
# Run one pytest suite of tests/integration/ as an ansible-test integration target.
#
# usage (from a target's runme.sh): exec ../setup_pytest_suite/run_suite.sh "$@"
#
# The target's name is the suite's directory: tests/integration/targets/leaks/ runs
# tests/integration/leaks/. ansible-test runs runme.sh in a copy of the target directory
# (tests/output/.tmp/integration/<target>-.../tests/integration/targets/<target>/) with the
# controller's Python first on PATH and the installed collection under test above it; the
# suite runs from that collection (.../ansible_collections/<namespace>/<name>/), found by
# walking up from here, so it is the collection ansible-test installed, with --docker too.
# tests/integration/requirements.txt holds what the suites and the emulator import
# (ansible-test integration --requirements installs it).
#
# ansible-test's -v... verbosity turns on pytest's -v. Everything else is tests/utils/run_pytest.sh:
# ansible-test's pytest plugin loads the suite by collection names, and an empty suite fails.
set -euo pipefail

suite=$(basename "$PWD")
root=$PWD
while [ "$root" != / ] && [ "$(basename "$(dirname "$(dirname "$root")")")" != ansible_collections ]; do
    root=$(dirname "$root")
done
if [ "$root" = / ]; then
    echo "ERROR: $PWD is not inside an ansible_collections/<namespace>/<name>/ layout" >&2
    exit 1
fi

args=(-p no:cacheprovider -ra)
for arg in "$@"; do
    case "$arg" in
        -v*) args+=(-v) ;;
        *) echo "run_suite.sh: ignoring argument $arg" >&2 ;;
    esac
done

export PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
work=${OUTPUT_DIR:-$(mktemp -d)}
# run_pytest.sh loads ansible-test's pytest plugin, which ansible-test's PYTHONPATH (the ansible
# package only) leaves out. The ansible package there links to where ansible-test runs from, with
# ansible_test beside it (an install) or under test/lib (a source tree); a directory of its own
# puts ansible_test alone on PYTHONPATH, not the rest of that install's packages.
if ! "$PYTHON" -c 'import ansible_test' 2>/dev/null; then
    lib=$("$PYTHON" -c 'import os, ansible; print(os.path.dirname(os.path.realpath(ansible.__file__)))')
    found=
    for dir in "$(dirname "$lib")" "$(dirname "$(dirname "$lib")")/test/lib"; do
        if [ -d "$dir/ansible_test" ]; then
            found=$dir/ansible_test
            break
        fi
    done
    [ -n "$found" ] || { echo "ERROR: no ansible_test package beside $lib" >&2; exit 1; }
    mkdir -p "$work/ansible-test-lib"
    ln -sfn "$found" "$work/ansible-test-lib/ansible_test"
    export PYTHONPATH="$work/ansible-test-lib${PYTHONPATH:+:$PYTHONPATH}"
fi
# The suites expect what the venvs of make give them: ansible-core installed for sys.executable.
# ansible-test's controller Python (its venv under tests/output/.tmp/delegation/, or the container's
# Python) has ansible only on PYTHONPATH and ansible-playbook only on PATH, and two places of the
# suites miss that: conftest.py runs the ansible-playbook (first_hour: ansible-vault) beside sys.executable, and
# test_cache_race.py starts sys.executable with a PYTHONPATH of the collections path alone. Until
# they fall back to PATH and keep PYTHONPATH, the suite runs on the Python of a venv made here,
# which sees the controller Python's packages and ansible (a .pth file) and has ansible-test's
# ansible-* commands beside it. Nothing is installed and nothing of ansible-test's is changed.
if [ ! -x "$(dirname "$PYTHON")/ansible-playbook" ]; then
    shim=$work/suite-python
    "$PYTHON" -m venv --without-pip --clear "$shim"
    "$PYTHON" -c 'import os, sys, ansible
print("\n".join([p for p in sys.path if p.endswith(("site-packages", "dist-packages"))] + [os.path.dirname(os.path.dirname(ansible.__file__))]))' \
        >"$("$shim/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/controller-python.pth"
    # Every ansible-* command of ansible-test's: the first_hour suite runs ansible-vault too.
    for tool in "$(dirname "$(command -v ansible-playbook)")"/ansible*; do
        ln -sfn "$tool" "$shim/bin/$(basename "$tool")"
    done
    PYTHON=$shim/bin/python
fi

echo "integration target $suite: pytest tests/integration/$suite in $root ($("$PYTHON" -c 'import sys; from ansible.release import __version__ as v; print("ansible-core %s, Python %d.%d" % (v, *sys.version_info[:2]))'))"
exec "$root/tests/utils/run_pytest.sh" "$root" "tests/integration/$suite" "${args[@]}"
