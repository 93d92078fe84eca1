# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""aemops.ims.aem_ims_token (the module) end to end: ansible-playbook -vvvv against the emulator."""

from __future__ import annotations

import json
import re
import secrets as random
import time
from datetime import datetime, timezone

import pytest

from ansible_collections.aemops.ims.tests.support.plays import PLAY, lookup_task, module_task


ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _aem(credentials):
    """The `integration` object of an integration's AEM service credentials."""
    return credentials.integration["formats"]["aem_service_credentials"]["integration"]


def _epoch(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def _certificate_date(credentials):
    """The certificate's notAfter as the plugins print it (the emulator adds milliseconds)."""
    return credentials.integration["certificate_expiration_date"].replace(".000Z", "Z")


def test_service_credentials_file_gives_a_hidden_token(ansible, credentials, emulator, issued_for, check_jwts, save):
    run = ansible.run(
        """
- hosts: all
  gather_facts: false
  tasks:
    - name: Get a token
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
      register: token
"""
        + save("token"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert result["client_id"] == credentials.client_id
    assert result["auth_method"] == "jwt"
    assert result["credentials_format"] == "aem_service_credentials"
    assert 86000 < result["expires_in"] <= 86400
    assert result["cached"] is False
    assert issued_for(credentials.client_id) == 1
    check_jwts(credentials, count=1)
    run.assert_no_secrets(result["access_token"], *credentials.secrets)
    assert "censored" in run.stdout


def test_the_jwt_sent_has_the_configured_lifetime_in_seconds(ansible, make_credentials, emulator, save, check_jwts):
    """jwt_lifetime end to end, from the module and from the lookup: the claims the emulator received.

    The emulator accepts any integer exp, as IMS does (IMS took exp in milliseconds for years), so
    only the claims it recorded show a client that sent milliseconds, a float, or the default
    lifetime where another was configured.
    """
    module_creds, lookup_creds = make_credentials(), make_credentials()
    module_options = {"service_credentials_file": '"{{ module_file }}"', "ca_path": '"{{ ca_path }}"', "jwt_lifetime": 600, "cache": '"off"'}
    run = ansible.run(
        PLAY
        + module_task("Module with jwt_lifetime 600", module_options, register="module_token")
        + lookup_task("Lookup with the largest jwt_lifetime", "lookup_file, ca_path=ca_path, jwt_lifetime=86400, cache='off'", "looked_up", failing=False)
        + save("{'module': module_token.access_token, 'lookup': looked_up}"),
        extra_vars={"module_file": str(module_creds.write()), "lookup_file": str(lookup_creds.write()), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    check_jwts(module_creds, lifetime=600, count=1)
    check_jwts(lookup_creds, lifetime=86400, count=1)
    run.assert_no_secrets(result["module"], result["lookup"], *module_creds.secrets, *lookup_creds.secrets)


def test_result_keys_fact_name_and_cache_behaviour(ansible, credentials, emulator, origin, save, requests_for, token_owner):
    """Every documented result key with its type; fact_name; cached; force_refresh; cache off; headers usable."""
    task = """
    - name: {name}
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{{{ creds_file }}}}"
        ca_path: "{{{{ ca_path }}}}"{extra}
      register: {register}
"""
    started = time.time()
    run = ansible.run(
        PLAY
        + task.format(name="First token, no fact_name", extra="", register="plain")
        + """
    - name: Without fact_name there is no fact
      ansible.builtin.set_fact:
        fact_before: "{{ ansible_facts['aem_token'] is defined }}"
"""
        + task.format(name="With fact_name", extra="\n        fact_name: aem_token", register="with_fact")
        + task.format(name="Forced refresh", extra="\n        force_refresh: true", register="forced")
        + task.format(name="After the forced refresh", extra="", register="after_forced")
        + task.format(name="Cache off, first", extra='\n        cache: "off"', register="off_1")
        + task.format(name="Cache off, second", extra='\n        cache: "off"', register="off_2")
        + """
    - name: The returned headers work against the (mock) AEM API
      ansible.builtin.uri:
        url: "{{ origin }}/libs/granite/security/currentuser.json"
        headers: "{{ plain.headers }}"
        ca_path: "{{ ca_path }}"
      register: aem_call
      no_log: true
"""
        + save(
            "{'plain': plain, 'fact_before': fact_before, 'with_fact': with_fact, 'fact': ansible_facts['aem_token'], "
            "'forced': forced, 'after_forced': after_forced, 'off_1': off_1, 'off_2': off_2, 'aem': aem_call.json}"
        ),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "origin": origin},
    )
    finished = time.time()
    run.assert_ok()
    result = run.result_file()
    plain = result["plain"]
    token = plain["access_token"]

    # Keys, types and values.
    assert isinstance(token, str) and token.count(".") == 2
    assert token_owner(token) == credentials.client_id
    assert plain["token_type"] == "bearer"
    assert isinstance(plain["expires_in"], int) and not isinstance(plain["expires_in"], bool)
    # The emulator answers expires_in=86399999 (milliseconds): the module must say ~86399 seconds.
    assert 86390 <= plain["expires_in"] <= 86400
    assert ISO_Z.match(plain["expires_at"]), plain["expires_at"]
    assert started + 86400 - 5 <= _epoch(plain["expires_at"]) <= finished + 86400 + 5
    assert plain["client_id"] == credentials.client_id
    assert plain["ims_endpoint"] == origin and re.match(r"^https://127\.0\.0\.1:\d+$", origin)
    assert plain["auth_method"] == "jwt"
    assert plain["credentials_format"] == "aem_service_credentials"
    assert plain["email"] == credentials.integration["email"]
    assert plain["metascopes"] == ["ent_aem_cloud_api"]
    assert plain["headers"] == {"Authorization": "Bearer " + token, "x-api-key": credentials.client_id, "x-gw-ims-org-id": credentials.integration["org_id"]}
    assert plain["certificate_expires_at"] == _certificate_date(credentials)
    assert ISO_Z.match(plain["certificate_expires_at"])
    assert plain["cached"] is False and plain["changed"] is False
    assert "scopes" not in plain
    for name in plain:
        assert not re.search(r"secret|private|passphrase|jwt_token|assertion", name), name
    # The mock AEM API accepted the headers and knows the technical account.
    assert result["aem"]["authorizableId"] == credentials.integration["email"]
    assert result["aem"]["clientId"] == credentials.client_id

    # fact_name: absent without it, the same token with it.
    assert result["fact_before"] is False
    assert "ansible_facts" not in plain
    assert result["with_fact"]["cached"] is True
    assert result["with_fact"]["access_token"] == token
    assert result["fact"]["access_token"] == token
    assert result["fact"]["client_id"] == credentials.client_id
    assert result["with_fact"]["ansible_facts"]["aem_token"]["access_token"] == token

    # force_refresh: a new exchange, a different token, which then is the cached one.
    forced = result["forced"]
    assert forced["cached"] is False
    assert forced["access_token"] != token
    assert token_owner(forced["access_token"]) == credentials.client_id
    assert result["after_forced"]["cached"] is True
    assert result["after_forced"]["access_token"] == forced["access_token"]

    # cache: off: one exchange per task, never marked cached.
    assert result["off_1"]["cached"] is False and result["off_2"]["cached"] is False
    tokens = {token, forced["access_token"], result["off_1"]["access_token"], result["off_2"]["access_token"]}
    assert len(tokens) == 4

    # plain, forced, off_1, off_2.
    assert requests_for(credentials.client_id) == 4
    assert run.stdout.count("censored") >= 7
    run.assert_no_secrets(*tokens, *credentials.secrets)


def test_inline_service_credentials_as_dict_and_as_json_string(ansible, credentials, emulator, save, requests_for, token_owner, expect_failure):
    document = credentials.integration["formats"]["aem_service_credentials"]
    text = json.dumps(document)
    broken = text[:-1]
    with pytest.raises(ValueError) as parsing:
        json.loads(broken)
    reason = "%s (line %d, column %d)" % (parsing.value.msg, parsing.value.lineno, parsing.value.colno)
    run = ansible.run(
        PLAY
        + """
    - name: Inline credentials as a dict
      aemops.ims.aem_ims_token:
        service_credentials: "{{ creds_dict }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      register: from_dict

    - name: Inline credentials as a JSON string
      aemops.ims.aem_ims_token:
        service_credentials: "{{ creds_json }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      register: from_string

    - name: A broken JSON string fails without quoting it
      aemops.ims.aem_ims_token:
        service_credentials: "{{ creds_broken }}"
        ca_path: "{{ ca_path }}"
      register: from_broken
      ignore_errors: true
"""
        + save("{'dict': from_dict, 'string': from_string, 'broken': from_broken.msg}"),
        extra_vars={"ca_path": emulator.ca_path},
        secret_vars={"creds_dict": document, "creds_json": text, "creds_broken": broken},
    )
    run.assert_ok()
    result = run.result_file()
    for name in ("dict", "string"):
        assert result[name]["client_id"] == credentials.client_id
        assert result[name]["credentials_format"] == "aem_service_credentials"
        assert result[name]["email"] == credentials.integration["email"]
        assert token_owner(result[name]["access_token"]) == credentials.client_id
    assert result["dict"]["access_token"] != result["string"]["access_token"]
    expected = "service_credentials is not valid JSON: " + reason
    assert result["broken"] == expected
    expect_failure(run, expected)
    assert requests_for(credentials.client_id) == 2
    run.assert_no_secrets(result["dict"]["access_token"], result["string"]["access_token"], *credentials.secrets)


def test_single_options_override_the_file_and_work_without_it(ansible, make_credentials, emulator, origin, save, requests_for, token_owner):
    credentials = make_credentials()

    def wrong_everything(document):
        integration = document["integration"]
        integration["technicalAccount"] = {"clientId": "cm-p00000-e000000-integration", "clientSecret": "p8e-not-the-secret-in-use"}
        integration["org"] = "000000000000000000000000@AdobeOrg"
        integration["id"] = "000000000000000000000000@techacct.adobe.com"
        integration["metascopes"] = "ent_some_other_api"
        integration["imsEndpoint"] = "ims-na1.adobelogin.com"
        del integration["privateKey"]

    wrong_file = credentials.write(name="wrong-fields.json", transform=wrong_everything)
    fields = """
        client_id: "{{ client_id }}"
        client_secret: "{{ client_secret }}"
        org_id: "{{ org_id }}"
        technical_account_id: "{{ technical_account_id }}"
        private_key: "{{ private_key }}"
        metascopes: [ent_aem_cloud_api]
        ims_endpoint: "{{ ims_endpoint }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
"""
    run = ansible.run(
        PLAY
        + """
    - name: Single options only
      aemops.ims.aem_ims_token:"""
        + fields
        + """      register: options_only

    - name: Single options over a file whose every field is wrong
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ wrong_file }}\""""
        + fields
        + """      register: over_file
"""
        + save("{'options_only': options_only, 'over_file': over_file}"),
        extra_vars={
            "client_id": credentials.client_id,
            "org_id": credentials.integration["org_id"],
            "technical_account_id": credentials.integration["technical_account_id"],
            "ims_endpoint": emulator.endpoint,
            "ca_path": emulator.ca_path,
            "wrong_file": str(wrong_file),
        },
        secret_vars={"client_secret": credentials.integration["client_secrets"][0], "private_key": credentials.integration["private_key_pem"]},
    )
    run.assert_ok()
    result = run.result_file()
    options_only, over_file = result["options_only"], result["over_file"]
    assert options_only["credentials_format"] == "options"
    assert over_file["credentials_format"] == "aem_service_credentials"
    for item in (options_only, over_file):
        assert item["client_id"] == credentials.client_id
        assert item["ims_endpoint"] == origin
        assert item["metascopes"] == ["ent_aem_cloud_api"]
        assert token_owner(item["access_token"]) == credentials.client_id
    # Only the file knows the email and the certificate.
    assert "email" not in options_only and "certificate_expires_at" not in options_only
    assert over_file["email"] == credentials.integration["email"]
    assert over_file["certificate_expires_at"] == _certificate_date(credentials)
    assert requests_for(credentials.client_id) == 2
    assert requests_for("cm-p00000-e000000-integration") == 0
    run.assert_no_secrets(options_only["access_token"], over_file["access_token"], *credentials.secrets)


def test_everything_from_environment_variables(ansible, credentials, emulator, origin, save, requests_for, token_owner, check_jwts):
    env = {
        "AEM_IMS_CLIENT_ID": credentials.client_id,
        "AEM_IMS_CLIENT_SECRET": credentials.integration["client_secrets"][0],
        "AEM_IMS_ORG_ID": credentials.integration["org_id"],
        "AEM_IMS_TECHNICAL_ACCOUNT_ID": credentials.integration["technical_account_id"],
        "AEM_IMS_PRIVATE_KEY": credentials.integration["private_key_pem"],
        "AEM_IMS_METASCOPES": "ent_aem_cloud_api",
        "AEM_IMS_ENDPOINT": emulator.endpoint,
        "AEM_IMS_CA_PATH": emulator.ca_path,
        # Proves that cache comes from the environment too: two tasks, two exchanges.
        "AEM_IMS_CACHE": "off",
    }
    run = ansible.run(
        PLAY
        + """
    - name: Everything from AEM_IMS_* environment variables
      aemops.ims.aem_ims_token:
      register: first

    - name: Again
      aemops.ims.aem_ims_token:
      register: second
"""
        + save("{'first': first, 'second': second}"),
        env=env,
    )
    run.assert_ok()
    result = run.result_file()
    first, second = result["first"], result["second"]
    for item in (first, second):
        assert item["client_id"] == credentials.client_id
        assert item["credentials_format"] == "options"
        assert item["ims_endpoint"] == origin
        assert item["cached"] is False
        assert token_owner(item["access_token"]) == credentials.client_id
    assert first["access_token"] != second["access_token"]
    assert requests_for(credentials.client_id) == 2
    check_jwts(credentials, count=2)
    run.assert_no_secrets(first["access_token"], second["access_token"], *credentials.secrets)


def test_encrypted_pkcs1_and_pkcs8_keys_and_a_plain_pkcs8_key(ansible, make_credentials, emulator, save, requests_for, token_owner, check_jwts):
    pkcs1 = make_credentials(key_format="pkcs1", passphrase="pp1-" + random.token_urlsafe(12))
    pkcs8 = make_credentials(key_format="pkcs8", passphrase="pp8-" + random.token_urlsafe(12))
    plain8 = make_credentials(key_format="pkcs8")
    # The emulator made the keys that are being tested.
    assert "BEGIN RSA PRIVATE KEY" in pkcs1.integration["private_key_pem"] and "Proc-Type: 4,ENCRYPTED" in pkcs1.integration["private_key_pem"]
    assert "BEGIN ENCRYPTED PRIVATE KEY" in pkcs8.integration["private_key_pem"]
    assert "BEGIN PRIVATE KEY" in plain8.integration["private_key_pem"]

    def drop_key(document):
        del document["integration"]["privateKey"]

    extra_vars = {"ca_path": emulator.ca_path, "plain8_file": str(plain8.write()), "endpoint": emulator.endpoint}
    for name, created in (("pkcs1", pkcs1), ("pkcs8", pkcs8)):
        extra_vars[name + "_file"] = str(created.write(name="without-key.json", transform=drop_key))
        extra_vars[name + "_key"] = str(created.write_private_key())
    task = """
    - name: {name} key from private_key_file with its passphrase
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{{{ {name}_file }}}}"
        private_key_file: "{{{{ {name}_key }}}}"
        private_key_passphrase: "{{{{ {name}_passphrase }}}}"
        ims_endpoint: "{{{{ endpoint }}}}"
        ca_path: "{{{{ ca_path }}}}"
      register: {name}
      ignore_errors: true
"""
    run = ansible.run(
        PLAY
        + task.format(name="pkcs1")
        + task.format(name="pkcs8")
        + """
    - name: Unencrypted PKCS#8 key in the service credentials
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ plain8_file }}"
        ca_path: "{{ ca_path }}"
      register: plain8
"""
        + save("{'pkcs1': pkcs1, 'pkcs8': pkcs8, 'plain8': plain8}"),
        extra_vars=extra_vars,
        secret_vars={"pkcs1_passphrase": pkcs1.integration["passphrase"], "pkcs8_passphrase": pkcs8.integration["passphrase"]},
    )
    run.assert_ok()
    result = run.result_file()
    tokens, problems = [], []
    for name, created in (("pkcs1", pkcs1), ("pkcs8", pkcs8), ("plain8", plain8)):
        item = result[name]
        if "access_token" not in item:
            problems.append("%s: no token: %s" % (name, item.get("msg")))
            continue
        assert item["client_id"] == created.client_id, name
        assert item["cached"] is False
        assert token_owner(item["access_token"]) == created.client_id, name
        assert requests_for(created.client_id) == 1, name
        check_jwts(created, count=1)
        tokens.append(item["access_token"])
    run.assert_no_secrets(*tokens, *pkcs1.secrets, *pkcs8.secrets, *plain8.secrets)
    # Each key is tried in its own task, so that one broken format does not hide the others.
    assert not problems, "\n".join(problems)


def test_run_once_register_gives_every_host_the_same_token(ansible, credentials, emulator, save, requests_for, token_owner):
    hosts = 24
    run = ansible.run(
        PLAY
        + """
    - name: One token for the whole play
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
      register: tok
      run_once: true

    - name: Every host sees the token of the first host
      ansible.builtin.assert:
        that:
          - tok.access_token is defined
          - tok.access_token | length > 100
          - tok.access_token == hostvars[ansible_play_hosts_all[0]].tok.access_token
        quiet: true
      no_log: true

    - name: Each host's copy of the token, for the test
      ansible.builtin.set_fact:
        seen: "{{ tok.access_token }}"
      no_log: true
"""
        + save("{'hosts': ansible_play_hosts_all, 'tokens': ansible_play_hosts_all | map('extract', hostvars, 'seen') | list}"),
        hosts=hosts,
        forks=10,
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert len(result["hosts"]) == hosts
    assert len(result["tokens"]) == hosts and len(set(result["tokens"])) == 1
    token = result["tokens"][0]
    assert token_owner(token) == credentials.client_id
    # Every host passed the per-host assertion.
    recap = re.findall(r"^(host\d{3})\s+: ok=(\d+) .*failed=(\d+)", run.stdout, re.MULTILINE)
    assert len(recap) == hosts and all(failed == "0" and int(ok) >= 2 for _host, ok, failed in recap)
    assert requests_for(credentials.client_id) == 1
    run.assert_no_secrets(token, *credentials.secrets)


def test_check_mode_returns_a_real_token(ansible, credentials, emulator, save, requests_for, token_owner):
    run = ansible.run(
        PLAY
        + """
    - name: Get a token in check mode
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
      register: tok
"""
        + save("{'tok': tok, 'check_mode': ansible_check_mode}"),
        check=True,
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    assert result["check_mode"] is True
    tok = result["tok"]
    assert tok["changed"] is False
    assert tok["cached"] is False
    assert token_owner(tok["access_token"]) == credentials.client_id
    assert requests_for(credentials.client_id) == 1
    assert re.search(r"^host001\s+: ok=\d+ +changed=0 ", run.stdout, re.MULTILINE)
    run.assert_no_secrets(tok["access_token"], *credentials.secrets)


def test_loop_results_are_hidden_and_registered(ansible, make_credentials, emulator, save, requests_for, token_owner, core_line):
    created = [make_credentials() for _index in range(3)]
    files = [str(item.write()) for item in created]
    run = ansible.run(
        PLAY
        + """
    - name: One token per credentials file
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ item }}"
        ca_path: "{{ ca_path }}"
      loop: "{{ files }}"
      register: looped
"""
        + save("looped.results"),
        extra_vars={"files": files, "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    results = run.result_file()
    assert len(results) == 3
    tokens = [item["access_token"] for item in results]
    assert len(set(tokens)) == 3
    for item, credentials, path in zip(results, created, files, strict=True):
        assert item["item"] == path
        assert item["client_id"] == credentials.client_id
        assert token_owner(item["access_token"]) == credentials.client_id
        assert requests_for(credentials.client_id) == 1
    # Each item's line hides the item and the result: 2.19+ labels the item "(censored due to
    # no_log)", older lines "None", with a censored result.
    hidden_item = "(item=(censored due to no_log))" if core_line >= (2, 19) else '(item=None) => {\n    "censored": '
    assert run.stdout.count(hidden_item) == 3
    secrets = [secret for credentials in created for secret in credentials.secrets]
    run.assert_no_secrets(*tokens, *secrets)


def test_failures_have_exact_one_line_messages_and_leak_nothing(
    ansible, credentials, make_credentials, emulator, origin, save, expect_failure, requests_for, token_owner, tmp_path, core_line
):
    """Each way of failing, in one run: the exact message, in the output and in register; no secret anywhere."""
    main = credentials
    main_file = str(credentials.files["aem_service_credentials"])
    other = make_credentials()
    mismatched = make_credentials()
    expired = make_credentials(cert_days_valid=-1)
    expiring = make_credentials(cert_days_valid=10)
    encrypted = make_credentials(key_format="pkcs8", passphrase="pp-" + random.token_urlsafe(12))
    wrong_secret = "p8e-" + random.token_urlsafe(24)
    wrong_passphrase = "wrong-" + random.token_urlsafe(12)

    def drop_secret(document):
        del document["integration"]["technicalAccount"]["clientSecret"]

    def damage_key(document):
        lines = document["integration"]["privateKey"].split("\r\n")
        del lines[5:12]
        document["integration"]["privateKey"] = "\r\n".join(lines)

    def other_key_and_certificate(document):
        document["integration"]["privateKey"] = _aem(other)["privateKey"]
        document["integration"]["publicKey"] = _aem(other)["publicKey"]

    def other_key_only(document):
        document["integration"]["privateKey"] = _aem(other)["privateKey"]

    def drop_key(document):
        del document["integration"]["privateKey"]

    files = {
        "no_secret": credentials.write(name="no-secret.json", transform=drop_secret),
        "damaged_key": credentials.write(name="damaged-key.json", transform=damage_key),
        "foreign_key": credentials.write(name="foreign-key-and-certificate.json", transform=other_key_and_certificate),
        "mismatch": mismatched.write(name="mismatched-key.json", transform=other_key_only),
        "expired": expired.write(),
        "expiring": expiring.write(),
        "encrypted": encrypted.write(name="without-key.json", transform=drop_key),
        "encrypted_key": encrypted.write_private_key(),
        "missing": tmp_path / "no-such-dir" / "credentials.json",
        "directory": tmp_path,
        "not_json": tmp_path / "not-json.json",
        "not_utf8": tmp_path / "not-utf8.json",
    }
    files["not_json"].write_text("this is not json\n", encoding="utf-8")
    files["not_utf8"].write_bytes(b"\xff\xfe\x00{\x00}")
    extra_vars = {name: str(path) for name, path in files.items()}
    extra_vars.update(main_file=main_file, ca_path=emulator.ca_path, endpoint=emulator.endpoint)

    def failing(name, args, keywords=""):
        lines = "".join("\n        %s: %s" % (key, value) for key, value in args.items())
        return """
    - name: Fails - {name}
      aemops.ims.aem_ims_token:{lines}
      register: r_{name}
      ignore_errors: true{keywords}
""".format(name=name, lines=lines, keywords=keywords)

    ca = {"ca_path": '"{{ ca_path }}"'}
    # A key or secret from an option goes only to an explicit ims_endpoint (the file names the emulator's).
    net = {"ims_endpoint": '"{{ endpoint }}"'}
    playbook = PLAY + "".join(
        (
            failing("no_secret", dict(service_credentials_file='"{{ no_secret }}"', **ca)),
            failing("missing", dict(service_credentials_file='"{{ missing }}"', **ca)),
            failing("directory", dict(service_credentials_file='"{{ directory }}"', **ca)),
            failing("not_json", dict(service_credentials_file='"{{ not_json }}"', **ca)),
            failing("not_utf8", dict(service_credentials_file='"{{ not_utf8 }}"', **ca)),
            failing("damaged_key", dict(service_credentials_file='"{{ damaged_key }}"', **ca)),
            failing(
                "wrong_passphrase",
                dict(
                    service_credentials_file='"{{ encrypted }}"',
                    private_key_file='"{{ encrypted_key }}"',
                    private_key_passphrase='"{{ wrong_passphrase }}"',
                    **ca,
                    **net,
                ),
            ),
            failing("no_passphrase", dict(service_credentials_file='"{{ encrypted }}"', private_key_file='"{{ encrypted_key }}"', **ca, **net)),
            failing("unreachable", dict(service_credentials_file='"{{ main_file }}"', ims_endpoint="127.0.0.1:1", cache='"off"', retries=1, **ca)),
            failing("wrong_secret", dict(service_credentials_file='"{{ main_file }}"', client_secret='"{{ wrong_secret }}"', **ca, **net)),
            failing("wrong_metascopes", dict(service_credentials_file='"{{ main_file }}"', metascopes="[ent_not_in_this_binding]", **ca)),
            failing("foreign_key", dict(service_credentials_file='"{{ foreign_key }}"', **ca)),
            failing("mismatch", dict(service_credentials_file='"{{ mismatch }}"', **ca)),
            failing("expired", dict(service_credentials_file='"{{ expired }}"', **ca)),
            failing("no_ca_path", dict(service_credentials_file='"{{ main_file }}"', cache='"off"')),
            failing("async", dict(service_credentials_file='"{{ main_file }}"', **ca), keywords="\n      async: 10\n      poll: 2"),
        )
    )
    playbook += """
    - name: A certificate that expires in 10 days still gives a token, with a warning
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ expiring }}"
        ca_path: "{{ ca_path }}"
      register: r_expiring
"""
    names = [
        "no_secret",
        "missing",
        "directory",
        "not_json",
        "not_utf8",
        "damaged_key",
        "wrong_passphrase",
        "no_passphrase",
        "unreachable",
        "wrong_secret",
        "wrong_metascopes",
        "foreign_key",
        "mismatch",
        "expired",
        "no_ca_path",
        "async",
    ]
    playbook += save("{%s, 'expiring': r_expiring}" % ", ".join("'%s': r_%s" % (name, name) for name in names))
    run = ansible.run(playbook, extra_vars=extra_vars, secret_vars={"wrong_secret": wrong_secret, "wrong_passphrase": wrong_passphrase})
    run.assert_ok()
    result = run.result_file()

    expected = {
        "no_secret": "client_secret is missing: looked in the client_secret option or AEM_IMS_CLIENT_SECRET and "
        "integration.technicalAccount.clientSecret in the service credentials file %s" % files["no_secret"],
        "missing": "service credentials file %s (from the task argument service_credentials_file) does not exist" % files["missing"],
        "directory": "service credentials file %s is a directory, not a file" % files["directory"],
        "not_json": "service credentials file %s is not valid JSON: Expecting value (line 1, column 1)" % files["not_json"],
        "not_utf8": "service credentials file %s is not UTF-8 text" % files["not_utf8"],
        "damaged_key": "the private key from integration.privateKey in the service credentials file %s could not be loaded: "
        "the PEM body is damaged or not a supported key" % files["damaged_key"],
        "wrong_passphrase": (
            "private_key_passphrase is wrong or the PEM is damaged: the private key from private_key_file %s could not be decrypted" % files["encrypted_key"]
        ),
        "no_passphrase": "the private key from private_key_file %s is encrypted: set private_key_passphrase (or AEM_IMS_PRIVATE_KEY_PASSPHRASE)"
        % files["encrypted_key"],
        # How long it tried is in the message (issue 21), and not for a test to pin.
        "unreachable": re.compile(
            re.escape("could not connect to IMS at https://127.0.0.1:1: connection refused (gave up after 2 attempts") + r" in [0-9]+\.[0-9] s\)"
        ),
        "mismatch": "the private key from integration.privateKey in the service credentials file {0} does not match the certificate in "
        "publicKey of the service credentials file {0}: they belong to different integrations or key rotations; download the service "
        "credentials again, or use the matching private key".format(files["mismatch"]),
        "expired": "the certificate of the service credentials file %s expired on %s: IMS will reject every JWT. In the AEM Developer "
        "Console add a new certificate (or private key) for this technical account and download the service credentials again"
        % (files["expired"], _certificate_date(expired)),
        "no_ca_path": "TLS certificate problem talking to %s: certificate verify failed: unable to get local issuer certificate. If IMS is "
        "reached through a TLS-inspecting proxy or a private CA, set ca_path to that CA bundle" % origin,
        # ansible-core's own words, which 2.17 changed.
        "async": "This action (aemops.ims.aem_ims_token) does not support async." if core_line >= (2, 17) else "async is not supported for this task.",
    }
    patterns = {
        "wrong_secret": "IMS rejected the JWT exchange: HTTP 401 invalid_client: invalid client_secret parameter %s. "
        "Hint: the client_secret is wrong, or was rotated out in the Developer Console",
        "wrong_metascopes": "IMS rejected the JWT exchange: HTTP 400 invalid_scope: The metascopes in the JWT are not a subset of the "
        "metascopes in the binding %s. Hint: the metascopes or scopes do not match those of the integration; copy them from the credentials",
        "foreign_key": "IMS rejected the JWT exchange: HTTP 400 invalid_token: Could not match JWT signature to any of the bindings %s. "
        "Hint: the private key does not belong to this integration, or its certificate expired or was revoked in the AEM Developer "
        "Console; download the service credentials again",
    }
    debug_id = r"\(x-debug-id [0-9a-f-]{36}\)"
    problems = []
    for name in names:
        registered = result[name]
        if registered.get("failed") is not True or "access_token" in registered:
            problems.append("%s: did not fail: %r" % (name, sorted(registered)))
            continue
        if name in expected:
            wanted = expected[name]
            if not (wanted.fullmatch(registered["msg"]) if isinstance(wanted, re.Pattern) else registered["msg"] == wanted):
                problems.append("%s:\n  expected %s\n  got      %s" % (name, expected[name], registered["msg"]))
                continue
            try:
                expect_failure(run, expected[name])
            except AssertionError as error:
                problems.append("%s: %s" % (name, error))
        else:
            pattern = re.compile(re.escape(patterns[name]).replace(re.escape("%s"), debug_id))
            if not pattern.fullmatch(registered["msg"]):
                problems.append("%s:\n  expected %s\n  got      %s" % (name, patterns[name], registered["msg"]))
                continue
            try:
                expect_failure(run, pattern)
            except AssertionError as error:
                problems.append("%s: %s" % (name, error))
    assert not problems, "\n".join(problems)

    # Which failures reached IMS: only the three IMS rejections of the main integration.
    assert requests_for(main.client_id) == 3
    assert requests_for(other.client_id) == 0
    # Local checks come before any request.
    assert requests_for(mismatched.client_id) == 0
    assert requests_for(expired.client_id) == 0
    assert requests_for(encrypted.client_id) == 0

    # Expiring in 10 days: a token, and a warning naming the date.
    token = result["expiring"]["access_token"]
    assert token_owner(token) == expiring.client_id
    assert result["expiring"]["certificate_expires_at"] == _certificate_date(expiring)
    warning = (
        r"\[WARNING\]: aemops\.ims\.aem_ims_token: the certificate of the service credentials file %s expires on %s \(in (9|10) days\): "
        r"add a new certificate for this technical account in the AEM Developer Console and download the service credentials again before then"
        % (re.escape(str(files["expiring"])), re.escape(_certificate_date(expiring)))
    )
    stderr = run.stderr
    if core_line < (2, 19):
        # Before 2.19 ansible-core wraps a warning at 79 columns, splitting long paths anywhere:
        # compare without whitespace there.
        warning, stderr = warning.replace(" ", ""), re.sub(r"\s+", "", stderr)
    warning = re.search(warning, stderr)
    assert warning, "no certificate expiry warning on stderr"
    assert requests_for(expiring.client_id) == 1

    secrets = [wrong_secret, wrong_passphrase]
    for created in (main, other, mismatched, expired, expiring, encrypted):
        secrets.extend(created.secrets)
    run.assert_no_secrets(token, *secrets)


def test_a_ca_path_that_does_not_exist_is_named_in_the_failure(ansible, credentials, save, expect_failure, requests_for, tmp_path):
    """A typo in ca_path is a user error like any other: a one-line message naming ca_path and the path."""
    missing = tmp_path / "no-such-dir" / "ca.pem"
    run = ansible.run(
        PLAY
        + """
    - name: ca_path names a file that does not exist
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ missing_ca }}"
        cache: "off"
      register: bad_ca
      ignore_errors: true
"""
        + save("bad_ca"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "missing_ca": str(missing)},
    )
    run.assert_ok()
    result = run.result_file()
    assert result["failed"] is True and "access_token" not in result
    message = result["msg"]
    expect_failure(run, message)
    assert "unexpected internal error" not in message, message
    assert "ca_path" in message and str(missing) in message, message
    assert requests_for(credentials.client_id) == 0
    run.assert_no_secrets(*credentials.secrets)
