# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Security hardening (issue 11): each case the issue numbers, through the module and the lookup.

1. an explicit proxy_url wins over HTTPS_PROXY/NO_PROXY, and no .netrc credentials reach IMS;
2. an IMS endpoint read from a credentials document gets only that document's secrets;
3. a cache_dir that is another user's symbolic link is refused, a readable one made private;
4. a dripping IMS is cut within the call's deadline plus 5 s;
5. validate_certs: false warns, naming the endpoint;
6. token claims never stretch a lifetime, absurd claims are ignored, 48 hours at most;
7. impossible dates in cache entries, socks proxies, the signed JWT and encoded secrets in
   echoed answers, and pruning of expired cache files.

Real ansible-playbook runs against the emulator (faults queued from the test, in the order
the tasks make their requests), a local CONNECT proxy and, for the dripping server, the
emulator's drip fault. Every run is checked for secrets at -vvvv.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets as random
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.aemops.ims.tests.support.plays import PLAY, module_task
from ansible_collections.aemops.ims.tests.support.plays import lookup_task as _lookup
from ansible_collections.aemops.ims.tests.support.plays import stamp_task as _stamp

CONNECT_PROXY = Path(__file__).resolve().parents[2] / "utils" / "connect_proxy.py"
ENVIRONMENT_DEFAULTS = {
    "HTTPS_PROXY": "",
    "https_proxy": "",
    "HTTP_PROXY": "",
    "http_proxy": "",
    "NO_PROXY": "",
    "no_proxy": "",
    "ALL_PROXY": "",
    "all_proxy": "",
}


