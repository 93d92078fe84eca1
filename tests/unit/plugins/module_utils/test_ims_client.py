# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _ims_client: answers, error messages and hints, retries and transport failures."""

from __future__ import annotations

import email.utils
import json
import math
import os
import re
import time

import pytest
import requests

from hypothesis import given, settings, strategies as st
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from ansible_collections.aemops.ims.plugins.module_utils import _ims_client
from ansible_collections.aemops.ims.plugins.module_utils._errors import ImsResponseError, MissingDependencyError, OptionError, TransportError
from ansible_collections.aemops.ims.plugins.module_utils._ims_client import (
    ANSWER_EMPTY,
    ANSWER_TOKEN,
    ANSWER_VALIDATION,
    CLIENT_CREDENTIALS_PATH,
    INVALIDATE_TOKEN_PATH,
    JWT_EXCHANGE_PATH,
    VALIDATE_TOKEN_PATH,
    RETRY_AFTER_CAP,
    USER_AGENT,
    ImsHttpClient,
    deadline,
    interpret_response,
    is_bad_client_secret,
)
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_SECRET, CLIENT_SECRET_2

ORIGIN = "https://ims-na1.adobelogin.com"
ENVIRONMENT = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    """No proxy or CA bundle from the machine's environment, unless a test sets one."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


JWT = "JWT exchange"
S2S = "OAuth Server-to-Server token request"
VALIDATION = "token validation"
INVALIDATION = "token invalidation"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.QWNjZXNzLVRva2VuLVVuZGVyLVRlc3Q.c2lnbmF0dXJl"
SECRETS = [CLIENT_SECRET, CLIENT_SECRET_2, "eyJhbGciOiJSUzI1NiJ9.c2lnbmVkLWp3dA.c2lnbmF0dXJl"]
# A validation or an invalidation also scrubs the token it is about.
TOKEN_SECRETS = [*SECRETS, ACCESS_TOKEN]
SERVER_DATE = "Tue, 03 Mar 2026 10:00:00 GMT"
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def answer(status, body=b"", **headers):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content_Type", "application/json;charset=UTF-8")
    elif isinstance(body, str):
        body = body.encode()
    return status, CaseInsensitiveDict({name.replace("_", "-"): value for name, value in headers.items()}), body


def rejected(status, body=b"", what=JWT, secrets=(), expect=ANSWER_TOKEN, **headers):
    with pytest.raises(ImsResponseError) as info:
        interpret_response(*answer(status, body, **headers), what=what, origin=ORIGIN, secrets=list(secrets), expect=expect)
    error = info.value
    assert "\n" not in error.msg and len(error.msg) <= 600
    assert error.status == status
    return error


def ims_error(code, description):
    return {"error": code, "error_description": description}


# --- success ----------------------------------------------------------------------------------


def test_success_returns_the_answer_and_the_server_date():
    body = {"token_type": "bearer", "access_token": "eyJ.token.sig", "expires_in": 86399999}
    data, date = interpret_response(*answer(200, body, Date=SERVER_DATE), what=JWT, origin=ORIGIN, secrets=[])
    assert data == body
    assert date == SERVER_DATE


def test_success_without_a_date_header():
    data, date = interpret_response(*answer(200, {"access_token": "t", "expires_in": 86399}), what=S2S, origin=ORIGIN, secrets=[])
    assert (data["access_token"], date) == ("t", None)


def test_success_that_is_not_json():
    error = rejected(200, "<html><head><title>Corporate proxy login</title></head><body>sign in</body></html>", Content_Type="text/html; charset=utf-8")
    assert error.msg == "IMS answered the JWT exchange with HTTP 200 but not with JSON (text/html): 'Corporate proxy login'"
    assert error.retryable is False


def test_success_that_is_a_json_list():
    error = rejected(200, b"[1]")
    assert error.msg == "IMS answered the JWT exchange with HTTP 200 but not with JSON (no content type): '[1]'"


@pytest.mark.parametrize("token", [None, "", 5, ["x"]])
def test_success_without_an_access_token(token):
    body = {"expires_in": 86399} if token is None else {"access_token": token, "expires_in": 86399}
    assert rejected(200, body, what=S2S).msg == "IMS answered the OAuth Server-to-Server token request with HTTP 200 but without an access_token"


@pytest.mark.parametrize("expires_in", [None, 0, -5, "86399", True, [1]])
def test_success_without_a_usable_expires_in(expires_in):
    body = {"access_token": "t"} if expires_in is None else {"access_token": "t", "expires_in": expires_in}
    assert rejected(200, body).msg == "IMS answered the JWT exchange without a usable expires_in"


@pytest.mark.parametrize("raw", [b'{"access_token": "t", "expires_in": Infinity}', b'{"access_token": "t", "expires_in": NaN}'])
def test_success_with_a_non_finite_expires_in_is_refused(raw):
    # Python's json accepts Infinity and NaN; neither is a usable lifetime.
    assert rejected(200, raw).msg == "IMS answered the JWT exchange without a usable expires_in"


# --- what a success is: a validation verdict, an empty invalidation ---------------------------


def test_the_paths_of_validation_and_invalidation():
    assert (VALIDATE_TOKEN_PATH, INVALIDATE_TOKEN_PATH) == ("/ims/validate_token/v1", "/ims/invalidate_token/v2")
    assert (ANSWER_TOKEN, ANSWER_VALIDATION, ANSWER_EMPTY) == ("token", "validation", "empty")


def validation(status, body, **headers):
    return interpret_response(*answer(status, body, **headers), what=VALIDATION, origin=ORIGIN, secrets=TOKEN_SECRETS, expect=ANSWER_VALIDATION)


@pytest.mark.parametrize("valid", [True, False])
def test_a_validation_verdict_is_the_answer(valid):
    body = {"valid": valid, "token": {"client_id": "c", "type": "access_token"}} if valid else {"valid": False}
    data, date = validation(200, body, Date=SERVER_DATE)
    assert (data, date) == (body, SERVER_DATE)


def test_a_validation_verdict_needs_no_access_token_nor_expires_in():
    # What a token answer must hold is no concern of a validation.
    assert validation(200, {"valid": True})[0] == {"valid": True}


@pytest.mark.parametrize("body", [{}, {"valid": None}, {"valid": "true"}, {"valid": 1}, {"valid": 0}, {"valid": [True]}, {"token": {"valid": True}}])
def test_a_validation_without_a_true_or_false_valid_is_refused(body):
    error = rejected(200, body, what=VALIDATION, expect=ANSWER_VALIDATION)
    assert error.msg == "IMS answered the token validation with HTTP 200 but without a true or false valid"
    assert error.retryable is False


def test_a_validation_answer_that_is_not_json():
    error = rejected(200, "<html><title>Proxy login</title></html>", what=VALIDATION, expect=ANSWER_VALIDATION, Content_Type="text/html")
    assert error.msg == "IMS answered the token validation with HTTP 200 but not with JSON (text/html): 'Proxy login'"
    error = rejected(200, b"[true]", what=VALIDATION, expect=ANSWER_VALIDATION)
    assert error.msg == "IMS answered the token validation with HTTP 200 but not with JSON (no content type): '[true]'"
    error = rejected(200, b"", what=VALIDATION, expect=ANSWER_VALIDATION)
    assert error.msg == "IMS answered the token validation with HTTP 200 but not with JSON (no content type): ''"


def test_a_validation_answer_echoing_the_token_is_scrubbed():
    error = rejected(200, "<title>bad %s</title>" % ACCESS_TOKEN, what=VALIDATION, expect=ANSWER_VALIDATION, secrets=TOKEN_SECRETS)
    assert ACCESS_TOKEN not in error.msg and "bad ********" in error.msg


@pytest.mark.parametrize(
    "status, body, headers",
    [
        (200, b"", {}),
        (200, b"", {"Content_Type": "application/json"}),
        (204, b"", {}),
        (200, {"revoked": True}, {}),
        (200, b"<html>ok</html>", {"Content_Type": "text/html"}),
        (202, b"\xff\xfe not text", {}),
    ],
)
def test_any_success_of_an_invalidation_is_enough(status, body, headers):
    data, date = interpret_response(
        *answer(status, body, Date=SERVER_DATE, **headers), what=INVALIDATION, origin=ORIGIN, secrets=TOKEN_SECRETS, expect=ANSWER_EMPTY
    )
    assert (data, date) == ({}, SERVER_DATE)


@pytest.mark.parametrize("expect, what", [(ANSWER_VALIDATION, VALIDATION), (ANSWER_EMPTY, INVALIDATION)])
def test_errors_of_validation_and_invalidation_read_like_any_other(expect, what):
    error = rejected(400, ims_error("invalid_client", "invalid client_secret parameter"), what=what, expect=expect, x_debug_id="dbg-1")
    assert error.msg == (
        "IMS rejected the %s: HTTP 400 invalid_client: invalid client_secret parameter (x-debug-id dbg-1). "
        "Hint: the client_secret is wrong, or was rotated out in the Developer Console" % what
    )
    assert (error.code, error.retryable) == ("invalid_client", False)
    assert is_bad_client_secret(error) is True
    error = rejected(503, "busy", what=what, expect=expect, Retry_After="2")
    assert error.msg == "IMS answered the %s with HTTP 503 and a non-JSON body (no content type): 'busy'. Hint: IMS had a server error; try again later" % what
    assert (error.retryable, error.retry_after) == (True, 2.0)
    error = rejected(302, what=what, expect=expect, Location="https://login.example.com/x")
    assert error.msg == "IMS answered the %s with a redirect (HTTP 302 to https://login.example.com): check ims_endpoint (%s)" % (what, ORIGIN)


@pytest.mark.parametrize("expect, what", [(ANSWER_VALIDATION, VALIDATION), (ANSWER_EMPTY, INVALIDATION)])
def test_a_token_or_secret_echoed_in_an_error_is_scrubbed(expect, what):
    description = "token %s of client with secret %s is not yours" % (ACCESS_TOKEN, CLIENT_SECRET)
    error = rejected(400, ims_error("invalid_request", description), what=what, expect=expect, secrets=TOKEN_SECRETS, x_debug_id=ACCESS_TOKEN[:20])
    assert ACCESS_TOKEN not in error.msg and CLIENT_SECRET not in error.msg
    assert "token ******** of client with secret ******** is not yours" in error.msg


# --- redirects --------------------------------------------------------------------------------


def test_redirect_names_only_the_target_origin():
    error = rejected(302, b"", Location="https://login.example.com/sso/start?session=abc&next=/ims")
    assert error.msg == "IMS answered the JWT exchange with a redirect (HTTP 302 to https://login.example.com): check ims_endpoint (%s)" % ORIGIN
    assert error.retryable is False


def test_redirect_without_location():
    assert rejected(301).msg == "IMS answered the JWT exchange with a redirect (HTTP 301): check ims_endpoint (%s)" % ORIGIN


def test_redirect_with_a_relative_location_does_not_quote_its_query():
    error = rejected(307, Location="/ims/token/v3?client_secret=" + CLIENT_SECRET, secrets=SECRETS)
    assert CLIENT_SECRET not in error.msg
    assert "client_secret=" not in error.msg


# --- IMS errors and their hints ---------------------------------------------------------------


def test_invalid_token_bindings_points_at_the_key_and_certificate():
    error = rejected(400, ims_error("invalid_token", "Could not match JWT signature to any of the bindings"), x_debug_id="dbg-7f3a")
    assert error.msg == (
        "IMS rejected the JWT exchange: HTTP 400 invalid_token: Could not match JWT signature to any of the bindings (x-debug-id dbg-7f3a). "
        "Hint: the private key does not belong to this integration, or its certificate expired or was revoked in the AEM Developer Console; "
        "download the service credentials again"
    )
    assert (error.code, error.description, error.debug_id, error.retryable) == (
        "invalid_token",
        "Could not match JWT signature to any of the bindings",
        "dbg-7f3a",
        False,
    )


@pytest.mark.parametrize("description", ["JWT has expired", "The JWT is not yet valid", "iat is in the future"])
def test_expired_jwt_hints_at_clock_skew_with_both_times(description):
    error = rejected(400, ims_error("invalid_token", description), Date=SERVER_DATE)
    pattern = (
        r"^IMS rejected the JWT exchange: HTTP 400 invalid_token: %s\. Hint: the controller clock looks wrong \(clock skew\): "
        r"local time is (\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT), IMS time is %s$" % (re.escape(description), re.escape(SERVER_DATE))
    )
    match = re.match(pattern, error.msg)
    assert match, error.msg
    local = email.utils.parsedate_to_datetime(match.group(1)).timestamp()
    assert abs(local - time.time()) < 5


def test_expired_jwt_without_a_server_date():
    assert rejected(400, ims_error("invalid_token", "JWT expired")).msg.endswith(", IMS time is unknown")


def test_undecodable_jwt():
    error = rejected(400, ims_error("invalid_token", "JWT token is incorrectly formatted, and can not be decoded"))
    assert error.msg == (
        "IMS rejected the JWT exchange: HTTP 400 invalid_token: JWT token is incorrectly formatted, and can not be decoded. "
        "Hint: IMS could not decode the JWT; check org_id, technical_account_id and the private key"
    )


def test_invalid_scope():
    error = rejected(400, ims_error("invalid_scope", "Invalid metascope"))
    assert error.msg == (
        "IMS rejected the JWT exchange: HTTP 400 invalid_scope: Invalid metascope. "
        "Hint: the metascopes or scopes do not match those of the integration; copy them from the credentials"
    )


def test_description_ending_with_a_period_gives_no_double_period():
    # IMS descriptions usually end with '.', e.g. "... not a subset of the metascopes in the binding."
    error = rejected(400, ims_error("invalid_scope", "The metascopes in the JWT are not a subset of the metascopes in the binding."))
    assert ".." not in error.msg


def test_invalid_client_with_a_bad_secret():
    error = rejected(400, ims_error("invalid_client", "invalid client_secret parameter"), what=S2S)
    assert error.msg == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_client: invalid client_secret parameter. "
        "Hint: the client_secret is wrong, or was rotated out in the Developer Console"
    )
    assert is_bad_client_secret(error) is True


def test_invalid_client_without_client_secret_in_the_description():
    error = rejected(400, ims_error("invalid_client", "invalid client_id parameter"), what=S2S)
    assert error.msg == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_client: invalid client_id parameter. "
        "Hint: unknown client_id, or the wrong IMS environment (stage or production: ims_endpoint is %s)" % ORIGIN
    )
    assert is_bad_client_secret(error) is False


def test_unauthorized_client():
    error = rejected(400, ims_error("unauthorized_client", "Client is not authorized for this grant"), what=S2S)
    assert error.msg == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 unauthorized_client: Client is not authorized for this grant. "
        "Hint: the credential is not allowed this grant; check auth_method (jwt or oauth_server_to_server)"
    )


def test_invalid_jti():
    error = rejected(400, ims_error("invalid_jti", "The binding requires a JTI, but the jti field is missing or was previously used"))
    assert error.msg.endswith(". Hint: the binding requires a unique integer jti claim")


def test_error_without_description_and_unknown_code():
    error = rejected(400, {"error": "bad_request"})
    assert error.msg == "IMS rejected the JWT exchange: HTTP 400 bad_request"
    assert error.description == ""


def test_rate_limited_with_a_non_json_body():
    error = rejected(429, "Too Many Requests", what=S2S, Content_Type="text/plain", Retry_After="7")
    assert error.msg == (
        "IMS answered the OAuth Server-to-Server token request with HTTP 429 and a non-JSON body (text/plain): 'Too Many Requests'. "
        "Hint: IMS is rate limiting token requests; cache: run or cache: persistent avoids most of them"
    )
    assert (error.retryable, error.retry_after) == (True, 7.0)


def test_rate_limited_with_an_ims_error():
    error = rejected(429, ims_error("too_many_requests", "slow down"), x_debug_id="d-1")
    assert error.msg == (
        "IMS rejected the JWT exchange: HTTP 429 too_many_requests: slow down (x-debug-id d-1). "
        "Hint: IMS is rate limiting token requests; cache: run or cache: persistent avoids most of them"
    )
    assert error.retryable is True


def test_server_error():
    error = rejected(500, ims_error("internal_error", "Please try again later"))
    assert error.msg == "IMS rejected the JWT exchange: HTTP 500 internal_error: Please try again later. Hint: IMS had a server error; try again later"
    assert error.retryable is True


def test_server_error_with_an_html_page_gives_a_short_tag_free_excerpt():
    page = "<html><head><style>body{}</style></head><body><h1>502 Bad Gateway</h1><p>" + "nginx " * 40 + "</p></body></html>"
    error = rejected(502, page, Content_Type="text/html", x_debug_id="abc")
    match = re.match(
        r"^IMS answered the JWT exchange with HTTP 502 and a non-JSON body \(text/html\): '(.*)' \(x-debug-id abc\)\. "
        r"Hint: IMS had a server error; try again later$",
        error.msg,
    )
    assert match, error.msg
    excerpt = match.group(1)
    assert len(excerpt) <= 80
    assert "<" not in excerpt and ">" not in excerpt
    assert excerpt.startswith("body{} 502 Bad Gateway nginx")


def test_html_title_is_preferred():
    error = rejected(503, "<html><head><title>\n  503 Service Unavailable\n</title></head><body>x</body></html>", Content_Type="text/html")
    assert "non-JSON body (text/html): '503 Service Unavailable'" in error.msg


def test_json_without_an_error_code():
    error = rejected(400, {"message": "nope"}, x_debug_id="dd")
    assert error.msg == "IMS answered the JWT exchange with HTTP 400 and JSON without an error code (x-debug-id dd)"


def test_secrets_in_the_description_and_body_are_redacted():
    error = rejected(400, ims_error("invalid_client", "bad secret %s for client" % CLIENT_SECRET), secrets=SECRETS)
    assert CLIENT_SECRET not in error.msg
    assert "bad secret ******** for client" in error.msg
    error = rejected(502, "<title>echo %s</title>" % CLIENT_SECRET_2, secrets=SECRETS)
    assert CLIENT_SECRET_2 not in error.msg


def test_secrets_in_the_error_code_and_debug_id_are_redacted():
    error = rejected(400, ims_error("bad " + CLIENT_SECRET, "x"), secrets=SECRETS, x_debug_id=CLIENT_SECRET_2)
    assert CLIENT_SECRET not in error.msg
    assert CLIENT_SECRET_2 not in error.msg


def test_long_descriptions_are_bounded():
    error = rejected(400, ims_error("invalid_request", "word " * 500))
    assert len(error.msg) <= 600
    assert len(error.description) <= 300


def test_deeply_nested_error_body_is_an_error_not_a_crash():
    error = rejected(502, b"[" * 100_000, Content_Type="application/json")
    assert error.msg.startswith("IMS answered the JWT exchange with HTTP 502")


# --- Retry-After ------------------------------------------------------------------------------


def test_retry_after_seconds_and_http_date():
    assert rejected(503, Retry_After="12").retry_after == 12.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= rejected(503, Retry_After=future).retry_after <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert rejected(503, Retry_After=past).retry_after == 0.0
    naive = email.utils.formatdate(time.time() + 30, usegmt=True).replace("GMT", "-0000")
    assert 27 <= rejected(503, Retry_After=naive).retry_after <= 31
    assert rejected(503, Retry_After="soon").retry_after is None
    assert rejected(503, Retry_After="").retry_after is None
    assert rejected(400, {"error": "x"}, Retry_After="5").retry_after is None


def test_retry_after_with_a_non_ascii_digit_is_ignored_not_a_crash():
    # HTTP headers are decoded as latin-1: '\xb2' ('²') is a digit for str.isdigit() but not for float().
    assert rejected(503, Retry_After="\u00b2").retry_after is None


# --- property: any answer is a token or one safe line -----------------------------------------

_secret_text = st.builds(lambda before, secret, after: before + secret + after, st.text(max_size=10), st.sampled_from(SECRETS), st.text(max_size=10))
_text = st.one_of(st.text(max_size=40), _secret_text)
_numbers = st.one_of(st.integers(-10, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.just(1e308), st.booleans())
_json_body = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.one_of(_text, _numbers, st.none()),
        "expires_in": st.one_of(_numbers, _text, st.none()),
        "token_type": _text,
        "error": st.one_of(_text, _numbers),
        "error_description": st.one_of(_text, _numbers, st.none()),
    },
).map(lambda body: json.dumps(body).encode("utf-8"))
_html_body = st.builds(lambda title, text: ("<html><title>%s</title><body>%s</body></html>" % (title, text)).encode("utf-8"), _text, _text)
_body = st.one_of(_json_body, _html_body, st.binary(max_size=200))
_retry_after = st.one_of(
    st.integers(0, 10**6).map(str),
    st.just("9" * 400),
    st.just("\u00b2"),
    st.floats(-1e6, 1e6).map(lambda delta: email.utils.formatdate(1_767_225_600 + delta, usegmt=True)),
    st.text(max_size=30),
)
_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.one_of(st.sampled_from(["application/json", "text/html; charset=utf-8", "text/plain"]), _text),
        "x-debug-id": _text,
        "Date": st.one_of(st.just(SERVER_DATE), _text),
        "Retry-After": _retry_after,
        "Location": st.one_of(_text, st.builds(lambda secret: "https://u:%s@evil.example/x?s=%s" % (secret, secret), st.sampled_from(SECRETS))),
    },
)


@PROPERTY
@given(status=st.integers(100, 599), headers=_headers, body=_body, what=st.sampled_from([JWT, S2S]))
def test_property_interpret_response(status, headers, body, what):
    try:
        data, date = interpret_response(status, CaseInsensitiveDict(headers), body, what, ORIGIN, SECRETS)
    except ImsResponseError as error:
        assert "\n" not in error.msg and "\r" not in error.msg
        assert len(error.msg.splitlines()) <= 1
        assert len(error.msg) <= 600
        for secret in SECRETS:
            assert secret not in error.msg
        assert error.status == status
        assert error.retryable == (status == 429 or status >= 500)
        return
    assert 200 <= status < 300
    assert isinstance(data["access_token"], str) and data["access_token"]
    expires_in = data["expires_in"]
    assert isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool)
    assert math.isfinite(expires_in) and expires_in > 0
    # The Date header as printable text for messages; an empty one is no date.
    if not headers.get("Date"):
        assert date is None
    else:
        assert date == headers["Date"] if headers["Date"] == SERVER_DATE else (isinstance(date, str) and len(date) <= 40 and date.isprintable())


_validation_body = st.one_of(
    st.fixed_dictionaries({}, optional={"valid": st.one_of(st.booleans(), _numbers, _text, st.none()), "token": st.one_of(_text, st.none())}).map(
        lambda body: json.dumps(body).encode("utf-8")
    ),
    _html_body,
    st.binary(max_size=100),
)


@PROPERTY
@given(status=st.integers(100, 599), headers=_headers, body=_validation_body)
def test_property_a_validation_is_a_verdict_or_one_safe_line(status, headers, body):
    try:
        data, _date = interpret_response(status, CaseInsensitiveDict(headers), body, VALIDATION, ORIGIN, SECRETS, ANSWER_VALIDATION)
    except ImsResponseError as error:
        assert "\n" not in error.msg and "\r" not in error.msg and len(error.msg) <= 600
        assert not any(secret in error.msg for secret in SECRETS)
        return
    assert 200 <= status < 300
    assert isinstance(data["valid"], bool)


@PROPERTY
@given(status=st.integers(100, 599), headers=_headers, body=_body)
def test_property_an_invalidation_succeeds_on_any_2xx_only(status, headers, body):
    try:
        data, _date = interpret_response(status, CaseInsensitiveDict(headers), body, INVALIDATION, ORIGIN, SECRETS, ANSWER_EMPTY)
    except ImsResponseError as error:
        assert not 200 <= status < 300
        assert "\n" not in error.msg and len(error.msg) <= 600
        assert not any(secret in error.msg for secret in SECRETS)
        return
    assert 200 <= status < 300 and data == {}


# --- the client: requests, retries, deadline ---------------------------------------------------


class _Raw:
    """urllib3's response body: read1() hands out what the socket has, b"" at the end."""

    def __init__(self, body=b"", error=None):
        self.body = body
        self.error = error
        self.reads = []

    def read1(self, amount, decode_content=False):
        self.reads.append((amount, decode_content))
        if self.error is not None:
            raise self.error
        chunk, self.body = self.body[:amount], self.body[amount:]
        return chunk


