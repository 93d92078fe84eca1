# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The leak suite: every success and failure path, at -vvvv with log_path, under several output settings.

For each run, none of these may appear in stdout, stderr or the Ansible log: a client secret
(right or wrong), any line of a private key body, a passphrase (right or wrong), the signed
JWT or any access token (nothing JWT-shaped at all), a proxy password (right or wrong).
Secrets never appear in playbook source: they come from a 0600 extra-vars file or from files.

Output settings: the default callback with ANSIBLE_DISPLAY_ARGS_TO_STDOUT=1 (task arguments
in the banners), ansible.builtin.minimal and ansible.builtin.oneline. Also checked: the token
cache files (persistent cache_dir and the run cache), the fact cache (jsonfile), and that no
module runs on the target for this task (nothing for syslog/journal to log).
"""

from __future__ import annotations

import json
import os
import re
import secrets as random
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from ansible_collections.aemops.ims.tests.support.plays import PLAY, lookup_task, module_task

# DISPLAY_ARGS_TO_STDOUT only adds each task's arguments to its banner in the default
# callback: that output holds everything the plain default callback prints, so one run
# checks both.
OUTPUTS = {
    "default_with_args": {"ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "1"},
    "minimal": {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal"},
    "oneline": {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.oneline"},
}


@dataclass
class World:
    """The integrations, files and variables every leak run uses."""

    extra_vars: dict = field(default_factory=dict)
    secret_vars: dict = field(default_factory=dict)
    secrets: list = field(default_factory=list)
    integrations: dict = field(default_factory=dict)


@pytest.fixture
def world(make_credentials, emulator, connect_proxy, tmp_path):
    proxy, user, password = connect_proxy
    passphrase = "pp-" + random.token_urlsafe(12)
    made = {
        "aem": make_credentials(),
        "console_jwt": make_credentials(),
        "console_oauth": make_credentials(kind="oauth"),
        "flat": make_credentials(kind="oauth"),
        "aio_jwt": make_credentials(key_format="pkcs8", passphrase=passphrase),
        "aio_oauth": make_credentials(kind="oauth", client_secrets=2),
        "other": make_credentials(),
    }
    aem = made["aem"]
    shipped = aem.integration["formats"]["aem_service_credentials"]["integration"]["privateKey"]
    lines = shipped.split("\r\n")

    def damaged(document):
        document["integration"]["privateKey"] = "\r\n".join(lines[:5] + lines[12:])

    def truncated(document):
        document["integration"]["privateKey"] = "\r\n".join(lines[:-8])

    def foreign(document):
        other = made["other"].integration["formats"]["aem_service_credentials"]["integration"]
        document["integration"]["privateKey"] = other["privateKey"]
        document["integration"]["publicKey"] = other["publicKey"]

    def without_key(document):
        del document["integration"]["privateKey"]

    encrypted_doc_file = made["aio_jwt"].write("aem_service_credentials", name="without-key.json", transform=without_key)
    wrong_secret = "p8e-" + random.token_urlsafe(24)
    wrong_passphrase = "wrong-" + random.token_urlsafe(12)
    wrong_proxy_password = "pxwrong-" + random.token_urlsafe(12)
    socks_password = "S0cks@" + random.token_urlsafe(12)
    # A client secret whose URL-encoded and JSON-escaped forms differ from it, for the echoing server.
    odd_secret = 'p8e-"Quoted\\Slash+Plus/Amp&Eq= Space' + random.token_urlsafe(8)
    inline = aem.integration["formats"]["aem_service_credentials"]
    inline_bad_type = json.loads(json.dumps(inline))
    inline_bad_type["integration"]["technicalAccount"]["clientId"] = 12345
    damaged_pem = "\n".join(aem.integration["private_key_pem"].split("\n")[:5] + aem.integration["private_key_pem"].split("\n")[12:])
    result = World(integrations=made)
    result.extra_vars = {
        "ca_path": emulator.ca_path,
        "ims_endpoint": emulator.endpoint,
        "emulator_origin": emulator.origin,
        "aem_file": str(aem.write()),
        "console_jwt_file": str(made["console_jwt"].write("developer_console_project")),
        "console_jwt_key": str(made["console_jwt"].write_private_key()),
        "console_oauth_file": str(made["console_oauth"].write("developer_console_project")),
        "flat_file": str(made["flat"].write("oauth_s2s_flat")),
        "aio_jwt_file": str(made["aio_jwt"].write("aio_context")),
        "aio_oauth_file": str(made["aio_oauth"].write("aio_context")),
        "damaged_file": str(aem.write(name="damaged.json", transform=damaged)),
        "truncated_file": str(aem.write(name="truncated.json", transform=truncated)),
        "foreign_file": str(aem.write(name="foreign.json", transform=foreign)),
        "encrypted_doc_file": str(encrypted_doc_file),
        "encrypted_key": str(made["aio_jwt"].write_private_key("encrypted.key")),
        "aem_key": str(aem.write_private_key()),
        "persistent_dir": str(tmp_path / "persistent-cache"),
    }
    result.secret_vars = {
        "wrong_secret": wrong_secret,
        "wrong_passphrase": wrong_passphrase,
        "inline_broken": json.dumps(inline)[:-40],
        "inline_bad_type": inline_bad_type,
        "damaged_pem": damaged_pem,
        "aem_private_key": aem.integration["private_key_pem"],
        "proxy_url": "http://%s:%s@127.0.0.1:%d" % (user, password, proxy.port),
        "wrong_proxy_url": "http://%s:%s@127.0.0.1:%d" % (user, wrong_proxy_password, proxy.port),
        "proxy_without_scheme": "%s:%s@127.0.0.1:%d" % (user, password, proxy.port),
        "socks_proxy_url": "socks5h://socksuser:%s@127.0.0.1:1080" % quote(socks_password, safe=""),
        "odd_secret": odd_secret,
    }
    # The leak check searches each in every form (URL-encoded, JSON-escaped...): tests/support/leak_check.py.
    result.secrets = [wrong_secret, wrong_passphrase, password, wrong_proxy_password, result.secret_vars["inline_broken"], socks_password, odd_secret]
    for integration in made.values():
        result.secrets.extend(integration.secrets)
    return result


# --- success paths ----------------------------------------------------------------------------

SHAPES = {
    # name: module options (values are Jinja expressions), lookup keywords
    "aem_jwt": ({"service_credentials_file": "aem_file"}, "service_credentials_file=aem_file"),
    "console_jwt": (
        {"service_credentials_file": "console_jwt_file", "private_key_file": "console_jwt_key", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=console_jwt_file, private_key_file=console_jwt_key, ims_endpoint=ims_endpoint",
    ),
    "console_s2s": (
        {"service_credentials_file": "console_oauth_file", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=console_oauth_file, ims_endpoint=ims_endpoint",
    ),
    "flat_s2s": ({"service_credentials_file": "flat_file", "ims_endpoint": "ims_endpoint"}, "service_credentials_file=flat_file, ims_endpoint=ims_endpoint"),
    "aio_jwt_passphrase": (
        {"service_credentials_file": "aio_jwt_file", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=aio_jwt_file, ims_endpoint=ims_endpoint",
    ),
    "aio_s2s": (
        {"service_credentials_file": "aio_oauth_file", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=aio_oauth_file, ims_endpoint=ims_endpoint",
    ),
    "options_only_inline_key": (
        {
            "client_id": "aem_client_id",
            "client_secret": "aem_client_secret",
            "org_id": "aem_org_id",
            "technical_account_id": "aem_technical_account_id",
            "private_key": "aem_private_key",
            "ims_endpoint": "ims_endpoint",
        },
        "client_id=aem_client_id, client_secret=aem_client_secret, org_id=aem_org_id, technical_account_id=aem_technical_account_id, "
        "private_key=aem_private_key, ims_endpoint=ims_endpoint",
    ),
    "inline_json_credentials": ({"service_credentials": "aem_inline"}, "service_credentials=aem_inline"),
    "proxy": ({"service_credentials_file": "aem_file", "proxy_url": "proxy_url"}, "service_credentials_file=aem_file, proxy_url=proxy_url"),
}


def _module(register, options, extra=None, failing=False):
    """The module with these options (values are Jinja expressions), ca_path, and extra options as written."""
    written = {key: '"{{ %s }}"' % value for key, value in options.items()}
    written["ca_path"] = '"{{ ca_path }}"'
    written.update(extra or {})
    return module_task("module " + register, written, register=register, failing=failing)


def _lookup(register, keywords, failing=False):
    return lookup_task("lookup " + register, keywords + ", ca_path=ca_path", register, failing=failing)


def _per_host(name):
    return "ansible_play_hosts_all | map('extract', hostvars, '%s') | list" % name


def success_playbook(save):
    """(playbook, names of the registered module results, names of the lookup facts, path labels)."""
    playbook, modules, lookups, paths = PLAY, [], [], []
    for shape, (options, keywords) in SHAPES.items():
        playbook += _module("m_%s_fresh" % shape, options, extra={"cache": '"off"'})
        playbook += _module("m_%s_run_cache" % shape, options)
        playbook += _module("m_%s_cached" % shape, options)
        playbook += _lookup("l_%s_fresh" % shape, keywords + ", cache='off'")
        playbook += _lookup("l_%s_cached" % shape, keywords)
        modules += ["m_%s_fresh" % shape, "m_%s_run_cache" % shape, "m_%s_cached" % shape]
        lookups += ["l_%s_fresh" % shape, "l_%s_cached" % shape]
        paths += ["module/%s/fresh" % shape, "module/%s/cached" % shape, "lookup/%s/fresh" % shape, "lookup/%s/cached" % shape]
    playbook += """
    - name: module in check mode
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aem_file }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      check_mode: true
      register: m_check_mode

    - name: lookup in check mode
      ansible.builtin.set_fact:
        l_check_mode: "{{ lookup('aemops.ims.aem_ims_token', aem_file, ca_path=ca_path, cache='off') }}"
      check_mode: true
      no_log: true

    - name: module in a loop
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ item.file }}"
        ims_endpoint: "{{ item.endpoint | default(omit) }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      loop:
        - {file: "{{ aem_file }}"}
        - {file: "{{ flat_file }}", endpoint: "{{ ims_endpoint }}"}
        - {file: "{{ aio_jwt_file }}", endpoint: "{{ ims_endpoint }}"}
      register: m_loop

    - name: lookup in a loop (query, one token per file)
      ansible.builtin.set_fact:
        l_loop: "{{ query('aemops.ims.aem_ims_token', aem_file, console_oauth_file, ims_endpoint=ims_endpoint, ca_path=ca_path, cache='off') }}"
      no_log: true
      ignore_errors: true

    - name: module with run_once
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aem_file }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      run_once: true
      register: m_run_once

    - name: module with a persistent cache_dir
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aio_jwt_file }}"
        ims_endpoint: "{{ ims_endpoint }}"
        cache: persistent
        cache_dir: "{{ persistent_dir }}"
        ca_path: "{{ ca_path }}"
      register: m_persistent

    - name: lookup with the persistent cache_dir
      ansible.builtin.set_fact:
        l_persistent: >-
          {{ lookup('aemops.ims.aem_ims_token', aio_jwt_file, ims_endpoint=ims_endpoint, cache='persistent',
          cache_dir=persistent_dir, ca_path=ca_path) }}
      no_log: true

    - name: The documented use, a lookup in the headers of a no_log uri task
      ansible.builtin.uri:
        url: "{{ emulator_origin }}/libs/granite/security/currentuser.json"
        headers:
          Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', aem_file, ca_path=ca_path) }}"
        ca_path: "{{ ca_path }}"
      no_log: true
      register: aem_call

    - name: Copy the run's token cache for inspection
      ansible.builtin.shell: "cp -r {{ workspace }}/ansible-tmp/ansible-local-*/aemops_ims_tokens {{ workspace }}/run-cache-copy"
      delegate_to: localhost
      run_once: true
      changed_when: false
