#!/usr/bin/env bash
# Run ansible-test sanity on the collection layout, offline except for PyPI.
#
# usage: run_sanity.sh VENV_DIR PYTHON_VERSION COLLECTION_DIR [ANSIBLE_TEST_ARGS...]
#
# VENV_DIR holds the ansible-core whose ansible-test is used; PYTHON_VERSION
# (e.g. 3.11) must be that venv's Python. ansible-test --venv builds its own
# per-test venvs under ~/.ansible/test/venv and bootstraps pip into them with
# a get-pip script; seed_get_pip.py puts an offline stand-in into
# ~/.ansible/test/cache first so nothing is fetched from ci-files.
#
# SANITY_PYTHON (optional): the interpreter of PYTHON_VERSION when it is not the
# venv's own Python (make sanity-py3.10: the 2.16 venv runs on 3.11 and tests 3.10).
# Its directory goes on PATH after the venv's, for ansible-test to find pythonX.Y.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 VENV_DIR PYTHON_VERSION COLLECTION_DIR [ANSIBLE_TEST_ARGS...]" >&2
    exit 2
fi

venv=$(cd "$1" && pwd)
pyver=$2
coll_dir=$3
shift 3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

target_dir=
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
if [ -n "${SANITY_PYTHON:-}" ]; then
    target=$(command -v "$SANITY_PYTHON" || true)
    actual=$( [ -n "$target" ] && version_of "$target" || echo "none")
    if [ "$actual" != "$pyver" ]; then
        echo "ERROR: SANITY_PYTHON=$SANITY_PYTHON is Python $actual, not $pyver" >&2
        exit 1
    fi
    target_dir=$(dirname "$target")
else
    actual=$(version_of "$venv/bin/python")
    if [ "$actual" != "$pyver" ]; then
        echo "ERROR: $venv uses Python $actual, not $pyver" >&2
        exit 1
    fi
fi

# ansible-test looks up "python$pyver" on PATH: make it resolve to this venv, or to
# SANITY_PYTHON's directory (pyenv shims for non-global versions exist on PATH but fail).
export PATH="$venv/bin${target_dir:+:$target_dir}:$PATH"
unset PYTHONPATH

"$venv/bin/python" "$here/seed_get_pip.py"

cd "$coll_dir"
# Zero ignores: an ignore file would let a sanity failure pass (and Galaxy warns about it).
ignores=$(compgen -G 'tests/sanity/ignore-*.txt' || true)
if [ -n "$ignores" ]; then
    echo "ERROR: sanity ignore files are not allowed; fix the findings instead: $ignores" >&2
    exit 1
fi
core=$("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)')
log_dir=$(cd ../../.. && pwd)/logs
log="$log_dir/sanity-ansible-core-$core-py$pyver.log"
mkdir -p "$log_dir"
echo "ansible-test sanity: ansible-core $core, Python $pyver (full log: $log)"

# The first run installs each test's requirements into ~/.ansible/test/venv and
# pip reports every package; keep that in the log and show the rest.
noise='^(Collecting |  Downloading |Processing |Installing collected packages|Successfully installed|Looking in |  Attempting uninstall|    Found existing installation|    Uninstalling |      Successfully uninstalled|Requirement already satisfied|WARNING: Location .file:|Using cached pip |Installing requirements for Python|Successfully built|Building wheel|  Building wheel|  Created wheel|  Stored in directory|  Preparing metadata|  Installing build dependencies|  Getting requirements|Defaulting to user installation)|━|^\s*$'
status=0
# --skip-test changelog: it installs antsibull-changelog into a venv of its own to run
# `antsibull-changelog lint`, which the changelog gate (make changelog) runs already.
"$venv/bin/ansible-test" sanity --venv --python "$pyver" --color no --skip-test changelog "$@" 2>&1 \
    | tee "$log" | { grep -Ev "$noise" || true; } || status=$?
if [ "$status" -ne 0 ]; then
    echo "ansible-test sanity failed (exit code $status); full log: $log" >&2
fi
exit "$status"
