# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The token's lifecycle: a cached token confirmed with IMS (validate), and revoked (state: absent).

Real ansible-playbook runs against the emulator, which counts exchanges, validations and
invalidations per client, and says whether a token it issued is still honoured.
"""

from __future__ import annotations

from ansible_collections.aemops.ims.tests.support.plays import PLAY


def _module(state="present", extra="", check_mode=False):
    return """
    - name: Token {state}
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{{{ creds_file }}}}"
        ca_path: "{{{{ ca_path }}}}"
        ims_endpoint: "{{{{ ims_endpoint }}}}"
        cache: persistent
        cache_dir: "{{{{ cache_dir }}}}"
        state: {state}{extra}
      register: outcome
      run_once: true{check}
""".format(state=state, extra=extra, check="\n      check_mode: true" if check_mode else "")


class Counts:
    """Exchanges, validations and invalidations the emulator counted for one client since the last call."""

    def __init__(self, emulator, client_id):
        self.emulator = emulator
        self.client_id = client_id
        self.seen = self._now()

    def _now(self):
        entry = self.emulator.stats()["by_client"].get(self.client_id, {})
        return {name: entry.get(name, 0) for name in ("requests", "validations", "invalidations")}

    def since(self):
        now = self._now()
        delta = {name: now[name] - self.seen[name] for name in now}
        self.seen = now
        return delta


def _variables(credentials, emulator, tmp_path):
    return {
        "creds_file": str(credentials.write()),
        "ca_path": emulator.ca_path,
        "ims_endpoint": emulator.endpoint,
        "cache_dir": str(tmp_path / "persistent"),
    }


def test_a_persistent_token_is_confirmed_once_per_run_and_replaced_when_ims_no_longer_honours_it(
    ansible, credentials, fresh_emulator, tmp_path, save, token_owner
):
    emulator = fresh_emulator
    counts = Counts(emulator, credentials.client_id)
    variables = _variables(credentials, emulator, tmp_path)
    play = PLAY + _module(extra="\n        validate: true") + save("outcome")

    first = ansible.run(play, extra_vars=variables)
    first.assert_ok()
    first.assert_no_secrets(*credentials.secrets)
    assert counts.since() == {"requests": 1, "validations": 0, "invalidations": 0}, "a fresh token is not validated again"
    result = first.result_file()
    assert (result["cached"], result["validated"], result["replaced_invalid"]) == (False, False, False)
    token = result["access_token"]

    second = ansible.run(play, extra_vars=variables)
    second.assert_ok()
    second.assert_no_secrets(*credentials.secrets)
    assert counts.since() == {"requests": 0, "validations": 1, "invalidations": 0}
    result = second.result_file()
    assert (result["access_token"], result["cached"], result["validated"], result["replaced_invalid"]) == (token, True, True, False)

    # Revoked elsewhere (another job, the Admin Console): IMS no longer honours it.
    emulator.invalidate_token(credentials.client_id, credentials.integration["client_secrets"][0], token)
    counts.since()
    third = ansible.run(play, extra_vars=variables)
    third.assert_ok()
    third.assert_no_secrets(*credentials.secrets)
    assert counts.since() == {"requests": 1, "validations": 1, "invalidations": 0}
    result = third.result_file()
    assert result["access_token"] != token and token_owner(result["access_token"]) == credentials.client_id
    assert (result["cached"], result["validated"], result["replaced_invalid"]) == (False, False, True)
    assert token_owner(token) is None


def test_50_hosts_x_3_lookups_validate_once_per_run(ansible, credentials, fresh_emulator, tmp_path, save, token_owner):
    emulator = fresh_emulator
    counts = Counts(emulator, credentials.client_id)
    variables = _variables(credentials, emulator, tmp_path)
    lookups = "".join(
        """
    - name: Lookup {index}
      ansible.builtin.set_fact:
        token_{index}: "{{{{ lookup('aemops.ims.aem_ims_token', creds_file, ca_path=ca_path, ims_endpoint=ims_endpoint, cache='persistent',
          cache_dir=cache_dir, validate=true) }}}}"
      no_log: true
