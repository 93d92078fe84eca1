# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""aemops.ims.aem_ims_token (the lookup) end to end: option sources, errors and the token cache."""

from __future__ import annotations

import json
import os
import re
import stat
import time

import pytest

from ansible_collections.aemops.ims.tests.support.plays import PLAY

LOOKUP = "lookup('aemops.ims.aem_ims_token'"
TOKEN_CACHE_FORMAT = "aemops.ims/token-cache/1"
TOKEN_ALIAS_FORMAT = "aemops.ims/token-alias/1"


def _per_host(name):
    """Jinja: the value of fact `name` on every host of the play, in inventory order."""
    return "ansible_play_hosts_all | map('extract', hostvars, '%s') | list" % name


def _cache_files(directory):
    """The token entries in a cache directory (not the lookup's aliases, which point at them)."""
    names = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            document = json.loads((directory / name).read_text(encoding="utf-8"))
            if document.get("format") != TOKEN_ALIAS_FORMAT:
                names.append(name)
    return names


def _alias_files(directory):
    """The lookup's fast-path aliases: an input fingerprint pointing at a token entry."""
    names = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json") and json.loads((directory / name).read_text(encoding="utf-8")).get("format") == TOKEN_ALIAS_FORMAT:
            names.append(name)
    return names


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# --- option sources -------------------------------------------------------------------------


def test_term_keyword_options_variables_and_query(ansible, make_credentials, emulator, save, requests_for, token_owner, tmp_path):
    term, keywords, variables = make_credentials(), make_credentials(), make_credentials()
    # The variables' values as plain data (JSON is YAML), in a private file: no template involved.
    vars_file = tmp_path / "aem-ims-vars.yml"
    vars_file.write_text(
        json.dumps({"aem_ims_service_credentials": variables.integration["formats"]["aem_service_credentials"], "aem_ims_ca_path": emulator.ca_path}),
        encoding="utf-8",
    )
    vars_file.chmod(0o600)
    run = ansible.run(
        PLAY
        + """
    - name: A credentials file as the term
      ansible.builtin.set_fact:
        by_term: "{{ lookup('aemops.ims.aem_ims_token', file_a, ca_path=ca_path) }}"
      no_log: true

    - name: Single fields as keyword options, no file
      ansible.builtin.set_fact:
        by_keywords: >-
          {{ lookup('aemops.ims.aem_ims_token', client_id=b_client_id, client_secret=b_client_secret, org_id=b_org_id,
          technical_account_id=b_technical_account_id, private_key=b_private_key, metascopes=['ent_aem_cloud_api'],
          ims_endpoint=ims_endpoint, ca_path=ca_path) }}
      no_log: true

    - name: One token per file with query
      ansible.builtin.set_fact:
        by_query: "{{ query('aemops.ims.aem_ims_token', file_a, file_b, ca_path=ca_path) }}"
      no_log: true

- hosts: all
  gather_facts: false
  vars_files:
    - "{{ c_vars_file }}"
  tasks:
    - name: Everything from aem_ims_* variables
      ansible.builtin.set_fact:
        by_vars: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true
"""
        + save("{'term': by_term, 'keywords': by_keywords, 'vars': by_vars, 'query': by_query}"),
        extra_vars={
            "file_a": str(term.write()),
            "file_b": str(keywords.write()),
            "b_client_id": keywords.client_id,
            "b_org_id": keywords.integration["org_id"],
            "b_technical_account_id": keywords.integration["technical_account_id"],
            "ims_endpoint": emulator.endpoint,
            "ca_path": emulator.ca_path,
            "c_vars_file": str(vars_file),
        },
        secret_vars={
            "b_client_secret": keywords.integration["client_secrets"][0],
            "b_private_key": keywords.integration["private_key_pem"],
        },
    )
    run.assert_ok()
    result = run.result_file()
    assert token_owner(result["term"]) == term.client_id
    assert token_owner(result["keywords"]) == keywords.client_id
    assert token_owner(result["vars"]) == variables.client_id
    assert isinstance(result["query"], list) and len(result["query"]) == 2
    first, second = result["query"]
    assert first != second
    assert token_owner(first) == term.client_id and token_owner(second) == keywords.client_id
    # Within one run each credential is exchanged once, whichever way it was given.
    assert first == result["term"]
    assert second == result["keywords"]
    assert requests_for(term.client_id) == 1
    assert requests_for(keywords.client_id) == 1
    assert requests_for(variables.client_id) == 1
    secrets = term.secrets + keywords.secrets + variables.secrets
    run.assert_no_secrets(result["term"], result["keywords"], result["vars"], *secrets)


