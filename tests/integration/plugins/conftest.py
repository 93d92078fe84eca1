# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the plugin integration tests (on top of tests/integration/conftest.py).

- ``save_task``: the YAML of a hidden task that writes a Jinja expression to a JSON file in the
  run's workspace, so that tests read tokens back without them ever reaching the output.
- ``token_owner``: asks the emulator whether a token is one it issued and still valid, and to
  which client id; a token that merely looks right is not enough.
- ``expect_failure``: the exact one-line message of a failed task, checked both in the
  registered result and in the ``-vvvv`` output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import urllib.parse
import urllib.request

import pytest

PLUGIN = "aemops.ims.aem_ims_token"
# The emulator answers every IMS error with a random x-debug-id.
DEBUG_ID = r"\(x-debug-id [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)"


def save_task(expression, name="result.json", title=None):
    """A hidden task that writes `expression` (Jinja, without braces) as JSON into the workspace.

    run_once + delegate_to localhost, so it runs once whatever the number of hosts; check_mode
    false, so that it writes in --check runs too.
    """
    return """
    - name: {title}
      ansible.builtin.copy:
        content: "{{{{ ({expression}) | to_json }}}}"
        dest: "{{{{ workspace }}}}/{name}"
        mode: "0600"
      no_log: true
      delegate_to: localhost
      run_once: true
      check_mode: false
      changed_when: false
""".format(title=title or "Keep %s for the test (hidden)" % name, expression=expression, name=name)


def token_claims(token):
    """The payload of an IMS access token (a JWT), unverified."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def one_line_failure(run, message):
    """Assert that `message` (a str, or a compiled regex) is the msg of a failed task in the output.

    Returns the matching message. ansible-core 2.19 prints it twice: in the [ERROR] line and as
    the "msg" of the fatal result.
    """
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


@pytest.fixture
def save():
    return save_task


@pytest.fixture
def expect_failure():
    return one_line_failure


@pytest.fixture
def claims():
    return token_claims


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


def uuid_free(message):
    """A message with the emulator's random x-debug-id replaced, to compare two messages."""
    return re.sub(DEBUG_ID, "(x-debug-id ...)", message)


@pytest.fixture
def without_debug_id():
    return uuid_free


@pytest.fixture
def collections_root(request):
    """collections_path() of the shared harness: the directory that holds ansible_collections/."""
    harness = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "conftest.py")
    for plugin in request.config.pluginmanager.get_plugins():
        if os.path.abspath(getattr(plugin, "__file__", "") or "") == harness and callable(getattr(plugin, "collections_path", None)):
            return plugin.collections_path()
    raise RuntimeError("the shared harness tests/integration/conftest.py is not loaded")