"""
    modules += ["m_check_mode", "m_run_once", "m_persistent"]
    lookups += ["l_check_mode", "l_persistent"]
    paths += [
        "module/check_mode",
        "lookup/check_mode",
        "module/loop",
        "lookup/query_loop",
        "module/run_once",
        "module/persistent_cache",
        "lookup/persistent_cache",
        "lookup/uri_headers",
    ]
    saved = ", ".join("'%s': %s" % (name, _per_host(name)) for name in modules + lookups)
    playbook += save("{%s, 'm_loop': %s, 'l_loop': l_loop | default(None), 'aem': aem_call.json}" % (saved, _per_host("m_loop")))
    return playbook, modules, lookups, paths


def _tokens_of(result, modules, lookups):
    tokens = []
    for name in modules:
        tokens.extend(item["access_token"] for item in result[name] if isinstance(item, dict) and "access_token" in item)
    for name in lookups:
        tokens.extend(item for item in result[name] if isinstance(item, str))
    for per_host in result["m_loop"]:
        tokens.extend(item["access_token"] for item in per_host["results"] if "access_token" in item)
    tokens.extend(result["l_loop"] or [])
    return tokens


def _assert_cache_files_hold_no_secret(no_leaks, directory, secrets, expect_files=True):
    """Token cache files: 0600 in a 0700 directory, and never a client secret, passphrase or key line."""
    names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    entries = [name for name in names if name.endswith(".json")]
    if expect_files:
        assert entries, "no cache file in %s" % directory
    for name in names:
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8", errors="replace") as handle:
            content = handle.read()
        # The token is the point of a cache file; nothing else secret may be there.
        no_leaks(content, *secrets, where="the cache file %s" % name, allow_jwt_shaped=True)
        if name.endswith(".json"):
            entry = json.loads(content)
            assert not re.search(r"secret|private|passphrase|jwt_token|assertion", " ".join(entry)), sorted(entry)
    return entries


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_success_paths_leak_nothing(output, ansible, world, fresh_emulator, ledger, tmp_path, no_leaks, save):
    aem = world.integrations["aem"]
    extra_vars = dict(
        world.extra_vars, aem_client_id=aem.client_id, aem_org_id=aem.integration["org_id"], aem_technical_account_id=aem.integration["technical_account_id"]
    )
    secret_vars = dict(
        world.secret_vars, aem_client_secret=aem.integration["client_secrets"][0], aem_inline=json.dumps(aem.integration["formats"]["aem_service_credentials"])
    )
    playbook, modules, lookups, paths = success_playbook(save)
    run = ansible.run(playbook, hosts=2, forks=2, extra_vars=extra_vars, secret_vars=secret_vars, env=OUTPUTS[output])
    run.assert_ok()
    result = run.result_file()
    tokens = _tokens_of(result, modules, lookups)
    # Every registered module result and every lookup produced a token, on both hosts (run_once: the same one).
    assert len(result["m_run_once"]) == 2 and result["m_run_once"][0]["access_token"] == result["m_run_once"][1]["access_token"]
    for name in modules:
        assert all("access_token" in item for item in result[name]), name
    for name in lookups:
        assert all(isinstance(item, str) and item.count(".") == 2 for item in result[name]), name
    assert len(result["l_loop"] or []) == 2, "query over two files"
    assert result["aem"]["clientId"] == aem.client_id
    assert len(tokens) > 60
    ledger(output, ["success:" + path for path in paths])
    run.assert_no_secrets(*set(tokens), *world.secrets)
    # Token cache files: the persistent cache_dir and this run's cache.
    cache_secrets = [secret for secret in world.secrets if secret]
    _assert_cache_files_hold_no_secret(no_leaks, world.extra_vars["persistent_dir"], cache_secrets)
    _assert_cache_files_hold_no_secret(no_leaks, str(run.workspace / "run-cache-copy"), cache_secrets)
    mode = stat.S_IMODE(os.stat(world.extra_vars["persistent_dir"]).st_mode)
    assert mode == 0o700, oct(mode)
    for name in os.listdir(world.extra_vars["persistent_dir"]):
        assert stat.S_IMODE(os.stat(os.path.join(world.extra_vars["persistent_dir"], name)).st_mode) == 0o600, name
    # The run cache went away with the run.
    assert not list((run.workspace / "ansible-tmp").glob("ansible-local-*/aemops_ims_tokens"))


# --- failure paths ----------------------------------------------------------------------------

FAILURES = [
    # (name, module options, lookup keywords, faults queued right before the module and again before the lookup)
    (
        "wrong_passphrase",
        {
            "service_credentials_file": "encrypted_doc_file",
            "private_key_file": "encrypted_key",
            "private_key_passphrase": "wrong_passphrase",
            "ims_endpoint": "ims_endpoint",
        },
        "service_credentials_file=encrypted_doc_file, private_key_file=encrypted_key, private_key_passphrase=wrong_passphrase, ims_endpoint=ims_endpoint",
        None,
    ),
    ("damaged_pem_file", {"service_credentials_file": "damaged_file"}, "service_credentials_file=damaged_file", None),
    ("truncated_pem_file", {"service_credentials_file": "truncated_file"}, "service_credentials_file=truncated_file", None),
    (
        "damaged_pem_inline",
        {"service_credentials_file": "aem_file", "private_key": "damaged_pem", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=aem_file, private_key=damaged_pem, ims_endpoint=ims_endpoint",
        None,
    ),
    ("broken_inline_json", {"service_credentials": "inline_broken"}, "service_credentials=inline_broken", None),
    ("inline_wrong_type", {"service_credentials": "inline_bad_type"}, "service_credentials=inline_bad_type", None),
    (
        "both_private_keys",
        {"service_credentials_file": "aem_file", "private_key": "aem_private_key", "private_key_file": "aem_key"},
        "service_credentials_file=aem_file, private_key=aem_private_key, private_key_file=aem_key",
        None,
    ),
    (
        "proxy_url_malformed",
        {"service_credentials_file": "aem_file", "proxy_url": "proxy_without_scheme"},
        "service_credentials_file=aem_file, proxy_url=proxy_without_scheme",
        None,
    ),
    (
        "ims_wrong_client_secret_jwt",
        {"service_credentials_file": "aem_file", "client_secret": "wrong_secret", "ims_endpoint": "ims_endpoint"},
        "service_credentials_file=aem_file, client_secret=wrong_secret, ims_endpoint=ims_endpoint",
        None,
    ),
    # A credentials file's endpoint does not get a secret from elsewhere (issue 11): refused before any request.
    (
        "endpoint_not_trusted_with_an_outside_secret",
        {"service_credentials_file": "aem_file", "client_secret": "wrong_secret"},
        "service_credentials_file=aem_file, client_secret=wrong_secret",
        None,
    ),
    (
        "ims_wrong_client_secret_s2s",
        {"service_credentials_file": "flat_file", "ims_endpoint": "ims_endpoint", "client_secret": "wrong_secret"},
        "service_credentials_file=flat_file, ims_endpoint=ims_endpoint, client_secret=wrong_secret",
        None,
    ),
    (
        "ims_invalid_scope",
        {"service_credentials_file": "aem_file", "metascopes": "['ent_not_in_the_binding']"},
        "service_credentials_file=aem_file, metascopes=['ent_not_in_the_binding']",
        None,
    ),
    ("ims_foreign_key", {"service_credentials_file": "foreign_file"}, "service_credentials_file=foreign_file", None),
    ("tls_no_ca_path", {"service_credentials_file": "aem_file", "ca_path": "omit"}, "service_credentials_file=aem_file, ca_path=None", None),
    (
        "unreachable",
        {"service_credentials_file": "aem_file", "ims_endpoint": "'127.0.0.1:1'", "retries": "0"},
        "service_credentials_file=aem_file, ims_endpoint='127.0.0.1:1', retries=0",
        None,
    ),
    ("fault_503", {"service_credentials_file": "aem_file", "retries": "0"}, "service_credentials_file=aem_file, retries=0", [{"status": 503}]),
    ("fault_500", {"service_credentials_file": "aem_file", "retries": "0"}, "service_credentials_file=aem_file, retries=0", [{"status": 500}]),
    (
        "fault_html_502",
        {"service_credentials_file": "aem_file", "retries": "0"},
        "service_credentials_file=aem_file, retries=0",
        [{"status": 502, "html": True}],
    ),
    (
        "fault_429_long",
        {"service_credentials_file": "aem_file", "retries": "1"},
        "service_credentials_file=aem_file, retries=1",
        [{"status": 429, "retry_after": "3600"}],
    ),
    ("fault_drop", {"service_credentials_file": "aem_file", "retries": "0"}, "service_credentials_file=aem_file, retries=0", [{"drop": True}]),
    (
        "fault_hang",
        {"service_credentials_file": "aem_file", "retries": "0", "timeout": "1"},
        "service_credentials_file=aem_file, retries=0, timeout=1",
        [{"hang": True}],
    ),
    ("fault_echoes_secrets", {"service_credentials_file": "aem_file", "retries": "0"}, "service_credentials_file=aem_file, retries=0", "echo"),
    (
        "socks_proxy",
        {"service_credentials_file": "aem_file", "proxy_url": "socks_proxy_url"},
        "service_credentials_file=aem_file, proxy_url=socks_proxy_url",
        None,
    ),
    (
        "fault_drip",
        {"service_credentials_file": "aem_file", "retries": "0", "timeout": "2"},
        "service_credentials_file=aem_file, retries=0, timeout=2",
        [{"drip": 0.5}],
    ),
    (
        "fault_echoes_the_form",
        {"service_credentials_file": "aem_file", "ims_endpoint": "ims_endpoint", "client_secret": "odd_secret", "retries": "0"},
        "service_credentials_file=aem_file, ims_endpoint=ims_endpoint, client_secret=odd_secret, retries=0",
        [{"echo": "form"}],
    ),
    (
        "fault_echoes_the_fields_as_json",
        {"service_credentials_file": "aem_file", "ims_endpoint": "ims_endpoint", "client_secret": "odd_secret", "retries": "0"},
        "service_credentials_file=aem_file, ims_endpoint=ims_endpoint, client_secret=odd_secret, retries=0",
        [{"echo": "json"}],
    ),
    (
        "proxy_wrong_password",
        {"service_credentials_file": "aem_file", "proxy_url": "wrong_proxy_url"},
        "service_credentials_file=aem_file, proxy_url=wrong_proxy_url",
        None,
    ),
]


def _ordered_failures():
    """The failures whose requests consume queued faults first, in FAILURES order; then the others.

    The faults are queued from Python before the run, in the order these tasks make their
    requests (module, then lookup, one request each): nothing about them appears in the output.
    """
    return [item for item in FAILURES if item[3]] + [item for item in FAILURES if not item[3]]


def queued_faults(echo_faults):
    faults = []
    for _name, _options, _keywords, planned in _ordered_failures():
        if planned:
            planned = echo_faults if planned == "echo" else planned
            faults.extend(planned + planned)  # the module's request, then the lookup's
    return faults


def failure_playbook(save):
    playbook = PLAY
    for name, options, keywords, _faults in _ordered_failures():
        module_options = {key: value for key, value in options.items() if key != "ca_path"}
        ca = "" if options.get("ca_path") == "omit" else '\n        ca_path: "{{ ca_path }}"'
        lines = "".join('\n        %s: "{{ %s }}"' % (key, value) for key, value in module_options.items())
        playbook += """
    - name: module fails - {name}
      aemops.ims.aem_ims_token:{lines}{ca}
        cache: "off"
      register: m_{name}
      ignore_errors: true
