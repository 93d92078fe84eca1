# -*- coding: utf-8 -*-
# Copyright: aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the ``get-pip.py`` script that ansible-test downloads.

``ansible-test sanity --venv`` (and ``--local``) bootstraps pip into every
virtual environment it creates by running ``get-pip-<version>.py``, downloaded
from ci-files.testing.ansible.com, which this project's machines cannot reach.
ansible-test first looks for a cached copy in
``~/.ansible/test/cache/get_pip_<version with underscores>.py``; the Makefile
copies this file there (see tests/utils/seed_get_pip.py).

ansible-test runs the cached script as ``__main__`` inside a fresh venv made with
``--without-pip``, with arguments such as::

    --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel

This stand-in runs the pip wheel bundled with the interpreter (ensurepip's) straight
from the wheel, to install the requested packages from the configured package index
(PyPI): what get-pip.py does with its embedded pip. Running it from the wheel installs
pip once; installing it with ensurepip first and then the requested version installed
pip twice (and setuptools, to remove again), which cost each sanity venv twice the
CPU time (13.5 s against 6.2 s measured), ten venvs per sanity gate.
"""

from __future__ import annotations

import ensurepip
import glob
import os
import subprocess
import sys

# Marker used by seed_get_pip.py to recognise (and refresh) files it wrote.
STANDIN_MARKER = "aemops-ims-get-pip-standin"

# get-pip.py options without a pip install equivalent.
_DROP_OPTIONS = frozenset(("--no-setuptools", "--no-wheel"))


def _run(cmd: list[str]) -> None:
    env = os.environ.copy()
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    result = subprocess.call(cmd, env=env)
    if result != 0:
        sys.stderr.write("get-pip stand-in: command failed (%d): %s\n" % (result, " ".join(cmd)))
        sys.exit(result)


def _has_module(name: str) -> bool:
    cmd = [sys.executable, "-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(%r) else 1)" % name]
    return subprocess.call(cmd) == 0


def _bundled_pip_wheel() -> str | None:
    """The pip wheel ensurepip ships, if this interpreter has one (some distributions move it)."""
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    return wheels[-1] if wheels else None


def main(argv: list[str]) -> None:
    args = [arg for arg in argv if arg not in _DROP_OPTIONS]
    no_setuptools = "--no-setuptools" in argv
    packages = [arg for arg in args if not arg.startswith("-")]

    wheel = _bundled_pip_wheel()
    if wheel:
        # pip runs from its own wheel (a zip on sys.path): nothing else gets installed.
        _run([sys.executable, os.path.join(wheel, "pip"), "install", "--disable-pip-version-check"] + args + ([] if packages else ["pip"]))
        return

    had_setuptools = _has_module("setuptools")

    _run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])

    if packages:
        _run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)

    # get-pip.py honours --no-setuptools by not installing setuptools; ensurepip
    # on Python < 3.12 installs it anyway, so remove it again unless it was
    # there before or explicitly requested.
    wants_setuptools = any(p.lower().startswith("setuptools") for p in packages)
    if no_setuptools and not had_setuptools and not wants_setuptools and _has_module("setuptools"):
        _run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "--disable-pip-version-check", "setuptools"])


if __name__ == "__main__":
    main(sys.argv[1:])
