# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the local IMS emulator itself, driven the way real clients talk to IMS."""

from __future__ import annotations

import base64
import concurrent.futures
import email.utils
import importlib.util
import json
import os
import re
import socket
import ssl
import stat
import threading
import urllib.parse
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

requests = pytest.importorskip("requests")
jwt = pytest.importorskip("jwt")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
x509 = pytest.importorskip("cryptography.x509")

EMULATOR_DIR = Path(__file__).resolve().parents[2] / "ims_emulator"


def _load_client():
    # Loaded by path: the tests must work both from a plain checkout and inside
    # ansible_collections/aemops/ims, where package names differ.
    spec = importlib.util.spec_from_file_location("aemops_ims_emulator_client", EMULATOR_DIR / "client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


emu_client = _load_client()


def _load_leak_check():
    # The one leak check of every suite (tests/support/leak_check.py), loaded by path like the client.
    spec = importlib.util.spec_from_file_location("aemops_ims_leak_check", EMULATOR_DIR.parent / "support" / "leak_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


leak_check = _load_leak_check()

# Everything secret the tests send or receive; the log test checks none reached stderr.
SEEN_SECRETS: list[str] = []

MSG_FORMAT = "JWT token is incorrectly formatted, and can not be decoded."
MSG_NOT_INTEGER = "The exp or jti field of the JWT is not an integer"
MSG_OTHER_ENV = "The audience of the JWT points at a different IMS environment"
MSG_AUD_MISMATCH = "The client_id in the JWT audience does not match the client_id parameter"
MSG_NO_BINDING = "Could not match JWT signature to any of the bindings"
MSG_EXPIRED = "JWT token has expired. Check the system clock: the exp claim is before the server time."
MSG_NOT_YET_VALID = "JWT token is not yet valid (iat is in the future). Check the system clock."
MSG_INVALID_METASCOPE = "Invalid metascope."
MSG_NO_METASCOPE = "No metascopes were found in the JWT."
MSG_METASCOPE_SUBSET = "The metascopes in the JWT are not a subset of the metascopes in the binding."
MSG_JTI = "The binding requires a JTI, but the jti field is missing or was previously used"
JWT_PATHS = ["/ims/exchange/jwt", "/ims/exchange/jwt/", "/ims/exchange/v1/jwt"]
S2S_PATHS = ["/ims/token/v2", "/ims/token/v3", "/ims/token/v4"]
AEM_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,aem.document"


# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("ims-emulator")
    proc, client = emu_client.start_emulator(str(state_dir))
    try:
        yield SimpleNamespace(proc=proc, client=client, state_dir=state_dir, log=state_dir / "emulator.log")
    finally:
        emu_client.stop_emulator(proc)


@pytest.fixture(scope="module")
def emu(emulator):
    return emulator.client


@pytest.fixture(autouse=True)
def _clean(emu, monkeypatch):
    # The tests talk to the local emulator: no proxy or CA bundle of the caller's environment.
    for name in list(os.environ):
        if name.lower() in ("https_proxy", "http_proxy", "all_proxy", "no_proxy", "requests_ca_bundle", "curl_ca_bundle", "netrc"):
            monkeypatch.delenv(name)
    emu.reset()
    emu.set_clock_offset(0)
    yield


def remember(integration: dict) -> dict:
    SEEN_SECRETS.extend(integration.get("client_secrets", []))
    if integration.get("private_key_pem"):
        # The whole key: the leak check searches every form of it (decrypted with the passphrase).
        SEEN_SECRETS.append(integration["private_key_pem"])
    if integration.get("passphrase"):
        SEEN_SECRETS.append(integration["passphrase"])
    dev = integration.get("formats", {}).get("local_development_token")
    if dev:
        SEEN_SECRETS.append(dev["accessToken"])
    return integration


def create(emu, **options) -> dict:
    return remember(emu.create_integration(**options))


@pytest.fixture(scope="module")
def jwt_integ(emu):
    return create(emu)


@pytest.fixture(scope="module")
def s2s_integ(emu):
    return create(emu, kind="oauth", client_secrets=2)


def load_key(pem: str, passphrase: str | None = None):
    return serialization.load_pem_private_key(pem.encode("ascii"), password=passphrase.encode("utf-8") if passphrase else None)


def build_claims(emu, integ, *, exp=300, metascopes=None, extra=None, drop=()):
    now = int(time.time())
    claims = {
        "iss": integ["org_id"],
        "sub": integ["technical_account_id"],
        "aud": f"{emu.origin}/c/{integ['client_id']}",
        "exp": now + exp,
        "iat": now,
    }
    for name in integ["metascopes"] if metascopes is None else metascopes:
        claims[f"{emu.origin}/s/{name}"] = True
    claims.update(extra or {})
    for name in drop:
        claims.pop(name, None)
    return claims


def build_jwt(emu, integ, *, key=None, algorithm="RS256", headers=None, **claim_options) -> str:
    if key is None:
        key = load_key(integ["private_key_pem"], integ.get("passphrase"))
    token = jwt.encode(build_claims(emu, integ, **claim_options), key, algorithm=algorithm, headers=headers)
    SEEN_SECRETS.append(token)
    return token


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def raw_jwt(header, payload, signature=b"signature") -> str:
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


def jwt_fields(integ, token, secret=None) -> dict:
    return {"client_id": integ["client_id"], "client_secret": secret or integ["client_secrets"][0], "jwt_token": token}


def post(emu, path, fields, *, multipart=False, params=None, timeout=10, headers=None):
    kwargs = {"params": params, "verify": emu.ca_path, "timeout": timeout, "headers": headers}
    if multipart:
        return requests.post(emu.url(path), files={k: (None, v) for k, v in fields.items()}, **kwargs)
    return requests.post(emu.url(path), data=fields, **kwargs)


def exchange(emu, integ, token=None, path="/ims/exchange/jwt", **kwargs):
    return post(emu, path, jwt_fields(integ, token or build_jwt(emu, integ)), **kwargs)


def s2s_fields(integ, secret_index=0, scope="openid,AdobeID", **extra) -> dict:
    fields = {
        "grant_type": "client_credentials",
        "client_id": integ["client_id"],
        "client_secret": integ["client_secrets"][secret_index],
        "scope": scope,
    }
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def assert_ims_error(resp, status, error, description=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert re.fullmatch(r"[0-9a-f-]{36}", resp.headers.get("x-debug-id", "")), resp.headers
    assert email.utils.parsedate_to_datetime(resp.headers["Date"])
    body = resp.json()
    assert body["error"] == error, body
    if description is not None:
        assert body["error_description"] == description, body
    assert set(body) == {"error", "error_description"}


def assert_token_ok(resp, expires_in):
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == expires_in
    assert set(body) == {"token_type", "access_token", "expires_in"}
    SEEN_SECRETS.append(body["access_token"])
    return body["access_token"]


def wait_for(predicate, timeout=60.0):
    # A hang guard, far above any honest wait: it polls, so an honest run returns at once.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---------------------------------------------------------------------------
# start-up


def test_startup_state_dir(emulator):
    info = json.loads((emulator.state_dir / "emulator.json").read_text(encoding="utf-8"))
    assert set(info) == {"pid", "host", "port", "origin", "endpoint", "ca_path"}
    assert info["pid"] == emulator.proc.pid
    assert info["host"] == "127.0.0.1"
    assert info["origin"] == f"https://127.0.0.1:{info['port']}" == emulator.client.origin
    assert info["endpoint"] == f"127.0.0.1:{info['port']}" == emulator.client.endpoint
    assert info["ca_path"] == str(emulator.state_dir / "ca.pem")
    assert stat.S_IMODE(os.stat(emulator.state_dir).st_mode) == 0o700
    ca = x509.load_pem_x509_certificate((emulator.state_dir / "ca.pem").read_bytes())
    assert ca.subject.rfc4514_string() == "CN=aemops.ims test CA"
    # TLS with both SAN names, verified against the CA only.
    for host in ("127.0.0.1", "localhost"):
        resp = requests.get(f"https://{host}:{info['port']}/_emulator/health", verify=info["ca_path"], timeout=5)
        assert resp.json()["ok"] is True


def test_sigterm_exits_cleanly_even_with_a_hanging_client(tmp_path):
    state_dir = tmp_path / "second"
    proc, client = emu_client.start_emulator(str(state_dir))
    assert client.health()["ok"] is True
    integ = client.create_integration()
    SEEN_SECRETS.extend(integ["client_secrets"])
    client.inject_faults([{"hang": True}])
    outcome = {}

    def hanging():
        # The outcome is kept for the test to assert: an assertion in this thread would only warn.
        try:
            exchange(client, integ, timeout=(60, 120))
            outcome["result"] = "answered"
        except requests.exceptions.RequestException as exc:
            outcome["result"] = exc

    thread = threading.Thread(target=hanging)
    thread.start()
    assert wait_for(lambda: client.stats()["token_requests"] == 1)
    # Exit code 0 is the proof of a clean exit: stop_emulator kills the emulator when it has not
    # exited within its timeout, and a killed one exits -9. The 60 s are a hang guard only.
    assert emu_client.stop_emulator(proc, timeout=60) == 0
    assert not (state_dir / "emulator.json").exists()
    assert "stopping" in (state_dir / "emulator.log").read_text(encoding="utf-8")
    thread.join(120)
    assert not thread.is_alive()
    # The hanging request was given no answer: the connection was closed under it (not a read timeout).
    assert isinstance(outcome.get("result"), requests.exceptions.ConnectionError), outcome
    assert not isinstance(outcome["result"], requests.exceptions.Timeout), outcome


# ---------------------------------------------------------------------------
# JWT exchange: success


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
@pytest.mark.parametrize("path", JWT_PATHS)
def test_jwt_exchange_success(emu, jwt_integ, path, multipart):
    resp = exchange(emu, jwt_integ, path=path, multipart=multipart)
    token = assert_token_ok(resp, 86399999)
    assert "x-debug-id" not in resp.headers
    assert email.utils.parsedate_to_datetime(resp.headers["Date"])
    log = emu.requests_log()[-1]
    assert log["path"] == path
    assert log["content_type"] == ("multipart/form-data" if multipart else "application/x-www-form-urlencoded")
    assert log["fields"] == ["client_id", "client_secret", "jwt_token"]
    assert log["status"] == 200
    assert token.count(".") == 2


def test_issued_token_is_realistic(emu, jwt_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "typ": "JWT"}
    jwks = requests.get(emu.url("/ims/keys"), verify=emu.ca_path, timeout=5).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"])
    assert set(claims) == {"id", "type", "client_id", "user_id", "as", "org", "scope", "created_at", "expires_in"}
    assert claims["type"] == "access_token"
    assert claims["client_id"] == jwt_integ["client_id"]
    assert claims["user_id"] == jwt_integ["technical_account_id"]
    assert claims["org"] == jwt_integ["org_id"]
    assert claims["as"] == "ims-na1"
    assert claims["scope"] == "ent_aem_cloud_api"
    assert claims["expires_in"] == "86400000"
    assert isinstance(claims["created_at"], str) and abs(int(claims["created_at"]) / 1000 - time.time()) < 60
    other = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    assert other != token


def test_jwt_skew_tolerance_accepts_slightly_old_exp_and_future_iat(emu, jwt_integ):
    assert_token_ok(exchange(emu, jwt_integ, build_jwt(emu, jwt_integ, exp=-20)), 86399999)
    now = int(time.time())
    assert_token_ok(exchange(emu, jwt_integ, build_jwt(emu, jwt_integ, extra={"iat": now + 20})), 86399999)
    # Long lifetimes are accepted, as real IMS does.
    assert_token_ok(exchange(emu, jwt_integ, build_jwt(emu, jwt_integ, exp=10 * 86400)), 86399999)


def test_exp_in_milliseconds_is_accepted_as_ims_did(emu, jwt_integ):
    # adobe/pdfservices-python-sdk sent exp in milliseconds from 2021 to 2024 and IMS took it: an
    # integer far in the future is no error. The integration suites check the lifetime sent instead.
    now = int(time.time())
    token = build_jwt(emu, jwt_integ, extra={"exp": (now + 86400) * 1000, "iat": now})
    assert_token_ok(exchange(emu, jwt_integ, token), 86399999)
    assert emu.jwts(jwt_integ["client_id"])[-1]["claims"]["exp"] == (now + 86400) * 1000


def test_every_jwt_received_is_recorded_whatever_the_answer(emu, jwt_integ, s2s_integ):
    good = build_jwt(emu, jwt_integ, extra={"jti": 7})
    assert_token_ok(exchange(emu, jwt_integ, good), 86399999)
    floating = build_jwt(emu, jwt_integ, extra={"exp": time.time() + 300.5})
    assert_ims_error(exchange(emu, jwt_integ, floating), 400, "invalid_token", MSG_NOT_INTEGER)
    # Even a wrong secret: what the client sent is recorded before any check.
    assert post(emu, "/ims/exchange/jwt", jwt_fields(jwt_integ, good, secret="p8e-wrong")).status_code == 401
    # Not a JWT at all: nothing to record.
    assert post(emu, "/ims/exchange/jwt", jwt_fields(jwt_integ, "not-a-jwt")).status_code == 400
    # S2S requests carry no JWT.
    assert post(emu, "/ims/token/v3", s2s_fields(s2s_integ)).status_code == 200
    received = emu.jwts()
    assert [entry["client_id"] for entry in received] == [jwt_integ["client_id"]] * 3
    assert received == emu.jwts(jwt_integ["client_id"]) and emu.jwts(s2s_integ["client_id"]) == []
    assert received[0]["header"] == {"alg": "RS256", "typ": "JWT"}
    assert received[0]["claims"] == jwt.decode(good, options={"verify_signature": False})
    assert received[0]["claims"]["jti"] == 7 and isinstance(received[0]["claims"]["exp"], int)
    assert isinstance(received[1]["claims"]["exp"], float)
    assert received[2]["claims"] == received[0]["claims"]
    assert all(set(entry) == {"client_id", "header", "claims", "received_at"} for entry in received)
    # Never the signature, and reset forgets them.
    assert good.split(".")[2] not in json.dumps(received)
    emu.reset()
    assert emu.jwts() == []


def test_jwt_header_without_typ_and_several_metascopes(emu):
    integ = create(emu, metascopes=["ent_aem_cloud_api", "ent_cloudmgr_sdk"])
    token = build_jwt(emu, integ, headers={"typ": None})
    resp = exchange(emu, integ, token)
    claims = jwt.decode(assert_token_ok(resp, 86399999), options={"verify_signature": False})
    assert claims["scope"] == "ent_aem_cloud_api,ent_cloudmgr_sdk"
    # A subset of the binding's metascopes is fine too.
    assert_token_ok(exchange(emu, integ, build_jwt(emu, integ, metascopes=["ent_cloudmgr_sdk"])), 86399999)


# ---------------------------------------------------------------------------
# JWT exchange: errors, in IMS's order of checks


def _missing(name):
    def build(ctx):
        fields = jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ))
        del fields[name]
        return fields

    return build


def _claims(**options):
    def build(ctx):
        return jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, **options))

    return build


