# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The playbooks aemops.ims.cloud_manager_variables and aemops.ims.forms_generate_pdf, run from the
collection end to end against the emulator's Cloud Manager and Forms stubs, at -vvvv.

Each ansible-playbook run is costly, so each test runs a playbook only as often as what it
proves needs: set, then the same again (idempotence), then a change in check mode.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import urllib.request

MSG_ORG_REQUIRED = "Missing required header: x-gw-ims-org-id (the IMS organization ID, ...@AdobeOrg)"
PROGRAM, ENVIRONMENT = "100001", "200001"

CLOUD_MANAGER = """
- name: The Cloud Manager playbook of the collection
  ansible.builtin.import_playbook: aemops.ims.cloud_manager_variables
"""
FORMS = """
- name: The Forms playbook of the collection
  ansible.builtin.import_playbook: aemops.ims.forms_generate_pdf
"""
TEMPLATE = '<?xml version="1.0" encoding="UTF-8"?>\n<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template/></xdp:xdp>\n'
DATA = "<form1><name>Ada Lovelace</name><amount>42</amount></form1>\n"


def recap(run):
    """{counter: value} of the PLAY RECAP line of the one host."""
    line = re.search(r"^host001\s+:\s+(.*)$", run.stdout, re.MULTILINE)
    assert line, run.tail()
    return {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", line.group(1))}


def stub_view(emulator):
    """The stubs' admin view: calls made, and the variables (secret ones as a SHA-256)."""
    context = ssl.create_default_context(cafile=emulator.ca_path)
    with urllib.request.urlopen(emulator.url("/_emulator/adobe-apis"), timeout=30, context=context) as response:
        return json.loads(response.read())


def environment_variables(emulator, org):
    return stub_view(emulator)["variables"].get("%s/%s/%s" % (org, PROGRAM, ENVIRONMENT), [])


def cloud_manager_vars(emulator, credentials_file):
    return {
        "target_hosts": "all",
        "cloud_manager_url": emulator.origin,
        "cm_ca_path": emulator.ca_path,
        "cm_credentials_file": str(credentials_file),
        "cm_program_id": PROGRAM,
        "cm_environment_id": ENVIRONMENT,
    }


def ims_of(emulator):
    """OAuth Server-to-Server JSON names no IMS host: the emulator's comes from the environment, as AWX injects it."""
    return {"AEM_IMS_ENDPOINT": emulator.endpoint}


def test_cloud_manager_variables_set_once_then_unchanged(emulator, make_credentials, ansible):
    created = make_credentials(kind="oauth")
    credentials_file = created.write("oauth_s2s_flat")
    org = created.integration["org_id"]
    secret_value = "cm-secret-%s" % hashlib.sha256(created.client_id.encode()).hexdigest()[:20]
    variables = [
        {"name": "LOG_LEVEL", "value": "INFO"},
        {"name": "LOG_LEVEL", "value": "WARN", "service": "publish"},
        {"name": "PAYMENT_API_KEY", "value": secret_value, "type": "secretString"},
    ]
    extra = cloud_manager_vars(emulator, credentials_file)
    secrets = [*created.secrets, secret_value]

    first = ansible.run(CLOUD_MANAGER, extra_vars=extra, secret_vars={"cm_variables": variables}, env=ims_of(emulator))
    first.assert_ok()
    first.assert_no_secrets(*secrets)
    assert recap(first)["changed"] == 1
    # Programs and environments are listed, ids and names only.
    assert "100001 aemops.ims test program: 200001 aemops-dev (dev), 200002 aemops-stage (stage), 200003 aemops-prod (prod)" in first.stdout
    assert environment_variables(emulator, org) == [
        {"name": "LOG_LEVEL", "type": "string", "value": "INFO"},
        {"name": "LOG_LEVEL", "type": "string", "value": "WARN", "service": "publish"},
        {"name": "PAYMENT_API_KEY", "type": "secretString", "value_sha256": hashlib.sha256(secret_value.encode()).hexdigest()},
    ]
    patches = stub_view(emulator)["calls"]["PATCH variables"]

    second = ansible.run(CLOUD_MANAGER, extra_vars=extra, secret_vars={"cm_variables": variables}, env=ims_of(emulator))
    second.assert_ok()
    second.assert_no_secrets(*secrets)
    assert recap(second)["changed"] == 0, second.tail()
    assert "already hold these values" in second.stdout
    assert stub_view(emulator)["calls"]["PATCH variables"] == patches

    # Check mode reads and compares, says what would change, and sends nothing.
    changed = [dict(variables[0], value="DEBUG"), *variables[1:]]
    checked = ansible.run(CLOUD_MANAGER, extra_vars=extra, secret_vars={"cm_variables": changed}, env=ims_of(emulator), check=True)
    checked.assert_ok()
    checked.assert_no_secrets(*secrets)
    assert recap(checked)["changed"] == 1
    assert "LOG_LEVEL on all services" in checked.stdout and "PAYMENT_API_KEY" not in checked.stdout.split("Say which variables differ", 1)[1]
    assert stub_view(emulator)["calls"]["PATCH variables"] == patches
    assert environment_variables(emulator, org)[0]["value"] == "INFO"


def test_cloud_manager_without_the_org_header_fails_with_the_apis_message(emulator, make_credentials, ansible, expect_failure):
    # OAuth Server-to-Server credentials that do not name the organization: the token works,
    # but its headers cannot carry x-gw-ims-org-id, and Cloud Manager refuses the first call.
    created = make_credentials(kind="oauth")
    credentials_file = created.write("oauth_s2s_flat", transform=lambda document: document.pop("ORG_ID") and None)
    run = ansible.run(CLOUD_MANAGER, extra_vars=cloud_manager_vars(emulator, credentials_file), env=ims_of(emulator))
    run.assert_failed()
    run.assert_no_secrets(*created.secrets)
    expect_failure(run, "Cloud Manager refused to list the programs: HTTP 400: " + MSG_ORG_REQUIRED)
    assert "Set the environment variables" not in run.stdout


def test_forms_generate_pdf_writes_the_pdf_once(emulator, credentials, ansible):
    template = ansible.workspace / "letter.xdp"
    template.write_text(TEMPLATE, encoding="utf-8")
    data = ansible.workspace / "letter.xml"
    data.write_text(DATA, encoding="utf-8")
    pdf = ansible.workspace / "out" / "letter.pdf"
    pdf.parent.mkdir()
    extra = {
        "target_hosts": "all",
        "aem_url": emulator.origin,
        "forms_ca_path": emulator.ca_path,
        "forms_credentials_file": str(credentials.files["aem_service_credentials"]),
        "forms_template_file": str(template),
        "forms_data_file": str(data),
        "forms_options": {"embedFonts": True},
        "forms_pdf_path": str(pdf),
    }

    first = ansible.run(FORMS, extra_vars=extra)
    first.assert_ok()
    first.assert_no_secrets(*credentials.secrets)
    assert recap(first)["changed"] == 1
    rendered = pdf.read_bytes()
    assert rendered.startswith(b"%PDF-") and rendered.rstrip().endswith(b"%%EOF")
    assert b"letter.xdp merged with %d bytes of data" % len(DATA) in rendered

    second = ansible.run(FORMS, extra_vars=extra)
    second.assert_ok()
    second.assert_no_secrets(*credentials.secrets)
    assert recap(second)["changed"] == 0, second.tail()
    assert pdf.read_bytes() == rendered
    assert stub_view(emulator)["calls"]["POST generatePDFOutput"] >= 2