""".format(name=name, lines=lines, ca=ca)
        lookup_ca = "" if options.get("ca_path") == "omit" else ", ca_path=ca_path"
        playbook += """
    - name: lookup fails - {name}
      ansible.builtin.set_fact:
        l_{name}: "{{{{ lookup('aemops.ims.aem_ims_token', {keywords}{lookup_ca}, cache='off') }}}}"
      register: lr_{name}
      ignore_errors: true
""".format(name=name, keywords=keywords.replace(", ca_path=None", ""), lookup_ca=lookup_ca)
    saved = ", ".join("'m_%s': m_%s, 'l_%s': lr_%s" % (item[0], item[0], item[0], item[0]) for item in FAILURES)
    playbook += save("{%s}" % saved)
    return playbook


def _logged_status(fault):
    """What the emulator's request log says for a request that consumed this fault."""
    if "status" in fault:
        return fault["status"]
    if fault.get("echo"):
        return 400
    return "dropped" if fault.get("drop") else "dripped" if fault.get("drip") else "hung"


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_failure_paths_leak_nothing(output, ansible, world, fresh_emulator, ledger, save):
    aem = world.integrations["aem"]
    # A misbehaving IMS (or proxy) that echoes the request's secrets back in its error answer.
    echoed = aem.integration["client_secrets"][0]
    echo_faults = [
        {
            "status": 400,
            "body": json.dumps({"error": "invalid_request", "error_description": "bad client_secret %s" % echoed}),
            "headers": {"x-debug-id": echoed},
        }
    ]
    emulator = fresh_emulator
    emulator.inject_faults(queued_faults(echo_faults))
    run = ansible.run(failure_playbook(save), extra_vars=world.extra_vars, secret_vars=world.secret_vars, env=OUTPUTS[output])
    run.assert_ok()
    result = run.result_file()
    problems = []
    # Each fault was consumed by the task it was queued for.
    log = [entry["status"] for entry in emulator.requests_log()]
    planned = [_logged_status(fault) for fault in queued_faults(echo_faults)]
    if log[: len(planned)] != planned:
        problems.append("the faults were not consumed as planned: %s, expected %s first" % (log, planned))
    for name, *_rest in FAILURES:
        if result["m_" + name].get("failed") is not True or "access_token" in result["m_" + name]:
            problems.append("module %s did not fail" % name)
        if result["l_" + name].get("failed") is not True:
            problems.append("lookup %s did not fail" % name)
        for key in ("m_", "l_"):
            message = result[key + name].get("msg") or ""
            if "\n" in message or "Traceback" in message:
                problems.append("%s%s: not one line: %s" % (key, name, message))
    assert "Traceback" not in run.output
    ledger(output, ["failure:%s:%s" % (plugin, item[0]) for item in FAILURES for plugin in ("module", "lookup")])
    run.assert_no_secrets(*world.secrets)
    assert not problems, "\n".join(problems)


