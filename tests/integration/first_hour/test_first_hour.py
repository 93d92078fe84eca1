# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 21: a new user's first hour, in one ansible-playbook run.

The Quick start's advice, followed literally: the credentials file and the private key are
encrypted with ansible-vault (at test time, with a password file) and named by relative paths
next to the playbook (its files/ directory, or beside it), for the module and the lookup. The
same run makes the common mistakes (a file encrypted with another vault password, a relative
path that is nowhere) and meets a silent IMS, and is read at -vvvv: the -v summary line of
each token, each retry announced, nothing secret anywhere, and no decrypted file on disk while
the play runs (checked by a task of the play itself) or after it.

Faults are a global FIFO in the emulator consumed one per token request: the play queues
exactly what its tasks consume, in order (one host).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

PLAY = """
- hosts: all
  gather_facts: false
  vars:
    emulator: &emulator
      ims_endpoint: "{{ ims_endpoint }}"
      ca_path: "{{ ca_path }}"
  tasks:
    - name: A vault-encrypted AEM service credentials file, relative (files/), through the module
      aemops.ims.aem_ims_token:
        service_credentials_file: aem.json
        ca_path: "{{ ca_path }}"
      register: aem_module

    - name: A project JSON and its private.key, both vault-encrypted and relative (files/ and beside the playbook)
      aemops.ims.aem_ims_token:
        service_credentials_file: project.json
        private_key_file: private.key
        cache: "off"
        <<: *emulator
      register: console_module

    - name: The same AEM file as the lookup's term
      ansible.builtin.set_fact:
        aem_lookup: "{{ lookup('aemops.ims.aem_ims_token', 'aem.json', ca_path=ca_path) }}"
      no_log: true

    - name: The project JSON and key through the lookup's options, from variables
      ansible.builtin.set_fact:
        console_lookup: "{{ lookup('aemops.ims.aem_ims_token', cache='off', ims_endpoint=ims_endpoint, ca_path=ca_path) }}"
      vars:
        aem_ims_service_credentials_file: project.json
        aem_ims_private_key_file: private.key
      no_log: true

    - name: No decrypted file anywhere under the workspace or the run's temporary directory while the play runs
      ansible.builtin.command:
        argv: [grep, -rlF, -f, "{{ patterns }}", "{{ workspace }}"]
      register: plaintext_files
      changed_when: false
      failed_when: plaintext_files.rc not in [0, 1]

    - name: Queue one silent answer in the emulator, for the next task's first attempt
      ansible.builtin.uri:
        url: "{{ emulator_origin }}/_emulator/faults"
        method: POST
        body_format: json
        body: {"faults": [{"hang": true}]}
        ca_path: "{{ ca_path }}"

    - name: A silent IMS once - the retry is announced at -v, and the second attempt gets the token
      aemops.ims.aem_ims_token:
        service_credentials_file: project.json
        private_key_file: private.key
        cache: "off"
        timeout: 2
        retries: 1
        <<: *emulator
      register: silent_once

    - name: Queue two silent answers in the emulator, for both attempts of the next task
      ansible.builtin.uri:
        url: "{{ emulator_origin }}/_emulator/faults"
        method: POST
        body_format: json
        body: {"faults": [{"hang": true}, {"hang": true}]}
        ca_path: "{{ ca_path }}"

    - name: A silent IMS twice - the failure says how long it tried
      aemops.ims.aem_ims_token:
        service_credentials_file: project.json
        private_key_file: private.key
        cache: "off"
        timeout: 2
        retries: 1
        <<: *emulator
      register: silent_twice
      ignore_errors: true

    - name: A file encrypted with another vault password
      aemops.ims.aem_ims_token:
        service_credentials_file: other-vault.json
        <<: *emulator
      register: wrong_vault
      ignore_errors: true

    - name: An org_id of the right form but of another organization, set over the credentials
      aemops.ims.aem_ims_token:
        service_credentials_file: aem.json
        org_id: 0123456789ABCDEF01234567@AdobeOrg
        cache: "off"
        retries: 0
        ca_path: "{{ ca_path }}"
      register: other_org
      ignore_errors: true

    - name: A relative path that is nowhere, through the module
      aemops.ims.aem_ims_token:
        service_credentials_file: nowhere.json
      register: nowhere_module
      ignore_errors: true

    - name: A relative path that is nowhere, from a variable of the lookup
      ansible.builtin.set_fact:
        nowhere_lookup: "{{ lookup('aemops.ims.aem_ims_token') }}"
      vars:
        aem_ims_service_credentials_file: nowhere.json
      register: nowhere_lookup_result
      ignore_errors: true

    - name: Keep the results for the test (hidden)
      ansible.builtin.copy:
        content: "{{ {'aem_module': aem_module, 'console_module': console_module, 'aem_lookup': aem_lookup,
                      'console_lookup': console_lookup, 'plaintext_files': plaintext_files.stdout_lines,
                      'silent_once': silent_once, 'silent_twice': silent_twice, 'wrong_vault': wrong_vault,
                      'nowhere_module': nowhere_module, 'other_org': other_org, 'nowhere_lookup': nowhere_lookup_result} | to_json }}"
        dest: "{{ workspace }}/result.json"
        mode: "0600"
      no_log: true
"""


