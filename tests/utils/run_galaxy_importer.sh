#!/usr/bin/env bash
# make galaxy-importer: what Galaxy / Automation Hub check when the tarball is uploaded.
#
# usage: run_galaxy_importer.sh TARBALL
#
# Runs `python -m galaxy_importer.main TARBALL` (the tools venv's python and ansible-lint
# must come first on PATH) with tests/galaxy-importer.cfg, in a temporary directory
# (it writes importer_result.json there; ansible-lint's and ansible's caches too).
# Fails when the importer fails, when it does not report success, or when any line of
# its output is a WARNING or an ERROR (ansible-lint findings are logged as warnings).
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 TARBALL" >&2
    exit 2
fi
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$(cd "$here/.." && pwd)/galaxy-importer.cfg
[ -f "$tarball" ] || { echo "ERROR: $tarball does not exist; run make package first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
version=$(python -c 'from importlib.metadata import version; print(version("galaxy-importer"))')
echo "galaxy-importer $version on $(basename "$tarball") (config: $config)"

status=0
(
    cd "$work"
    env -u ANSIBLE_COLLECTIONS_PATH GALAXY_IMPORTER_CONFIG="$config" GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$work/tmp" \
        ANSIBLE_NOCOLOR=1 NO_COLOR=1 python -m galaxy_importer.main "$tarball"
) >"$work/output.log" 2>&1 || status=$?
cat "$work/output.log"

problems=$(grep -E '^(WARNING|ERROR|CRITICAL)' "$work/output.log" || true)
if [ "$status" -ne 0 ]; then
    echo "ERROR: galaxy-importer exited with $status" >&2
    exit 1
fi
if [ -n "$problems" ]; then
    echo "ERROR: galaxy-importer reported $(printf '%s\n' "$problems" | wc -l) warning/error line(s):" >&2
    printf '%s\n' "$problems" >&2
    exit 1
fi
if ! grep -q "Importer processing completed successfully" "$work/output.log"; then
    echo "ERROR: galaxy-importer did not report success" >&2
    exit 1
fi
echo "galaxy-importer: clean (no warnings, no errors)"
