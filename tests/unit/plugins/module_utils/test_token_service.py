# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _token_service: expiry, the cache semantics, certificate checks, the exchange itself."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time

import jwt
import pytest

from ansible_collections.aemops.ims.plugins.module_utils import _token_service
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import RUN_CACHE_SUBDIR, entry_for_fingerprint, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import STALE_FILE_SECONDS, TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError, CredentialsError, ImsResponseError, KeyMaterialError
from ansible_collections.aemops.ims.plugins.module_utils._ims_client import deadline
from ansible_collections.aemops.ims.plugins.module_utils._token_service import (
    LOCK_GRACE_SECONDS,
    MAX_LIFETIME_SECONDS,
    check_certificate_expiry,
    expiry_from_answer,
    TokenService,
    iso_utc,
)
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_2,
    ORG_ID,
    S2S_CLIENT_ID,
    TECHNICAL_ACCOUNT_EMAIL,
    TECHNICAL_ACCOUNT_ID,
    build_settings,
    fake_access_token,
)
from ansible_collections.aemops.ims.tests.unit.plugins.token_service_calls import obtain_token

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86400.0
PROD = "https://ims-na1.adobelogin.com"


def clock(start=NOW):
    """A now() that the test moves by hand."""

    class Clock:
        def __init__(self):
            self.value = start

        def __call__(self):
            return self.value

    return Clock()


class Exchanges:
    """A stand-in for exchange(): counts calls, returns a fresh entry or raises what it is told."""

    def __init__(self, lifetime=DAY, certificate_not_after=None):
        self.calls = 0
        self.lifetime = lifetime
        self.certificate_not_after = certificate_not_after
        self.failure = None

    def __call__(self, request, settings, now=None, warn=None):
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        issued = now()
        return {
            "access_token": "token-%d" % self.calls,
            "token_type": "bearer",
            "issued_at": issued,
            "expires_at": issued + self.lifetime,
            "certificate_not_after": self.certificate_not_after,
        }


@pytest.fixture
def exchanges(monkeypatch):
    fake = Exchanges()
    monkeypatch.setattr(_token_service, "exchange_with_ims", fake)
    return fake


def cache_files(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory) if name.endswith(".json"))


# --- expiry -----------------------------------------------------------------------------------


def test_jwt_exchange_expiry_is_in_milliseconds():
    assert expiry_from_answer({"access_token": "opaque", "expires_in": 86399999}, 0.001, NOW) == pytest.approx(NOW + 86399.999)


def test_oauth_expiry_is_in_seconds():
    assert expiry_from_answer({"access_token": "opaque", "expires_in": 86399}, 1.0, NOW) == NOW + 86399


def test_token_claims_shorten_a_lifetime_whose_unit_was_misread():
    token = fake_access_token(created_at_ms=int(NOW * 1000), expires_in_ms=86_400_000)
    # Milliseconds read as seconds would make the token look valid for about 1000 days.
    assert expiry_from_answer({"access_token": token, "expires_in": 86399999}, 1.0, NOW) == NOW + 86400
    # Seconds read as milliseconds make it expire after 86 s: short, but claims never lengthen a lifetime.
    assert expiry_from_answer({"access_token": token, "expires_in": 86399}, 0.001, NOW) == pytest.approx(NOW + 86.399)


def test_token_claims_never_lengthen_a_lifetime():
    # IMS answered 24 hours; the token claims ten years.
    token = fake_access_token(created_at_ms=int(NOW * 1000), expires_in_ms=315_360_000_000)
    assert expiry_from_answer({"access_token": token, "expires_in": 86399999}, 0.001, NOW) == pytest.approx(NOW + 86399.999)


def test_no_lifetime_exceeds_48_hours():
    assert MAX_LIFETIME_SECONDS == 48 * 3600
    assert expiry_from_answer({"access_token": "opaque", "expires_in": 10 * 86400}, 1.0, NOW) == NOW + MAX_LIFETIME_SECONDS
    token = fake_access_token(created_at_ms=int(NOW * 1000), expires_in_ms=30 * 86_400_000)
    assert expiry_from_answer({"access_token": token, "expires_in": 9_000_000_000}, 0.001, NOW) == NOW + MAX_LIFETIME_SECONDS


@pytest.mark.parametrize(
    "created_at, expires_in",
    [
        ("253402300800000", "86400000"),  # year 10000
        (str(int(NOW * 1000)), "inf"),
        (str(int(NOW * 1000)), "nan"),
        ("-inf", "inf"),
        (str(int(NOW * 1000)), "1e400"),
        ("1" * 400, "1"),
        (str(int(NOW * 1000)), "-86400000"),
    ],
)
def test_absurd_claims_are_ignored(created_at, expires_in):
    token = fake_access_token(created_at_ms=created_at, expires_in_ms=expires_in)
    expires_at = expiry_from_answer({"access_token": token, "expires_in": 86399999}, 0.001, NOW)
    assert expires_at == pytest.approx(NOW + 86399.999)
    assert iso_utc(expires_at)


