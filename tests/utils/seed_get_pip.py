# -*- coding: utf-8 -*-
# Copyright: aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed ansible-test's get-pip cache with the offline stand-in.

Run this with the Python of the venv whose ansible-test will be used. It reads
the pip version(s) that this ansible-test release bootstraps into its venvs
(``get_venv_packages()`` in ``ansible_test/_internal/python_requirements.py``)
and writes ``~/.ansible/test/cache/get_pip_<version>.py`` for each one, using
tests/utils/get_pip_standin.py. A genuine get-pip.py already in the cache is
left alone; a stand-in from an earlier run is refreshed when it changed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "get_pip_standin.py")
MARKER = "aemops-ims-get-pip-standin"
CACHE_DIR = os.path.expanduser("~/.ansible/test/cache")


def pip_versions() -> list[str]:
    """Return the pip versions the installed ansible-test bootstraps."""
    spec = importlib.util.find_spec("ansible_test")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("seed_get_pip: ansible_test is not installed for %s" % sys.executable)
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, "_internal", "python_requirements.py")
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    match = re.search(r"def get_venv_packages\(.*?\n(?=def )", source, re.S)
    body = match.group(0) if match else source
    versions = sorted(set(re.findall(r"""pip\s*=\s*['"]([0-9][0-9.]*)['"]""", body)))
    if not versions:
        sys.exit("seed_get_pip: could not find the bootstrap pip version in %s" % path)
    return versions


def main() -> None:
    with open(STANDIN, encoding="utf-8") as handle:
        standin = handle.read()
    if MARKER not in standin:
        sys.exit("seed_get_pip: %s lacks the marker %r" % (STANDIN, MARKER))
    os.makedirs(CACHE_DIR, exist_ok=True)
    for version in pip_versions():
        target = os.path.join(CACHE_DIR, "get_pip_%s.py" % version.replace(".", "_"))
        if os.path.exists(target):
            with open(target, encoding="utf-8", errors="replace") as handle:
                current = handle.read()
            if MARKER not in current:
                print("get-pip %s: keeping genuine %s" % (version, target))
                continue
            if current == standin:
                print("get-pip %s: stand-in present at %s" % (version, target))
                continue
        tmp = target + ".tmp%d" % os.getpid()
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(standin)
        os.replace(tmp, target)
        print("get-pip %s: stand-in written to %s" % (version, target))


if __name__ == "__main__":
    main()