# --- repeated failures -------------------------------------------------------------------------

REPEATED = "(the same error as an earlier task of this run; not retried"


def repeated_failures_playbook(save):
    """The module and the lookup, three times each, for a wrong secret and for an IMS answer that echoes a secret.

    Module and lookup are given the same options, so the first task meets the failure and the five
    others are given it again from the run's memory.
    """
    playbook = PLAY
    # The echo case first: its request takes the queued fault.
    cases = {
        "echoed": ('service_credentials_file: "{{ flat_file }}"\n        retries: 0', "flat_file, retries=0"),
        "wrong_secret": ('service_credentials_file: "{{ aem_file }}"\n        client_secret: "{{ wrong_secret }}"', "aem_file, client_secret=wrong_secret"),
    }
    saved = []
    for name, (module_options, lookup_options) in cases.items():
        for index in range(1, 4):
            playbook += """
    - name: module repeats - {name} {index}
      aemops.ims.aem_ims_token:
        {module_options}
        ca_path: "{{{{ ca_path }}}}"
        ims_endpoint: "{{{{ ims_endpoint }}}}"
      register: m_{name}_{index}
      ignore_errors: true
""".format(name=name, index=index, module_options=module_options)
            playbook += """
    - name: lookup repeats - {name} {index}
      ansible.builtin.set_fact:
        l_{name}_{index}: "{{{{ lookup('aemops.ims.aem_ims_token', service_credentials_file={lookup_options}, ca_path=ca_path, ims_endpoint=ims_endpoint) }}}}"
      register: lr_{name}_{index}
      ignore_errors: true
""".format(name=name, index=index, lookup_options=lookup_options)
            saved.append("'m_%s_%d': m_%s_%d, 'l_%s_%d': lr_%s_%d" % ((name, index) * 4))
    playbook += save("{%s}" % ", ".join(saved))
    return playbook


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_repeated_failures_leak_nothing(output, ansible, world, fresh_emulator, ledger, requests_for, save):
    flat = world.integrations["flat"]
    echoed = flat.integration["client_secrets"][0]
    # The one request of the echo case gets an answer that quotes the secret; the repeats reuse its (scrubbed) message.
    answer = json.dumps({"error": "invalid_request", "error_description": "bad client_secret %s" % echoed})
    fresh_emulator.inject_faults([{"status": 400, "body": answer, "headers": {"x-debug-id": echoed}}])
    run = ansible.run(repeated_failures_playbook(save), extra_vars=world.extra_vars, secret_vars=world.secret_vars, env=OUTPUTS[output])
    run.assert_ok()
    result = run.result_file()
    for name in ("wrong_secret", "echoed"):
        messages = [result["%s_%s_%d" % (plugin, name, index)].get("msg") or "" for index in range(1, 4) for plugin in ("m", "l")]
        assert all(result["%s_%s_%d" % (plugin, name, index)].get("failed") for index in range(1, 4) for plugin in ("m", "l"))
        assert sum(REPEATED in message for message in messages) == 5, "\n".join(messages)
    assert requests_for(world.integrations["aem"].client_id) == 1
    assert requests_for(flat.client_id) == 1
    assert "Traceback" not in run.output
    ledger(output, ["repeated-failure:%s:%s" % (plugin, name) for name in ("wrong_secret", "echoed") for plugin in ("module", "lookup")])
    run.assert_no_secrets(*world.secrets)