def _raw(header, payload_fn, signature=b"sig"):
    def build(ctx):
        payload = payload_fn(ctx) if callable(payload_fn) else payload_fn
        return jwt_fields(ctx.integ, raw_jwt(header, payload, signature))

    return build


def _with_token(token_fn):
    def build(ctx):
        return jwt_fields(ctx.integ, token_fn(ctx))

    return build


def _alg_none(ctx):
    claims = build_claims(ctx.emu, ctx.integ)
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _signed_by(key_fn):
    def build(ctx):
        return jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, key=key_fn(ctx)))

    return build


def _other_key(_ctx):
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _hs256(ctx):
    return jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, key="a-shared-secret-of-enough-length-for-hs256", algorithm="HS256"))


JWT_ERROR_CASES = [
    ("missing-client_id", _missing("client_id"), 400, "invalid_request", "Missing required parameter: client_id"),
    ("missing-client_secret", _missing("client_secret"), 400, "invalid_request", "Missing required parameter: client_secret"),
    ("missing-jwt_token", _missing("jwt_token"), 400, "invalid_request", "Missing required parameter: jwt_token"),
    ("empty-jwt_token", lambda ctx: jwt_fields(ctx.integ, ""), 400, "invalid_request", "Missing required parameter: jwt_token"),
    (
        "unknown-client",
        lambda ctx: dict(jwt_fields(ctx.integ, "x.y.z"), client_id="cm-p1-e1-integration"),
        400,
        "invalid_client",
        "invalid client_id parameter",
    ),
    ("oauth-only-client", lambda ctx: jwt_fields(ctx.s2s, "x.y.z"), 400, "unauthorized_client", "Client is not authorized for the jwt_bearer grant"),
    ("wrong-secret", lambda ctx: jwt_fields(ctx.integ, "not-even-a-jwt", secret="p8e-wrong"), 401, "invalid_client", "invalid client_secret parameter"),
    ("two-parts", _with_token(lambda ctx: "abc.def"), 400, "invalid_token", MSG_FORMAT),
    ("four-parts", _with_token(lambda ctx: "a.b.c.d"), 400, "invalid_token", MSG_FORMAT),
    ("not-base64", _with_token(lambda ctx: "a$b.c%d.e"), 400, "invalid_token", MSG_FORMAT),
    ("header-not-json", _with_token(lambda ctx: f"{b64(b'not json')}.{b64({'exp': 1})}.{b64(b's')}"), 400, "invalid_token", MSG_FORMAT),
    ("payload-not-json", _with_token(lambda ctx: f"{b64({'alg': 'RS256'})}.{b64(b'{oops')}.{b64(b's')}"), 400, "invalid_token", MSG_FORMAT),
    ("payload-a-list", _raw({"alg": "RS256"}, [1, 2]), 400, "invalid_token", MSG_FORMAT),
    ("exp-missing", _claims(drop=("exp",)), 400, "invalid_token", MSG_FORMAT),
    # Times taken when a case runs, not when the module is collected: a slow run must not age them past the skew.
    (
        "exp-string",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"exp": str(int(time.time()) + 300)})),
        400,
        "invalid_token",
        MSG_FORMAT,
    ),
    # IMS: invalid_token "The exp or jti field of the JWT is not an integer" (umapi-documentation ConnectAPIRef.md).
    (
        "exp-float",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"exp": time.time() + 300.5})),
        400,
        "invalid_token",
        MSG_NOT_INTEGER,
    ),
    (
        "exp-integral-float",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"exp": float(int(time.time()) + 300)})),
        400,
        "invalid_token",
        MSG_NOT_INTEGER,
    ),
    ("exp-bool", _claims(extra={"exp": True}), 400, "invalid_token", MSG_NOT_INTEGER),
    ("jti-string", _claims(extra={"jti": "abc"}), 400, "invalid_token", MSG_NOT_INTEGER),
    ("jti-numeric-string", _claims(extra={"jti": "123"}), 400, "invalid_token", MSG_NOT_INTEGER),
    ("jti-float", _claims(extra={"jti": 12.5}), 400, "invalid_token", MSG_NOT_INTEGER),
    # Not stripped: a JWT has no whitespace (RFC 7515 section 7.1), and IMS is not documented to trim it.
    ("jwt-leading-space", lambda ctx: jwt_fields(ctx.integ, " " + build_jwt(ctx.emu, ctx.integ)), 400, "invalid_token", MSG_FORMAT),
    ("jwt-trailing-newline", lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ) + "\n"), 400, "invalid_token", MSG_FORMAT),
    (
        "aud-other-environment",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"aud": f"https://ims-na1.adobelogin.com/c/{ctx.integ['client_id']}"})),
        400,
        "invalid_client",
        MSG_OTHER_ENV,
    ),
    (
        "aud-other-client",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"aud": f"{ctx.emu.origin}/c/cm-p1-e2-integration"})),
        400,
        "invalid_client",
        MSG_AUD_MISMATCH,
    ),
    (
        "aud-list",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"aud": [f"{ctx.emu.origin}/c/{ctx.integ['client_id']}"]})),
        400,
        "invalid_client",
        MSG_AUD_MISMATCH,
    ),
    ("aud-missing", _claims(drop=("aud",)), 400, "invalid_client", MSG_AUD_MISMATCH),
    ("alg-none", _with_token(_alg_none), 400, "invalid_token", MSG_NO_BINDING),
    ("alg-hs256", _hs256, 400, "invalid_token", MSG_NO_BINDING),
    ("iss-wrong", _claims(extra={"iss": "0123456789ABCDEF01234567@AdobeOrg"}), 400, "invalid_token", MSG_NO_BINDING),
    ("sub-wrong", _claims(extra={"sub": "0123456789ABCDEF01234567@techacct.adobe.com"}), 400, "invalid_token", MSG_NO_BINDING),
    ("wrong-key", _signed_by(_other_key), 400, "invalid_token", MSG_NO_BINDING),
    ("forged-signature", _raw({"alg": "RS256", "typ": "JWT"}, lambda ctx: build_claims(ctx.emu, ctx.integ), b"x" * 256), 400, "invalid_token", MSG_NO_BINDING),
    ("expired", _claims(exp=-40), 400, "invalid_token", MSG_EXPIRED),
    (
        "iat-future",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"iat": int(time.time()) + 120})),
        400,
        "invalid_token",
        MSG_NOT_YET_VALID,
    ),
    (
        "metascope-string-true",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={f"{ctx.emu.origin}/s/ent_aem_cloud_api": "true"})),
        400,
        "invalid_scope",
        MSG_INVALID_METASCOPE,
    ),
    (
        "metascope-false",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={f"{ctx.emu.origin}/s/ent_aem_cloud_api": False})),
        400,
        "invalid_scope",
        MSG_INVALID_METASCOPE,
    ),
    (
        "metascope-other-host",
        lambda ctx: jwt_fields(ctx.integ, build_jwt(ctx.emu, ctx.integ, extra={"https://ims-na1.adobelogin.com/s/ent_aem_cloud_api": True})),
        400,
        "invalid_scope",
        MSG_INVALID_METASCOPE,
    ),
    ("no-metascope", _claims(metascopes=[]), 400, "invalid_scope", MSG_NO_METASCOPE),
    ("metascope-not-subset", _claims(metascopes=["ent_aem_cloud_api", "ent_cloudmgr_sdk"]), 400, "invalid_scope", MSG_METASCOPE_SUBSET),
    ("metascope-unknown", _claims(metascopes=["ent_user_sdk"]), 400, "invalid_scope", MSG_METASCOPE_SUBSET),
]