def test_answer_wins_when_it_agrees_with_the_claims():
    token = fake_access_token(created_at_ms=int(NOW * 1000) - 100_000, expires_in_ms=86_400_000)
    assert expiry_from_answer({"access_token": token, "expires_in": 86399}, 1.0, NOW) == NOW + 86399


def test_claims_in_the_past_are_ignored():
    token = fake_access_token(created_at_ms=int((NOW - 2 * DAY) * 1000), expires_in_ms=86_400_000)
    assert expiry_from_answer({"access_token": token, "expires_in": 86399}, 1.0, NOW) == NOW + 86399


@pytest.mark.parametrize(
    "token",
    [
        "opaque-token",
        "a.b.c",
        "a.%%%.c",
        fake_access_token(),
        fake_access_token(created_at_ms="yesterday", expires_in_ms="1"),
        "x." + "W10" + ".y",
    ],
)
def test_unreadable_claims_fall_back_to_the_answer(token):
    assert expiry_from_answer({"access_token": token, "expires_in": 3600}, 1.0, NOW) == NOW + 3600


def test_iso_utc():
    assert iso_utc(NOW) == "2026-01-01T00:00:00Z"
    assert iso_utc(NOW + 0.9) == "2026-01-01T00:00:00Z"


# --- certificate expiry -----------------------------------------------------------------------


class _Request:
    source = "service credentials file /etc/aem/creds.json"


def test_certificate_far_from_expiry_is_silent():
    warnings = []
    check_certificate_expiry("2026-03-01T00:00:00Z", _Request(), NOW, warnings.append)
    check_certificate_expiry(None, _Request(), NOW, warnings.append)
    assert warnings == []


def test_certificate_expiring_soon_warns():
    warnings = []
    check_certificate_expiry("2026-01-11T01:00:00Z", _Request(), NOW, warnings.append)
    assert warnings == [
        "the certificate of the service credentials file /etc/aem/creds.json expires on 2026-01-11T01:00:00Z (in 11 days): add a new "
        "certificate for this technical account in the AEM Developer Console and download the service credentials again before then"
    ]
    check_certificate_expiry("2026-01-11T01:00:00Z", _Request(), NOW, None)


def test_certificate_expired_fails():
    with pytest.raises(KeyMaterialError) as info:
        check_certificate_expiry("2025-12-31T23:59:59Z", _Request(), NOW, None)
    assert info.value.msg == (
        "the certificate of the service credentials file /etc/aem/creds.json expired on 2025-12-31T23:59:59Z: IMS will reject every JWT. "
        "In the AEM Developer Console add a new certificate (or private key) for this technical account and download the service "
        "credentials again"
    )
    assert info.value.field == "publicKey"


# --- cache semantics (exchange replaced) ------------------------------------------------------


def test_run_cache_reuses_the_token(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    now = clock()
    first = obtain_token(settings, run_cache_dir=str(tmp_path), now=now)
    second = obtain_token(settings, run_cache_dir=str(tmp_path), now=now)
    assert exchanges.calls == 1
    assert (first["cached"], second["cached"]) == (False, True)
    assert first["access_token"] == second["access_token"] == "token-1"
    assert len(cache_files(str(tmp_path / RUN_CACHE_SUBDIR))) == 1


def test_run_cache_without_a_run_directory_always_exchanges(creds, exchanges):
    settings = build_settings(service_credentials=creds.aem())
    results = [obtain_token(settings, run_cache_dir=None, now=clock()) for _unused in range(2)]
    assert exchanges.calls == 2
    assert [result["cached"] for result in results] == [False, False]


def test_cache_off_always_exchanges_and_writes_nothing(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), cache="off")
    for _unused in range(3):
        assert obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())["cached"] is False
    assert exchanges.calls == 3
    assert os.listdir(str(tmp_path)) == []


def test_persistent_cache_outlives_the_run(creds, exchanges, tmp_path):
    cache_dir = str(tmp_path / "persistent")
    settings = build_settings(service_credentials=creds.aem(), cache="persistent", cache_dir=cache_dir)
    obtain_token(settings, run_cache_dir=str(tmp_path / "run1"), now=clock())
    later = obtain_token(settings, run_cache_dir=str(tmp_path / "run2"), now=clock(NOW + 3600))
    assert (exchanges.calls, later["cached"]) == (1, True)
    assert later["expires_in"] == int(DAY - 3600)
    assert not os.path.exists(str(tmp_path / "run1"))
    other = build_settings(service_credentials=creds.aem(), cache="persistent", cache_dir=str(tmp_path / "elsewhere"))
    assert obtain_token(other, now=clock())["cached"] is False


def test_persistent_cache_default_directory(creds, exchanges, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settings = build_settings(service_credentials=creds.aem(), cache="persistent")
    obtain_token(settings, now=clock())
    assert len(cache_files(str(tmp_path / "xdg" / "aemops.ims" / "tokens"))) == 1


def test_refresh_margin(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), refresh_margin=600)
    obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())
    # 601 s left: still reused; 600 s left: renewed.
    assert obtain_token(settings, run_cache_dir=str(tmp_path), now=clock(NOW + DAY - 601))["cached"] is True
    renewed = obtain_token(settings, run_cache_dir=str(tmp_path), now=clock(NOW + DAY - 600))
    assert (renewed["cached"], renewed["access_token"], exchanges.calls) == (False, "token-2", 2)
    zero_margin = build_settings(service_credentials=creds.aem(), refresh_margin=0)
    assert obtain_token(zero_margin, run_cache_dir=str(tmp_path), now=clock(NOW + 2 * DAY - 601))["cached"] is True