# --- the token's lifecycle -------------------------------------------------------------------

LIFECYCLE_TASK = """
    - name: lifecycle - {name}
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{{{ aem_file }}}}"
        ca_path: "{{{{ ca_path }}}}"
        ims_endpoint: "{{{{ ims_endpoint }}}}"
        cache: persistent
        cache_dir: "{{{{ persistent_dir }}}}"{options}
      register: {register}{extra}
"""


def lifecycle_playbooks(save):
    """Two runs: the first obtains a token kept across runs; between them the test invalidates it at IMS;
    the second finds it invalid and replaces it, confirms it through the lookup, and revokes tokens (once refused)."""
    first = PLAY + LIFECYCLE_TASK.format(name="obtain", options="\n        validate: true", register="first", extra="") + save("first")
    second = (
        PLAY
        + LIFECYCLE_TASK.format(name="find the cached token invalid, replace it", options="\n        validate: true", register="second", extra="")
        + """
    - name: lifecycle - the lookup takes the confirmed token
      ansible.builtin.set_fact:
        confirmed: "{{ lookup('aemops.ims.aem_ims_token', aem_file, ca_path=ca_path, ims_endpoint=ims_endpoint, cache='persistent',
          cache_dir=persistent_dir, validate=true) }}"
      no_log: true
"""
        + LIFECYCLE_TASK.format(
            name="revoke a registered token with a wrong secret",
            options='\n        client_secret: "{{ wrong_secret }}"\n        state: absent\n        access_token: "{{ second.access_token }}"',
            register="refused",
            extra="\n      ignore_errors: true",
        )
        + LIFECYCLE_TASK.format(name="revoke the cached token", options="\n        state: absent", register="revoked", extra="")
        + save("{'second': second, 'refused': refused, 'revoked': revoked}")
    )
    return first, second


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_lifecycle_paths_leak_nothing(output, ansible, world, fresh_emulator, ledger, token_owner, save):
    aem = world.integrations["aem"]
    first_play, second_play = lifecycle_playbooks(save)
    first = ansible.run(first_play, extra_vars=world.extra_vars, secret_vars=world.secret_vars, env=OUTPUTS[output])
    first.assert_ok()
    token = first.result_file()["access_token"]
    fresh_emulator.invalidate_token(aem.client_id, aem.integration["client_secrets"][0], token)
    second = ansible.run(second_play, extra_vars=world.extra_vars, secret_vars=world.secret_vars, env=OUTPUTS[output])
    second.assert_ok()
    result = second.result_file()
    assert result["second"]["replaced_invalid"] is True
    assert result["refused"]["failed"] is True and "invalid_client" in result["refused"]["msg"]
    assert (result["revoked"]["changed"], result["revoked"]["revoked"]) == (True, 1)
    assert token_owner(token) is None and token_owner(result["second"]["access_token"]) is None
    ledger(output, ["lifecycle:module:validate", "lifecycle:module:replace", "lifecycle:lookup:validate", "lifecycle:module:absent"])
    for run in (first, second):
        run.assert_no_secrets(*world.secrets)