def _connect_proxy_class():
    spec = importlib.util.spec_from_file_location("aemops_ims_connect_proxy_hardening", CONNECT_PROXY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ConnectProxy


def _module(name, options, register=None, failing=True, extra=""):
    # Most tasks here are expected to fail.
    return module_task(name, options, register=register, failing=failing, keywords=extra)


def _lookup_failure(result, lookup_message):
    assert result.get("failed") is True, result
    return lookup_message(result["msg"])


# --- 1. the explicit proxy wins; no .netrc --------------------------------------------------------


def test_proxy_url_wins_over_the_environment_and_no_netrc_reaches_ims(ansible, credentials, fresh_emulator, connect_proxy, save, token_owner):
    emulator = fresh_emulator
    proxy, user, password = connect_proxy
    decoy_password = "decoy-" + random.token_urlsafe(12)
    netrc_password = "netrc-" + random.token_urlsafe(12)
    decoy = _connect_proxy_class()("decoyuser", decoy_password).start()
    netrc = ansible.workspace / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrcuser password %s\n" % netrc_password, encoding="utf-8")
    netrc.chmod(0o600)
    # Both spellings: Python lets an empty https_proxy cancel HTTPS_PROXY.
    environment_proxy = "http://decoyuser:%s@127.0.0.1:%d" % (decoy_password, decoy.port)
    env = dict(ENVIRONMENT_DEFAULTS, HTTPS_PROXY=environment_proxy, https_proxy=environment_proxy, NETRC=str(netrc))
    common = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": '"off"'}
    try:
        run = ansible.run(
            PLAY
            + _module("module through proxy_url", dict(common, proxy_url='"{{ proxy_url }}"'), register="via_proxy_url", failing=False)
            + _lookup("lookup through proxy_url", "creds_file, proxy_url=proxy_url, ca_path=ca_path, cache='off'", "looked_up")
            + _module("module through the environment's proxy", common, register="via_environment", failing=False)
            + save("{'module': via_proxy_url.access_token, 'lookup': looked_up, 'environment': via_environment.access_token}"),
            env=env,
            extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
            secret_vars={"proxy_url": "http://%s:%s@127.0.0.1:%d" % (user, password, proxy.port)},
        )
        run.assert_ok()
        result = run.result_file()
        target = emulator.endpoint
        # proxy_url carried both of its requests although HTTPS_PROXY names another proxy ...
        assert proxy.tunnels_to(target) == 2, proxy.tunnel_targets
        # ... which carried only the request of the task without proxy_url: the environment still applies then.
        assert decoy.tunnels_to(target) == 1 and decoy.rejected == 0, decoy.tunnel_targets
    finally:
        decoy.stop()
    for name in ("module", "lookup", "environment"):
        assert token_owner(result[name]) == credentials.client_id
    # ~/.netrc (here $NETRC) names the IMS host: its credentials were never sent.
    log = emulator.requests_log()
    assert len(log) == 3 and [entry["authorization"] for entry in log] == [None] * 3, log
    run.assert_no_secrets(*result.values(), *credentials.secrets, password, decoy_password, netrc_password)


# --- 2. endpoints follow their secrets ------------------------------------------------------------


def test_a_credentials_file_cannot_send_outside_secrets_to_its_own_endpoint(
    ansible, make_credentials, fresh_emulator, save, requests_for, token_owner, lookup_message
):
    emulator = fresh_emulator
    shared = make_credentials()
    path = shared.write()
    key_file = shared.write_private_key()
    secret = shared.integration["client_secrets"][0]
    common = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": '"off"'}
    run = ansible.run(
        PLAY
        + _module("module with the client secret from vault", dict(common, client_secret='"{{ vaulted_secret }}"'), register="m_secret")
        + _module("module with the private key from a file", dict(common, private_key_file='"{{ key_file }}"'), register="m_key")
        + _lookup("lookup with the client secret from vault", "creds_file, client_secret=vaulted_secret, ca_path=ca_path, cache='off'", "l_secret")
        + _module(
            "module with an explicit ims_endpoint", dict(common, client_secret='"{{ vaulted_secret }}"', ims_endpoint='"{{ endpoint }}"'), "m_explicit", False
        )
        + _lookup(
            "lookup with an explicit ims_endpoint",
            "creds_file, client_secret=vaulted_secret, ims_endpoint=endpoint, ca_path=ca_path, cache='off'",
            "l_explicit",
        )
        + _module("module with the file's own secrets", common, register="m_own", failing=False)
        + save(
            "{'m_secret': m_secret, 'm_key': m_key, 'l_secret': l_secret_result, "
            "'m_explicit': m_explicit.access_token, 'l_explicit': l_explicit, 'm_own': m_own.access_token}"
        ),
        extra_vars={"creds_file": str(path), "ca_path": emulator.ca_path, "key_file": str(key_file), "endpoint": emulator.endpoint},
        secret_vars={"vaulted_secret": secret},
    )
    run.assert_ok()
    result = run.result_file()
    refused = (
        "integration.imsEndpoint in the service credentials file %s names the IMS endpoint https://%s, which is not an Adobe IMS host "
        "(*.adobelogin.com), and %s, not from that document: refusing to use it there. Set ims_endpoint explicitly to use that endpoint"
    )
    assert result["m_secret"]["msg"] == refused % (path, emulator.endpoint, "the client_secret comes from the task argument client_secret")
    assert result["m_key"]["msg"] == refused % (path, emulator.endpoint, "the private key comes from the task argument private_key_file")
    assert _lookup_failure(result["l_secret"], lookup_message) == refused % (path, emulator.endpoint, "the client_secret comes from the keyword client_secret")
    for name in ("m_explicit", "l_explicit", "m_own"):
        assert token_owner(result[name]) == shared.client_id
    # The refused tasks sent nothing: the three requests are those of the trusted ones.
    assert requests_for(shared.client_id) == 3
    run.assert_no_secrets(result["m_explicit"], result["l_explicit"], result["m_own"], *shared.secrets)


# --- 3. cache directories ---------------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a symbolic link to another user needs root")
def test_a_cache_dir_that_is_another_users_symlink_is_refused(ansible, credentials, fresh_emulator, save, requests_for, token_owner, lookup_message, tmp_path):
    emulator = fresh_emulator
    target = tmp_path / "private-target"
    target.mkdir(mode=0o700)
    shared_tmp = tmp_path / "shared-tmp"
    shared_tmp.mkdir()
    shared_tmp.chmod(0o1777)
    foreign = shared_tmp / "aemops-cache"
    foreign.symlink_to(target)
    os.lchown(foreign, 65534, 65534)
    mine = shared_tmp / "my-cache"
    mine.symlink_to(target)
    readable = tmp_path / "readable-cache"
    readable.mkdir()
    readable.chmod(0o755)
    common = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": "persistent"}
    run = ansible.run(
        PLAY
        + _module("module with another user's symlink", dict(common, cache_dir='"{{ foreign }}"'), register="m_foreign")
        + _lookup("lookup with another user's symlink", "creds_file, cache='persistent', cache_dir=foreign, ca_path=ca_path", "l_foreign")
        + _module("module with a symlink of mine", dict(common, cache_dir='"{{ mine }}"'), register="m_mine", failing=False)
        + _module("module with a readable directory", dict(common, cache_dir='"{{ readable }}"'), register="m_readable", failing=False)
        + save("{'m_foreign': m_foreign, 'l_foreign': l_foreign_result, 'm_mine': m_mine.access_token, 'm_readable': m_readable.access_token}"),
        extra_vars={
            "creds_file": str(credentials.files["aem_service_credentials"]),
            "ca_path": emulator.ca_path,
            "foreign": str(foreign),
            "mine": str(mine),
            "readable": str(readable),
        },
    )
    run.assert_ok()
    result = run.result_file()
    refused = (
        "cache_dir %s is a symbolic link owned by uid 65534, neither you (uid 0) nor root: its owner could re-point it; refusing to keep "
        "tokens there; choose another cache_dir" % foreign
    )
    assert result["m_foreign"]["msg"] == refused
    assert _lookup_failure(result["l_foreign"], lookup_message) == refused
    # The refused tasks neither asked IMS nor wrote anything; the link of mine was used.
    assert requests_for(credentials.client_id) == 2
    assert token_owner(result["m_mine"]) == credentials.client_id
    assert [name for name in os.listdir(target) if name.endswith(".json")], "nothing cached through my own link"
    # A directory the collection did not create, readable by others, is made private.
    assert (os.stat(readable).st_mode & 0o777) == 0o700
    run.assert_no_secrets(result["m_mine"], result["m_readable"], *credentials.secrets)


# --- 4. one deadline for the whole call ---------------------------------------------------------


def test_a_dripping_answer_is_cut_within_the_deadline(ansible, credentials, fresh_emulator, save, lookup_message):
    emulator = fresh_emulator
    # One fault per request: the module's, then the lookup's (timeout 2, retries 0: the deadline is 2 s).
    emulator.inject_faults([{"drip": 0.5}, {"drip": 0.5}])
    options = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": '"off"', "timeout": 2, "retries": 0}
    run = ansible.run(
        PLAY
        + _stamp("t0")
        + _module("module against a dripping IMS", options, register="m_drip")
        + _stamp("t1")
        + _lookup("lookup against a dripping IMS", "creds_file, ca_path=ca_path, cache='off', timeout=2, retries=0", "l_drip")
        + _stamp("t2")
        + save("{'m': m_drip, 'l': l_drip_result, 't0': t0, 't1': t1, 't2': t2}"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
    )
    run.assert_ok()
    result = run.result_file()
    module_seconds = float(result["t1"]) - float(result["t0"])
    lookup_seconds = float(result["t2"]) - float(result["t1"])
    # The call's deadline (timeout x (retries + 1) + backoff) is 2 s; the issue allows 5 s more.
    assert module_seconds < 2 + 5, module_seconds
    assert lookup_seconds < 2 + 5, lookup_seconds
    expected = "IMS at https://%s did not answer within 2 s (timeout)" % emulator.endpoint
    assert result["m"]["msg"] == expected
    assert _lookup_failure(result["l"], lookup_message) == expected
    assert [entry["status"] for entry in emulator.requests_log()] == ["dripped", "dripped"]
    run.assert_no_secrets(*credentials.secrets)


# --- 5. validate_certs: false is said ---------------------------------------------------------------


def _warnings(stderr, marker):
    """How many times a warning appears on stderr (before 2.19 ansible-core wraps them: compare without whitespace)."""
    return re.sub(r"\s+", "", stderr).count(re.sub(r"\s+", "", marker))


def test_validate_certs_false_warns_naming_the_endpoint(ansible, credentials, fresh_emulator, save, token_owner):
    emulator = fresh_emulator
    warning = (
        "aemops.ims.aem_ims_token: validate_certs is false: the TLS certificate of IMS at https://%s is not checked, so whoever can intercept "
        "the connection can impersonate IMS and collect the client secret. Set ca_path to the CA bundle of a test server or proxy instead" % emulator.endpoint
    )
    extra_vars = {"creds_file": str(credentials.files["aem_service_credentials"])}
    module_run = ansible.run(
        PLAY
        + _module("module without certificate checks", {"service_credentials_file": '"{{ creds_file }}"', "validate_certs": "false"}, "m", False)
        + save("m.access_token", name="module.json"),
        extra_vars=extra_vars,
        name="module.yml",
    )
    module_run.assert_ok()
    assert _warnings(module_run.stderr, warning) == 1, module_run.stderr
    lookup_run = ansible.run(
        PLAY
        + _lookup("lookup without certificate checks", "creds_file, validate_certs=false", "first")
        + _lookup("lookup without certificate checks, again", "creds_file, validate_certs=false, cache='off'", "second")
        + save("[first, second]", name="lookup.json"),
        hosts=2,
        forks=2,
        extra_vars=extra_vars,
        name="lookup.yml",
    )
    lookup_run.assert_ok()
    # Four lookups (two tasks, two hosts, one of them without a cache): one warning for the run.
    assert _warnings(lookup_run.stderr, warning) == 1, lookup_run.stderr
    tokens = [module_run.result_file("module.json"), *lookup_run.result_file("lookup.json")]
    assert all(token_owner(token) == credentials.client_id for token in tokens)
    for run in (module_run, lookup_run):
        run.assert_no_secrets(*tokens, *credentials.secrets)


# --- 6. lifetimes -----------------------------------------------------------------------------------


def test_token_claims_never_stretch_a_lifetime(ansible, credentials, fresh_emulator, save, token_owner, tmp_path):
    emulator = fresh_emulator
    ten_years_ms = str(10 * 365 * 86400 * 1000)
    faults = [
        {"token_claims": {"expires_in": ten_years_ms}},  # the answer says 24 h (86399999 ms), the token ten years
        {"token_claims": {"expires_in": "inf"}},
        {"token_claims": {"created_at": "253402300800000"}},  # the token was created in the year 10000
        {"expires_in": 10 * 86400 * 1000, "token_claims": {"expires_in": str(10 * 86400 * 1000)}},  # ten days, answer and token alike
        {"token_claims": {"expires_in": ten_years_ms}},  # the lookup's request
    ]
    emulator.inject_faults(faults)
    options = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": '"off"'}
    cache_dir = tmp_path / "lookup-cache"
    run = ansible.run(
        PLAY
        + _module("ten-year claims", options, register="stretched")
        + _module("infinite claims", options, register="infinite")
        + _module("claims from the year 10000", options, register="far")
        + _module("a ten-day answer", options, register="long")
        + _lookup("lookup with ten-year claims", "creds_file, ca_path=ca_path, cache='persistent', cache_dir=cache_dir", "looked_up")
        + save("{'stretched': stretched, 'infinite': infinite, 'far': far, 'long': long, 'lookup': looked_up_result}"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "cache_dir": str(cache_dir)},
    )
    run.assert_ok()
    result = run.result_file()
    tokens = []
    for name in ("stretched", "infinite", "far"):
        assert result[name].get("failed") is not True, result[name].get("msg")
        # The answer's 86399.999 s, whatever the token claims.
        assert 86300 <= result[name]["expires_in"] <= 86400, (name, result[name]["expires_in"])
        tokens.append(result[name]["access_token"])
    assert result["long"].get("failed") is not True, result["long"].get("msg")
    assert 48 * 3600 - 100 <= result["long"]["expires_in"] <= 48 * 3600
    tokens.append(result["long"]["access_token"])
    assert result["lookup"].get("failed") is not True, result["lookup"].get("msg")
    (entry_file,) = [name for name in os.listdir(cache_dir) if name.endswith(".json")]
    entry = json.loads((cache_dir / entry_file).read_text(encoding="utf-8"))
    assert entry["expires_at"] - entry["issued_at"] <= 86400
    assert all(token_owner(token) == credentials.client_id for token in tokens[:1] + tokens[3:])
    assert "unexpected internal error" not in run.output
    run.assert_no_secrets(*tokens, entry["access_token"], *credentials.secrets)


# --- 7. the smaller ones -------------------------------------------------------------------------


def test_an_impossible_date_in_a_cache_entry_is_replaced(ansible, credentials, fresh_emulator, save, requests_for, token_owner, tmp_path):
    emulator = fresh_emulator
    cache_dir = tmp_path / "cache"
    playbook = PLAY + _module(
        "module",
        {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": "persistent", "cache_dir": '"{{ cache_dir }}"'},
        register="m",
        failing=False,
    )
    extra_vars = {"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "cache_dir": str(cache_dir)}
    ansible.run(playbook + save("m.access_token"), extra_vars=extra_vars).assert_ok()
    (entry_file,) = [path for path in cache_dir.iterdir() if path.suffix == ".json"]
    entry = json.loads(entry_file.read_text(encoding="utf-8"))
    entry["certificate_not_after"] = "2026-13-40T99:99:99Z"
    entry_file.write_text(json.dumps(entry), encoding="utf-8")
    run = ansible.run(playbook + save("m"), extra_vars=extra_vars)
    run.assert_ok()
    result = run.result_file()
    assert result["cached"] is False and token_owner(result["access_token"]) == credentials.client_id
    assert requests_for(credentials.client_id) == 2
    assert json.loads(entry_file.read_text(encoding="utf-8"))["certificate_not_after"] != "2026-13-40T99:99:99Z"
    run.assert_no_secrets(result["access_token"], entry["access_token"], *credentials.secrets)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_socks_proxy_is_refused_clearly_without_its_password(ansible, credentials, fresh_emulator, save, requests_for, lookup_message, scheme):
    emulator = fresh_emulator
    password = "S0cks@" + random.token_urlsafe(12)
    proxy_url = "%s://socksuser:%s@127.0.0.1:1080" % (scheme, quote(password, safe=""))
    run = ansible.run(
        PLAY
        + _module(
            "module through a socks proxy", {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "proxy_url": '"{{ proxy }}"'}, "m"
        )
        + _lookup("lookup through a socks proxy", "creds_file, ca_path=ca_path, proxy_url=proxy", "l")
        + save("{'m': m, 'l': l_result}"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
        secret_vars={"proxy": proxy_url},
    )
    run.assert_ok()
    result = run.result_file()
    expected = (
        "proxy_url is a %s:// proxy, which needs the Python package PySocks on the Ansible controller: pip install 'requests[socks]', "
        "or use an http:// proxy" % scheme
    )
    assert result["m"]["msg"] == expected
    assert _lookup_failure(result["l"], lookup_message) == expected
    assert requests_for(credentials.client_id) == 0
    run.assert_no_secrets(password, proxy_url, *credentials.secrets)  # the leak check tries the URL-encoded form too


def test_echoed_jwt_and_encoded_secrets_are_scrubbed(ansible, credentials, fresh_emulator, save, lookup_message):
    emulator = fresh_emulator
    # A secret whose URL-encoded and JSON-escaped forms differ from it.
    secret = 'p8e-"Quoted\\Slash+Plus/Amp&Eq= Space' + random.token_urlsafe(8)
    assert len({secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}) == 4
    # A misbehaving server that quotes the form it received, then its fields as JSON: the module's two requests, then the lookup's.
    emulator.inject_faults([{"echo": "form"}, {"echo": "json"}, {"echo": "form"}, {"echo": "json"}])
    options = {
        "service_credentials_file": '"{{ creds_file }}"',
        "ims_endpoint": '"{{ endpoint }}"',
        "client_secret": '"{{ odd_secret }}"',
        "ca_path": '"{{ ca_path }}"',
        "cache": '"off"',
        "retries": 0,
    }
    keywords = "creds_file, ims_endpoint=endpoint, client_secret=odd_secret, ca_path=ca_path, cache='off', retries=0"
    run = ansible.run(
        PLAY
        + _module("module, form echoed", options, register="m_form")
        + _module("module, fields echoed as JSON", options, register="m_json")
        + _lookup("lookup, form echoed", keywords, "l_form")
        + _lookup("lookup, fields echoed as JSON", keywords, "l_json")
        + save("{'m_form': m_form, 'm_json': m_json, 'l_form': l_form_result, 'l_json': l_json_result}"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "endpoint": emulator.endpoint},
        secret_vars={"odd_secret": secret},
    )
    run.assert_ok()
    result = run.result_file()
    messages = [result["m_form"]["msg"], result["m_json"]["msg"]]
    messages += [_lookup_failure(result[name], lookup_message) for name in ("l_form", "l_json")]
    for message in messages:
        assert message.startswith("IMS "), message
        assert "********" in message, message
    # Nothing JWT-shaped (the signed JWT was echoed too), no form of the secret (the leak check
    # searches raw, URL-encoded and JSON-escaped forms).
    run.assert_no_secrets(secret, *credentials.secrets)


def test_expired_entries_and_stale_locks_are_pruned(ansible, credentials, fresh_emulator, save, token_owner, tmp_path):
    emulator = fresh_emulator
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    now = time.time()
    expired_key, orphan_key = "e" * 64, "0" * 64
    expired = {"format": "aemops.ims/token-cache/1", "key": expired_key, "access_token": "eyJold.old.old", "token_type": "bearer"}
    expired.update(issued_at=now - 2 * 86400, expires_at=now - 86400, certificate_not_after=None)
    (cache_dir / (expired_key + ".json")).write_text(json.dumps(expired), encoding="utf-8")
    stale = [cache_dir / (expired_key + ".lock"), cache_dir / (orphan_key + ".lock"), cache_dir / ".eeeeeeeeeeee.0123456789ab.tmp"]
    for path in stale:
        path.write_text("", encoding="utf-8")
        os.utime(path, (now - 7200, now - 7200))
    young_lock = cache_dir / ("1" * 64 + ".lock")
    young_lock.write_text("", encoding="utf-8")
    for path in cache_dir.iterdir():
        path.chmod(0o600)
    options = {"service_credentials_file": '"{{ creds_file }}"', "ca_path": '"{{ ca_path }}"', "cache": "persistent", "cache_dir": '"{{ cache_dir }}"'}
    run = ansible.run(
        PLAY + _module("module", options, register="m", failing=False) + save("m.access_token"),
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "cache_dir": str(cache_dir)},
    )
    run.assert_ok()
    token = run.result_file()
    assert token_owner(token) == credentials.client_id
    names = sorted(os.listdir(cache_dir))
    assert expired_key + ".json" not in names
    assert not [path.name for path in stale if path.name in names], names
    # The new entry and its lock stay, and so does a lock file too young to be a left-over.
    assert young_lock.name in names
    assert len([name for name in names if name.endswith(".json")]) == 1
    run.assert_no_secrets(token, *credentials.secrets)
