# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Errors of the aemops.ims core.

Every error carries a one-line message that is safe to print: it names the option or
credential field at fault, or the IMS error code, and never a secret. Since
ansible-core 2.19 prints a failed task's message even for ``no_log`` tasks, these
messages are the only thing standing between a mistake and a leaked secret, so they
are built without secret values and are scrubbed once more by :func:`redact`.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")
MAX_MESSAGE_LENGTH = 600
REDACTED = "********"


def one_line(text, limit=MAX_MESSAGE_LENGTH):
    """Collapse whitespace so that a message never spans several log lines."""
    text = _WHITESPACE.sub(" ", str(text)).strip()
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def redact(text, secrets):
    """Replace every secret value (and every line of a multi-line secret) in text."""
    if not text:
        return text
    fragments = set()
    for secret in secrets or ():
        if not isinstance(secret, str) or not secret:
            continue
        fragments.add(secret)
        for line in secret.splitlines():
            line = line.strip()
            # PEM armour lines and short fragments are not secret and would mangle messages.
            if len(line) >= 8 and not line.startswith("-----"):
                fragments.add(line)
    # Longest first, so that a secret containing another one is replaced whole.
    for fragment in sorted(fragments, key=len, reverse=True):
        if len(fragment) >= 4:
            text = text.replace(fragment, REDACTED)
    return text


class AemImsError(Exception):
    """Base class: a user-facing failure with a one-line, secret-free message."""

    def __init__(self, msg, field=None, code=None):
        self.msg = one_line(msg)
        self.field = field
        self.code = code
        super().__init__(self.msg)

    def __str__(self):
        return self.msg


class OptionError(AemImsError):
    """An option has a wrong type or value."""


class CredentialsError(AemImsError):
    """The credentials are missing, unreadable, malformed or of an unusable kind."""


class KeyMaterialError(CredentialsError):
    """The private key or certificate cannot be used (bad PEM, passphrase, mismatch, expiry)."""


class CacheError(AemImsError):
    """The token cache directory cannot be used safely."""


class TransportError(AemImsError):
    """IMS could not be reached, or did not answer in time."""

    def __init__(self, msg, retryable=True, field=None, code=None):
        super().__init__(msg, field=field, code=code)
        self.retryable = retryable


class ImsResponseError(AemImsError):
    """IMS answered with an error."""

    def __init__(self, msg, status=None, code=None, description=None, debug_id=None, retryable=False, retry_after=None):
        super().__init__(msg, code=code)
        self.status = status
        self.description = description
        self.debug_id = debug_id
        self.retryable = retryable
        self.retry_after = retry_after


class MissingDependencyError(AemImsError):
    """A Python package the controller needs is not installed."""