def test_force_refresh_replaces_a_valid_token(creds, exchanges, tmp_path):
    obtain_token(build_settings(service_credentials=creds.aem()), run_cache_dir=str(tmp_path), now=clock())
    forced = obtain_token(build_settings(service_credentials=creds.aem(), force_refresh=True), run_cache_dir=str(tmp_path), now=clock())
    assert (forced["cached"], forced["access_token"], exchanges.calls) == (False, "token-2", 2)
    after = obtain_token(build_settings(service_credentials=creds.aem()), run_cache_dir=str(tmp_path), now=clock())
    assert (after["cached"], after["access_token"]) == (True, "token-2")


def test_failures_are_never_cached_as_tokens(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    exchanges.failure = ImsResponseError("IMS rejected the JWT exchange: HTTP 400 invalid_token", status=400, code="invalid_token")
    with pytest.raises(ImsResponseError):
        obtain_token(settings, run_cache_dir=str(tmp_path), now=clock(), inputs="i" + "5" * 64)
    # A note of the failure (test_failure_memory.py), and no entry.
    assert cache_files(str(tmp_path / RUN_CACHE_SUBDIR)) == ["fi%s.json" % ("5" * 64)]
    exchanges.failure = None
    # Another run remembers nothing of this one.
    assert obtain_token(settings, run_cache_dir=str(tmp_path / "next-run"), now=clock(), inputs="i" + "5" * 64)["cached"] is False


def test_different_credentials_do_not_share_a_token(creds, exchanges, tmp_path):
    obtain_token(build_settings(service_credentials=creds.aem()), run_cache_dir=str(tmp_path), now=clock())
    other = obtain_token(build_settings(service_credentials=creds.flat_s2s()), run_cache_dir=str(tmp_path), now=clock())
    assert (other["cached"], exchanges.calls) == (False, 2)


def test_an_unsafe_run_cache_directory_is_refused(creds, exchanges, tmp_path):
    directory = tmp_path / RUN_CACHE_SUBDIR
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    with pytest.raises(CacheError) as info:
        obtain_token(build_settings(service_credentials=creds.aem()), run_cache_dir=str(tmp_path), now=clock())
    assert info.value.msg.startswith("the run's token cache directory %s is writable by other users (mode 0777)" % directory)
    assert exchanges.calls == 0


def test_cached_entry_with_a_wrong_type_certificate_date_is_not_a_crash(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    request = build_token_request(settings)
    cache = TokenCache.open(str(tmp_path / RUN_CACHE_SUBDIR))
    cache.write(request.cache_key(), {"access_token": "odd", "issued_at": NOW, "expires_at": NOW + DAY, "certificate_not_after": 12345})
    result = obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())
    assert (result["cached"], result["access_token"], exchanges.calls) == (False, "token-1", 1)


def test_absurd_cached_expiry_is_not_a_crash(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    cache = TokenCache.open(str(tmp_path / RUN_CACHE_SUBDIR))
    cache.write(build_token_request(settings).cache_key(), {"access_token": "odd", "issued_at": NOW, "expires_at": 1e300})
    result = obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())
    # An expiry beyond year 2286 makes the entry corrupt: it is replaced by a token from IMS.
    assert (result["cached"], result["access_token"], exchanges.calls) == (False, "token-1", 1)
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", result["expires_at"])
    assert build_token_request(settings).cache_key() and cache.read(build_token_request(settings).cache_key())["access_token"] == "token-1"


# --- result -----------------------------------------------------------------------------------


def test_result_of_a_jwt_token(creds, keys, exchanges, tmp_path):
    exchanges.certificate_not_after = "2027-01-01T00:00:00Z"
    result = obtain_token(build_settings(service_credentials=creds.aem()), run_cache_dir=str(tmp_path), now=clock())
    assert result == {
        "auth_method": "jwt",
        "client_id": CLIENT_ID,
        "ims_endpoint": PROD,
        "credentials_format": "aem_service_credentials",
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "metascopes": ["ent_aem_cloud_api"],
        "access_token": "token-1",
        "token_type": "bearer",
        "expires_in": 86400,
        "expires_at": "2026-01-02T00:00:00Z",
        "cached": False,
        "headers": {"Authorization": "Bearer token-1", "x-api-key": CLIENT_ID, "x-gw-ims-org-id": ORG_ID},
        "certificate_expires_at": "2027-01-01T00:00:00Z",
    }


def test_result_of_an_oauth_token(creds, exchanges):
    settings = build_settings(service_credentials=creds.flat_s2s(TECHNICAL_ACCOUNT_EMAIL=None), cache="off")
    result = obtain_token(settings, now=clock())
    assert result["auth_method"] == "oauth_server_to_server"
    assert result["scopes"] == ["openid", "AdobeID", "read_organizations"]
    assert "metascopes" not in result and "certificate_expires_at" not in result and "email" not in result
    assert result["headers"] == {"Authorization": "Bearer token-1", "x-api-key": S2S_CLIENT_ID, "x-gw-ims-org-id": ORG_ID}


def test_expires_in_never_goes_negative(creds, exchanges, tmp_path):
    exchanges.lifetime = 10
    settings = build_settings(service_credentials=creds.aem(), refresh_margin=0, cache="off")
    values = iter([NOW, NOW + 60])
    result = obtain_token(settings, now=lambda: next(values))
    assert result["expires_in"] == 0


# --- the exchange against a fake IMS ----------------------------------------------------------


def jwt_settings(creds, **overrides):
    params = dict(service_credentials=creds.aem(), cache="off", retries=0)
    params.update(overrides)
    return build_settings(**params)


def test_jwt_exchange_posts_a_signed_jwt(creds, keys, fake_ims):
    fake_ims.token(expires_in=86399999, access_token="opaque-access-token")
    result = obtain_token(jwt_settings(creds, jwt_lifetime=120), now=clock())
    (call,) = fake_ims.calls
    assert call["url"] == PROD + "/ims/exchange/jwt"
    assert sorted(call["fields"]) == ["client_id", "client_secret", "jwt_token"]
    assert (call["fields"]["client_id"], call["fields"]["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    claims = jwt.decode(call["fields"]["jwt_token"], keys.public_key, algorithms=["RS256"], audience=PROD + "/c/" + CLIENT_ID, options={"verify_exp": False})
    assert (claims["iss"], claims["sub"], claims["iat"], claims["exp"]) == (ORG_ID, TECHNICAL_ACCOUNT_ID, int(NOW), int(NOW) + 120)
    assert claims[PROD + "/s/ent_aem_cloud_api"] is True
    assert result["access_token"] == "opaque-access-token"
    assert result["expires_in"] == 86399
    assert result["certificate_expires_at"] == keys.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_oauth_exchange_posts_client_credentials(creds, fake_ims):
    fake_ims.token(expires_in=86399, access_token="opaque")
    result = obtain_token(build_settings(service_credentials=creds.aio_s2s(), cache="off"), now=clock())
    (call,) = fake_ims.calls
    assert call["url"] == PROD + "/ims/token/v3"
    assert call["fields"] == {
        "grant_type": "client_credentials",
        "client_id": S2S_CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "openid,AdobeID,read_organizations",
    }
    assert result["expires_in"] == 86399
    assert result["expires_at"] == iso_utc(NOW + 86399)


def test_oauth_answer_in_milliseconds_is_corrected_by_the_token_claims(creds, fake_ims):
    token = fake_access_token(created_at_ms=int(NOW * 1000), expires_in_ms=86_400_000)
    fake_ims.token(expires_in=86399999, access_token=token)
    result = obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert result["expires_in"] == 86400


def test_transport_options_reach_the_client(creds, fake_ims, monkeypatch, tmp_path):
    seen = {}
    original_init = _token_service.ImsHttpClient.__init__

    def spy(self, origin, **kwargs):
        seen.update(kwargs, origin=origin)
        original_init(self, origin, **kwargs)

    monkeypatch.setattr(_token_service.ImsHttpClient, "__init__", spy)
    fake_ims.token(expires_in=3600)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = build_settings(
        service_credentials=creds.flat_s2s(), cache="off", timeout=7, retries=2, validate_certs=False, ca_path=str(ca_file), proxy_url="http://u:pw@proxy:3128"
    )
    obtain_token(settings, now=clock())
    assert seen["origin"] == PROD
    transport = (seen["timeout"], seen["retries"], seen["validate_certs"], seen["ca_path"], seen["proxy_url"])
    assert transport == (7.0, 2, False, str(ca_file), "http://u:pw@proxy:3128")
    assert {CLIENT_SECRET, CLIENT_SECRET_2, "pw", "http://u:pw@proxy:3128"} <= set(seen["secrets"])


def test_each_retry_signs_a_fresh_jwt(creds, keys, fake_ims):
    fake_ims.answer(503, "busy").token()
    # Time moves 5 s with every request IMS receives.
    obtain_token(jwt_settings(creds, retries=2), now=lambda: NOW + 5 * len(fake_ims.calls))
    first, second = (jwt.decode(call["fields"]["jwt_token"], options={"verify_signature": False}) for call in fake_ims.calls)
    assert (first["iat"], second["iat"]) == (int(NOW), int(NOW) + 5)
    assert len(fake_ims.sleeps) == 1


def test_secret_rotation_moves_to_the_next_secret_on_a_bad_secret(creds, fake_ims):
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter").token(expires_in=86399, access_token="second-secret-token")
    result = obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert [call["fields"]["client_secret"] for call in fake_ims.calls] == [CLIENT_SECRET, CLIENT_SECRET_2]
    assert result["access_token"] == "second-secret-token"


def test_secret_rotation_stops_on_another_error(creds, fake_ims):
    fake_ims.error(400, "invalid_scope", "Invalid scope").token()
    with pytest.raises(ImsResponseError) as info:
        obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert [call["fields"]["client_secret"] for call in fake_ims.calls] == [CLIENT_SECRET]
    assert info.value.code == "invalid_scope"


def test_secret_rotation_stops_on_an_unknown_client(creds, fake_ims):
    fake_ims.error(400, "invalid_client", "invalid client_id parameter").token()
    with pytest.raises(ImsResponseError):
        obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert len(fake_ims.calls) == 1


def test_every_secret_rejected(creds, fake_ims):
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter").error(400, "invalid_client", "invalid client_secret parameter")
    with pytest.raises(ImsResponseError) as info:
        obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert len(fake_ims.calls) == 2
    assert info.value.msg == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_client: invalid client_secret parameter. "
        "Hint: the client_secret is wrong, or was rotated out in the Developer Console"
    )


def test_secrets_echoed_by_ims_are_redacted(creds, fake_ims):
    fake_ims.error(401, "invalid_client", "client %s with secret %s" % (S2S_CLIENT_ID, CLIENT_SECRET_2))
    with pytest.raises(ImsResponseError) as info:
        obtain_token(build_settings(service_credentials=creds.flat_s2s(CLIENT_SECRETS=[CLIENT_SECRET_2]), cache="off"), now=clock())
    assert CLIENT_SECRET_2 not in info.value.msg
    assert "with secret ********" in info.value.msg


def test_a_key_that_does_not_match_the_certificate_fails_before_any_request(creds, other_keys, fake_ims):
    with pytest.raises(KeyMaterialError) as info:
        obtain_token(jwt_settings(creds, service_credentials=creds.aem(publicKey=other_keys.certificate)), now=clock())
    assert "does not match the certificate" in info.value.msg
    assert fake_ims.calls == []


def test_absurd_expires_in_is_not_a_crash(creds, fake_ims):
    # Beyond any unit of any IMS endpoint: refused as an answer, with one line.
    fake_ims.token(expires_in=1e20)
    with pytest.raises(ImsResponseError) as info:
        obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert "IMS answered the OAuth Server-to-Server token request without a usable expires_in" in info.value.msg
    # Long but possible: taken, and no token is kept longer than MAX_LIFETIME_SECONDS.
    fake_ims.token(expires_in=9e9)
    result = obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), now=clock())
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", result["expires_at"])
    assert result["expires_in"] == MAX_LIFETIME_SECONDS


