# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make package: the release artifact, built, inspected, installed and run.

usage: package_check.py --root CHECKOUT --dist DIR --install DIR

1. ``ansible-galaxy collection build`` of the checkout into DIST (the same command a
   release uses; galaxy.yml's ``build_ignore`` decides what goes in).
2. Lists the tarball and fails when it holds anything that must stay local: test
   output, venvs, caches, build output, byte code, other tarballs, VCS data.
3. Installs the tarball into INSTALL, emptied first (``INSTALL/ansible_collections``
   is then the collections path that galaxy-importer, antsibull-docs and
   ansible-builder look at), with nothing else on the collections path.
4. Starts the bundled IMS emulator, has it issue AEM service credentials, and runs
   from the installed collection: the playbook ``aemops.ims.demo`` (as ``make demo``
   does) and tests/utils/playbooks/action_group.yml, which sets every option through
   ``module_defaults: group/aemops.ims.aem_ims`` (meta/runtime.yml ``action_groups``).

Run with the Python of a venv that has ansible-core and meta/ee-requirements.txt.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)

# Tarball members that must never ship (matched against each path component, then the whole path).
FORBIDDEN_COMPONENTS = (
    ".git",
    ".venv*",
    ".tox",
    ".nox",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".cache",
    ".coverage",
    ".coverage.*",
    "htmlcov",
    "*.pyc",
    "*.pyo",
    "*.tar.gz",
    ".ims-emulator",
    ".ims_emulator_state",
    "*.pid",
)
FORBIDDEN_PATHS = (
    "build",
    "build/*",
    "dist",
    "dist/*",
    "tests/output",
    "tests/output/*",
    "tests/ims_emulator/state*",
    "tests/ims_emulator/.state*",
    "coverage.xml",
    "changelogs/.plugin-cache.yaml",
)
# What the artifact must contain.
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "changelogs/changelog.yaml",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "plugins/modules/aem_ims_token.py",
    "plugins/action/aem_ims_token.py",
    "plugins/lookup/aem_ims_token.py",
    "playbooks/demo.yml",
)


def step(message: str) -> None:
    print("\n-> " + message, flush=True)


def run(command: list[str], **kwargs) -> None:
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def forbidden(name: str) -> bool:
    parts = name.split("/")
    if any(fnmatch.fnmatchcase(part, pattern) for part in parts for pattern in FORBIDDEN_COMPONENTS):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in FORBIDDEN_PATHS)


def check_tarball(tarball: str) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        members = archive.getmembers()
    names = sorted(m.name[2:] if m.name.startswith("./") else m.name for m in members)
    files = [m for m in members if m.isfile()]
    tops: dict[str, int] = {}
    for member in files:
        top = member.name.split("/")[0]
        tops[top] = tops.get(top, 0) + 1
    size = os.path.getsize(tarball)
    print("%s: %d files, %d bytes compressed" % (os.path.basename(tarball), len(files), size))
    print("  " + ", ".join("%s (%d)" % (top, count) for top, count in sorted(tops.items())))
    bad = [name for name in names if forbidden(name)]
    missing = [name for name in REQUIRED if name not in names]
    if bad:
        print("ERROR: the tarball holds files that build_ignore (galaxy.yml) must keep out:", file=sys.stderr)
        for name in bad[:50]:
            print("  " + name, file=sys.stderr)
    if missing:
        print("ERROR: the tarball lacks: %s" % ", ".join(missing), file=sys.stderr)
    if bad or missing:
        sys.exit(1)
    print("tarball contents ok: nothing from build_ignore, all of %d required files" % len(REQUIRED))


def load_emulator_client(root: str):
    path = os.path.join(root, "tests", "ims_emulator", "client.py")
    spec = importlib.util.spec_from_file_location("aemops_ims_emulator_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--root", required=True, help="the collection checkout")
    parser.add_argument("--dist", required=True, help="where the tarball is built")
    parser.add_argument("--install", required=True, help="collections path to install into (emptied first)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    dist = os.path.abspath(args.dist)
    install = os.path.abspath(args.install)
    galaxy = os.path.join(BIN, "ansible-galaxy")

    step("Build the collection tarball")
    os.makedirs(dist, exist_ok=True)
    for old in glob.glob(os.path.join(dist, "*.tar.gz")):
        os.unlink(old)
    run([galaxy, "collection", "build", root, "--output-path", dist, "--force"])
    tarballs = glob.glob(os.path.join(dist, "*.tar.gz"))
    if len(tarballs) != 1:
        sys.exit("package: expected one tarball in %s, found %s" % (dist, tarballs))
    tarball = tarballs[0]

    step("List the tarball")
    check_tarball(tarball)

    step("Install the tarball into an empty collections path")
    shutil.rmtree(install, ignore_errors=True)
    os.makedirs(install)
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AEM_IMS_", "ANSIBLE_"))}
    environment.update(ANSIBLE_COLLECTIONS_PATH=install, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    run([galaxy, "collection", "install", tarball, "-p", install, "--force"], env=environment)
    run([galaxy, "collection", "list", "-p", install], env=environment)

    emulator_client = load_emulator_client(root)
    workspace = tempfile.mkdtemp(prefix="aemops-ims-package-")
    process = None
    try:
        step("Start the local IMS emulator and have it issue AEM service credentials")
        process, emulator = emulator_client.start_emulator(os.path.join(workspace, "emulator"), python=sys.executable)
        integration = emulator.create_integration()
        credentials = emulator_client.write_credentials(os.path.join(workspace, "service-credentials.json"), integration)
        inventory = os.path.join(workspace, "inventory.ini")
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        extra = [
            "-e",
            "aem_service_credentials_file=%s" % credentials,
            "-e",
            "aem_url=%s" % emulator.origin,
            "-e",
            "aem_ca_path=%s" % emulator.ca_path,
            "-e",
            "aem_client_id=%s" % integration["client_id"],
        ]
        playbook = os.path.join(BIN, "ansible-playbook")
        # The local connection's "remote" temp directory defaults to ~<user>/.ansible/tmp from the
        # password database, not $HOME: keep it in the workspace with everything else.
        environment["ANSIBLE_REMOTE_TMP"] = os.path.join(workspace, "remote-tmp")

        step("Run the playbook aemops.ims.demo from the installed collection")
        run([playbook, "-i", inventory, "aemops.ims.demo", *extra], env=environment, cwd=workspace)

        step("Run the action group check (module_defaults: group/aemops.ims.aem_ims)")
        run([playbook, "-i", inventory, os.path.join(HERE, "playbooks", "action_group.yml"), *extra], env=environment, cwd=workspace)

        stats = emulator.stats()
        if stats["tokens_issued"] < 2:
            sys.exit("package: expected at least 2 tokens issued (one per playbook run), the emulator issued %d" % stats["tokens_issued"])
        print("\npackage: ok, the emulator issued %d token(s) for %d request(s)" % (stats["tokens_issued"], stats["token_requests"]))
    finally:
        if process is not None:
            emulator_client.stop_emulator(process)
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:
        sys.exit("package: a step failed (exit code %d)" % error.returncode)
