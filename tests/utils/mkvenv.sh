#!/usr/bin/env bash
# Create (or refresh) a Python virtual environment for the aemops.ims tests.
#
# usage: mkvenv.sh VENV_DIR PYTHON ANSIBLE_CORE_SPEC [REQUIREMENTS_FILE...]
#
# The venv is rebuilt only when its inputs change: the Python version, the
# ansible-core pin, the content of the requirement files and of this script.
# A stamp file inside the venv records the hash of those inputs, so a second
# call with the same inputs returns in well under a second.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 VENV_DIR PYTHON ANSIBLE_CORE_SPEC [REQUIREMENTS_FILE...]" >&2
    exit 2
fi

venv=$1
python=$2
core_spec=$3
shift 3
reqs=("$@")

if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import sys' >/dev/null 2>&1; then
    echo "mkvenv: Python interpreter '$python' not found or not runnable" >&2
    exit 1
fi

py_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')

stamp_input() {
    echo "python=$py_version"
    echo "core=$core_spec"
    cat "${BASH_SOURCE[0]}"
    local f
    for f in "${reqs[@]}"; do
        echo "--- $(basename "$f")"
        cat "$f"
    done
}
key=$(stamp_input | sha256sum | cut -d' ' -f1)
stamp="$venv/.aemops-ims-stamp"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "venv $venv is up to date ($core_spec, Python $py_version)"
    exit 0
fi

echo "venv $venv: installing $core_spec and requirements with Python $py_version"

# Recreate from scratch when the interpreter changed or the venv is broken.
if [ -e "$venv" ]; then
    existing=$("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)
    if [ "$existing" != "$py_version" ]; then
        rm -rf "$venv"
    fi
fi
rm -f "$stamp"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi

# This machine's pip configuration names local mirror directories that may be
# absent; drop those warnings to keep the output readable.
quiet_pip() {
    "$venv/bin/python" -m pip --disable-pip-version-check "$@" \
        2> >(grep -v "^WARNING: Location 'file:" >&2)
}

quiet_pip install -q --progress-bar off --upgrade pip
req_args=()
for f in "${reqs[@]}"; do
    req_args+=(-r "$f")
done
quiet_pip install -q --progress-bar off "$core_spec" "${req_args[@]}"

echo "$key" >"$stamp"
echo "venv $venv ready: ansible-core $("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)')"
