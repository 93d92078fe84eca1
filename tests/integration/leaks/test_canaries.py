# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Canaries: leaks made on purpose (tests/integration/leaks/canary/leak_canary.py) that the leak check must catch.

Each canary runs once and is judged by two checks: the leak check every suite uses
(tests/support/leak_check.py, through assert_no_secrets) must catch it; the exact-substring check
it replaced (kept below, verbatim, for this comparison only) is shown to miss it:

- a token printed in a warning: ansible-core 2.16-2.18 wrap it at 79 columns, breaking the word,
  so the old check misses it there (2.19+ print warnings unwrapped: the old check catches it);
- the private key re-encoded as PKCS#8 DER base64: no line of the key as shipped is in it, so the
  old check misses it on every line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CANARY_DIR = Path(__file__).resolve().parent / "canary"
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


def old_assert_no_secrets(run, *secrets, allow_jwt_shaped=False):
    """The check assert_no_secrets made before tests/support/leak_check.py (issue 20), for comparison only."""
    output = run.output
    for secret in secrets:
        if not secret:
            continue
        lines = [line.strip() for line in secret.replace("\r\n", "\n").split("\n")]
        lines = [line for line in lines if line and not line.startswith("-----") and ":" not in line and len(line) >= 16]
        for fragment in [secret] + lines:
            assert fragment not in output, "a secret (%d chars) leaked into the output" % len(fragment)
    if not allow_jwt_shaped:
        match = JWT_PATTERN.search(output)
        assert match is None, "a JWT-shaped value leaked into the output"


def _say(canary, check, caught):
    """What each check made of the canary, for the log of a run with -s (see the issue 20 note)."""
    print("\ncanary %s, %s check: %s" % (canary, check, caught.split("\n")[0] if caught else "passed (the leak was missed)"))


def old_secrets(credentials):
    """What the old Credentials.secrets listed: client secrets, passphrase, each line of the key as shipped."""
    lines = [line.strip() for line in credentials.integration["private_key_pem"].replace("\r\n", "\n").split("\n")]
    return list(credentials.integration["client_secrets"]) + [line for line in lines if line and not line.startswith("-----") and len(line) >= 16]


PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: A token
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
      register: tok
"""

KEY_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Nothing secret
      ansible.builtin.debug:
        msg: the canary prints the key at the end of the play
"""


def _canary_run(ansible, credentials, emulator, save, mode, passphrase=None):
    credentials.write()
    source = ansible.workspace / "result.json" if mode == "token" else credentials.write_private_key()
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": str(CANARY_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "leak_canary",
        "LEAK_CANARY_MODE": mode,
        "LEAK_CANARY_SOURCE": str(source),
    }
    if passphrase:
        # The canary decrypts the key before re-encoding it.
        env["LEAK_CANARY_PASSPHRASE"] = passphrase
    # The key canary reads the key file itself: the play needs no token (nor the passphrase) for it.
    play = PLAY + save("{'access_token': tok.access_token}") if mode == "token" else KEY_PLAY
    run = ansible.run(
        play,
        extra_vars={"creds_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path},
        env=env,
    )
    run.assert_ok()
    assert "leak canary (%s)" % mode in run.output, "the canary did not sing:\n%s" % run.tail()
    return run


@pytest.mark.parametrize("check", ["old", "new"])
def test_a_token_wrapped_in_a_warning_is_caught(check, ansible, make_credentials, fresh_emulator, save, core_line):
    credentials = make_credentials()
    run = _canary_run(ansible, credentials, fresh_emulator, save, "token")
    token = run.result_file()["access_token"]
    wrapped = core_line < (2, 19)
    assert (token not in run.output) is wrapped, "ansible-core %s.%s should %swrap warnings" % (core_line + ("" if wrapped else "not ",))
    if check == "new":
        with pytest.raises(AssertionError, match="JWT-shaped") as caught:
            run.assert_no_secrets(*credentials.secrets)
        with pytest.raises(AssertionError, match=r"secret #1, raw"):
            run.assert_no_secrets(token, allow_jwt_shaped=True)
        _say("token", check, str(caught.value))
    elif wrapped:
        # The old check misses the wrapped token: neither the substring nor the JWT pattern matches.
        old_assert_no_secrets(run, token, *old_secrets(credentials))
        _say("token", check, None)
    else:
        with pytest.raises(AssertionError) as caught:
            old_assert_no_secrets(run, token, *old_secrets(credentials))
        _say("token", check, str(caught.value))


@pytest.mark.parametrize("check", ["old", "new"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["pkcs1", "encrypted_pkcs8"])
def test_a_re_encoded_private_key_is_caught(check, encrypted, ansible, make_credentials, fresh_emulator, save):
    options = {"key_format": "pkcs8", "passphrase": "pp-canary-Q7x2"} if encrypted else {}
    credentials = make_credentials(**options)
    run = _canary_run(ansible, credentials, fresh_emulator, save, "key", passphrase=options.get("passphrase"))
    if check == "new":
        with pytest.raises(AssertionError, match="private key material") as caught:
            run.assert_no_secrets(*credentials.secrets)
        _say("key", check, str(caught.value))
    else:
        # No line of the key as shipped is in the PKCS#8 DER base64: the old check sees nothing.
        old_assert_no_secrets(run, *old_secrets(credentials), options.get("passphrase"))
        _say("key", check, None)
