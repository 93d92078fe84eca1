#!/usr/bin/env bash
# make ee: the collection's execution-environment dependencies resolve.
#
# usage: check_ee.sh COLLECTIONS_PATH PACKAGE...
#
# Runs `ansible-builder introspect --sanitize COLLECTIONS_PATH` (the path holding
# ansible_collections/ with the installed tarball; ansible-builder on PATH) -- what
# ansible-builder does when it builds an EE that includes aemops.ims -- and fails
# unless the Python requirements it finds name every PACKAGE, from aemops.ims
# (meta/execution-environment.yml -> meta/ee-requirements.txt).
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 COLLECTIONS_PATH PACKAGE..." >&2
    exit 2
fi
path=$1
shift
[ -d "$path/ansible_collections/aemops/ims" ] || { echo "ERROR: no aemops.ims in $path; run make package first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "ansible-builder $(ansible-builder --version): introspect --sanitize $path"
ansible-builder introspect --sanitize --write-pip "$tmp/requirements.txt" --write-bindep "$tmp/bindep.txt" "$path" | tee "$tmp/out.txt"

missing=()
for package in "$@"; do
    # a requirement line starts with the name (any case, - or _), then a specifier, a comment or the end
    name=$(echo "$package" | tr 'A-Z_' 'a-z-')
    if ! tr 'A-Z_' 'a-z-' <"$tmp/requirements.txt" | grep -Eq "^${name}([^a-z0-9.-]|$).*# from collection aemops\.ims"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ERROR: ansible-builder did not resolve these Python requirements of aemops.ims: ${missing[*]}" >&2
    echo "pip requirements it wrote:" >&2
    cat "$tmp/requirements.txt" >&2
    exit 1
fi
echo "ee: ansible-builder resolves $* from aemops.ims"