@pytest.mark.parametrize("case", JWT_ERROR_CASES, ids=[case[0] for case in JWT_ERROR_CASES])
def test_jwt_exchange_errors(emu, jwt_integ, s2s_integ, case):
    _name, build, status, error, description = case
    ctx = SimpleNamespace(emu=emu, integ=jwt_integ, s2s=s2s_integ)
    fields = build(ctx)
    assert_ims_error(post(emu, "/ims/exchange/jwt", fields), status, error, description)
    assert emu.stats()["errors"] == {error: 1}


@pytest.mark.parametrize("path", JWT_PATHS)
def test_jwt_errors_on_every_path_and_multipart(emu, jwt_integ, path):
    fields = jwt_fields(jwt_integ, build_jwt(emu, jwt_integ, exp=-100))
    assert_ims_error(post(emu, path, fields, multipart=True), 400, "invalid_token", MSG_EXPIRED)


def test_jwt_fields_in_query_string_or_json_are_not_read(emu, jwt_integ):
    fields = jwt_fields(jwt_integ, build_jwt(emu, jwt_integ))
    resp = requests.post(emu.url("/ims/exchange/jwt"), params=fields, verify=emu.ca_path, timeout=5)
    assert_ims_error(resp, 400, "invalid_request", "Missing required parameter: client_id")
    resp = requests.post(emu.url("/ims/exchange/jwt"), json=fields, verify=emu.ca_path, timeout=5)
    assert_ims_error(resp, 400, "invalid_request", "Missing required parameter: client_id")


def test_check_order_secret_before_token(emu, jwt_integ):
    # A bad secret is reported even when the JWT is also broken.
    resp = post(emu, "/ims/exchange/jwt", jwt_fields(jwt_integ, "garbage", secret="p8e-nope"))
    assert_ims_error(resp, 401, "invalid_client", "invalid client_secret parameter")


def test_jti_required(emu):
    integ = create(emu, jti_required=True)
    assert integ["jti_required"] is True
    assert_ims_error(exchange(emu, integ, build_jwt(emu, integ)), 400, "invalid_jti", MSG_JTI)
    jti = int(time.time() * 1000)
    token = build_jwt(emu, integ, extra={"jti": jti})
    assert_token_ok(exchange(emu, integ, token), 86399999)
    assert_ims_error(exchange(emu, integ, token), 400, "invalid_jti", MSG_JTI)
    assert_ims_error(exchange(emu, integ, build_jwt(emu, integ, extra={"jti": jti})), 400, "invalid_jti", MSG_JTI)
    assert_token_ok(exchange(emu, integ, build_jwt(emu, integ, extra={"jti": jti + 1})), 86399999)
    assert_ims_error(exchange(emu, integ, build_jwt(emu, integ, extra={"jti": "123"})), 400, "invalid_token", MSG_NOT_INTEGER)


def test_jti_not_required_allows_reuse(emu, jwt_integ):
    token = build_jwt(emu, jwt_integ, extra={"jti": 42})
    assert_token_ok(exchange(emu, jwt_integ, token), 86399999)
    assert_token_ok(exchange(emu, jwt_integ, token), 86399999)


# ---------------------------------------------------------------------------
# certificates, rotation, key formats


