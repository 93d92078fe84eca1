# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX / AAP credential type shipped in playbooks/vars: its injectors, rendered the way AWX
renders them, give the module and the lookup everything they need to get a token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

CREDENTIAL_TYPE = Path(__file__).resolve().parents[3] / "playbooks" / "vars" / "aem_ims_credential_type.yml"

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: The module, with no option at all
      aemops.ims.aem_ims_token:
      register: token
    - name: The lookup, with no option at all
      ansible.builtin.set_fact:
        looked_up: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true
    - name: Keep both for the test (hidden)
      ansible.builtin.copy:
        content: "{{ {'module': token, 'lookup': looked_up} | to_json }}"
        dest: "{{ workspace }}/result.json"
        mode: "0600"
      no_log: true
"""


def credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["aem_ims_credential_type"]


class _TowerNamespace:  # pylint: disable=too-few-public-methods
    filename = None


def render_injectors(definition, inputs, private_dir):
    """What AWX does in CredentialType.inject_credential: file injectors first, then env, in a sandbox."""
    sandbox = ImmutableSandboxedEnvironment()
    tower = _TowerNamespace()
    namespace = dict(inputs, tower=tower)
    for label, template in definition["injectors"].get("file", {}).items():
        assert "." not in label, "this credential type uses the single unnamed file injector"
        path = os.path.join(private_dir, "credential-file")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        tower.filename = path
    return {name: sandbox.from_string(template).render(**namespace) for name, template in definition["injectors"]["env"].items()}


def test_credential_type_follows_aap_rules():
    definition = credential_type()
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    for name in definition["injectors"]["env"]:
        assert not name.startswith("ANSIBLE_"), "AAP refuses ANSIBLE_* names in custom credential types"
        assert name.startswith("AEM_IMS_")
    for secret in ("service_credentials", "client_secret", "private_key", "private_key_passphrase"):
        assert fields[secret]["secret"] is True
    assert fields["service_credentials"]["multiline"] is True
    assert fields["private_key"]["multiline"] is True
    assert "tower.filename" in definition["injectors"]["env"]["AEM_IMS_SERVICE_CREDENTIALS_FILE"]


@pytest.mark.parametrize("style", ["service_credentials_json", "single_fields"])
def test_injected_credential_gives_a_token_to_module_and_lookup(style, ansible, make_credentials, emulator, issued_for, tmp_path):
    created = make_credentials()
    integration = created.integration
    if style == "service_credentials_json":
        inputs = {"service_credentials": json.dumps(integration["formats"]["aem_service_credentials"], indent=2)}
    else:
        inputs = {
            "client_id": integration["client_id"],
            "client_secret": integration["client_secrets"][0],
            "org_id": integration["org_id"],
            "technical_account_id": integration["technical_account_id"],
            "private_key": integration["private_key_pem"],
            "metascopes": ",".join(integration["metascopes"]),
            "ims_endpoint": emulator.endpoint,
        }
    private_dir = tmp_path / "awx-private-data"
    private_dir.mkdir(mode=0o700)
    environment = render_injectors(credential_type(), inputs, str(private_dir))
    # What the execution environment would trust for a private IMS; real IMS needs nothing.
    environment["AEM_IMS_CA_PATH"] = emulator.ca_path

    run = ansible.run(PLAYBOOK, env=environment)
    run.assert_ok()
    result = run.result_file()
    assert result["module"]["client_id"] == integration["client_id"]
    assert result["module"]["credentials_format"] == ("aem_service_credentials" if style == "service_credentials_json" else "options")
    assert result["lookup"] == result["module"]["access_token"], "module and lookup share the run's cached token"
    assert issued_for(integration["client_id"]) == 1
    run.assert_no_secrets(result["module"]["access_token"], *created.secrets)