""".format(index=index)
        for index in (1, 2, 3)
    )
    play = PLAY + lookups + save("groups['all'] | map('extract', hostvars, 'token_3') | unique | list")
    # One host warms the persistent cache; that a cold run exchanges once whatever the number
    # of hosts is the run cache's test. What is measured here is the warm run at scale.
    warm = ansible.run(play, hosts=1, extra_vars=variables)
    warm.assert_ok()
    assert counts.since() == {"requests": 1, "validations": 0, "invalidations": 0}
    (token,) = warm.result_file()
    run = ansible.run(play, hosts=50, forks=10, extra_vars=variables)
    run.assert_ok()
    run.assert_no_secrets(token, *credentials.secrets)
    assert counts.since() == {"requests": 0, "validations": 1, "invalidations": 0}
    assert run.result_file() == [token]
    assert token_owner(token) == credentials.client_id


def test_state_absent_revokes_the_cached_token_once_and_check_mode_sends_nothing(ansible, credentials, fresh_emulator, tmp_path, save, token_owner, check_jwts):
    emulator = fresh_emulator
    counts = Counts(emulator, credentials.client_id)
    variables = _variables(credentials, emulator, tmp_path)
    present = PLAY + _module() + save("outcome")
    absent = PLAY + _module("absent") + save("outcome")

    run = ansible.run(present, extra_vars=variables)
    run.assert_ok()
    token = run.result_file()["access_token"]
    assert counts.since()["requests"] == 1
    check_jwts(credentials, count=1)

    checked = ansible.run(PLAY + _module("absent", check_mode=True) + save("outcome"), extra_vars=variables)
    checked.assert_ok()
    result = checked.result_file()
    assert (result["changed"], result["revoked"]) == (True, 1)
    assert counts.since() == {"requests": 0, "validations": 0, "invalidations": 0}
    assert token_owner(token) == credentials.client_id, "check mode revoked nothing"

    revoked = ansible.run(absent, extra_vars=variables)
    revoked.assert_ok()
    revoked.assert_no_secrets(*credentials.secrets)
    result = revoked.result_file()
    assert (result["changed"], result["revoked"], result["client_id"]) == (True, 1, credentials.client_id)
    assert "access_token" not in result
    assert counts.since() == {"requests": 0, "validations": 0, "invalidations": 1}
    assert token_owner(token) is None
    assert "changed: [host001]" in revoked.stdout

    again = ansible.run(absent, extra_vars=variables)
    again.assert_ok()
    assert (again.result_file()["changed"], again.result_file()["revoked"]) == (False, 0)
    assert counts.since() == {"requests": 0, "validations": 0, "invalidations": 0}

    run = ansible.run(present, extra_vars=variables)
    run.assert_ok()
    fresh = run.result_file()
    assert fresh["cached"] is False and fresh["access_token"] != token
    assert counts.since()["requests"] == 1


def test_state_absent_revokes_a_registered_token_given_as_access_token(ansible, credentials, fresh_emulator, tmp_path, save, token_owner):
    emulator = fresh_emulator
    counts = Counts(emulator, credentials.client_id)
    variables = _variables(credentials, emulator, tmp_path)
    play = (
        PLAY
        + """
    - name: Get a token, without keeping it
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
        ims_endpoint: "{{ ims_endpoint }}"
        cache: "off"
      register: got
    - name: Revoke exactly that token
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
        ims_endpoint: "{{ ims_endpoint }}"
        state: absent
        access_token: "{{ got.access_token }}"
      register: outcome
"""
        + save("{'token': got.access_token, 'outcome': outcome}")
    )
    run = ansible.run(play, extra_vars=variables)
    run.assert_ok()
    run.assert_no_secrets(*credentials.secrets)
    result = run.result_file()
    assert (result["outcome"]["changed"], result["outcome"]["revoked"]) == (True, 1)
    assert counts.since() == {"requests": 1, "validations": 0, "invalidations": 1}
    assert token_owner(result["token"]) is None


def test_a_wrong_secret_for_state_absent_fails_with_the_ims_code_in_one_line(
    ansible, credentials, fresh_emulator, tmp_path, save, task_failures, module_message, token_owner
):
    emulator = fresh_emulator
    counts = Counts(emulator, credentials.client_id)
    variables = _variables(credentials, emulator, tmp_path)
    wrong = "p8e-wrong-revocation-" + credentials.client_id[-6:] + "z" * 12
    play = (
        PLAY
        + """
    - name: Get a token
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
        ims_endpoint: "{{ ims_endpoint }}"
      register: got
    - name: Revoke it with a wrong secret
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
        ims_endpoint: "{{ ims_endpoint }}"
        client_secret: "{{ wrong_secret }}"
        state: absent
        access_token: "{{ got.access_token }}"
      register: outcome
      ignore_errors: true
"""
        + save("{'token': got.access_token, 'outcome': outcome}")
    )
    run = ansible.run(play, extra_vars=variables, secret_vars={"wrong_secret": wrong})
    run.assert_ok()
    run.assert_no_secrets(wrong, *credentials.secrets)
    result = run.result_file()
    message = result["outcome"]["msg"]
    assert message.startswith("IMS rejected the token invalidation: HTTP 400 invalid_client: invalid client_secret parameter"), message
    assert "\n" not in message and result["outcome"]["failed"] is True
    assert module_message(task_failures(run)["Revoke it with a wrong secret"]) == message
    assert counts.since() == {"requests": 1, "validations": 0, "invalidations": 1}
    assert token_owner(result["token"]) == credentials.client_id, "a refused invalidation leaves the token valid"