# --- certificate expiry on a miss and on a hit ------------------------------------------------


def expiring(creds, keys, days_left):
    """Service credentials whose certificate expires days_left days after NOW."""
    from ansible_collections.aemops.ims.tests.unit.plugins.conftest import make_certificate  # pylint: disable=import-outside-toplevel

    not_after = datetime.datetime.fromtimestamp(NOW + days_left * DAY, datetime.timezone.utc)
    not_before = datetime.datetime.fromtimestamp(NOW - 300 * DAY, datetime.timezone.utc)
    return creds.aem(publicKey=make_certificate(keys.key, not_before=not_before, not_after=not_after)), not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_certificate_expiring_soon_warns_on_miss_and_on_hit(creds, keys, fake_ims, tmp_path):
    document, not_after = expiring(creds, keys, 10.5)
    settings = build_settings(service_credentials=document)
    warnings = []
    fake_ims.token()
    first = obtain_token(settings, run_cache_dir=str(tmp_path), warn=warnings.append, now=clock())
    expected = (
        "the certificate of the service_credentials expires on %s (in 11 days): add a new certificate for this technical account in the "
        "AEM Developer Console and download the service credentials again before then" % not_after
    )
    assert warnings == [expected]
    assert first["certificate_expires_at"] == not_after
    second = obtain_token(settings, run_cache_dir=str(tmp_path), warn=warnings.append, now=clock())
    assert second["cached"] is True
    assert warnings == [expected, expected]
    third = obtain_token(settings, run_cache_dir=str(tmp_path), warn=warnings.append, now=clock(), warn_on_cache_hit=False)
    assert third["cached"] is True
    assert warnings == [expected, expected]
    assert len(fake_ims.calls) == 1


