# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""make demo: the main job end to end, with no Adobe account.

Builds the collection tarball and installs it into a private collections path (so the
demo runs what users install, not the checkout), starts the bundled IMS emulator,
has it issue AEM service credentials, and runs the installed playbook
aemops.ims.demo against it. Everything lives in a temporary directory that is
removed at the end.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)


def _load_emulator_client():
    spec = importlib.util.spec_from_file_location("aemops_ims_emulator_client", os.path.join(ROOT, "tests", "ims_emulator", "client.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def step(message):
    print("\n== " + message, flush=True)


def run(command, **kwargs):
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def main():
    emulator_client = _load_emulator_client()
    workspace = tempfile.mkdtemp(prefix="aemops-ims-demo-")
    process = None
    try:
        step("Build the collection and install the tarball into a private collections path")
        run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", workspace, "--force"], stdout=subprocess.DEVNULL)
        tarball = glob.glob(os.path.join(workspace, "aemops-ims-*.tar.gz"))[0]
        collections = os.path.join(workspace, "collections")
        environment = {name: value for name, value in os.environ.items() if not name.startswith(("AEM_IMS_", "ANSIBLE_"))}
        environment.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1")
        run(
            [os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarball, "-p", collections, "--force"],
            stdout=subprocess.DEVNULL,
            env=environment,
        )

        step("Start the local IMS emulator (HTTPS, with its own CA)")
        process, emulator = emulator_client.start_emulator(os.path.join(workspace, "emulator"), python=sys.executable)
        print("IMS emulator at %s" % emulator.origin)

        step("Create a technical account and download its service credentials, as the AEM Developer Console does")
        integration = emulator.create_integration()
        credentials = emulator_client.write_credentials(os.path.join(workspace, "service-credentials.json"), integration)
        print("Service credentials for %s written to %s (mode 0600)" % (integration["client_id"], credentials))

        step("Run the playbook aemops.ims.demo from the installed collection")
        inventory = os.path.join(workspace, "inventory.ini")
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        run(
            [
                os.path.join(BIN, "ansible-playbook"),
                "-i",
                inventory,
                "aemops.ims.demo",
                "-e",
                "aem_service_credentials_file=%s" % credentials,
                "-e",
                "aem_url=%s" % emulator.origin,
                "-e",
                "aem_ca_path=%s" % emulator.ca_path,
            ],
            env=environment,
            cwd=workspace,
        )
        stats = emulator.stats()
        step("Done: the emulator issued %d token(s) for %d request(s)" % (stats["tokens_issued"], stats["token_requests"]))
    finally:
        if process is not None:
            emulator_client.stop_emulator(process)
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:
        sys.exit("demo: a step failed (exit code %d)" % error.returncode)