# --- the fact cache ---------------------------------------------------------------------------


def test_fact_cache_holds_the_token_only_with_fact_name(ansible, world, fresh_emulator, ledger, record_property, no_leaks, save):
    """Documents (does not fail on) the token in the fact cache with fact_name; fails on anything else there."""
    facts_dir = ansible.workspace / "fact-cache"
    run = ansible.run(
        PLAY
        + """
    - name: module without fact_name, every host
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aem_file }}"
        ca_path: "{{ ca_path }}"
      register: plain

    - name: lookup into a (non-cacheable) fact, every host
      ansible.builtin.set_fact:
        looked_up: "{{ lookup('aemops.ims.aem_ims_token', aem_file, ca_path=ca_path) }}"
      no_log: true

    - name: module with fact_name, host002 only
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aem_file }}"
        ca_path: "{{ ca_path }}"
        fact_name: aem_token
      register: with_fact
      when: inventory_hostname == 'host002'
"""
        + save("{'plain': plain.access_token, 'looked_up': looked_up}"),
        hosts=2,
        forks=2,
        extra_vars=world.extra_vars,
        env={"ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts_dir)},
    )
    run.assert_ok()
    result = run.result_file()
    token = result["plain"]
    assert result["looked_up"] == token
    ledger("fact_cache", ["fact_cache:module", "fact_cache:lookup", "fact_cache:module_fact_name"])
    run.assert_no_secrets(token, *world.secrets)
    cached = {}
    for path in sorted(facts_dir.iterdir()) if facts_dir.is_dir() else ():
        # jsonfile names the files after the host (2.19: "s1_<host>") and may nest the facts as a JSON payload string.
        raw = path.read_text(encoding="utf-8")
        decoded = raw
        try:
            document = json.loads(raw)
            decoded = document.get("__payload__", raw) if isinstance(document, dict) else raw
        except ValueError:
            pass
        host = re.sub(r"^.*?(host\d{3})$", r"\1", path.name)
        cached[host] = raw + "\n" + decoded
    assert set(cached) <= {"host001", "host002"}, sorted(cached)
    assert "host002" in cached, "the jsonfile fact cache wrote no file for the host with fact_name"
    # Never a client secret, passphrase or key line in the fact cache, whatever the options.
    for name, content in cached.items():
        no_leaks(content, *world.secrets, where="the fact cache file %s" % name, allow_jwt_shaped=True)
    # Without fact_name the token is not in the fact cache.
    assert token not in cached.get("host001", ""), "the token reached the fact cache without fact_name"
    # With fact_name it is (ansible_facts are cacheable facts): documented in the module's fact_name option.
    documented = token in cached.get("host002", "")
    record_property("fact_cache_holds_token_with_fact_name", documented)
    print("\nfact cache: token %s in the jsonfile fact cache with fact_name (documented); absent without it" % ("present" if documented else "absent"))


# --- nothing runs on the target ---------------------------------------------------------------


def test_no_module_runs_on_the_target(ansible, world, fresh_emulator, ledger, record_property, no_leaks, save):
    """With ANSIBLE_KEEP_REMOTE_FILES=1 a module leaves its AnsiballZ file behind; aem_ims_token must leave none."""
    remote_tmp = ansible.workspace / "remote-tmp"
    started = time.time()
    run = ansible.run(
        PLAY
        + """
    - name: module
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ aem_file }}"
        ca_path: "{{ ca_path }}"
      register: tok

    - name: lookup
      ansible.builtin.set_fact:
        looked_up: "{{ lookup('aemops.ims.aem_ims_token', aem_file, ca_path=ca_path) }}"
      no_log: true

    - name: Control - a real module, which does run on the target
      ansible.builtin.ping:
"""
        + save("{'token': tok.access_token}"),
        extra_vars=world.extra_vars,
        env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(remote_tmp)},
    )
    run.assert_ok()
    token = run.result_file()["token"]
    kept = [path.name for path in remote_tmp.rglob("AnsiballZ_*")]
    # The control proves the check can see a module run...
    assert "AnsiballZ_ping.py" in kept, kept
    assert "AnsiballZ_ping.py" in run.stdout
    # ...and aem_ims_token never ran on the target: no module file, no transfer, no invocation to log.
    assert not [name for name in kept if "aem_ims_token" in name], kept
    assert "AnsiballZ_aem_ims_token" not in run.output
    journal = _journal_since(started)
    record_property("journal", "checked" if journal is not None else "not available")
    if journal is not None:
        assert "aem_ims_token" not in journal
        no_leaks(journal, token, *world.secrets, where="the journal", allow_jwt_shaped=True)
    for path in ("/var/log/syslog", "/var/log/messages"):
        if os.path.isfile(path) and os.access(path, os.R_OK):
            with open(path, encoding="utf-8", errors="replace") as handle:
                content = handle.read()
            assert "aem_ims_token" not in content or token not in content
            no_leaks(content, token, *world.secrets, where=path, allow_jwt_shaped=True)
    ledger("keep_remote_files", ["target:module", "target:lookup"])
    run.assert_no_secrets(token, *world.secrets)


def _journal_since(started):
    """The journal's messages since `started`, or None when there is no usable journal here."""
    journalctl = shutil.which("journalctl")
    if not journalctl:
        return None
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started - 1))
    try:
        completed = subprocess.run([journalctl, "--no-pager", "-o", "cat", "--since", since], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0 or "No journal files were found" in completed.stderr + completed.stdout:
        return None
    return completed.stdout