def test_certificate_far_from_expiry_does_not_warn(creds, keys, fake_ims):
    document, _not_after = expiring(creds, keys, 31)
    warnings = []
    fake_ims.token()
    obtain_token(jwt_settings(creds, service_credentials=document), warn=warnings.append, now=clock())
    assert warnings == []


def test_expired_certificate_fails_on_miss_without_asking_ims(creds, keys, fake_ims):
    document, not_after = expiring(creds, keys, -1)
    with pytest.raises(KeyMaterialError) as info:
        obtain_token(jwt_settings(creds, service_credentials=document), now=clock())
    assert info.value.msg == (
        "the certificate of the service_credentials expired on %s: IMS will reject every JWT. In the AEM Developer Console add a new "
        "certificate (or private key) for this technical account and download the service credentials again" % not_after
    )
    assert fake_ims.calls == []


@pytest.mark.parametrize("warn_on_cache_hit", [True, False])
def test_certificate_that_expired_since_the_token_was_cached_fails_on_hit(creds, keys, fake_ims, tmp_path, warn_on_cache_hit):
    document, not_after = expiring(creds, keys, 0.25)
    settings = build_settings(service_credentials=document)
    fake_ims.token()
    obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())
    with pytest.raises(KeyMaterialError) as info:
        obtain_token(settings, run_cache_dir=str(tmp_path), now=clock(NOW + 0.5 * DAY), warn_on_cache_hit=warn_on_cache_hit)
    assert info.value.msg.startswith("the certificate of the service_credentials expired on %s: " % not_after)
    assert len(fake_ims.calls) == 1


