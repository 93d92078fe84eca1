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
from collections.abc import Iterable

_WHITESPACE = re.compile(r"\s+")
MAX_MESSAGE_LENGTH = 600
REDACTED = "********"


def one_line(text: object, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """Collapse whitespace so that a message never spans several log lines."""
    text = _WHITESPACE.sub(" ", str(text)).strip()
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def redact(text: str, secrets: Iterable[object]) -> str:
    """Replace every secret value (and every line of a multi-line secret) in text.

    Also the forms a secret takes on its way to IMS and back: URL-encoded (a form body, a
    proxy URL) and JSON-escaped (an answer that quotes it).
    """
    if not text:
        return text
    import json  # pylint: disable=import-outside-toplevel
    from urllib.parse import quote, quote_plus  # pylint: disable=import-outside-toplevel

    fragments: set[str] = set()
    for secret in secrets or ():
        if not isinstance(secret, str) or not secret:
            continue
        pieces = [secret]
        for line in secret.splitlines():
            line = line.strip()
            # PEM armour lines and short fragments are not secret and would mangle messages.
            if len(line) >= 8 and not line.startswith("-----"):
                pieces.append(line)
        for piece in pieces:
            fragments.update((piece, quote(piece, safe=""), quote_plus(piece, safe=""), json.dumps(piece)[1:-1]))
    # Longest first, so that a secret containing another one is replaced whole.
    for fragment in sorted(fragments, key=len, reverse=True):
        if len(fragment) >= 4:
            text = text.replace(fragment, REDACTED)
    return text


def describe_type(value: object, json: bool = False) -> str:
    """A value's kind in words, for messages that must not quote the value itself.

    In JSON's words for what was read from a credentials document ("an object", "a number",
    "null"), in Ansible's for option values ("a dict", "an int", "nothing").
    """
    # isinstance, not type().__name__: ansible-core 2.19 hands over tagged subclasses such as _AnsibleTaggedInt.
    if value is None:
        return "null" if json else "nothing"
    if isinstance(value, bool):
        return "a boolean" if json else "a bool"
    if isinstance(value, dict):
        return "an object" if json else "a dict"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number" if json else ("an int" if isinstance(value, int) else "a float")
    if isinstance(value, str):
        return "a string"
    return "a " + type(value).__name__


class AemImsError(Exception):
    """Base class: a user-facing failure with a one-line, secret-free message."""

    def __init__(self, msg: str, field: str | None = None, code: str | None = None):
        self.msg = one_line(msg)
        self.field = field
        self.code = code
        super().__init__(self.msg)

    def __str__(self) -> str:
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

    def __init__(self, msg: str, retryable: bool = True, field: str | None = None, code: str | None = None):
        super().__init__(msg, field=field, code=code)
        self.retryable = retryable


class ImsResponseError(AemImsError):
    """IMS answered with an error."""

    def __init__(
        self,
        msg: str,
        status: int | None = None,
        code: str | None = None,
        description: str | None = None,
        debug_id: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(msg, code=code)
        self.status = status
        self.description = description
        self.debug_id = debug_id
        self.retryable = retryable
        self.retry_after = retry_after


class RepeatedFailure(AemImsError):
    """A failure an earlier task of the run met, given again without asking IMS."""


class MissingDependencyError(AemImsError):
    """A Python package the controller needs is not installed."""