def test_expired_certificate_then_rotation(emu):
    integ = create(emu, cert_days_valid=-1)
    cert = x509.load_pem_x509_certificate(integ["certificate_pem"].encode())
    assert cert.not_valid_after_utc.timestamp() < time.time()
    assert integ["certificate_expiration_date"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert_ims_error(exchange(emu, integ), 400, "invalid_token", MSG_NO_BINDING)

    new = emu.add_certificate(integ["client_id"], cert_days_valid=365)
    SEEN_SECRETS.append(new["private_key_pem"])
    rotated = dict(integ, private_key_pem=new["private_key_pem"])
    assert_token_ok(exchange(emu, rotated), 86399999)
    assert_ims_error(exchange(emu, integ), 400, "invalid_token", MSG_NO_BINDING)
    aem = new["formats"]["aem_service_credentials"]["integration"]
    assert aem["privateKey"] == new["private_key_pem"].replace("\n", "\r\n")
    assert aem["certificateExpirationDate"] == new["certificate_expiration_date"]
    assert aem["technicalAccount"]["clientId"] == integ["client_id"]


def test_not_yet_valid_certificate(emu):
    integ = create(emu, cert_not_before_days=1)
    assert_ims_error(exchange(emu, integ), 400, "invalid_token", MSG_NO_BINDING)


def test_rotation_and_revocation(emu, jwt_integ):
    integ = create(emu, client_secrets=2)
    second = emu.add_certificate(integ["client_id"])
    SEEN_SECRETS.append(second["private_key_pem"])
    rotated = dict(integ, private_key_pem=second["private_key_pem"])
    # Both keys and both secrets work during rotation.
    assert_token_ok(exchange(emu, integ), 86399999)
    assert_token_ok(exchange(emu, rotated), 86399999)
    assert_token_ok(post(emu, "/ims/exchange/jwt", jwt_fields(integ, build_jwt(emu, integ), secret=integ["client_secrets"][1])), 86399999)

    assert emu.revoke(integ["client_id"], certificate_pem=integ["formats"]["aem_service_credentials"]["integration"]["publicKey"]) == {"revoked": 1}
    assert_ims_error(exchange(emu, integ), 400, "invalid_token", MSG_NO_BINDING)
    assert_token_ok(exchange(emu, rotated), 86399999)

    assert emu.revoke(integ["client_id"], all=True) == {"revoked": 1}
    assert_ims_error(exchange(emu, rotated), 400, "invalid_token", MSG_NO_BINDING)

    with pytest.raises(emu_client.EmulatorError) as info:
        emu.revoke(integ["client_id"], certificate_pem=jwt_integ["certificate_pem"])
    assert info.value.status == 404


@pytest.mark.parametrize(
    "key_format,passphrase,marker",
    [
        ("pkcs1", None, "-----BEGIN RSA PRIVATE KEY-----"),
        ("pkcs1", "s3cret-pass", "Proc-Type: 4,ENCRYPTED"),
        ("pkcs8", None, "-----BEGIN PRIVATE KEY-----"),
        ("pkcs8", "s3cret-pass", "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
    ],
)
def test_key_formats_round_trip(emu, key_format, passphrase, marker):
    options = {"key_format": key_format}
    if passphrase:
        options["passphrase"] = passphrase
    integ = create(emu, **options)
    pem = integ["private_key_pem"]
    assert marker in pem
    if passphrase:
        with pytest.raises(TypeError):
            load_key(pem)
        assert integ["formats"]["aio_context"]["passphrase"] == passphrase
    else:
        assert "passphrase" not in integ["formats"]["aio_context"]
    key = load_key(pem, passphrase)
    assert key.key_size == 2048
    assert integ["formats"]["aio_context"]["private_key"] == pem
    aem_key = integ["formats"]["aem_service_credentials"]["integration"]["privateKey"]
    assert aem_key == pem.replace("\n", "\r\n")
    assert_token_ok(exchange(emu, integ), 86399999)
    # The key in the AEM JSON, with its \r\n line endings, signs just as well.
    assert_token_ok(exchange(emu, integ, build_jwt(emu, integ, key=load_key(aem_key, passphrase))), 86399999)


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")
def test_key_size(emu):
    # 1024 bits only to keep the test fast; the option is what is under test.
    integ = create(emu, key_size=1024)
    assert load_key(integ["private_key_pem"]).key_size == 1024
    assert_token_ok(exchange(emu, integ), 86399999)


# ---------------------------------------------------------------------------
# credential formats


def test_aem_service_credentials_format(emu, jwt_integ):
    aem = jwt_integ["formats"]["aem_service_credentials"]
    assert aem["ok"] is True and aem["statusCode"] == 200
    integ = aem["integration"]
    assert set(integ) == {"imsEndpoint", "metascopes", "technicalAccount", "email", "id", "org", "privateKey", "publicKey", "certificateExpirationDate"}
    assert integ["imsEndpoint"] == emu.endpoint
    assert integ["metascopes"] == "ent_aem_cloud_api"
    assert integ["technicalAccount"] == {"clientId": jwt_integ["client_id"], "clientSecret": jwt_integ["client_secrets"][0]}
    assert re.fullmatch(r"cm-p\d{5}-e\d{6}-integration", jwt_integ["client_id"])
    assert re.fullmatch(r"[0-9A-F]{24}@AdobeOrg", integ["org"])
    assert re.fullmatch(r"[0-9A-F]{24}@techacct\.adobe\.com", integ["id"])
    assert re.fullmatch(r"[0-9a-f-]{36}@techacct\.adobe\.com", integ["email"])
    assert re.fullmatch(r"p8e-[A-Za-z0-9_-]{32}", jwt_integ["client_secrets"][0])
    assert integ["privateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----\r\n")
    assert "\n" not in integ["privateKey"].replace("\r\n", "")
    assert integ["publicKey"].startswith("-----BEGIN CERTIFICATE-----\r\n")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", integ["certificateExpirationDate"])
    cert = x509.load_pem_x509_certificate(integ["publicKey"].encode())
    assert cert.issuer == cert.subject
    assert 364 <= (cert.not_valid_after_utc.timestamp() - time.time()) / 86400 <= 366
    assert jwt_integ["client_id"] in cert.subject.rfc4514_string()


def test_write_credentials_and_key(tmp_path, jwt_integ, s2s_integ):
    path = emu_client.write_credentials(str(tmp_path / "aem.json"), jwt_integ)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(Path(path).read_text(encoding="utf-8"))["integration"]["technicalAccount"]["clientId"] == jwt_integ["client_id"]
    path = emu_client.write_credentials(str(tmp_path / "flat.json"), s2s_integ, fmt="oauth_s2s_flat")
    assert json.loads(Path(path).read_text(encoding="utf-8"))["CLIENT_SECRETS"] == s2s_integ["client_secrets"]
    key_path = emu_client.write_private_key(str(tmp_path / "private.key"), jwt_integ)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    with pytest.raises(ValueError):
        emu_client.write_credentials(str(tmp_path / "x.json"), s2s_integ)


def test_developer_console_and_other_formats(emu, jwt_integ, s2s_integ):
    both = create(emu, kind="both", client_secrets=2)
    for integ, kind, blocks in (
        (jwt_integ, "service", {"jwt"}),
        (s2s_integ, "oauth_server_to_server", {"oauth_server_to_server"}),
        (both, "oauth_server_to_server_migrate", {"jwt", "oauth_server_to_server"}),
    ):
        project = integ["formats"]["developer_console_project"]["project"]
        assert re.fullmatch(r"\d+", project["id"]) and project["org"]["ims_org_id"] == integ["org_id"]
        workspace = project["workspace"]
        assert {"id", "name", "action_url", "app_url", "details"} <= set(workspace)
        assert workspace["details"]["services"] == []
        credential = workspace["details"]["credentials"][0]
        assert credential["integration_type"] == kind
        assert blocks <= set(credential) and not ({"jwt", "oauth_server_to_server"} - blocks) & set(credential)
        if "jwt" in blocks:
            assert credential["jwt"] == {
                "client_id": integ["client_id"],
                "client_secret": integ["client_secrets"][0],
                "technical_account_email": integ["email"],
                "technical_account_id": integ["technical_account_id"],
                "meta_scopes": ["ent_aem_cloud_api"],
            }
        if "oauth_server_to_server" in blocks:
            assert credential["oauth_server_to_server"]["client_secrets"] == integ["client_secrets"]
            assert credential["oauth_server_to_server"]["scopes"] == integ["scopes"]
        assert "PRIVATE KEY" not in json.dumps(integ["formats"]["developer_console_project"])
    assert set(jwt_integ["formats"]) == {"aem_service_credentials", "developer_console_project", "aio_context", "local_development_token"}
    assert set(s2s_integ["formats"]) == {"developer_console_project", "oauth_s2s_flat", "aio_context", "local_development_token"}
    assert s2s_integ["private_key_pem"] is None and s2s_integ["certificate_pem"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", s2s_integ["client_id"])
    assert s2s_integ["formats"]["oauth_s2s_flat"] == {
        "ORG_ID": s2s_integ["org_id"],
        "CLIENT_ID": s2s_integ["client_id"],
        "CLIENT_SECRETS": s2s_integ["client_secrets"],
        "SCOPES": s2s_integ["scopes"],
        "TECHNICAL_ACCOUNT_ID": s2s_integ["technical_account_id"],
        "TECHNICAL_ACCOUNT_EMAIL": s2s_integ["email"],
    }
    assert s2s_integ["formats"]["aio_context"] == {
        "client_id": s2s_integ["client_id"],
        "client_secrets": s2s_integ["client_secrets"],
        "technical_account_id": s2s_integ["technical_account_id"],
        "technical_account_email": s2s_integ["email"],
        "scopes": s2s_integ["scopes"],
        "ims_org_id": s2s_integ["org_id"],
    }
    assert set(jwt_integ["formats"]["aio_context"]) == {
        "client_id",
        "client_secret",
        "technical_account_id",
        "technical_account_email",
        "meta_scopes",
        "ims_org_id",
        "private_key",
    }
    assert set(both["formats"]) >= {"aem_service_credentials", "oauth_s2s_flat", "aio_context", "aio_context_oauth"}
    # A migrated credential works with both grants.
    assert_token_ok(exchange(emu, both), 86399999)
    assert_token_ok(post(emu, "/ims/token/v3", s2s_fields(both, 1)), 86399)
    dev = jwt_integ["formats"]["local_development_token"]
    assert dev["ok"] is True and dev["statusCode"] == 200
    resp = requests.get(
        emu.url("/libs/granite/security/currentuser.json"), headers={"Authorization": f"Bearer {dev['accessToken']}"}, verify=emu.ca_path, timeout=5
    )
    assert resp.status_code == 200 and resp.json()["authorizableId"].startswith("developer-")


def test_admin_validation(emu, jwt_integ):
    with pytest.raises(emu_client.EmulatorError) as info:
        emu.create_integration(kinds="jwt")
    assert info.value.status == 400
    with pytest.raises(emu_client.EmulatorError) as info:
        emu.create_integration(client_id=jwt_integ["client_id"])
    assert info.value.status == 409
    with pytest.raises(emu_client.EmulatorError):
        emu.create_integration(kind="saml")
    with pytest.raises(emu_client.EmulatorError):
        emu.inject_faults([{"sttus": 500}])
    with pytest.raises(emu_client.EmulatorError) as info:
        emu.add_certificate("no-such-client")
    assert info.value.status == 404
    custom = create(emu, client_id="cm-p12345-e123456-integration-2")
    assert custom["client_id"] == "cm-p12345-e123456-integration-2"


# ---------------------------------------------------------------------------
# OAuth Server-to-Server


@pytest.mark.parametrize("path", S2S_PATHS)
def test_s2s_success_both_secrets(emu, s2s_integ, path):
    for index in (0, 1):
        token = assert_token_ok(post(emu, path, s2s_fields(s2s_integ, index)), 86399)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["scope"] == "openid,AdobeID"
        assert claims["client_id"] == s2s_integ["client_id"]


def test_s2s_client_id_in_query_and_multipart(emu, s2s_integ):
    fields = s2s_fields(s2s_integ, 1, scope=AEM_SCOPES)
    client_id = fields.pop("client_id")
    assert_token_ok(post(emu, "/ims/token/v3", fields, params={"client_id": client_id}), 86399)
    assert_token_ok(post(emu, "/ims/token/v4", fields, params={"client_id": client_id}, multipart=True), 86399)
    entry = emu.requests_log()[-1]
    assert entry["content_type"] == "multipart/form-data"
    assert entry["fields"] == ["grant_type", "client_secret", "scope"]
    assert entry["query_fields"] == ["client_id"]


def test_s2s_scope_whitespace(emu, s2s_integ):
    token = assert_token_ok(post(emu, "/ims/token/v3", s2s_fields(s2s_integ, scope=" openid , AdobeID,aem.document ")), 86399)
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == "openid,AdobeID,aem.document"


S2S_ERROR_CASES = [
    ("grant-type-wrong", {"grant_type": "password"}, 400, "unsupported_grant_type", None),
    ("grant-type-missing", {"grant_type": None}, 400, "unsupported_grant_type", None),
    ("unknown-client", {"client_id": "0123456789abcdef0123456789abcdef"}, 400, "invalid_client", "invalid client_id parameter"),
    ("wrong-secret", {"client_secret": "p8e-wrong"}, 400, "invalid_client", "invalid client_secret parameter"),
    ("missing-secret", {"client_secret": None}, 400, "invalid_client", "invalid client_secret parameter"),
    ("scope-missing", {"scope": None}, 400, "invalid_scope", "The scope parameter is required"),
    ("scope-empty", {"scope": ""}, 400, "invalid_scope", "The scope parameter is required"),
    ("scope-blank-items", {"scope": " , "}, 400, "invalid_scope", "The scope parameter is required"),
    ("scope-invalid", {"scope": "openid,read_pc.dma_aem_cloud"}, 400, "invalid_scope", "Invalid scope"),
]


@pytest.mark.parametrize("case", S2S_ERROR_CASES, ids=[case[0] for case in S2S_ERROR_CASES])
def test_s2s_errors(emu, s2s_integ, case):
    _name, overrides, status, error, description = case
    fields = s2s_fields(s2s_integ)
    fields.update(overrides)
    fields = {k: v for k, v in fields.items() if v is not None}
    assert_ims_error(post(emu, "/ims/token/v3", fields), status, error, description)


def test_s2s_jwt_only_client(emu, jwt_integ):
    fields = s2s_fields(jwt_integ)
    assert_ims_error(post(emu, "/ims/token/v3", fields), 400, "unauthorized_client", "Client is not authorized for the client_credentials grant")


# ---------------------------------------------------------------------------
# validate_token


def test_validate_token_requires_client_id(emu, jwt_integ):
    # Every documented caller sends it (adobe/aio-lib-ims, adobe/aio-lib-java): none is taken as a client bug.
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    resp = post(emu, "/ims/validate_token/v1", {"type": "access_token", "token": token})
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_request", "error_description": "Missing required parameter: client_id"})
    resp = post(emu, "/ims/validate_token/v1", {"type": "access_token", "client_id": "", "token": token})
    assert resp.status_code == 400


def test_token_owner_for_tests_is_not_counted_as_a_validation(emu, jwt_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    assert emu.token_owner(token) == jwt_integ["client_id"]
    assert emu.token_owner(token[:-4] + "AAAA") is None and emu.token_owner("not.a.token") is None
    assert "validations" not in emu.stats()["by_client"][jwt_integ["client_id"]]
    emu.invalidate_token(jwt_integ["client_id"], jwt_integ["client_secrets"][0], token)
    assert emu.token_owner(token) is None


def test_validate_token(emu, jwt_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    url = emu.url("/ims/validate_token/v1")
    body = requests.post(url, data={"type": "access_token", "client_id": jwt_integ["client_id"], "token": token}, verify=emu.ca_path, timeout=5).json()
    assert body["valid"] is True and body["token"]["client_id"] == jwt_integ["client_id"]
    body = requests.post(
        url, data={"type": "access_token", "client_id": jwt_integ["client_id"]}, headers={"Authorization": f"Bearer {token}"}, verify=emu.ca_path, timeout=5
    ).json()
    assert body["valid"] is True
    body = requests.post(url, data={"type": "access_token", "client_id": "someone-else", "token": token}, verify=emu.ca_path, timeout=5).json()
    assert body["valid"] is False
    body = requests.post(url, data={"type": "access_token", "client_id": "x", "token": "not.a.token"}, verify=emu.ca_path, timeout=5).json()
    assert body["valid"] is False
    emu.set_clock_offset(2 * 86400)
    body = requests.post(url, data={"type": "access_token", "client_id": jwt_integ["client_id"], "token": token}, verify=emu.ca_path, timeout=5).json()
    assert body["valid"] is False


# ---------------------------------------------------------------------------
# invalidate_token, and what an invalidated token is afterwards

MSG_NOT_THIS_CLIENT = "The token was not issued to this client"


def invalidation_fields(integ, value, secret_index=0, **overrides) -> dict:
    fields = {"token_type": "access_token", "token": value, "client_id": integ["client_id"], "client_secret": integ["client_secrets"][secret_index]}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def invalidate(emu, integ, value, **overrides):
    return post(emu, "/ims/invalidate_token/v2", invalidation_fields(integ, value, **overrides))


def is_valid(emu, integ, token) -> bool:
    resp = post(emu, "/ims/validate_token/v1", {"type": "access_token", "client_id": integ["client_id"], "token": token})
    assert resp.status_code == 200, resp.text
    return resp.json()["valid"]


def s2s_token(emu, integ, secret_index=0) -> str:
    return assert_token_ok(post(emu, "/ims/token/v3", s2s_fields(integ, secret_index)), 86399)


def assert_invalidated_ok(resp):
    assert (resp.status_code, resp.content) == (200, b""), resp.text
    assert resp.headers["Content-Length"] == "0"


@pytest.mark.parametrize("missing", ["token_type", "token", "client_id", "client_secret"])
def test_invalidate_token_needs_every_field(emu, s2s_integ, missing):
    token = s2s_token(emu, s2s_integ)
    resp = invalidate(emu, s2s_integ, token, **{missing: None})
    assert_ims_error(resp, 400, "invalid_request", "Missing required parameter: " + missing)
    assert is_valid(emu, s2s_integ, token) is True


def test_invalidate_token_wants_an_access_token(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    assert_ims_error(invalidate(emu, s2s_integ, token, token_type="refresh_token"), 400, "invalid_request")
    assert is_valid(emu, s2s_integ, token) is True


@pytest.mark.parametrize(
    "overrides, description",
    [
        ({"client_secret": "p8e-not-the-secret"}, "invalid client_secret parameter"),
        ({"client_id": "0123456789abcdef0123456789abcdef"}, "invalid client_id parameter"),
    ],
    ids=["wrong-secret", "unknown-client"],
)
def test_invalidate_token_needs_the_clients_secret(emu, s2s_integ, overrides, description):
    token = s2s_token(emu, s2s_integ)
    assert_ims_error(invalidate(emu, s2s_integ, token, **overrides), 400, "invalid_client", description)
    assert is_valid(emu, s2s_integ, token) is True


def test_invalidate_token_refuses_a_token_of_another_client(emu, jwt_integ, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    # jwt_integ's own credentials, s2s_integ's token.
    assert_ims_error(invalidate(emu, jwt_integ, token), 400, "invalid_request", MSG_NOT_THIS_CLIENT)
    assert is_valid(emu, s2s_integ, token) is True


@pytest.mark.parametrize(
    "token_of",
    [
        lambda emu, integ: "not-a-token",
        lambda emu, integ: "a.b.c",
        lambda emu, integ: raw_jwt({"alg": "RS256"}, {"id": "0" * 36, "type": "access_token", "client_id": integ["client_id"]}),
    ],
    ids=["opaque", "undecodable", "never-issued"],
)
def test_invalidating_an_unknown_token_is_no_error(emu, s2s_integ, token_of):
    # RFC 7009: the client cannot tell an unknown token from one already gone.
    assert_invalidated_ok(invalidate(emu, s2s_integ, token_of(emu, s2s_integ)))


def test_an_invalidated_token_fails_validation_and_aem_and_the_client_gets_a_new_one(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    assert aem(emu, "GET", "/libs/granite/security/currentuser.json", token).status_code == 200
    resp = invalidate(emu, s2s_integ, token)
    assert_invalidated_ok(resp)
    assert is_valid(emu, s2s_integ, token) is False
    resp = aem(emu, "GET", "/libs/granite/security/currentuser.json", token)
    assert resp.status_code == 401 and resp.json() == {"error": "unauthorized"}
    # Invalidating it again changes nothing, and is no error.
    assert_invalidated_ok(invalidate(emu, s2s_integ, token))
    # The credentials still work: a new token, valid everywhere.
    fresh = s2s_token(emu, s2s_integ)
    assert fresh != token and is_valid(emu, s2s_integ, fresh) is True
    assert aem(emu, "GET", "/aem/x", fresh, api_key=s2s_integ["client_id"]).status_code == 200


def test_invalidating_with_the_second_secret_and_by_bearer_validation(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ, secret_index=1)
    assert_invalidated_ok(invalidate(emu, s2s_integ, token, client_secret=s2s_integ["client_secrets"][1]))
    resp = post(emu, "/ims/validate_token/v1", {"type": "access_token", "client_id": s2s_integ["client_id"]}, headers={"Authorization": f"Bearer {token}"})
    assert resp.json()["valid"] is False


def test_invalidating_a_jwt_exchange_token(emu, jwt_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    assert_invalidated_ok(invalidate(emu, jwt_integ, token))
    assert is_valid(emu, jwt_integ, token) is False
    assert is_valid(emu, jwt_integ, assert_token_ok(exchange(emu, jwt_integ), 86399999)) is True


def test_the_clients_invalidate_token(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    assert emu.invalidate_token(s2s_integ["client_id"], s2s_integ["client_secrets"][0], token) is None
    assert is_valid(emu, s2s_integ, token) is False


def test_other_tokens_of_the_client_stay_valid(emu, s2s_integ):
    first, second = s2s_token(emu, s2s_integ), s2s_token(emu, s2s_integ)
    assert_invalidated_ok(invalidate(emu, s2s_integ, first))
    assert (is_valid(emu, s2s_integ, first), is_valid(emu, s2s_integ, second)) == (False, True)


def test_a_forged_token_cannot_invalidate_a_real_one(emu, jwt_integ, s2s_integ):
    victim = s2s_token(emu, s2s_integ)
    claims = jwt.decode(victim, options={"verify_signature": False})
    forged = jwt.encode(dict(claims, client_id=jwt_integ["client_id"]), rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    invalidate(emu, jwt_integ, forged)
    assert is_valid(emu, s2s_integ, victim) is True


@pytest.fixture
def own_emulator(tmp_path):
    """An emulator of the test's own, whose log no other test reads."""
    proc, client = emu_client.start_emulator(str(tmp_path / "own-emulator"))
    try:
        yield SimpleNamespace(client=client, log=tmp_path / "own-emulator" / "emulator.log")
    finally:
        emu_client.stop_emulator(proc)


def test_a_token_with_an_odd_id_is_an_unknown_token(own_emulator):
    emu = own_emulator.client
    integ = emu.create_integration(kind="oauth")
    odd = raw_jwt({"alg": "RS256"}, {"id": ["not", "hashable"], "type": "access_token", "client_id": integ["client_id"]})
    resp = invalidate(emu, integ, odd)
    assert "internal error" not in own_emulator.log.read_text(encoding="utf-8")
    assert_invalidated_ok(resp)


def test_a_successful_invalidation_is_logged_with_its_status(own_emulator):
    emu = own_emulator.client
    integ = emu.create_integration(kind="oauth")
    assert_invalidated_ok(invalidate(emu, integ, s2s_token(emu, integ)))
    emu.stats()
    assert wait_for(lambda: " GET /_emulator/stats 200 " in own_emulator.log.read_text(encoding="utf-8"))
    assert " POST /ims/invalidate_token/v2 200 " in own_emulator.log.read_text(encoding="utf-8")


def test_validations_and_invalidations_are_counted_per_client(emu, jwt_integ, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    assert is_valid(emu, s2s_integ, token) is True
    assert_invalidated_ok(invalidate(emu, s2s_integ, token))
    assert is_valid(emu, s2s_integ, token) is False
    # A refused invalidation is an invalidation request all the same.
    assert_ims_error(invalidate(emu, s2s_integ, token, client_secret="p8e-wrong"), 400, "invalid_client")
    assert is_valid(emu, jwt_integ, assert_token_ok(exchange(emu, jwt_integ), 86399999)) is True
    stats = emu.stats()
    assert (stats["validations"], stats["invalidations"]) == (3, 2)
    assert stats["by_client"][s2s_integ["client_id"]] == {"requests": 1, "issued": 1, "validations": 2, "invalidations": 2}
    assert stats["by_client"][jwt_integ["client_id"]] == {"requests": 1, "issued": 1, "validations": 1}
    # Neither is a token request.
    assert (stats["token_requests"], stats["tokens_issued"], stats["errors"]) == (2, 2, {})
    emu.reset()
    stats = emu.stats()
    assert (stats.get("validations", 0), stats.get("invalidations", 0), stats["by_client"]) == (0, 0, {})


# ---------------------------------------------------------------------------
# faults


def test_fault_503_and_queue_order(emu, jwt_integ):
    emu.inject_faults([{"status": 503}, {"status": 500}])
    assert_ims_error(exchange(emu, jwt_integ), 503, "service_unavailable")
    assert_ims_error(post(emu, "/ims/token/v3", s2s_fields(jwt_integ)), 500, "internal_error", "Please try again later")
    assert_token_ok(exchange(emu, jwt_integ), 86399999)
    stats = emu.stats()
    assert stats["token_requests"] == 3 and stats["tokens_issued"] == 1
    assert stats["errors"] == {"service_unavailable": 1, "internal_error": 1}
    assert stats["by_endpoint"] == {"jwt": {"requests": 2, "issued": 1}, "oauth": {"requests": 1, "issued": 0}}


def test_fault_429_retry_after(emu, jwt_integ):
    emu.inject_faults([{"status": 429, "retry_after": "1"}, {"status": 429, "retry_after_http_date_in": 2}, {"status": 429}])
    resp = exchange(emu, jwt_integ)
    assert_ims_error(resp, 429, "too_many_requests")
    assert resp.headers["Retry-After"] == "1"
    resp = exchange(emu, jwt_integ)
    assert_ims_error(resp, 429, "too_many_requests")
    delta = email.utils.parsedate_to_datetime(resp.headers["Retry-After"]) - email.utils.parsedate_to_datetime(resp.headers["Date"])
    assert 1 <= delta.total_seconds() <= 3
    resp = exchange(emu, jwt_integ)
    assert resp.status_code == 429 and "Retry-After" not in resp.headers


def test_fault_502_html_and_verbatim(emu, jwt_integ):
    emu.inject_faults(
        [{"status": 502, "html": True}, {"status": 418, "body": "I'm a teapot", "headers": {"X-Custom": "yes", "Content-Type": "text/x-tea"}}, {"status": 504}]
    )
    resp = exchange(emu, jwt_integ)
    assert resp.status_code == 502
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "<html>" in resp.text and "502 Bad Gateway" in resp.text
    with pytest.raises(ValueError):
        resp.json()
    resp = exchange(emu, jwt_integ)
    assert (resp.status_code, resp.text, resp.headers["X-Custom"], resp.headers["Content-Type"]) == (418, "I'm a teapot", "yes", "text/x-tea")
    assert_ims_error(exchange(emu, jwt_integ), 504, "gateway_timeout")


def test_fault_drop_and_delay(emu, jwt_integ):
    emu.inject_faults([{"drop": True}, {"delay": 0.6}])
    with pytest.raises(requests.exceptions.ConnectionError):
        exchange(emu, jwt_integ, timeout=5)
    started = time.monotonic()
    assert_token_ok(exchange(emu, jwt_integ), 86399999)
    assert time.monotonic() - started >= 0.6
    stats = emu.stats()
    assert stats["token_requests"] == 2 and stats["tokens_issued"] == 1 and stats["errors"] == {"dropped": 1}


def open_request(emu, path, fields):
    """An HTTPS POST sent on a TLS socket of the test's own and left open: the test, not a timer,
    decides when this client gives up (by closing it)."""
    host, port = emu.endpoint.rsplit(":", 1)
    context = ssl.create_default_context(cafile=emu.ca_path)
    sock = context.wrap_socket(socket.create_connection((host, int(port)), timeout=60), server_hostname=host)
    body = urllib.parse.urlencode(fields).encode("ascii")
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % (path, emu.endpoint, len(body))
    sock.sendall(head.encode("ascii") + body)
    return sock


def test_fault_hang_does_not_block_others(emulator, emu, jwt_integ):
    emu.inject_faults([{"hang": True}])
    token = build_jwt(emu, jwt_integ)
    hanging = open_request(emu, "/ims/exchange/jwt", jwt_fields(jwt_integ, token))
    try:
        assert wait_for(lambda: emu.stats()["token_requests"] == 1)
        assert_token_ok(exchange(emu, jwt_integ, token, timeout=60), 86399999)
        # The normal request was answered while the hanging one was held: the emulator counted both in
        # flight at once (a count it keeps, not a race between two client timeouts).
        stats = emu.stats()
        assert stats["errors"] == {"hung": 1}
        assert stats["concurrent_max"] == 2 and stats["tokens_issued"] == 1 and stats["token_requests"] == 2
        # And the hanging request still has no answer.
        hanging.setblocking(False)
        with pytest.raises(ssl.SSLWantReadError):
            hanging.recv(1)
    finally:
        hanging.close()
    # The server notices that the client gave up, and ends the request.
    assert wait_for(lambda: " POST /ims/exchange/jwt hung " in emulator.log.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# stats and concurrency


def test_stats_50_concurrent(emu, jwt_integ, s2s_integ):
    count = 50
    # Each request is held until all 50 are held ("gather"): all were in flight at once, so the
    # emulator's concurrent_max is exactly 50 however the machine schedules the threads.
    emu.inject_faults([{"gather": count}] * count)
    token = build_jwt(emu, jwt_integ)

    def one(index):
        if index % 2:
            return post(emu, "/ims/token/v3", s2s_fields(s2s_integ, index % 2), timeout=(60, 180)).status_code
        return exchange(emu, jwt_integ, token, timeout=(60, 180)).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        statuses = list(pool.map(one, range(count)))
    assert statuses == [200] * count
    stats = emu.stats()
    assert stats["token_requests"] == count and stats["tokens_issued"] == count
    assert stats["by_endpoint"] == {"jwt": {"requests": 25, "issued": 25}, "oauth": {"requests": 25, "issued": 25}}
    assert stats["by_client"] == {jwt_integ["client_id"]: {"requests": 25, "issued": 25}, s2s_integ["client_id"]: {"requests": 25, "issued": 25}}
    assert stats["errors"] == {}
    assert stats["concurrent_max"] == count
    emu.reset()
    assert emu.stats() == {
        "token_requests": 0,
        "tokens_issued": 0,
        "by_endpoint": {"jwt": {"requests": 0, "issued": 0}, "oauth": {"requests": 0, "issued": 0}},
        "by_client": {},
        "errors": {},
        "concurrent_max": 0,
    }
    assert emu.requests_log() == []


def test_gathered_requests_are_all_in_flight_at_once_then_answered_normally(emu, jwt_integ):
    emu.inject_faults([{"gather": 2}, {"gather": 2, "token_claims": {"expires_in": "5000"}, "expires_in": 5000}])
    token = build_jwt(emu, jwt_integ)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _index: exchange(emu, jwt_integ, token, timeout=(60, 180)), range(2)))
    assert sorted(answer.json()["expires_in"] for answer in answers) == [5000, 86399999]
    stats = emu.stats()
    assert (stats["concurrent_max"], stats["tokens_issued"], stats["errors"]) == (2, 2, {})


def test_faults_for_validations_and_invalidations_wait_for_theirs(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    emu.inject_faults([{"status": 503, "on": "validate"}, {"status": 502, "html": True, "on": "invalidate"}, {"status": 500}])
    # The token request takes the token fault, whatever was queued before it.
    assert_ims_error(post(emu, "/ims/token/v3", s2s_fields(s2s_integ)), 500, "internal_error")
    resp = invalidate(emu, s2s_integ, token)
    assert resp.status_code == 502 and "502 Bad Gateway" in resp.text
    assert_ims_error(
        post(emu, "/ims/validate_token/v1", {"type": "access_token", "client_id": s2s_integ["client_id"], "token": token}), 503, "service_unavailable"
    )
    # Each fault was used once; the faulted invalidation did not invalidate.
    assert is_valid(emu, s2s_integ, token) is True
    assert s2s_token(emu, s2s_integ)
    stats = emu.stats()
    assert (stats["token_requests"], stats["errors"]) == (3, {"internal_error": 1})


def test_token_faults_are_not_used_up_by_validations_or_invalidations(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    emu.inject_faults([{"status": 503}, {"drop": True, "on": "invalidate"}])
    assert is_valid(emu, s2s_integ, token) is True
    with pytest.raises(requests.exceptions.ConnectionError):
        invalidate(emu, s2s_integ, token)
    assert is_valid(emu, s2s_integ, token) is True
    assert_invalidated_ok(invalidate(emu, s2s_integ, token))
    assert_ims_error(post(emu, "/ims/token/v3", s2s_fields(s2s_integ)), 503, "service_unavailable")
    assert s2s_token(emu, s2s_integ)


@pytest.mark.parametrize("on", ["validation", "Validate", "", None, ["validate"], 1])
def test_the_target_of_a_fault_is_checked(emu, on):
    for call in (lambda: emu.inject_faults([{"status": 503, "on": on}]), lambda: emu.set_outage({"status": 503, "on": on})):
        with pytest.raises(emu_client.EmulatorError) as info:
            call()
        assert info.value.status == 400
        assert info.value.body["error_description"] == "on must be one of token, validate, invalidate"


def test_an_outage_of_validations_leaves_token_requests_alone(emu, s2s_integ):
    token = s2s_token(emu, s2s_integ)
    emu.set_outage({"status": 503, "on": "validate"})
    for _attempt in range(2):
        resp = post(emu, "/ims/validate_token/v1", {"type": "access_token", "client_id": s2s_integ["client_id"], "token": token})
        assert_ims_error(resp, 503, "service_unavailable")
    assert s2s_token(emu, s2s_integ)
    assert_invalidated_ok(invalidate(emu, s2s_integ, token))
    emu.set_outage(None)
    assert is_valid(emu, s2s_integ, token) is False
    # And a token outage leaves validations alone.
    emu.set_outage({"status": 503})
    assert_ims_error(post(emu, "/ims/token/v3", s2s_fields(s2s_integ)), 503, "service_unavailable")
    assert is_valid(emu, s2s_integ, token) is False


def test_an_outage_answers_every_token_request_until_it_ends(emu, jwt_integ):
    emu.inject_faults([{"status": 500}])
    emu.set_outage({"status": 503})
    assert_ims_error(exchange(emu, jwt_integ), 500, "internal_error", "Please try again later")
    for _attempt in range(3):
        assert_ims_error(exchange(emu, jwt_integ), 503, "service_unavailable")
    assert_ims_error(post(emu, "/ims/token/v3", s2s_fields(jwt_integ)), 503, "service_unavailable")
    emu.set_outage(None)
    assert_token_ok(exchange(emu, jwt_integ), 86399999)
    assert emu.stats()["errors"] == {"internal_error": 1, "service_unavailable": 4}


def test_an_outage_is_checked_like_a_fault_and_ended_by_a_reset(emu, jwt_integ):
    with pytest.raises(Exception, match="unknown fault key"):
        emu.set_outage({"status": 503, "forever": True})
    emu.set_outage({"status": 401, "body": '{"error": "invalid_client"}'})
    emu.reset()
    assert_token_ok(exchange(emu, jwt_integ), 86399999)


def test_reset_clears_faults(emu, jwt_integ):
    emu.inject_faults([{"status": 503}])
    emu.reset()
    assert_token_ok(exchange(emu, jwt_integ), 86399999)


def test_requests_log_has_names_not_values(emu, jwt_integ):
    secret = jwt_integ["client_secrets"][0]
    exchange(emu, jwt_integ, build_jwt(emu, jwt_integ, exp=-100))
    entries = emu.requests_log()
    assert entries == [
        {
            "path": "/ims/exchange/jwt",
            "content_type": "application/x-www-form-urlencoded",
            "fields": ["client_id", "client_secret", "jwt_token"],
            "query_fields": [],
            "authorization": None,
            "status": 400,
            "error": "invalid_token",
        }
    ]
    assert secret not in json.dumps(entries)


# ---------------------------------------------------------------------------
# clock


def test_clock_offset(emu, jwt_integ):
    emu.set_clock_offset(3600)
    resp = exchange(emu, jwt_integ)
    assert_ims_error(resp, 400, "invalid_token", MSG_EXPIRED)
    skew = email.utils.parsedate_to_datetime(resp.headers["Date"]).timestamp() - time.time()
    assert 3590 <= skew <= 3610
    emu.set_clock_offset(-3600)
    assert_ims_error(exchange(emu, jwt_integ), 400, "invalid_token", MSG_NOT_YET_VALID)
    # Without iat, a JWT from a client clock ahead of IMS is accepted.
    assert_token_ok(exchange(emu, jwt_integ, build_jwt(emu, jwt_integ, drop=("iat",))), 86399999)
    emu.set_clock_offset(0)
    assert_token_ok(exchange(emu, jwt_integ), 86399999)


# ---------------------------------------------------------------------------
# mock AEM


def aem(emu, method, path, token=None, api_key=None, **kwargs):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if api_key is not None:
        headers["x-api-key"] = api_key
    return requests.request(method, emu.url(path), headers=headers, verify=emu.ca_path, timeout=5, **kwargs)


def test_mock_aem_valid_token(emu, jwt_integ, s2s_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    resp = aem(emu, "GET", "/libs/granite/security/currentuser.json", token)
    assert resp.status_code == 200
    body = resp.json()
    assert body["authorizableId"] == jwt_integ["email"]
    assert body["clientId"] == jwt_integ["client_id"]
    assert body["home"].startswith("/home/users/system/")
    resp = aem(emu, "GET", "/aem/content/dam/test.json", token, api_key=jwt_integ["client_id"])
    assert resp.status_code == 200
    assert resp.json() == {"path": "/content/dam/test.json", "authorizableId": jwt_integ["email"]}
    resp = aem(emu, "POST", "/aem/api/assets/folder", token, json={"class": "assetFolder", "properties": {"title": "x"}})
    assert resp.status_code == 201
    assert resp.json() == {"created": "/api/assets/folder", "received_keys": ["class", "properties"]}
    s2s_token = assert_token_ok(post(emu, "/ims/token/v3", s2s_fields(s2s_integ)), 86399)
    assert aem(emu, "GET", "/aem/x", s2s_token, api_key=s2s_integ["client_id"]).status_code == 200


def test_mock_aem_rejections(emu, jwt_integ):
    token = assert_token_ok(exchange(emu, jwt_integ), 86399999)
    for bad in (None, "", "garbage", token + "x"):
        resp = aem(emu, "GET", "/libs/granite/security/currentuser.json", bad)
        assert resp.status_code == 401 and resp.json() == {"error": "unauthorized"}
    # Same claims, signed by a key that is not the emulator's.
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = jwt.encode(
        claims,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1"},
    )
    assert aem(emu, "GET", "/aem/x", foreign).status_code == 401
    resp = aem(emu, "GET", "/aem/x", token, api_key="some-other-client")
    assert resp.status_code == 403 and resp.json() == {"error": "forbidden"}
    emu.set_clock_offset(86400 + 60)
    assert aem(emu, "GET", "/aem/x", token).status_code == 401
    emu.set_clock_offset(0)
    assert aem(emu, "GET", "/aem/x", token).status_code == 200


# ---------------------------------------------------------------------------
# log hygiene


def test_log_has_no_secrets(emulator, emu, s2s_integ):
    # Self-contained (no reliance on test order or on xdist placement): send
    # every kind of secret through the emulator, then read its stderr log.
    integ = create(emu, passphrase="a-passphrase-to-hide", client_secrets=2)
    token = assert_token_ok(exchange(emu, integ), 86399999)
    assert_token_ok(exchange(emu, integ, multipart=True), 86399999)
    assert_ims_error(post(emu, "/ims/exchange/jwt", jwt_fields(integ, build_jwt(emu, integ), secret="p8e-a-wrong-secret-value")), 401, "invalid_client")
    SEEN_SECRETS.append("p8e-a-wrong-secret-value")
    # Secrets in the query string must not be logged either.
    fields = s2s_fields(s2s_integ, 1)
    resp = requests.post(emu.url("/ims/token/v3"), params=fields, data={"grant_type": "client_credentials"}, verify=emu.ca_path, timeout=5)
    assert resp.status_code == 400
    s2s_token = assert_token_ok(post(emu, "/ims/token/v3", fields), 86399)
    assert aem(emu, "GET", "/libs/granite/security/currentuser.json", token).status_code == 200
    assert aem(emu, "GET", "/aem/x", s2s_token, api_key="wrong").status_code == 403
    requests.post(
        emu.url("/ims/validate_token/v1"), data={"type": "access_token", "client_id": integ["client_id"], "token": token}, verify=emu.ca_path, timeout=5
    )
    # The token and the secret of an invalidation are form fields: never logged either.
    assert post(emu, "/ims/invalidate_token/v2", invalidation_fields(integ, token, secret_index=1)).status_code == 200
    emu.inject_faults([{"status": 503}, {"drop": True}])
    assert exchange(emu, integ).status_code == 503
    with pytest.raises(requests.exceptions.ConnectionError):
        exchange(emu, integ)

    assert wait_for(lambda: "/ims/validate_token/v1 200" in emulator.log.read_text(encoding="utf-8"))
    text = emulator.log.read_text(encoding="utf-8")
    request_line = re.compile(r"^\S+ ims-emulator: \S+ (GET|POST|PUT|DELETE|PATCH) /\S* (\d{3}|dropped|hung|disconnected|-) \d+\.\dms$")
    for line in text.splitlines():
        assert request_line.match(line) or re.match(r"^\S+ ims-emulator: (listening on|stopping|parent process)", line), line
    assert " POST /ims/token/v3 400 " in text and " POST /ims/exchange/jwt dropped " in text and " POST /ims/invalidate_token/v2 " in text
    leak_check.assert_no_leaks(text, *SEEN_SECRETS)
    assert "eyJ" not in text and "p8e-" not in text and "PRIVATE KEY" not in text and "client_secret" not in text


# --- misbehaving servers and tokens that say something else --------------------------------------


def test_fault_drip_sends_a_header_then_a_byte_at_a_time(emu, jwt_integ):
    emu.inject_faults([{"drip": 0.2}])
    started = time.monotonic()
    response = requests.post(emu.url("/ims/exchange/jwt"), data=jwt_fields(jwt_integ, build_jwt(emu, jwt_integ)), verify=emu.ca_path, timeout=5, stream=True)
    assert response.status_code == 200
    chunks = []
    for chunk in response.iter_content(1):
        chunks.append(chunk)
        if len(chunks) == 3:
            break
    response.close()
    assert b"".join(chunks) == b'{"a'
    assert time.monotonic() - started >= 0.4
    assert emu.stats()["errors"] == {"dripped": 1}


@pytest.mark.parametrize("mode", ["form", "json"])
def test_fault_echo_quotes_what_it_received(emu, jwt_integ, mode):
    emu.inject_faults([{"echo": mode}])
    fields = jwt_fields(jwt_integ, "eyJ.signed.jwt", secret='s+e/c"r\\et')
    response = post(emu, "/ims/exchange/jwt", fields)
    assert response.status_code == 400
    if mode == "form":
        assert "client_secret=s%2Be%2Fc%22r%5Cet" in response.json()["error_description"]
    else:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.text.startswith('bad: {"client_secret": "s+e/c\\"r\\\\et"')


def test_fault_token_claims_and_expires_in_change_a_normal_answer(emu, jwt_integ):
    emu.inject_faults([{"token_claims": {"expires_in": "315360000000"}, "expires_in": 864000000}])
    response = exchange(emu, jwt_integ)
    assert response.status_code == 200
    answer = response.json()
    assert answer["expires_in"] == 864000000
    payload = answer["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["expires_in"] == "315360000000"


@pytest.mark.parametrize(
    "fault",
    [
        {"drip": 0},
        {"drip": 11},
        {"echo": "xml"},
        {"token_claims": {"expires_in": 5}},
        {"expires_in": "long"},
        {"token_claims": {}, "status": 500},
        {"gather": 0},
        {"gather": 201},
        {"gather": "2"},
        {"gather": True},
    ],
)
def test_bad_new_faults_are_refused(emu, fault):
    with pytest.raises(emu_client.EmulatorError) as info:
        emu.inject_faults([fault])
    assert info.value.status == 400


def test_requests_log_names_the_authorization_scheme_only(emu, jwt_integ):
    exchange(emu, jwt_integ, headers={"Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
    (entry,) = emu.requests_log()
    assert entry["authorization"] == "Basic"
    assert "dXNlcjpwYXNzd29yZA" not in json.dumps(entry)