# --- the lookup's alias ----------------------------------------------------------------------

FINGERPRINT = "i" + "3" * 64


def read_alias(run_dir, fingerprint=FINGERPRINT):
    path = os.path.join(run_dir, RUN_CACHE_SUBDIR, fingerprint + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def test_an_alias_is_stored_in_the_run_directory(creds, keys, exchanges, tmp_path):
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(creds.console(creds.console_jwt())))
    key_file = tmp_path / "private.key"
    key_file.write_text(keys.pkcs1)
    settings = build_settings(service_credentials_file=str(path), private_key_file=str(key_file), refresh_margin=300)
    result = obtain_token(settings, run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    alias = read_alias(str(tmp_path))
    # It points at the entry and remembers what it was obtained with; it holds no token.
    assert alias["directory"] == os.path.join(str(tmp_path), RUN_CACHE_SUBDIR) and "access_token" not in json.dumps(alias)
    assert alias["target"] == build_token_request(settings).cache_key()
    assert alias["refresh_margin"] == 300 and sorted(alias["files"]) == sorted([str(path), str(key_file)])
    entry = entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time())
    assert entry["access_token"] == result["access_token"]
    key_file.write_text(keys.pkcs1 + "\n")
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None, "a changed key file is read again"
    assert exchanges.calls == 1


def test_an_alias_records_a_lookup_term_rather_than_the_option(creds, exchanges, tmp_path):
    term = tmp_path / "term.json"
    term.write_text(json.dumps(creds.flat_s2s()))
    option = tmp_path / "option.json"
    option.write_text(json.dumps(creds.aem()))
    settings = build_settings(service_credentials_file=str(option))
    obtain_token(settings, credentials_file=str(term), run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    assert list(read_alias(str(tmp_path))["files"]) == [str(term)]


def test_an_alias_points_at_a_persistent_entry(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.flat_s2s(), cache="persistent", cache_dir=str(tmp_path / "persistent"))
    obtain_token(settings, run_cache_dir=str(tmp_path / "run"), inputs=FINGERPRINT)
    assert read_alias(str(tmp_path / "run"))["directory"] == str(tmp_path / "persistent")
    assert read_alias(str(tmp_path / "run"))["files"] == {}
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path / "run"), time.time())["access_token"] == "token-1"


def test_no_alias_without_a_cache_a_run_directory_or_an_alias(creds, exchanges, tmp_path):
    obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    assert read_alias(str(tmp_path)) is None
    assert os.listdir(str(tmp_path)) == []
    settings = build_settings(service_credentials=creds.flat_s2s(), cache="persistent", cache_dir=str(tmp_path / "persistent"))
    obtain_token(settings, run_cache_dir=None, inputs=FINGERPRINT)
    obtain_token(build_settings(service_credentials=creds.flat_s2s()), run_cache_dir=str(tmp_path))
    assert cache_files(str(tmp_path / RUN_CACHE_SUBDIR)) == [build_token_request(settings).cache_key() + ".json"]