def test_environment_variables_only(ansible, credentials, emulator, save, requests_for, token_owner, check_jwts):
    run = ansible.run(
        PLAY
        + """
    - name: Everything from AEM_IMS_* environment variables
      ansible.builtin.set_fact:
        first: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true

    - name: Again (AEM_IMS_CACHE=off)
      ansible.builtin.set_fact:
        second: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true
"""
        + save("[first, second]"),
        env={
            "AEM_IMS_SERVICE_CREDENTIALS": json.dumps(credentials.integration["formats"]["aem_service_credentials"]),
            "AEM_IMS_CA_PATH": emulator.ca_path,
            "AEM_IMS_CACHE": "off",
        },
    )
    run.assert_ok()
    first, second = run.result_file()
    assert first != second
    assert token_owner(first) == credentials.client_id and token_owner(second) == credentials.client_id
    assert requests_for(credentials.client_id) == 2
    check_jwts(credentials, count=2)
    run.assert_no_secrets(first, second, *credentials.secrets)


def test_precedence_keyword_over_variable_over_environment(ansible, make_credentials, emulator, save, requests_for, token_owner):
    by_keyword, by_variable, by_environment = make_credentials(), make_credentials(), make_credentials()
    # The variable holds a plain path (see test_variables_holding_templates for templated ones).
    file_b = str(by_variable.write())
    run = ansible.run(
        PLAY
        + """
    - name: Keyword, variable and environment all set
      ansible.builtin.set_fact:
        keyword_wins: "{{ lookup('aemops.ims.aem_ims_token', service_credentials_file=file_a) }}"
      vars:
        aem_ims_service_credentials_file: %(file_b)s
      no_log: true

    - name: Variable and environment set
      ansible.builtin.set_fact:
        variable_wins: "{{ lookup('aemops.ims.aem_ims_token') }}"
      vars:
        aem_ims_service_credentials_file: %(file_b)s
      no_log: true

    - name: Only the environment set
      ansible.builtin.set_fact:
        environment_only: "{{ lookup('aemops.ims.aem_ims_token') }}"
      no_log: true
"""
        % {"file_b": json.dumps(file_b)}
        + save("{'keyword': keyword_wins, 'variable': variable_wins, 'environment': environment_only}"),
        extra_vars={"file_a": str(by_keyword.write())},
        env={"AEM_IMS_SERVICE_CREDENTIALS_FILE": str(by_environment.write()), "AEM_IMS_CA_PATH": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert token_owner(result["keyword"]) == by_keyword.client_id
    assert token_owner(result["variable"]) == by_variable.client_id
    assert token_owner(result["environment"]) == by_environment.client_id
    assert requests_for(by_keyword.client_id) == 1
    assert requests_for(by_variable.client_id) == 1
    assert requests_for(by_environment.client_id) == 1
    run.assert_no_secrets(*result.values(), *by_keyword.secrets, *by_variable.secrets, *by_environment.secrets)


def test_variables_holding_templates_are_templated(ansible, credentials, emulator, save, requests_for, token_owner, task_failures, lookup_message):
    """The lookup's own EXAMPLES: `vars: aem_ims_service_credentials: "{{ vault_aem_service_credentials }}"`.

    Variables are how group_vars and vault hand credentials over; they are almost always templates
    pointing at other variables, so the lookup must see their values, not the template text.
    """
    run = ansible.run(
        PLAY
        + """
    - name: Options from variables that refer to other variables
      ansible.builtin.set_fact:
        from_vars: "{{ lookup('aemops.ims.aem_ims_token') }}"
      vars:
        aem_ims_service_credentials: "{{ vault_aem_service_credentials }}"
        aem_ims_ca_path: "{{ ca_path }}"
      no_log: true
      ignore_errors: true

    - name: A path variable that refers to another variable
      ansible.builtin.set_fact:
        from_path_var: "{{ lookup('aemops.ims.aem_ims_token') }}"
      vars:
        aem_ims_service_credentials_file: "{{ creds_file }}"
        aem_ims_ca_path: "{{ ca_path }}"
      no_log: true
      ignore_errors: true
"""
        + save("[from_vars | default(None), from_path_var | default(None)]"),
        extra_vars={"ca_path": emulator.ca_path, "creds_file": str(credentials.write())},
        secret_vars={"vault_aem_service_credentials": credentials.integration["formats"]["aem_service_credentials"]},
    )
    run.assert_ok()
    run.assert_no_secrets(*credentials.secrets)
    from_vars, from_path_var = run.result_file()
    errors = task_failures(run)
    problems = ["%s: %s" % (task, lookup_message(line)) for task, line in sorted(errors.items())]
    assert from_vars and from_path_var, "variables were not templated:\n" + "\n".join(problems)
    assert token_owner(from_vars) == credentials.client_id
    assert from_path_var == from_vars
    assert requests_for(credentials.client_id) == 1
    run.assert_no_secrets(from_vars, *credentials.secrets)


def test_lookup_fails_with_the_same_message_as_the_module(
    ansible, credentials, emulator, save, without_debug_id, requests_for, tmp_path, task_failures, lookup_message, module_message
):
    def drop_secret(document):
        del document["integration"]["technicalAccount"]["clientSecret"]

    def damage_key(document):
        lines = document["integration"]["privateKey"].split("\r\n")
        del lines[5:12]
        document["integration"]["privateKey"] = "\r\n".join(lines)

    wrong_secret = "p8e-wrong-" + os.urandom(12).hex()
    cases = {
        "missing file": ('service_credentials_file: "{{ missing }}"', "missing"),
        "no client secret": ('service_credentials_file: "{{ no_secret }}"', "no_secret"),
        "damaged key": ('service_credentials_file: "{{ damaged }}"', "damaged"),
        "wrong client secret": (
            'service_credentials_file: "{{ good }}"\n        client_secret: "{{ wrong_secret }}"\n        ims_endpoint: "{{ endpoint }}"',
            "good",
        ),
    }
    playbook = PLAY
    for index, (case, (module_args, file_var)) in enumerate(cases.items()):
        # A secret from elsewhere goes only to an explicit ims_endpoint.
        keyword = ", client_secret=wrong_secret, ims_endpoint=endpoint" if case == "wrong client secret" else ""
        # A file named by an option, as for the module: the "does not exist" message names where the path came from.
        file_var = "service_credentials_file=missing" if case == "missing file" else file_var
        playbook += """
    - name: module - {case}
      aemops.ims.aem_ims_token:
        {module_args}
        ca_path: "{{{{ ca_path }}}}"
      ignore_errors: true

    - name: lookup - {case}
      ansible.builtin.set_fact:
        token: "{{{{ lookup('aemops.ims.aem_ims_token', {file_var}, ca_path=ca_path{keyword}) }}}}"
      register: lookup_{index}
      no_log: true
      ignore_errors: true
""".format(case=case, module_args=module_args, file_var=file_var, keyword=keyword, index=index)
    # ansible-core before 2.19 shows no message for a failed no_log task: the lookup's are read back.
    playbook += save("[%s]" % ", ".join("lookup_%d.msg" % index for index in range(len(cases))))
    run = ansible.run(
        playbook,
        extra_vars={
            "missing": str(tmp_path / "missing.json"),
            "no_secret": str(credentials.write(name="no-secret.json", transform=drop_secret)),
            "damaged": str(credentials.write(name="damaged.json", transform=damage_key)),
            "good": str(credentials.write()),
            "ca_path": emulator.ca_path,
            "endpoint": emulator.endpoint,
        },
        secret_vars={"wrong_secret": wrong_secret},
    )
    run.assert_ok()
    errors = task_failures(run)
    looked_up = dict(zip(cases, run.result_file(), strict=True))
    for case in cases:
        module_line = errors.get("module - " + case)
        assert module_line and looked_up[case], "no error for %s" % case
        # The lookup names every place it reads an option (issue 21); the module, its two.
        looked_in = re.sub(
            r"the (\w+) keyword, variable aem_ims_\w+,? (?:or )?environment variable (AEM_IMS_\w+)(?: or \w+ in the \[aem_ims\] section of ansible\.cfg)?",
            r"the \1 option or \2",
            lookup_message(looked_up[case]),
        )
        # And names a keyword where the module names a task argument (issue 17).
        looked_in = looked_in.replace("(from the keyword ", "(from the task argument ")
        assert without_debug_id(looked_in) == without_debug_id(module_message(module_line)), case
    assert "invalid_client" in lookup_message(looked_up["wrong client secret"])
    assert "client_secret is missing: looked in" in lookup_message(looked_up["no client secret"])
    # Only the two wrong-secret attempts reached IMS.
    assert requests_for(credentials.client_id) == 2
    run.assert_no_secrets(wrong_secret, *credentials.secrets)


# --- the cache --------------------------------------------------------------------------------


def test_run_cache_one_exchange_per_credential_for_50_hosts_and_forks_10(ansible, make_credentials, emulator, save, requests_for, issued_for, token_owner):
    first, second = make_credentials(), make_credentials()
    hosts = 50
    run = ansible.run(
        PLAY
        + """
    - name: Check both tokens
      ansible.builtin.assert:
        that:
          - lookup('aemops.ims.aem_ims_token', file_a, ca_path=ca_path) | length > 100
          - lookup('aemops.ims.aem_ims_token', file_b, ca_path=ca_path) | length > 100
        quiet: true
      no_log: true

    - name: Keep both tokens
      ansible.builtin.set_fact:
        tok_a: "{{ lookup('aemops.ims.aem_ims_token', file_a, ca_path=ca_path) }}"
        tok_b: "{{ lookup('aemops.ims.aem_ims_token', file_b, ca_path=ca_path) }}"
      no_log: true

    - name: Use one in a message
      ansible.builtin.debug:
        msg: "{{ lookup('aemops.ims.aem_ims_token', file_a, ca_path=ca_path) | length }}"
      no_log: true

    - name: The run's token cache, while the run lasts
      ansible.builtin.find:
        paths: "{{ workspace }}/ansible-tmp"
        recurse: true
        patterns: "*.json"
      register: run_cache
      delegate_to: localhost
      run_once: true
"""
        + save(
            "{'a': %s, 'b': %s, 'cache_files': run_cache.files | map(attribute='path') | list, 'modes': run_cache.files | map(attribute='mode') | list}"
            % (_per_host("tok_a"), _per_host("tok_b"))
        ),
        hosts=hosts,
        forks=10,
        extra_vars={"file_a": str(first.write()), "file_b": str(second.write()), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert len(result["a"]) == hosts and len(set(result["a"])) == 1
    assert len(result["b"]) == hosts and len(set(result["b"])) == 1
    token_a, token_b = result["a"][0], result["b"][0]
    assert token_a != token_b
    assert token_owner(token_a) == first.client_id
    assert token_owner(token_b) == second.client_id
    # 50 hosts x 3 tasks, 5 evaluations per host, 2 credentials: exactly 2 exchanges.
    assert requests_for(first.client_id) == 1 and issued_for(first.client_id) == 1
    assert requests_for(second.client_id) == 1 and issued_for(second.client_id) == 1

    # The cache lived in the run's local temp directory, and went away with the run.
    tmp_root = str(ansible.workspace / "ansible-tmp") + "/"
    assert len(result["cache_files"]) >= 2, result["cache_files"]
    for path in result["cache_files"]:
        assert re.match(re.escape(tmp_root) + r"ansible-local-[^/]+/aemops_ims_tokens/[0-9a-z]{64,65}\.json$", path), path
    assert len({os.path.dirname(path) for path in result["cache_files"]}) == 1
    assert set(result["modes"]) == {"0600"}
    assert not os.path.exists(os.path.dirname(result["cache_files"][0]))
    leftovers = [
        os.path.join(root, name)
        for root, dirs, files in os.walk(tmp_root)
        for name in dirs + files
        if "aemops_ims_tokens" in root or name == "aemops_ims_tokens"
    ]
    assert leftovers == []
    run.assert_no_secrets(token_a, token_b, *first.secrets, *second.secrets)


def test_cache_off_exchanges_once_per_evaluation(ansible, credentials, emulator, save, requests_for, token_owner):
    hosts = 10
    run = ansible.run(
        PLAY
        + """
    - name: Check the token
      ansible.builtin.assert:
        that:
          - lookup('aemops.ims.aem_ims_token', creds_file, ca_path=ca_path, cache='off') | length > 100
        quiet: true
      no_log: true

    - name: Keep the token
      ansible.builtin.set_fact:
        tok: "{{ lookup('aemops.ims.aem_ims_token', creds_file, ca_path=ca_path, cache='off') }}"
      no_log: true

    - name: Use it in a message
      ansible.builtin.debug:
        msg: "{{ lookup('aemops.ims.aem_ims_token', creds_file, ca_path=ca_path, cache='off') | length }}"
      no_log: true
"""
        + save(_per_host("tok")),
        hosts=hosts,
        forks=10,
        extra_vars={"creds_file": str(credentials.write()), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    tokens = run.result_file()
    assert len(tokens) == hosts and len(set(tokens)) == hosts
    assert all(token_owner(token) == credentials.client_id for token in tokens[:3])
    assert requests_for(credentials.client_id) == hosts * 3
    assert not os.path.exists(ansible.workspace / "xdg-cache" / "aemops.ims")
    run.assert_no_secrets(*tokens, *credentials.secrets)


PERSISTENT_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Keep the token
      ansible.builtin.set_fact:
        tok: "{{ lookup('aemops.ims.aem_ims_token', creds_file) }}"
      no_log: true

    - name: Another task, the same token
      ansible.builtin.assert:
        that:
          - lookup('aemops.ims.aem_ims_token', creds_file) == tok
        quiet: true
      no_log: true
"""


def test_persistent_cache_is_reused_across_runs_and_refreshed_within_the_margin(ansible, credentials, emulator, save, requests_for, token_owner, tmp_path):
    cache_dir = tmp_path / "persistent-cache"
    playbook = PERSISTENT_PLAY + save(_per_host("tok"))
    # Options as aem_ims_* variables (extra vars: plain values).
    extra_vars = {
        "creds_file": str(credentials.write()),
        "aem_ims_cache": "persistent",
        "aem_ims_cache_dir": str(cache_dir),
        "aem_ims_ca_path": emulator.ca_path,
    }

    first = ansible.run(playbook, hosts=3, extra_vars=extra_vars)
    first.assert_ok()
    tokens_1 = first.result_file()
    assert len(set(tokens_1)) == 1 and len(tokens_1) == 3
    assert token_owner(tokens_1[0]) == credentials.client_id
    assert requests_for(credentials.client_id) == 1

    second = ansible.run(playbook, hosts=3, extra_vars=extra_vars)
    second.assert_ok()
    assert second.result_file() == tokens_1
    assert requests_for(credentials.client_id) == 1

    # IMS tokens live 24 h: with a margin of 24 h the cached token is inside the margin, and so is
    # every token, so only one host refreshes; the other tasks use the default margin again.
    refresh = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Refresh inside the margin
      ansible.builtin.set_fact:
        tok: "{{ lookup('aemops.ims.aem_ims_token', creds_file) }}"
      vars:
        aem_ims_refresh_margin: 86400
      run_once: true
      no_log: true

    - name: With the default margin the refreshed token is reused
      ansible.builtin.assert:
        that:
          - lookup('aemops.ims.aem_ims_token', creds_file) == tok
        quiet: true
      no_log: true
""" + save(_per_host("tok"))
    third = ansible.run(refresh, hosts=3, extra_vars=extra_vars)
    third.assert_ok()
    tokens_3 = third.result_file()
    assert len(tokens_3) == 3 and len(set(tokens_3)) == 1 and tokens_3[0] != tokens_1[0]
    assert token_owner(tokens_3[0]) == credentials.client_id
    assert requests_for(credentials.client_id) == 2

    # The files: 0700 directory, 0600 files named by hashes, only the new token, no secret.
    assert _mode(cache_dir) == 0o700
    names = sorted(os.listdir(cache_dir))
    entries = _cache_files(cache_dir)
    assert entries, names
    assert all(re.match(r"^[0-9a-z]{64,65}\.(json|lock)$", name) for name in names), names
    for name in names:
        assert _mode(cache_dir / name) == 0o600, name
        assert (cache_dir / name).stat().st_uid == os.geteuid()
    for name in entries:
        text = (cache_dir / name).read_text(encoding="utf-8")
        entry = json.loads(text)
        assert entry["format"] == TOKEN_CACHE_FORMAT
        assert entry["key"] == name[:-5]
        assert entry["access_token"] == tokens_3[0]
        assert entry["expires_at"] > time.time() + 86000
        for secret in credentials.secrets:
            assert secret not in text
        assert "PRIVATE KEY" not in text and credentials.client_id not in name
    # The lookup's fast-path aliases live in the run's temporary directory (gone with the run),
    # never in cache_dir: what persists is the token entry alone.
    assert not _alias_files(cache_dir)
    for run in (first, second, third):
        run.assert_no_secrets(tokens_1[0], tokens_3[0], *credentials.secrets)


def test_corrupt_truncated_and_foreign_cache_entries_are_replaced(ansible, make_credentials, emulator, save, requests_for, token_owner, claims, tmp_path):
    created = [make_credentials() for _index in range(3)]
    cache_dir = tmp_path / "persistent-cache"
    playbook = (
        PLAY
        + "".join(
            """
    - name: Token {index}
      ansible.builtin.set_fact:
        tok_{index}: "{{{{ lookup('aemops.ims.aem_ims_token', file_{index}, cache='persistent', cache_dir=cache_dir, ca_path=ca_path) }}}}"
      no_log: true
""".format(index=index)
            for index in range(3)
        )
        + save("[tok_0, tok_1, tok_2]")
    )
    extra_vars = {"cache_dir": str(cache_dir), "ca_path": emulator.ca_path}
    extra_vars.update(("file_%d" % index, str(item.write())) for index, item in enumerate(created))

    first = ansible.run(playbook, extra_vars=extra_vars)
    first.assert_ok()
    tokens_1 = first.result_file()
    # Which cache files are whose: the token in each says. Every entry of a credential gets damaged.
    by_client = {}
    for name in _cache_files(cache_dir):
        entry = json.loads((cache_dir / name).read_text(encoding="utf-8"))
        by_client.setdefault(claims(entry["access_token"])["client_id"], []).append(cache_dir / name)
    assert sorted(by_client) == sorted(item.client_id for item in created)

    corrupt, truncated, foreign = (by_client[item.client_id] for item in created)
    for path in corrupt:
        path.write_bytes(b"\x00\x01\xfe not JSON at all {{{")
    for path in truncated:
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    for path in foreign:
        entry = {"format": "someone-else/token-cache/9", "key": path.name[:-5], "access_token": "x"}
        entry.update(expires_at=time.time() + 86000, issued_at=time.time())
        path.write_text(json.dumps(entry), encoding="utf-8")

    second = ansible.run(playbook, extra_vars=extra_vars)
    second.assert_ok()
    tokens_2 = second.result_file()
    for index, item in enumerate(created):
        assert tokens_2[index] != tokens_1[index]
        assert token_owner(tokens_2[index]) == item.client_id
        assert requests_for(item.client_id) == 2, item.client_id
        for path in by_client[item.client_id]:
            entry = json.loads(path.read_text(encoding="utf-8"))
            assert entry["format"] == TOKEN_CACHE_FORMAT and entry["key"] == path.name[:-5]
            assert entry["access_token"] == tokens_2[index]
            assert _mode(path) == 0o600
    assert len(_cache_files(cache_dir)) == sum(len(paths) for paths in by_client.values())
    secrets = [secret for item in created for secret in item.secrets]
    first.assert_no_secrets(*tokens_1, *secrets)
    second.assert_no_secrets(*tokens_1, *tokens_2, *secrets)


def test_world_writable_cache_dir_is_refused(ansible, credentials, emulator, save, expect_failure, requests_for, tmp_path, lookup_message):
    open_dir = tmp_path / "world-writable"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    run = ansible.run(
        PLAY
        + """
    - name: lookup - world-writable cache_dir
      ansible.builtin.set_fact:
        tok: "{{ lookup('aemops.ims.aem_ims_token', creds_file, cache='persistent', cache_dir=open_dir, ca_path=ca_path) }}"
      register: looked_up
      no_log: true
      ignore_errors: true

    - name: module - world-writable cache_dir
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        cache: persistent
        cache_dir: "{{ open_dir }}"
        ca_path: "{{ ca_path }}"
      ignore_errors: true
"""
        + save("looked_up.msg"),
        extra_vars={"creds_file": str(credentials.write()), "open_dir": str(open_dir), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    expected = "cache_dir %s is writable by other users (mode 0777): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir" % open_dir
    assert lookup_message(run.result_file()) == expected
    expect_failure(run, expected)
    assert os.listdir(open_dir) == []
    assert requests_for(credentials.client_id) == 0
    run.assert_no_secrets(*credentials.secrets)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_cache_dir_owned_by_another_user_is_refused(ansible, credentials, emulator, save, expect_failure, requests_for, tmp_path, lookup_message):
    foreign_dir = tmp_path / "someone-elses"
    foreign_dir.mkdir(mode=0o700)
    os.chown(foreign_dir, 65534, 65534)
    run = ansible.run(
        PLAY
        + """
    - name: lookup - cache_dir of another user
      ansible.builtin.set_fact:
        tok: "{{ lookup('aemops.ims.aem_ims_token', creds_file, cache='persistent', cache_dir=foreign_dir, ca_path=ca_path) }}"
      register: looked_up
      no_log: true
      ignore_errors: true

    - name: module - cache_dir of another user
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        cache: persistent
        cache_dir: "{{ foreign_dir }}"
        ca_path: "{{ ca_path }}"
      ignore_errors: true
"""
        + save("looked_up.msg"),
        extra_vars={"creds_file": str(credentials.write()), "foreign_dir": str(foreign_dir), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    expected = "cache_dir %s is owned by uid 65534, not by you (uid 0): refusing to keep tokens there; choose another cache_dir" % foreign_dir
    assert lookup_message(run.result_file()) == expected
    expect_failure(run, expected)
    assert os.listdir(foreign_dir) == []
    assert requests_for(credentials.client_id) == 0
    run.assert_no_secrets(*credentials.secrets)


def test_module_and_lookup_share_the_cache(ansible, make_credentials, emulator, save, requests_for, token_owner):
    module_first, lookup_first = make_credentials(), make_credentials()
    run = ansible.run(
        PLAY
        + """
    - name: Module first
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ file_a }}"
        ca_path: "{{ ca_path }}"
      register: module_a

    - name: Then the lookup
      ansible.builtin.set_fact:
        lookup_a: "{{ lookup('aemops.ims.aem_ims_token', file_a, ca_path=ca_path) }}"
      no_log: true

    - name: Lookup first
      ansible.builtin.set_fact:
        lookup_b: "{{ lookup('aemops.ims.aem_ims_token', file_b, ca_path=ca_path) }}"
      no_log: true

    - name: Then the module
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ file_b }}"
        ca_path: "{{ ca_path }}"
      register: module_b
"""
        + save("{'module_a': module_a, 'lookup_a': lookup_a, 'lookup_b': lookup_b, 'module_b': module_b}"),
        extra_vars={"file_a": str(module_first.write()), "file_b": str(lookup_first.write()), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert result["module_a"]["cached"] is False
    assert result["lookup_a"] == result["module_a"]["access_token"]
    assert result["module_b"]["cached"] is True
    assert result["module_b"]["access_token"] == result["lookup_b"]
    assert token_owner(result["lookup_a"]) == module_first.client_id
    assert token_owner(result["lookup_b"]) == lookup_first.client_id
    assert requests_for(module_first.client_id) == 1
    assert requests_for(lookup_first.client_id) == 1
    run.assert_no_secrets(result["lookup_a"], result["lookup_b"], *module_first.secrets, *lookup_first.secrets)