class _Response:
    def __init__(self, status, headers=None, body=b"", error=None):
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers or {})
        self.raw = _Raw(body, error)
        self.closed = False

    def close(self):
        self.closed = True


class _Session:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.posts = []

    def post(self, url, **kwargs):
        self.posts.append(dict(kwargs, url=url))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class _Fields:
    """make_fields() that records every call, so each attempt can be seen to get fresh fields."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"client_id": "c", "client_secret": CLIENT_SECRET, "jwt_token": "jwt-%d" % self.calls}


def client_with(*outcomes, **kwargs):
    waits = []
    kwargs.setdefault("secrets", SECRETS)
    client = ImsHttpClient(ORIGIN, sleep=waits.append, **kwargs)
    client.session = _Session(*outcomes)
    return client, waits


def ok_response(expires_in=86399999):
    return _Response(200, {"Content-Type": "application/json", "Date": SERVER_DATE}, json.dumps({"access_token": "tok", "expires_in": expires_in}).encode())


def test_post_sends_a_form_without_following_redirects():
    client, waits = client_with(ok_response(), timeout=12)
    fields = _Fields()
    data, date = client.post(JWT_EXCHANGE_PATH, fields, JWT)
    assert (data["access_token"], date, waits, client.attempts) == ("tok", SERVER_DATE, [], 1)
    (post,) = client.session.posts
    assert post["url"] == ORIGIN + "/ims/exchange/jwt"
    assert post["data"] == {"client_id": "c", "client_secret": CLIENT_SECRET, "jwt_token": "jwt-1"}
    assert post["headers"] == {"Accept": "application/json", "Accept-Encoding": "identity", "Cache-Control": "no-cache", "User-Agent": USER_AGENT}
    assert post["proxies"] == {}
    assert (post["timeout"], post["verify"], post["allow_redirects"], post["stream"]) == (12.0, True, False, True)
    assert CLIENT_CREDENTIALS_PATH == "/ims/token/v3"


def test_post_of_a_validation_returns_the_verdict():
    verdict = _Response(200, {"Content-Type": "application/json"}, json.dumps({"valid": False}).encode())
    client, _waits = client_with(verdict)
    fields = {"type": "access_token", "client_id": "c", "token": ACCESS_TOKEN}
    assert client.post(VALIDATE_TOKEN_PATH, lambda: fields, VALIDATION, expect=ANSWER_VALIDATION) == ({"valid": False}, None)
    (post,) = client.session.posts
    assert (post["url"], post["data"], post["allow_redirects"]) == (ORIGIN + "/ims/validate_token/v1", fields, False)


def test_post_of_an_invalidation_takes_an_empty_answer_after_a_retry():
    client, waits = client_with(_Response(503, body=b"busy"), _Response(200, {"Date": SERVER_DATE}), retries=1)
    fields = _Fields()
    assert client.post(INVALIDATE_TOKEN_PATH, fields, INVALIDATION, expect=ANSWER_EMPTY) == ({}, SERVER_DATE)
    assert (fields.calls, len(waits), client.session.posts[-1]["url"]) == (2, 1, ORIGIN + "/ims/invalidate_token/v2")


def without_elapsed(message):
    """A message that gave up after retries says how long it tried; the time itself is not for a test to pin."""
    assert re.search(r" attempts in [0-9]+\.[0-9] s\)", message), message
    return re.sub(r"( attempts) in [0-9]+\.[0-9] s\)", r"\1)", message)


def test_post_of_a_validation_gives_up_like_any_request():
    client, waits = client_with(*[_Response(500, body=b"oops") for _unused in range(2)], retries=1)
    with pytest.raises(ImsResponseError) as info:
        client.post(VALIDATE_TOKEN_PATH, _Fields(), VALIDATION, expect=ANSWER_VALIDATION)
    assert without_elapsed(info.value.msg) == (
        "IMS answered the token validation with HTTP 500 and a non-JSON body (no content type): 'oops'. Hint: IMS had a server error; "
        "try again later (gave up after 2 attempts)"
    )
    assert len(waits) == 1


def test_post_expects_a_token_by_default():
    verdict = _Response(200, {"Content-Type": "application/json"}, json.dumps({"valid": True}).encode())
    client, _waits = client_with(verdict)
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert info.value.msg == "IMS answered the JWT exchange with HTTP 200 but without an access_token"


def test_the_body_is_read_bounded_and_the_response_closed():
    response = ok_response()
    client, _waits = client_with(response)
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert response.raw.reads == [(_ims_client.READ_CHUNK_BYTES, True)] * 2
    assert response.closed is True


def test_a_huge_body_is_read_no_further_than_the_limit():
    response = _Response(200, {"Content-Type": "application/json"}, b"x" * (3 * _ims_client.MAX_BODY_BYTES))
    client, _waits = client_with(response)
    with pytest.raises(ImsResponseError):
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert sum(amount for amount, _decode in response.raw.reads) == _ims_client.MAX_BODY_BYTES + 1
    assert all(decode for _amount, decode in response.raw.reads)


class _DrippingRaw(_Raw):
    """A server that sends one byte of its answer every half second, on a fake clock; each read gets its socket timeout."""

    def __init__(self, clock):
        super().__init__(b"{" * 10_000)
        self.clock = clock
        self.connection = self
        self.sock = self
        self.timeouts = []

    def settimeout(self, seconds):
        self.timeouts.append(seconds)

    def read1(self, amount, decode_content=False):
        self.clock.now += 0.5
        return super().read1(1, decode_content)


def test_a_dripping_answer_is_cut_at_the_deadline(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(_ims_client, "time", clock)
    response = _Response(200, {"Content-Type": "application/json"})
    response.raw = _DrippingRaw(clock)
    client, _waits = client_with(response, timeout=2, retries=0)
    with pytest.raises(TransportError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert info.value.msg == "IMS at %s did not answer within 2 s (timeout)" % ORIGIN
    # deadline(2, 0) = 2 s of half-second drips; every socket read was given only the time left.
    assert len(response.raw.reads) == 4
    assert response.raw.timeouts == [2.0, 1.5, 1.0, 0.5]
    assert response.closed is True


def test_an_attempt_that_outlives_the_deadline_is_abandoned(monkeypatch):
    def stuck(self, url, fields, attempt_timeout):
        time.sleep(5)

    monkeypatch.setattr(ImsHttpClient, "_post_once", stuck)
    client = ImsHttpClient(ORIGIN, timeout=1, retries=0)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert time.monotonic() - started < 1 + _ims_client.DEADLINE_GRACE + 1
    assert info.value.msg == "IMS at %s did not complete its answer within 1 s, the deadline of this call (timeout x (retries + 1) + backoff)" % ORIGIN
    assert info.value.retryable is False


def test_the_signed_jwt_and_the_client_secret_are_scrubbed_from_an_echoing_answer():
    fields = _Fields()
    echo = json.dumps({"error": "invalid_request", "error_description": "got jwt-1 and %s" % CLIENT_SECRET}).encode()
    client, _waits = client_with(_Response(400, {"Content-Type": "application/json"}, echo), secrets=[])
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, fields, JWT)
    assert "jwt-1" not in info.value.msg and CLIENT_SECRET not in info.value.msg
    assert "got ******** and ********" in info.value.msg


def test_ca_path_and_validate_certs_reach_requests():
    client, _waits = client_with(ok_response(), ca_path="/etc/pki/proxy-ca.pem")
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert client.session.posts[0]["verify"] == "/etc/pki/proxy-ca.pem"
    client, _waits = client_with(ok_response(), validate_certs=False)
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert client.session.posts[0]["verify"] is False


def test_proxy_url_serves_every_request_whatever_the_environment_says(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://environment-proxy.example.com:8080")
    monkeypatch.setenv("NO_PROXY", "ims-na1.adobelogin.com")
    # requests reads no environment of its own: its proxies would win over proxy_url, and ~/.netrc would be sent to IMS.
    assert ImsHttpClient(ORIGIN).session.trust_env is False
    client, _waits = client_with(ok_response(), proxy_url="http://u:p@proxy.example.com:3128")
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert client.session.posts[0]["proxies"] == {"http": "http://u:p@proxy.example.com:3128", "https": "http://u:p@proxy.example.com:3128"}


def test_without_proxy_url_the_environment_proxies_apply(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://environment-proxy.example.com:8080")
    client, _waits = client_with(ok_response())
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert client.session.posts[0]["proxies"]["https"] == "http://environment-proxy.example.com:8080"
    monkeypatch.setenv("NO_PROXY", ".adobelogin.com")
    assert ImsHttpClient(ORIGIN).proxies == {}


def test_requests_ca_bundle_is_honoured_as_requests_would(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/pki/bundle.pem")
    assert ImsHttpClient(ORIGIN).verify == "/etc/pki/bundle.pem"
    assert ImsHttpClient(ORIGIN, ca_path="/etc/pki/mine.pem").verify == "/etc/pki/mine.pem"
    assert ImsHttpClient(ORIGIN, validate_certs=False).verify is False


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_socks_proxy_without_pysocks_is_refused_before_any_request(monkeypatch, scheme):
    import importlib.util  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(OptionError) as info:
        ImsHttpClient(ORIGIN, proxy_url="%s://user:S0cksPassw0rd@127.0.0.1:1080" % scheme)
    assert info.value.msg == (
        "proxy_url is a %s:// proxy, which needs the Python package PySocks on the Ansible controller: pip install 'requests[socks]', "
        "or use an http:// proxy" % scheme
    )
    assert info.value.field == "proxy_url"


def test_a_socks_proxy_with_pysocks_is_used(monkeypatch):
    import importlib.util  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: object())
    client = ImsHttpClient(ORIGIN, proxy_url="socks5h://user:pw@127.0.0.1:1080")
    assert client.proxies == {"http": "socks5h://user:pw@127.0.0.1:1080", "https": "socks5h://user:pw@127.0.0.1:1080"}


def test_retries_503_twice_then_succeeds_with_fresh_fields():
    client, waits = client_with(_Response(503, body=b"busy"), _Response(503, body=b"busy"), ok_response(), retries=3)
    fields = _Fields()
    data, _date = client.post(JWT_EXCHANGE_PATH, fields, JWT)
    assert data["access_token"] == "tok"
    assert fields.calls == 3
    assert [post["data"]["jwt_token"] for post in client.session.posts] == ["jwt-1", "jwt-2", "jwt-3"]
    assert client.attempts == 3
    assert len(waits) == 2
    assert 0.375 <= waits[0] <= 0.625
    assert 0.75 <= waits[1] <= 1.25


def test_gives_up_after_all_retries():
    client, waits = client_with(*[_Response(503, body=b"busy") for _unused in range(3)], retries=2)
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert without_elapsed(info.value.msg) == (
        "IMS answered the JWT exchange with HTTP 503 and a non-JSON body (no content type): 'busy'. Hint: IMS had a server error; try again later "
        "(gave up after 3 attempts)"
    )
    assert len(waits) == 2


def test_backoff_is_exponential_and_capped(monkeypatch):
    monkeypatch.setattr(_ims_client.random, "uniform", lambda low, high: 1.0)
    client, waits = client_with(*([_Response(500)] * 11), retries=10, timeout=600)
    with pytest.raises(ImsResponseError):
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(status):
    client, waits = client_with(_Response(status, {"Content-Type": "application/json"}, json.dumps(ims_error("invalid_client", "x")).encode()), retries=5)
    with pytest.raises(ImsResponseError) as info:
        client.post(CLIENT_CREDENTIALS_PATH, _Fields(), S2S)
    assert (len(client.session.posts), waits) == (1, [])
    assert "gave up" not in info.value.msg


def test_retries_zero_means_one_attempt():
    client, waits = client_with(_Response(503), retries=0)
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert (len(client.session.posts), waits) == (1, [])
    assert "gave up" not in info.value.msg


def test_retry_after_seconds_are_honoured():
    client, waits = client_with(_Response(429, {"Retry-After": "3"}), ok_response(), retries=1)
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert waits == [3.0]


def test_retry_after_http_date_is_honoured():
    when = email.utils.formatdate(time.time() + 6, usegmt=True)
    client, waits = client_with(_Response(503, {"Retry-After": when}), ok_response(), retries=1)
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert len(waits) == 1 and 4.0 <= waits[0] <= 6.5


def test_retry_after_above_the_cap_is_not_waited_for():
    client, waits = client_with(_Response(429, {"Retry-After": "60"}, b"slow down"), ok_response(), retries=3)
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert (len(client.session.posts), waits) == (1, [])
    assert info.value.msg.endswith("(IMS asked to retry after 60 s, longer than the 10 s this client waits)")
    assert RETRY_AFTER_CAP == 10.0


def test_absurd_retry_after_is_not_a_crash():
    client, waits = client_with(_Response(503, {"Retry-After": "9" * 400}), retries=2)
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert waits == []
    assert "longer than the 10 s this client waits" in info.value.msg


class _Clock:
    """time.monotonic() for the client: attempts take the time the test says, sleeps advance it."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_deadline_bounds_retries_and_attempt_timeouts(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(_ims_client, "time", clock)
    durations = [20.0, 5.0]
    timeouts = []

    def send(self, url, fields, attempt_timeout):
        timeouts.append(attempt_timeout)
        clock.now += durations.pop(0)
        return answer(503, b"", Retry_After="10")

    monkeypatch.setattr(ImsHttpClient, "_send", send)
    waits = []
    client = ImsHttpClient(ORIGIN, timeout=5, retries=2, sleep=lambda seconds: (waits.append(seconds), clock.sleep(seconds)))
    assert deadline(5, 2) == 35
    with pytest.raises(ImsResponseError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    # 20 s, a 10 s wait, then only the 5 s left of the 35 s deadline: no third attempt.
    assert timeouts == [5.0, 5.0]
    assert waits == [10.0]
    assert info.value.status == 503


def test_attempt_timeout_never_drops_below_one_second(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(_ims_client, "time", clock)
    timeouts = []
    outcomes = [answer(503, b"", Retry_After="0"), answer(200, {"access_token": "t", "expires_in": 5})]

    def send(self, url, fields, attempt_timeout):
        timeouts.append(attempt_timeout)
        clock.now += 3.5
        return outcomes.pop(0)

    monkeypatch.setattr(ImsHttpClient, "_send", send)
    client = ImsHttpClient(ORIGIN, timeout=2, retries=1, sleep=clock.sleep)
    # deadline = 2 * 2 + 10 = 14 s; after 3.5 s, 10.5 s remain, more than the 2 s timeout.
    client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert timeouts == [2.0, 2.0]


@pytest.mark.parametrize("timeout, retries, expected", [(30, 3, 150.0), (1, 0, 1.0), (5, 10, 155.0), (2.5, 1, 15.0)])
def test_deadline(timeout, retries, expected):
    assert deadline(timeout, retries) == expected


# --- transport failures -----------------------------------------------------------------------


def transport_error(exception, **kwargs):
    client, waits = client_with(exception, retries=0, **kwargs)
    with pytest.raises(TransportError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert "\n" not in info.value.msg
    return info.value


def test_tls_failure_names_ca_path():
    error = transport_error(
        requests.exceptions.SSLError(
            "HTTPSConnectionPool(host='ims-na1.adobelogin.com', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, "
            "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')))"
        )
    )
    assert error.msg == (
        "TLS certificate problem talking to %s: certificate verify failed: self-signed certificate in certificate chain. If IMS is reached "
        "through a TLS-inspecting proxy or a private CA, set ca_path to that CA bundle" % ORIGIN
    )
    assert (error.retryable, error.field) == (False, "ca_path")


def test_tls_failure_through_a_proxy_with_an_unknown_reason():
    error = transport_error(requests.exceptions.SSLError("something odd"), proxy_url="http://proxy:3128")
    assert error.msg.startswith("TLS certificate problem talking to %s through proxy_url: the TLS handshake failed. " % ORIGIN)


def test_tls_hostname_mismatch_keeps_the_host_name():
    # Python 3.11's wording, as requests wraps it.
    error = transport_error(
        requests.exceptions.SSLError(
            "HTTPSConnectionPool(host='ims-na1.adobelogin.com', port=443): Max retries exceeded with url: /ims/exchange/jwt (Caused by "
            'SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate '
            "is not valid for 'ims-na1.adobelogin.com'. (_ssl.c:1006)\")))"
        )
    )
    assert error.msg.startswith("TLS certificate problem talking to %s: certificate verify failed: Hostname mismatch" % ORIGIN)
    assert "not valid for 'ims-na1.adobelogin.com'" in error.msg
    assert " for. " not in error.msg


def test_proxy_refusing_the_tunnel_is_not_retried():
    error = transport_error(
        requests.exceptions.ProxyError("Unable to connect to proxy', OSError('Tunnel connection failed: 407 Proxy Authentication Required')"),
        proxy_url="http://user:Pr0xyPassw0rd@proxy:3128",
    )
    assert error.msg == "could not reach IMS at %s through the proxy: the proxy refused the tunnel (407 Proxy Authentication Required)" % ORIGIN
    assert (error.retryable, error.field) == (False, "proxy_url")
    assert "Pr0xyPassw0rd" not in error.msg


def test_unreachable_proxy_is_retried():
    refused = requests.exceptions.ProxyError("Cannot connect to proxy. Connection refused")
    client, waits = client_with(refused, ok_response(), retries=1, proxy_url="http://proxy:3128")
    data, _date = client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert data["access_token"] == "tok"
    assert len(waits) == 1


def test_timeout():
    error = transport_error(requests.exceptions.ConnectTimeout("connect timed out"), timeout=7.5)
    assert error.msg == "IMS at %s did not answer within 7.5 s (timeout)" % ORIGIN
    assert error.retryable is True


@pytest.mark.parametrize(
    "text, reason",
    [
        ("Failed to establish a new connection: [Errno 111] Connection refused", "connection refused"),
        ("[Errno -2] Name or service not known", "the host name does not resolve"),
        ("[Errno -3] Temporary failure in name resolution", "the host name does not resolve"),
        ("[Errno 101] Network is unreachable", "network unreachable"),
        ("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))", "the connection was closed without an answer"),
        ("something else", "connection failed"),
    ],
)
def test_connection_errors(text, reason):
    error = transport_error(requests.exceptions.ConnectionError(text))
    assert error.msg == "could not connect to IMS at %s: %s" % (ORIGIN, reason)
    assert error.retryable is True


def test_connection_refused_through_a_proxy():
    error = transport_error(requests.exceptions.ConnectionError("Connection refused"), proxy_url="http://proxy:3128")
    assert error.msg == "could not connect to IMS at %s through proxy_url: connection refused" % ORIGIN


def test_connection_errors_are_retried_and_give_up():
    client, waits = client_with(*[requests.exceptions.ConnectionError("Connection refused")] * 3, retries=2)
    with pytest.raises(TransportError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert without_elapsed(info.value.msg) == "could not connect to IMS at %s: connection refused (gave up after 3 attempts)" % ORIGIN
    assert len(waits) == 2


@pytest.mark.parametrize("exception", [requests.exceptions.InvalidURL("bad url " + CLIENT_SECRET), ValueError("odd " + CLIENT_SECRET)])
def test_other_request_failures_are_not_retried_and_do_not_quote_the_exception(exception):
    client, waits = client_with(exception, ok_response(), retries=3)
    with pytest.raises(TransportError) as info:
        client.post(JWT_EXCHANGE_PATH, _Fields(), JWT)
    assert info.value.msg == "the request to IMS at %s failed: %s" % (ORIGIN, type(exception).__name__)
    assert (waits, info.value.retryable) == ([], False)


def test_an_unreadable_ca_bundle_is_named():
    # requests raises a bare OSError for a CA bundle it cannot read, before connecting.
    error = transport_error(OSError(2, "No such file or directory"))
    assert error.msg == "the request to IMS at %s could not be prepared: No such file or directory (check ca_path)" % ORIGIN
    assert (error.retryable, error.field) == (False, "ca_path")


def test_a_timeout_while_reading_the_body():
    response = _Response(200, {}, error=ReadTimeoutError(None, "/ims/exchange/jwt", "Read timed out."))
    error = transport_error(response, timeout=3)
    assert error.msg == "IMS at %s did not answer within 3 s (timeout)" % ORIGIN
    assert response.closed is True


def test_a_broken_connection_while_reading_the_body():
    response = _Response(200, {}, error=ProtocolError("Connection broken: IncompleteRead(10 bytes read)"))
    error = transport_error(response)
    assert error.msg == "could not connect to IMS at %s: the connection was closed without an answer" % ORIGIN
    assert response.closed is True


def test_missing_requests_is_named(monkeypatch):
    import builtins  # pylint: disable=import-outside-toplevel

    real_import = builtins.__import__

    def no_requests(name, *args, **kwargs):
        if name == "requests":
            raise ImportError("No module named 'requests'", name="requests")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_requests)
    with pytest.raises(MissingDependencyError) as info:
        ImsHttpClient(ORIGIN)
    assert info.value.msg == "talking to IMS needs the Python package requests on the Ansible controller: pip install requests (missing: requests)"


def test_a_long_secret_is_scrubbed_before_an_answer_is_cut_short():
    jwt_token = "eyJhbGciOiJSUzI1NiJ9." + "A" * 400 + ".c2lnbmF0dXJl"
    echoed = json.dumps({"error": "invalid_request", "error_description": "x" * 250 + jwt_token}).encode()
    error = rejected(400, echoed, secrets=[jwt_token], Content_Type="application/json", x_debug_id=jwt_token)
    assert "eyJ" not in error.msg and "AAAA" not in error.msg
    html = ("<html><body>%s</body></html>" % ("y" * 40 + jwt_token)).encode()
    error = rejected(502, html, secrets=[jwt_token], Content_Type="text/html")
    assert "eyJ" not in error.msg and "AAAA" not in error.msg


def test_the_client_repr_shows_no_secret():
    client = ImsHttpClient(ORIGIN, proxy_url="http://user:Pr0xyPassw0rd@proxy:3128", secrets=[CLIENT_SECRET])
    for shown in (repr(client), str(client), repr(client.session)):
        assert CLIENT_SECRET not in shown and "Pr0xyPassw0rd" not in shown


def test_the_user_agent_names_the_version_in_galaxy_yml():
    """USER_AGENT reads the version from _options.COLLECTION_VERSION, which must say what galaxy.yml says."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(_ims_client.__file__))))
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
        version = re.search(r"^version: *(\S+)", handle.read(), re.MULTILINE).group(1)
    assert "aemops.ims/%s (+https://github.com/aemops/ims)" % version == USER_AGENT
