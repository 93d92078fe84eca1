# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers of the resilience suite (on top of tests/integration/conftest.py).

Copied from the patterns of tests/integration/plugins/conftest.py (this suite imports
nothing from it): hidden result files, token validity checked with the emulator, exact
one-line failure messages, and the lookup's message unwrapped from ansible-core's text.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import ssl
import urllib.parse
import urllib.request

import pytest

PLUGIN = "aemops.ims.aem_ims_token"
PLAY = """
- hosts: all
  gather_facts: false
  tasks:
"""
# The emulator answers every IMS error with a random x-debug-id.
DEBUG_ID = r"\(x-debug-id [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)"
LOOKUP_FAILED = "The lookup plugin 'aemops.ims.aem_ims_token' failed: "


def save_task(expression, name="result.json"):
    """A hidden task that writes `expression` (Jinja, without braces) as JSON into the workspace."""
    return """
    - name: Keep {name} for the test (hidden)
      ansible.builtin.copy:
        content: "{{{{ ({expression}) | to_json }}}}"
        dest: "{{{{ workspace }}}}/{name}"
        mode: "0600"
      no_log: true
      delegate_to: localhost
      run_once: true
      check_mode: false
      changed_when: false
""".format(expression=expression, name=name)


def token_claims(token):
    """The payload of an IMS access token (a JWT), unverified."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def lookup_core_message(message):
    """The lookup's own message inside ansible-core's wrapper text."""
    assert LOOKUP_FAILED in message, "not a failure of the lookup: %s" % message
    return message.split(LOOKUP_FAILED, 1)[1]


def one_line_failure(run, message):
    """Assert `message` (str or compiled regex) is the msg of a failed task in the -vvvv output and is one line."""
    messages = run.failure_messages()
    if isinstance(message, str):
        assert message in messages, "expected failure message not found.\nexpected: %s\nfound:\n%s" % (message, "\n".join(messages))
        found = message
    else:
        matching = [item for item in messages if message.fullmatch(item)]
        assert matching, "no failure message matches %s\nfound:\n%s" % (message.pattern, "\n".join(messages))
        found = matching[0]
    assert "\n" not in found and "\\n" not in found
    error_line = re.compile(r"^\[ERROR\]: Task failed: (?:Action failed: )?%s$" % re.escape(found), re.MULTILINE)
    assert error_line.search(run.stdout), "no [ERROR] line with the message: %s" % found
    return found


def assert_no_traceback(run):
    assert "Traceback" not in run.output, "a traceback reached the output"
    assert "unexpected internal error" not in run.output, "an unexpected internal error reached the output"


@pytest.fixture
def save():
    return save_task


@pytest.fixture
def claims():
    return token_claims


@pytest.fixture
def expect_failure():
    return one_line_failure


@pytest.fixture
def token_owner(emulator):
    """token_owner(token) -> the client id the emulator issued this still-valid token to, else None."""
    context = ssl.create_default_context(cafile=emulator.ca_path)

    def owner(token):
        data = urllib.parse.urlencode({"type": "access_token", "token": token}).encode("ascii")
        request = urllib.request.Request(emulator.url("/ims/validate_token/v1"), data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            answer = json.loads(response.read())
        if not answer.get("valid"):
            return None
        return answer["token"].get("client_id")

    return owner


@pytest.fixture
def origin(emulator):
    """The IMS origin the plugins report for the emulator: https://127.0.0.1:PORT."""
    return "https://" + emulator.endpoint


@pytest.fixture
def fresh_emulator(emulator):
    """The session emulator with zeroed stats, no queued faults and a true clock; reset again afterwards."""
    emulator.reset()
    emulator.set_clock_offset(0)
    yield emulator
    emulator.set_clock_offset(0)
    emulator.reset()


def _load_connect_proxy():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "utils", "connect_proxy.py")
    spec = importlib.util.spec_from_file_location("aemops_ims_connect_proxy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def connect_proxy():
    """A running authenticating CONNECT proxy: (proxy, user, password)."""
    user = "proxyuser"
    password = "pxpw-" + secrets.token_urlsafe(16)
    proxy = _load_connect_proxy().ConnectProxy(user, password).start()
    try:
        yield proxy, user, password
    finally:
        proxy.stop()
