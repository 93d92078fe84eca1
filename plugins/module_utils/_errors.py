# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Errors of the aemops.ims core: one-line messages naming the option, credential field or IMS error code at fault, never a
secret: ansible-core 2.19 and later print a failed task's message even under no_log, so redact() scrubs them once more.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_MESSAGE_LENGTH = 600
REDACTED = "********"
# A value's kind in Ansible's words and in JSON's. isinstance, not type().__name__: ansible-core 2.19
# hands over tagged subclasses such as _AnsibleTaggedInt. bool comes before int, which it subclasses.
_KINDS = (
    (type(None), "nothing", "null"),
    (bool, "a bool", "a boolean"),
    (dict, "a dict", "an object"),
    ((list, tuple), "a list", "a list"),
    (int, "an int", "a number"),
    (float, "a float", "a number"),
    (str, "a string", "a string"),
)


def one_line(text: object, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """Collapse whitespace so that a message never spans several log lines."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def redact(text: str, secrets: Iterable[object]) -> str:
    """Replace every secret, each line of a multi-line one, and their URL-encoded and JSON-escaped forms (a form body, an echo)."""
    if not text:
        return text
    import json  # pylint: disable=import-outside-toplevel
    from urllib.parse import quote, quote_plus  # pylint: disable=import-outside-toplevel

    fragments: set[str] = set()
    for secret in secrets or ():
        if not isinstance(secret, str) or not secret:
            continue
        # PEM armour lines and short lines are not secret and would mangle messages.
        lines = [line.strip() for line in secret.splitlines()]
        pieces = [secret] + [line for line in lines if len(line) >= 8 and not line.startswith("-----")]
        for piece in pieces:
            fragments.update((piece, quote(piece, safe=""), quote_plus(piece, safe=""), json.dumps(piece)[1:-1]))
    # Longest first, so that a secret containing another one is replaced whole.
    for fragment in sorted(fragments, key=len, reverse=True):
        if len(fragment) >= 4:
            text = text.replace(fragment, REDACTED)
    return text


def describe_type(value: object, json: bool = False) -> str:
    """A value's kind in words, for messages that must not quote it: JSON's for a credentials document, else Ansible's."""
    for kinds, ansible_words, json_words in _KINDS:
        if isinstance(value, kinds):
            return json_words if json else ansible_words
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