def test_no_alias_when_a_file_read_cannot_be_stated(creds, exchanges, tmp_path, monkeypatch):
    # Without the identity of a file read, a later change to it could not be noticed.
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(creds.flat_s2s()))
    monkeypatch.setattr(_token_service, "file_identity", lambda name: None)
    obtain_token(build_settings(service_credentials_file=str(path)), run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    assert read_alias(str(tmp_path)) is None
    assert exchanges.calls == 1


def test_no_alias_after_a_failure(creds, exchanges, tmp_path):
    exchanges.failure = ImsResponseError("IMS rejected it", status=400, code="invalid_scope")
    with pytest.raises(ImsResponseError):
        obtain_token(build_settings(service_credentials=creds.flat_s2s()), run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    assert read_alias(str(tmp_path)) is None
    with pytest.raises(CredentialsError):
        obtain_token(build_settings(client_id="x"), run_cache_dir=str(tmp_path), inputs="i" + "4" * 64)
    assert read_alias(str(tmp_path)) is None and read_alias(str(tmp_path), "i" + "4" * 64) is None


def test_an_alias_with_an_unsafe_run_directory_fails_clearly(creds, exchanges, tmp_path):
    directory = tmp_path / RUN_CACHE_SUBDIR
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    settings = build_settings(service_credentials=creds.flat_s2s())
    with pytest.raises(CacheError) as info:
        obtain_token(settings, run_cache_dir=str(tmp_path), inputs=FINGERPRINT)
    assert info.value.msg.startswith("the run's token cache directory %s is writable by other users (mode 0777)" % directory)
    assert exchanges.calls == 0


def test_the_lookup_fingerprint_is_what_an_alias_is_stored_under(creds, exchanges, tmp_path):
    values = {"service_credentials": creds.flat_s2s()}
    fingerprint = input_fingerprint(values, {"service_credentials": "the service_credentials option"}, None)
    obtain_token(build_settings(**values), run_cache_dir=str(tmp_path), inputs=fingerprint)
    assert entry_for_fingerprint(fingerprint, str(tmp_path), time.time())["access_token"] == "token-1"


# --- forks waiting for each other -------------------------------------------------------------


@pytest.mark.parametrize("timeout, retries", [(30.0, 3), (60.0, 5), (1.0, 0)])
def test_forks_wait_for_a_whole_exchange_of_another_fork(creds, exchanges, tmp_path, monkeypatch, timeout, retries):
    waits = []
    real_lock = TokenCache.lock

    def lock(self, key, wait):
        waits.append(wait)
        return real_lock(self, key, wait)

    monkeypatch.setattr(TokenCache, "lock", lock)
    obtain_token(build_settings(service_credentials=creds.aem(), timeout=timeout, retries=retries), run_cache_dir=str(tmp_path), now=clock())
    assert waits == [deadline(timeout, retries) + LOCK_GRACE_SECONDS]
    assert deadline(30.0, 3) + LOCK_GRACE_SECONDS == 155.0


def test_a_fork_that_waited_takes_the_token_of_the_other(creds, exchanges, tmp_path, monkeypatch):
    settings = build_settings(service_credentials=creds.aem())
    real_lock = TokenCache.lock

    def lock(self, key, wait):
        # Another fork exchanged and wrote its token while this one waited for the lock.
        self.write(key, {"access_token": "from-the-other-fork", "issued_at": NOW, "expires_at": NOW + DAY})
        return real_lock(self, key, wait)

    monkeypatch.setattr(TokenCache, "lock", lock)
    result = obtain_token(settings, run_cache_dir=str(tmp_path), now=clock())
    assert (result["access_token"], result["cached"], exchanges.calls) == ("from-the-other-fork", True, 0)


# --- a cache hit imports none of the heavy packages --------------------------------------------

_CACHE_HIT = r"""
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options
from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService
settings = settings_from_options({"service_credentials_file": sys.argv[2]})
result = TokenService(settings, sys.argv[3], print).obtain()
if sys.argv[4] == "control":
    # Proves that the measurement below sees the heavy packages when they are loaded.
    from ansible_collections.aemops.ims.plugins.module_utils import _signing  # noqa: F401
print(json.dumps({
    "cached": result["cached"],
    "token": result["access_token"],
    "heavy": sorted(name for name in sys.modules if name.split(".")[0] in ("requests", "jwt", "cryptography", "urllib3")),
    "signing": "ansible_collections.aemops.ims.plugins.module_utils._signing" in sys.modules,
}))
"""


def collections_root():
    """The directory that holds ansible_collections/, as the test run's PYTHONPATH has it."""
    path = os.path.abspath(_token_service.__file__)
    for _unused in range(6):
        path = os.path.dirname(path)
    return path


def test_a_cache_hit_imports_no_heavy_package(creds, tmp_path):
    credentials = tmp_path / "creds.json"
    credentials.write_text(json.dumps(creds.aem()))
    settings = build_settings(service_credentials_file=str(credentials))
    request = build_token_request(settings)
    cache = TokenCache.open(str(tmp_path / "run" / RUN_CACHE_SUBDIR))
    now = time.time()
    entry = {"access_token": "cached-token", "issued_at": now, "expires_at": now + 3600, "certificate_not_after": "2999-01-01T00:00:00Z"}
    cache.write(request.cache_key(), entry)
    outcomes = {}
    for mode in ("hit", "control"):
        completed = subprocess.run(
            [sys.executable, "-c", _CACHE_HIT, collections_root(), str(credentials), str(tmp_path / "run"), mode],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ),
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        outcomes[mode] = json.loads(completed.stdout.strip().splitlines()[-1])
    assert (outcomes["hit"]["cached"], outcomes["hit"]["token"]) == (True, "cached-token")
    assert outcomes["hit"]["heavy"] == []
    assert outcomes["hit"]["signing"] is False
    assert {"jwt", "cryptography"} <= {name.split(".")[0] for name in outcomes["control"]["heavy"]}


# --- validate_certs: false is said out loud -------------------------------------------------------


def test_validate_certs_false_warns_once_per_task_naming_the_endpoint(creds, fake_ims, tmp_path):
    fake_ims.token(expires_in=86399).token(expires_in=86399)
    warnings = []
    settings = build_settings(service_credentials=creds.flat_s2s(), validate_certs=False)
    for _task in range(2):
        obtain_token(settings, run_cache_dir=str(tmp_path), warn=warnings.append, now=clock())
    # The second task is a cache hit, and warns too: the setting is still there.
    assert (
        warnings
        == [
            "validate_certs is false: the TLS certificate of IMS at %s is not checked, so whoever can intercept the connection can impersonate IMS "
            "and collect the client secret. Set ca_path to the CA bundle of a test server or proxy instead" % PROD
        ]
        * 2
    )


def test_validate_certs_false_warns_once_per_run_for_the_lookup(creds, fake_ims, tmp_path):
    fake_ims.token(expires_in=86399)
    warnings = []
    settings = build_settings(service_credentials=creds.flat_s2s(), validate_certs=False, cache="off")
    fake_ims.token(expires_in=86399).token(expires_in=86399)
    for _call in range(3):
        obtain_token(settings, run_cache_dir=str(tmp_path), warn=warnings.append, now=clock(), warn_on_cache_hit=False)
    assert len(warnings) == 1 and PROD in warnings[0]


def test_no_warning_when_certificates_are_checked(creds, fake_ims, tmp_path):
    fake_ims.token(expires_in=86399)
    warnings = []
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="off"), warn=warnings.append, now=clock())
    fake_ims.token(expires_in=86399)
    # ca_path wins over validate_certs: the certificate is checked against it.
    obtain_token(
        build_settings(service_credentials=creds.flat_s2s(), cache="off", validate_certs=False, ca_path=str(ca_file)), warn=warnings.append, now=clock()
    )
    assert warnings == []


