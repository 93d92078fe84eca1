#!/usr/bin/env bash
# The changelog gate (make changelog) and the release step (make changelog-release).
#
# usage: check_changelog.sh            lint, and check that CHANGELOG.md is up to date
#        check_changelog.sh --release  release galaxy.yml's version from the fragments
#
# Flow (changelogs/config.yaml has keep_fragments: true): every change adds a fragment
# to changelogs/fragments/; releasing a version (make changelog-release, after bumping
# galaxy.yml's version) records the unreleased fragments under that version in
# changelogs/changelog.yaml and regenerates CHANGELOG.md; both are committed. Fragments
# stay in place, and antsibull-changelog never adds a fragment to two releases.
#
# The gate runs `antsibull-changelog lint` (fragments) and `lint-changelog-yaml`, then
# regenerates CHANGELOG.md from changelogs/changelog.yaml in a temporary copy and
# fails when it differs from the committed one. Needs antsibull-changelog on PATH
# (the tools venv); ROOT is the checkout (default: two levels up from here).
set -euo pipefail

root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"

if [ "${1:-}" = "--release" ]; then
    version=$(sed -n 's/^version: *//p' galaxy.yml)
    echo "changelog: releasing $version"
    antsibull-changelog release --version "$version"
    # the plugin list antsibull-changelog caches for itself; not part of the collection
    rm -f changelogs/.plugin-cache.yaml
    echo "changelog: updated changelogs/changelog.yaml and CHANGELOG.md; review and commit them"
    exit 0
fi

echo "changelog: antsibull-changelog $(antsibull-changelog --version 2>&1 | awk '{print $NF}')"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

if [ ! -f CHANGELOG.md ]; then
    echo "ERROR: CHANGELOG.md is missing; run make changelog-release" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R changelogs galaxy.yml CHANGELOG.md "$tmp/"
(cd "$tmp" && antsibull-changelog generate)
if ! diff -u CHANGELOG.md "$tmp/CHANGELOG.md"; then
    echo "ERROR: CHANGELOG.md is not what changelogs/changelog.yaml generates (diff above);" \
        "run antsibull-changelog generate (or make changelog-release for a new version)" >&2
    exit 1
fi
unreleased=$(cd "$tmp" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml >/dev/null 2>&1; \
    python3 - <<'PY'
import os, yaml
data = yaml.safe_load(open("changelogs/changelog.yaml")) or {}
known = {f for release in (data.get("releases") or {}).values() for f in (release.get("fragments") or [])}
print(" ".join(sorted(f for f in os.listdir("changelogs/fragments") if f.endswith((".yml", ".yaml")) and f not in known)))
PY
)
echo "changelog: fragments lint clean, CHANGELOG.md up to date${unreleased:+; not yet released: $unreleased}"
