# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A test-only callback that leaks on purpose, so that the leak check can be shown to catch it.

Never part of the collection: tests/integration/leaks/test_canaries.py enables it for one run with
ANSIBLE_CALLBACK_PLUGINS (this directory) and ANSIBLE_CALLBACKS_ENABLED=leak_canary. At the end of
the play it prints, inside a warning, what LEAK_CANARY_MODE says:

- ``token``: the access token kept in LEAK_CANARY_SOURCE (a result.json the play wrote, hidden):
  ansible-core 2.16-2.18 wrap warnings at 79 columns and break long words, so the token is split
  across lines;
- ``key``: the private key in LEAK_CANARY_SOURCE (a PEM file; LEAK_CANARY_PASSPHRASE if encrypted)
  re-encoded as PKCS#8 DER in base64, a text that holds none of the key file's lines.
"""

from __future__ import annotations

import base64
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: leak_canary
    type: notification
    short_description: test-only, prints a secret in a warning on purpose
    description: Used by the leak suite to prove that the leak check finds a wrapped or re-encoded secret.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "leak_canary"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        mode = os.environ.get("LEAK_CANARY_MODE")
        source = os.environ.get("LEAK_CANARY_SOURCE")
        if not mode or not source:
            return
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        if mode == "token":
            secret = json.loads(text)["access_token"]
        elif mode == "key":
            # cryptography is a dependency of the collection itself.
            from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

            passphrase = os.environ.get("LEAK_CANARY_PASSPHRASE")
            key = serialization.load_pem_private_key(text.encode("ascii"), password=passphrase.encode("utf-8") if passphrase else None)
            der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            secret = base64.b64encode(der).decode("ascii")
        else:
            raise ValueError("LEAK_CANARY_MODE must be token or key")
        self._display.warning("leak canary (%s): %s" % (mode, secret))
