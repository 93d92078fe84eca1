# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _errors: one-line messages, redaction, the words for a value's kind and the error classes."""

from __future__ import annotations

import json

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._errors import (
    MAX_MESSAGE_LENGTH,
    REDACTED,
    AemImsError,
    CacheError,
    CredentialsError,
    ImsResponseError,
    KeyMaterialError,
    MissingDependencyError,
    OptionError,
    TransportError,
    describe_type,
    one_line,
    redact,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain", "plain"),
        ("  two\nlines\r\n and\ttabs  ", "two lines and tabs"),
        ("unicode\u2028line\u2029separators\x85too\x0bvt\x0cff", "unicode line separators too vt ff"),
        (12345, "12345"),
        ("", ""),
    ],
)
def test_one_line_collapses_every_kind_of_whitespace(text, expected):
    assert one_line(text) == expected


def test_one_line_truncates_with_an_ellipsis_at_the_limit():
    assert one_line("x" * 700) == "x" * (MAX_MESSAGE_LENGTH - 3) + "..."
    assert len(one_line("y" * 10_000)) == MAX_MESSAGE_LENGTH
    assert one_line("abcdefghij", limit=8) == "abcde..."
    assert one_line("abcdefgh", limit=8) == "abcdefgh"


def test_one_line_drops_trailing_blanks_before_the_ellipsis():
    assert one_line("word " * 3, limit=8) == "word..."


def test_redact_replaces_a_secret_everywhere():
    assert redact("a s3cr3t-value b s3cr3t-value", ["s3cr3t-value"]) == "a %s b %s" % (REDACTED, REDACTED)


def test_redact_replaces_each_line_of_a_multiline_secret_but_keeps_pem_armour():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretline1\nAbCdEfGhIjKlMnOp\n-----END RSA PRIVATE KEY-----\n"
    text = "bad line MIIEowIBAAKCAQEAsecretline1 near -----BEGIN RSA PRIVATE KEY----- and AbCdEfGhIjKlMnOp"
    assert redact(text, [pem]) == "bad line %s near -----BEGIN RSA PRIVATE KEY----- and %s" % (REDACTED, REDACTED)


def test_redact_prefers_the_longest_secret():
    assert redact("token=abcdefgh12345678", ["abcdefgh", "abcdefgh12345678"]) == "token=" + REDACTED


def test_redact_ignores_short_lines_and_non_string_secrets():
    # A line shorter than 8 characters of a multi-line secret is not replaced on its own.
    assert redact("x short y", ["long-secret-line\nshort"]) == "x short y"
    # Secrets shorter than 4 characters would mangle every message: never replaced.
    assert redact("abc abc", ["abc"]) == "abc abc"
    assert redact("value 1234", [None, 1234, b"1234", ""]) == "value 1234"
    assert redact("value abcd", ["abcd"]) == "value " + REDACTED


@pytest.mark.parametrize("text", ["", None])
def test_redact_passes_empty_text_through(text):
    assert redact(text, ["secret-value"]) == text


def test_redact_without_secrets_is_identity():
    assert redact("nothing to hide", None) == "nothing to hide"
    assert redact("nothing to hide", ()) == "nothing to hide"


class _TaggedInt(int):
    """Like ansible-core 2.19's _AnsibleTaggedInt: a subclass, whose type name says nothing to a user."""


class _TaggedStr(str):
    pass


@pytest.mark.parametrize(
    "value, ansible_words, json_words",
    [
        (None, "nothing", "null"),
        (True, "a bool", "a boolean"),
        (False, "a bool", "a boolean"),
        ({"a": 1}, "a dict", "an object"),
        ([1], "a list", "a list"),
        ((1,), "a list", "a list"),
        (5, "an int", "a number"),
        (_TaggedInt(5), "an int", "a number"),
        (2.5, "a float", "a number"),
        ("text", "a string", "a string"),
        (_TaggedStr("text"), "a string", "a string"),
        (b"bytes", "a bytes", "a bytes"),
        (object(), "a object", "a object"),
    ],
)
def test_describe_type(value, ansible_words, json_words):
    assert describe_type(value) == ansible_words
    assert describe_type(value, json=True) == json_words


def test_describe_type_never_quotes_the_value():
    assert "Secret-Value-123" not in describe_type({"secret": "Secret-Value-123"})
    assert "Secret-Value-123" not in describe_type("Secret-Value-123", json=True)


def test_error_message_is_one_line_and_carries_field_and_code():
    error = AemImsError("first\nsecond   third", field="client_id", code="invalid_client")
    assert error.msg == "first second third"
    assert str(error) == "first second third"
    assert error.field == "client_id"
    assert error.code == "invalid_client"
    assert error.args == ("first second third",)


@pytest.mark.parametrize(
    "cls, parent",
    [
        (OptionError, AemImsError),
        (CredentialsError, AemImsError),
        (KeyMaterialError, CredentialsError),
        (CacheError, AemImsError),
        (TransportError, AemImsError),
        (ImsResponseError, AemImsError),
        (MissingDependencyError, AemImsError),
    ],
)
def test_error_hierarchy(cls, parent):
    assert issubclass(cls, parent)
    assert issubclass(cls, Exception)


def test_transport_error_is_retryable_unless_told_otherwise():
    assert TransportError("timeout").retryable is True
    error = TransportError("tls", retryable=False, field="ca_path", code="x")
    assert (error.retryable, error.field, error.code, error.msg) == (False, "ca_path", "x", "tls")


def test_ims_response_error_keeps_the_answer_details():
    error = ImsResponseError("IMS rejected\nit", status=429, code="too_many", description="slow down", debug_id="dbg-1", retryable=True, retry_after=3.0)
    assert error.msg == "IMS rejected it"
    assert (error.status, error.code, error.description, error.debug_id, error.retryable, error.retry_after) == (
        429,
        "too_many",
        "slow down",
        "dbg-1",
        True,
        3.0,
    )
    plain = ImsResponseError("x")
    assert (plain.status, plain.code, plain.retryable, plain.retry_after) == (None, None, False, None)


def test_redact_scrubs_url_encoded_and_json_escaped_forms():
    secret = 'se+cr/et=1&"x"\\y'
    from urllib.parse import quote, quote_plus  # pylint: disable=import-outside-toplevel

    for form in (secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]):
        assert redact("echoed: %s." % form, [secret]) == "echoed: ********."


def test_redact_scrubs_the_escaped_lines_of_a_pem():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    assert "MIIEvQ" not in redact("body: %s" % json.dumps(pem), [pem])