# --- pruning --------------------------------------------------------------------------------------


def _old(path, seconds=2 * STALE_FILE_SECONDS):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_expired_entries_and_stale_locks_are_pruned_after_an_exchange(creds, fake_ims, tmp_path):
    directory = tmp_path / "persistent"
    cache = TokenCache.open(str(directory))
    now = time.time()
    expired, fresh, orphan, corrupt = "e" * 64, "f" * 64, "0" * 64, "c" * 64
    cache.write(expired, {"access_token": "old", "issued_at": now - 90000, "expires_at": now - 3600})
    cache.write(fresh, {"access_token": "fresh", "issued_at": now, "expires_at": now + 80000})
    for key in (expired, fresh):
        with cache.lock(key, 1):
            pass
    (directory / (orphan + ".lock")).write_text("")
    _old(directory / (orphan + ".lock"))
    (directory / ("1" * 64 + ".lock")).write_text("")  # young: a process may be about to use it
    (directory / (corrupt + ".json")).write_text("{not json")
    (directory / ".abcdefabcdef.0123456789ab.tmp").write_text("half")
    _old(directory / ".abcdefabcdef.0123456789ab.tmp")
    (directory / "README").write_text("not ours to remove")
    fake_ims.token(expires_in=86399)
    obtain_token(build_settings(service_credentials=creds.flat_s2s(), cache="persistent", cache_dir=str(directory)), now=time.time)
    names = set(os.listdir(directory))
    assert expired + ".json" not in names and expired + ".lock" not in names
    assert orphan + ".lock" not in names and ".abcdefabcdef.0123456789ab.tmp" not in names
    assert {fresh + ".json", fresh + ".lock", "1" * 64 + ".lock", corrupt + ".json", "README"} <= names
    assert len([name for name in names if name.endswith(".json")]) == 3


def test_an_entry_in_use_is_not_pruned(tmp_path):
    cache = TokenCache.open(str(tmp_path / "tokens"))
    now = time.time()
    key = "e" * 64
    cache.write(key, {"access_token": "old", "issued_at": now - 90000, "expires_at": now - 3600})
    with cache.lock(key, 1):
        cache.prune(now)
    assert cache.read(key) is not None
    cache.prune(now)
    assert cache.read(key) is None


# --- one service per call ----------------------------------------------------------------------


def test_a_service_opens_its_cache_once_and_only_when_a_step_needs_it(creds, exchanges, tmp_path, monkeypatch):
    opened = []
    real_open = TokenCache.open.__func__

    def recording_open(cls, directory, label="cache_dir"):
        opened.append(directory)
        return real_open(cls, directory, label)

    monkeypatch.setattr(TokenCache, "open", classmethod(recording_open))
    service = TokenService(build_settings(service_credentials=creds.aem()), str(tmp_path / "run"), now=clock())
    # A miss (read, lock, exchange, write, prune, the alias) and then a hit: the run's directory is opened once.
    assert [service.obtain(inputs=FINGERPRINT)["cached"] for _unused in range(2)] == [False, True]
    assert (opened, exchanges.calls) == ([os.path.join(str(tmp_path / "run"), RUN_CACHE_SUBDIR)], 1)
    # With cache=off nothing is opened and no directory is created.
    TokenService(build_settings(service_credentials=creds.aem(), cache="off"), str(tmp_path / "off"), now=clock()).obtain(inputs=FINGERPRINT)
    assert len(opened) == 1 and not os.path.exists(tmp_path / "off" / RUN_CACHE_SUBDIR)
