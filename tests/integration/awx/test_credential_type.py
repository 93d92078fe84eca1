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
"""


def credential_type():
    with open(CREDENTIAL_TYPE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["aem_ims_credential_type"]


class _TowerNamespace:  # pylint: disable=too-few-public-methods
    filename = None


def render_injectors(definition, inputs, private_dir):
    """What AWX does in CredentialType.inject_credential: every field in the namespace (unset ones
    empty), file injectors first, each written even when empty, then env, in a sandbox."""
    sandbox = ImmutableSandboxedEnvironment()
    tower = _TowerNamespace()
    namespace = dict({field["id"]: "" for field in definition["inputs"]["fields"]}, **inputs, tower=tower)
    labels = list(definition["injectors"].get("file", {}))
    assert labels == ["template"] or all(label.startswith("template.") for label in labels), "AWX: one unnamed or several named file injectors"
    for label, template in definition["injectors"].get("file", {}).items():
        path = os.path.join(private_dir, "credential-file-" + label)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if label == "template":
            tower.filename = path
        else:
            tower.filename = tower.filename or _TowerNamespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    return {name: sandbox.from_string(template).render(**namespace) for name, template in definition["injectors"]["env"].items()}


def test_credential_type_follows_aap_rules():
    definition = credential_type()
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    for name in definition["injectors"]["env"]:
        assert not name.startswith("ANSIBLE_"), "AAP refuses ANSIBLE_* names in custom credential types"
        assert name.startswith("AEM_IMS_")
    for secret in ("service_credentials", "client_secret", "private_key", "private_key_passphrase", "proxy_url"):
        assert fields[secret]["secret"] is True
    for multiline in ("service_credentials", "private_key", "ca_path"):
        assert fields[multiline]["multiline"] is True
    assert "tower.filename.service_credentials" in definition["injectors"]["env"]["AEM_IMS_SERVICE_CREDENTIALS_FILE"]
    assert "tower.filename.ca_path" in definition["injectors"]["env"]["AEM_IMS_CA_PATH"]


@pytest.mark.parametrize("style", ["service_credentials_json", "single_fields"])
def test_injected_credential_gives_a_token_to_module_and_lookup(
    style, ansible, make_credentials, emulator, issued_for, connect_proxy, tmp_path, save, check_jwts
):
    created = make_credentials()
    integration = created.integration
    proxy, proxy_user, proxy_password = connect_proxy
    # The emulator's CA as the CA bundle field (a private IMS or a TLS-inspecting proxy); real IMS needs none.
    with open(emulator.ca_path, encoding="utf-8") as handle:
        ca_bundle = handle.read()
    if style == "service_credentials_json":
        inputs = {"service_credentials": json.dumps(integration["formats"]["aem_service_credentials"], indent=2), "ca_path": ca_bundle}
        inputs["proxy_url"] = "http://%s:%s@127.0.0.1:%d" % (proxy_user, proxy_password, proxy.port)
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
    if style == "single_fields":
        # Fields left empty inject nothing: the CA comes from the environment of the EE instead.
        assert (environment["AEM_IMS_CA_PATH"], environment["AEM_IMS_PROXY_URL"]) == ("", "")
        environment["AEM_IMS_CA_PATH"] = emulator.ca_path

    run = ansible.run(PLAYBOOK + save("{'module': token, 'lookup': looked_up}"), env=environment)
    run.assert_ok()
    result = run.result_file()
    assert result["module"]["client_id"] == integration["client_id"]
    assert result["module"]["credentials_format"] == ("aem_service_credentials" if style == "service_credentials_json" else "options")
    assert result["lookup"] == result["module"]["access_token"], "module and lookup share the run's cached token"
    assert issued_for(integration["client_id"]) == 1
    check_jwts(created, count=1)
    assert proxy.tunnels == (1 if style == "service_credentials_json" else 0), "the injected proxy_url carried the request"
    run.assert_no_secrets(result["module"]["access_token"], *created.secrets, proxy_password)
