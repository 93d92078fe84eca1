# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where options come from, end to end: ansible.cfg as a source, precedence, empty environment variables.

Two playbook runs. In each, only the source that should win holds a value that works: a
value from any other source fails before a request (a typo, a missing file) or cannot reach
the emulator, so a token proves which source won. The ansible.cfg is the workspace's (the
playbook runs there), with an [aem_ims] section.
"""

from __future__ import annotations

import json
import os

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
"""

# One typo of each kind of typed option: boolean, integer, number, choice.
TYPOS = {
    "validate_certs": ("ture", "must be a boolean (true or false), got 'ture'"),
    "retries": ("many", "must be an integer, got 'many'"),
    "timeout": ("slow", "must be a number, got 'slow'"),
    "cache": ("sometimes", "must be one of run, persistent, off, got 'sometimes'"),
}
# What each task writes as a keyword instead of ansible.cfg's typo, to leave only one typo in force.
GOOD = {"validate_certs": "true", "retries": "0", "timeout": "10", "cache": "'run'"}


def _ansible_cfg(workspace, lines):
    path = workspace / "ansible.cfg"
    path.write_text("[aem_ims]\n" + "".join("%s = %s\n" % pair for pair in lines.items()), encoding="utf-8")
    # ansible-core names the file by the directory it found it in, the playbook's working directory.
    return os.path.join(os.path.realpath(workspace), "ansible.cfg")


def _results(run, count):
    """The registered results of tasks result_0 .. result_<count-1>, saved by the play (see _save_results)."""
    return [run.result_file("result-%d.json" % index) for index in range(count)]


def _save_results(count):
    return "".join(
        """
    - name: Keep result {index} for the test (hidden)
      ansible.builtin.copy:
        content: "{{{{ result_{index} | to_json }}}}"
        dest: "{{{{ workspace }}}}/result-{index}.json"
        mode: "0600"
      no_log: true
""".format(index=index)
        for index in range(count)
    )


def test_a_typo_in_ansible_cfg_fails_before_any_request_naming_the_option_and_the_file(ansible, credentials, emulator, requests_for, lookup_message):
    cfg = _ansible_cfg(
        ansible.workspace,
        dict(
            {"service_credentials_file": credentials.files["aem_service_credentials"], "ca_path": emulator.ca_path},
            **{name: typo for name, (typo, _problem) in TYPOS.items()},
        ),
    )
    tasks = ""
    for index, name in enumerate(TYPOS):
        # Keywords beat ansible.cfg: every typo but this one is overridden.
        keywords = ", ".join("%s=%s" % (other, GOOD[other]) for other in TYPOS if other != name)
        tasks += """
    - name: A typo in {name} in ansible.cfg
      ansible.builtin.set_fact:
        token: "{{{{ lookup('aemops.ims.aem_ims_token', {keywords}) }}}}"
      no_log: true
      register: result_{index}
      ignore_errors: true
""".format(name=name, keywords=keywords, index=index)
    run = ansible.run(PLAY + tasks + _save_results(len(TYPOS)))
    run.assert_ok()
    for (name, (_typo, problem)), result in zip(TYPOS.items(), _results(run, len(TYPOS)), strict=True):
        assert result.get("failed") is True, (name, result)
        assert lookup_message(result["msg"]) == "%s %s (from [aem_ims] %s in %s)" % (name, problem, name, cfg)
    assert requests_for(credentials.client_id) == 0
    assert "Traceback" not in run.output
    run.assert_no_secrets(*credentials.secrets)


def test_precedence_for_the_lookup_and_the_module_and_empty_environment_variables(
    ansible, credentials, emulator, requests_for, lookup_message, token_owner, tmp_path
):
    """Lookup: keyword > variable > environment > ansible.cfg > default. Module: task argument > environment > default.

    timeout: "slow" in the environment, 20 in a play variable, "slow" again in a task variable that
    a keyword overrides. ca_path: a missing file in ansible.cfg, the emulator's CA in the environment
    (the default, the system's trust store, cannot verify the emulator). service_credentials_file:
    only in ansible.cfg (by default there are no credentials at all). retries: a typo in ansible.cfg
    behind an empty AEM_IMS_RETRIES, which counts as unset: the default applies, ansible.cfg is not read.
    """
    cfg = _ansible_cfg(
        ansible.workspace,
        {
            "service_credentials_file": credentials.files["aem_service_credentials"],
            "ca_path": tmp_path / "no-such-ca.pem",
            "retries": "many",
            "timeout": "slow",
        },
    )
    creds_file = str(credentials.files["aem_service_credentials"])
    playbook = (
        """
- hosts: all
  gather_facts: false
  vars:
    aem_ims_timeout: 20
  tasks:
    - name: Lookup - a keyword beats a variable
      ansible.builtin.set_fact:
        by_keyword: "{{ lookup('aemops.ims.aem_ims_token', timeout=15) }}"
      vars:
        aem_ims_timeout: slow
      no_log: true
      register: result_0
      ignore_errors: true

    - name: Lookup - a variable beats the environment, which beats ansible.cfg, which beats the default
      ansible.builtin.set_fact:
        by_variable: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true
      register: result_1
      ignore_errors: true

    - name: Lookup - without the variable, the environment's value applies
      ansible.builtin.set_fact:
        by_environment: "{{ lookup('aemops.ims.aem_ims_token') }}"
      vars:
        aem_ims_timeout: null
      no_log: true
      register: result_2
      ignore_errors: true

    - name: Module - a task argument beats the environment, which beats the default
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        timeout: 15
      register: result_3
      ignore_errors: true

    - name: Module - without the argument, the environment's value applies
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
      register: result_4
      ignore_errors: true
"""
        + _save_results(5)
        + """
    - name: Keep the tokens for the test (hidden)
      ansible.builtin.copy:
        content: "{{ [by_keyword, by_variable, result_3.access_token] | to_json }}"
        dest: "{{ workspace }}/tokens.json"
        mode: "0600"
      no_log: true
"""
    )
    environment = {"AEM_IMS_TIMEOUT": "slow", "AEM_IMS_CA_PATH": emulator.ca_path, "AEM_IMS_RETRIES": "", "AEM_IMS_CACHE": ""}
    run = ansible.run(playbook, env=environment, extra_vars={"creds_file": creds_file})
    run.assert_ok()
    results = _results(run, 5)
    assert [result.get("failed", False) for result in results] == [False, False, True, False, True], json.dumps(results)[:2000]
    assert lookup_message(results[2]["msg"]) == "timeout must be a number, got 'slow' (from environment variable AEM_IMS_TIMEOUT)"
    # The module and the lookup say the same for the same source.
    assert results[4]["msg"] == "timeout must be a number, got 'slow' (from environment variable AEM_IMS_TIMEOUT)"
    tokens = run.result_file("tokens.json")
    assert {token_owner(token) for token in tokens} == {credentials.client_id}
    # One exchange: the module and the lookup share the run's cache (AEM_IMS_CACHE is empty, so cache=run).
    assert requests_for(credentials.client_id) == 1
    assert cfg in run.output or os.path.exists(cfg)
    assert "Traceback" not in run.output
    run.assert_no_secrets(*credentials.secrets, *tokens)