def _vault(*args):
    """ansible-vault of the ansible-core under test, as a user would run it."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-vault"), *args]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    subprocess.run(command, check=True, capture_output=True, text=True, env=environment, timeout=120)


def test_first_hour_vault_relative_paths_observable(ansible, make_credentials, fresh_emulator, origin, tmp_path, lookup_message):
    emulator = fresh_emulator
    aem = make_credentials()
    workspace = ansible.workspace
    files = workspace / "files"
    files.mkdir(mode=0o700)
    # The plaintext as downloaded, encrypted in place by ansible-vault, as the README says.
    aem_file = files / "aem.json"
    aem_file.write_text(json.dumps(aem.integration["formats"]["aem_service_credentials"]), encoding="utf-8")
    project = files / "project.json"
    project.write_text(json.dumps(aem.integration["formats"]["developer_console_project"]), encoding="utf-8")
    key = workspace / "private.key"  # beside the playbook, not in files/
    key.write_text(aem.integration["private_key_pem"], encoding="utf-8")
    other = files / "other-vault.json"
    other.write_text(json.dumps(aem.integration["formats"]["aem_service_credentials"]), encoding="utf-8")
    secrets_dir = tmp_path / "vault-secrets"
    secrets_dir.mkdir(mode=0o700)
    password_file = secrets_dir / "vault-password"
    password_file.write_text("first-hour-vault-password\n", encoding="utf-8")
    other_password = secrets_dir / "other-password"
    other_password.write_text("another-vault-password\n", encoding="utf-8")
    _vault("encrypt", "--vault-password-file", str(password_file), str(aem_file), str(project), str(key))
    _vault("encrypt", "--vault-password-file", str(other_password), str(other))
    for path in (aem_file, project, key, other):
        assert path.read_text(encoding="ascii").startswith("$ANSIBLE_VAULT;"), path
    # What a decrypted copy would hold: the client secret and the key's body lines.
    plaintext = [aem.integration["client_secrets"][0], *[line for line in aem.integration["private_key_pem"].splitlines() if "-----" not in line][:3]]
    patterns = secrets_dir / "patterns"
    patterns.write_text("\n".join(plaintext) + "\n", encoding="utf-8")

    run = ansible.run(
        PLAY,
        extra_vars={"ims_endpoint": emulator.endpoint, "ca_path": emulator.ca_path, "patterns": str(patterns), "emulator_origin": emulator.origin},
        args=("--vault-password-file", str(password_file)),
    )
    run.assert_ok()
    result = run.result_file()
    problems = []

    # 1. Vault-encrypted files, relative paths, module and lookup: each yields a token.
    for name in ("aem_module", "console_module", "silent_once"):
        if not str(result[name].get("access_token", "")).startswith("ey"):
            problems.append("%s: no token: %s" % (name, result[name].get("msg")))
    for name in ("aem_lookup", "console_lookup"):
        if not str(result[name]).startswith("ey"):
            problems.append("%s: no token" % name)
    assert result["console_module"]["auth_method"] == "jwt"

    # 2. No decrypted file on disk, while the play ran and after it.
    assert result["plaintext_files"] == [], result["plaintext_files"]
    leftover = subprocess.run(["grep", "-rlF", "-f", str(patterns), str(workspace)], capture_output=True, text=True, check=False)
    assert leftover.returncode == 1 and leftover.stdout == "", leftover.stdout

    # 3. The -v summary line of each token: client id, endpoint, where the credentials came from, method, cached or not.
    summary = re.compile(
        r"aemops\.ims\.aem_ims_token: token for client_id (\S+) from (\S+), credentials from (.+?), auth_method (\S+), "
        r"(from the cache|exchanged with IMS) in [0-9]+\.[0-9]{2} s\. (.+)"
    )
    lines = [match.groups() for match in summary.finditer(run.stdout)]
    sources = [line[2] for line in lines]
    assert "service_credentials_file %s (from the task argument service_credentials_file)" % aem_file in sources, sources
    assert "service_credentials_file %s (from the task argument service_credentials_file)" % project in sources, sources
    assert "the term %s" % aem_file in sources, sources
    assert "service_credentials_file %s (from variable aem_ims_service_credentials_file)" % project in sources, sources
    assert all(line[0] == aem.client_id and line[1] == origin and line[3] == "jwt" for line in lines), lines
    assert {line[4] for line in lines} == {"from the cache", "exchanged with IMS"}, lines
    assert any(line[5].startswith("the task's result is censored because it holds the token") for line in lines), lines
    assert any(line[5].startswith("the lookup returns only the token") for line in lines), lines

    # 4. A silent IMS: each retry announced with its reason and wait; the failure gives the time it took.
    retry = re.compile(
        r"aemops\.ims\.aem_ims_token: the JWT exchange to IMS at %s failed \(attempt 1 of 2, after [0-9.]+ s\): "
        r"IMS at %s did not answer within 2 s \(timeout\); retrying in [0-9.]+ s" % (re.escape(origin), re.escape(origin))
    )
    assert len(retry.findall(run.stdout)) == 2, run.tail(120)
    assert re.fullmatch(
        r"IMS at %s did not answer within 2 s \(timeout\) \(gave up after 2 attempts in [0-9]+\.[0-9] s\)" % re.escape(origin),
        result["silent_twice"]["msg"],
    ), result["silent_twice"]["msg"]

    # 5. The mistakes, each named with the option, variable or term that gave it.
    message = result["wrong_vault"]["msg"]
    assert message.startswith("service_credentials_file %s is vault-encrypted and could not be decrypted: " % other), message
    assert "vault" in message.split(": ", 1)[1].lower() and message.endswith("(--vault-password-file, --vault-id or --ask-vault-pass)"), message
    assert re.fullmatch(
        r"IMS rejected the JWT exchange: HTTP 400 invalid_token: Could not match JWT signature to any of the bindings \(x-debug-id [0-9a-f-]+\)\. "
        r"Hint: org_id \(from the task argument org_id\) set over the credentials may not be this integration's; or the private key does not "
        r"belong to it, or its certificate expired or was revoked in the AEM Developer Console",
        result["other_org"]["msg"],
    ), result["other_org"]["msg"]
    tried = "tried %s, %s" % (files / "nowhere.json", workspace / "nowhere.json")
    assert result["nowhere_module"]["msg"] == (
        "service credentials file nowhere.json (from the task argument service_credentials_file) does not exist: a relative path is looked for in "
        "the playbook's (or role's) files/ directory and its own directory, as lookup('file') does; " + tried
    )
    assert lookup_message(result["nowhere_lookup"]["msg"]) == (
        "service credentials file nowhere.json (from variable aem_ims_service_credentials_file) does not exist: a relative path is looked "
        "for in the playbook's (or role's) files/ directory and its own directory, as lookup('file') does; " + tried
    )

    # 6. Nothing secret at -vvvv: tokens, client secrets, key lines, the vault passwords.
    tokens = [result[name]["access_token"] for name in ("aem_module", "console_module", "silent_once")] + [result["aem_lookup"], result["console_lookup"]]
    run.assert_no_secrets(*tokens, *aem.secrets, "first-hour-vault-password", "another-vault-password")
    assert "Traceback" not in run.output and "unexpected internal error" not in run.output
    assert not problems, problems
