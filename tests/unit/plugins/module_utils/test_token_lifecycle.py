# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the token lifecycle in _token_service: a cached token confirmed with IMS (validate), tokens revoked (state=absent).

IMS is the fake of conftest.py (canned answers, every request recorded); the caches are real
directories under tmp_path, and cache_dir's default directory is moved there too: revoking
looks in it whatever the cache mode.
"""

from __future__ import annotations

import datetime
import json
import os
import re

import pytest
import requests

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import CONFIRMED_NOTE, RUN_CACHE_SUBDIR, token_digest
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError, ImsResponseError, RepeatedFailure, TransportError
from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_2,
    S2S_CLIENT_ID,
    S2S_SCOPES,
    TECHNICAL_ACCOUNT_EMAIL,
    build_settings,
    make_certificate,
)
from ansible_collections.aemops.ims.tests.unit.plugins.token_service_calls import forget_token, obtain_token, revoke_token

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86400.0
PROD = "https://ims-na1.adobelogin.com"
VALIDATE_URL = PROD + "/ims/validate_token/v1"
INVALIDATE_URL = PROD + "/ims/invalidate_token/v2"
TOKEN_URL = PROD + "/ims/token/v3"
# Tokens long and distinct enough that finding one in a message or a file is unambiguous.
CACHED = "eyJ.Cached-Token-Of-An-Earlier-Run-5309.sig"
OTHER = "eyJ.Another-Cached-Token-7741.sig"
FRESH = "eyJ.Fresh-Token-From-IMS-1187.sig"
GIVEN = "eyJ.Token-Given-As-access_token-6622.sig"
INVALIDATION_FAILURE = "IMS rejected the token invalidation: HTTP 400 invalid_client: invalid client_secret parameter. "
BAD_SECRET_HINT = "Hint: the client_secret is wrong, or was rotated out in the Developer Console"


def clock(start=NOW):
    return lambda: start


@pytest.fixture(autouse=True)
def cache_home(monkeypatch, tmp_path):
    """cache_dir's default directory, in tmp_path: never the developer's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "aemops.ims" / "tokens"


@pytest.fixture
def run_dir(tmp_path):
    directory = tmp_path / "run"
    directory.mkdir()
    return str(directory)


@pytest.fixture
def persistent(tmp_path):
    return str(tmp_path / "persistent")


def s2s(creds, document=None, **params):
    """Settings of OAuth Server-to-Server credentials (two client secrets), one attempt per request unless told."""
    params.setdefault("retries", 0)
    return build_settings(service_credentials=document or creds.flat_s2s(), **params)


def key_of(settings):
    return build_token_request(settings).cache_key()


def in_cache(directory, settings, token, expires_at=NOW + DAY):
    """A token cached for these settings in directory, as an earlier task or run left it."""
    TokenCache.open(directory).write(key_of(settings), {"access_token": token, "token_type": "bearer", "issued_at": expires_at - DAY, "expires_at": expires_at})


def cached_token(directory, settings):
    entry = TokenCache(directory).read(key_of(settings)) if os.path.isdir(directory) else None
    return entry["access_token"] if entry else None


def run_cache(run_dir):
    return os.path.join(run_dir, RUN_CACHE_SUBDIR)


def note_path(run_dir, settings):
    return os.path.join(run_cache(run_dir), "v" + key_of(settings) + ".json")


def urls(fake_ims):
    return [call["url"] for call in fake_ims.calls]


def valid(fake_ims, verdict=True):
    return fake_ims.answer(200, {"valid": verdict, "token": {"client_id": S2S_CLIENT_ID, "type": "access_token"}} if verdict else {"valid": False})


def validation_form(token, client_id=S2S_CLIENT_ID):
    return {"type": "access_token", "client_id": client_id, "token": token}


def invalidation_form(token, secret=CLIENT_SECRET, client_id=S2S_CLIENT_ID):
    return {"token_type": "access_token", "token": token, "client_id": client_id, "client_secret": secret}


def one_line(error):
    assert "\n" not in error.msg and len(error.msg) <= 600
    return error.msg


# --- validate: a cached token is confirmed once per run ---------------------------------------


def test_a_cached_token_is_confirmed_once_per_run(creds, fake_ims, run_dir, persistent, tmp_path):
    settings = s2s(creds, cache="persistent", cache_dir=persistent, validate=True)
    in_cache(persistent, settings, CACHED)
    valid(fake_ims)
    first = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (first["access_token"], first["cached"], first["validated"], first["replaced_invalid"]) == (CACHED, True, True, False)
    (call,) = fake_ims.calls
    assert (call["url"], call["fields"]) == (VALIDATE_URL, validation_form(CACHED))
    # Later tasks, hosts and forks of the run take IMS's word for it.
    for _unused in range(3):
        again = obtain_token(settings, run_cache_dir=run_dir, now=clock())
        assert (again["access_token"], again["cached"], again["validated"], again["replaced_invalid"]) == (CACHED, True, True, False)
    assert len(fake_ims.calls) == 1
    # Another run asks again.
    valid(fake_ims)
    assert obtain_token(settings, run_cache_dir=str(tmp_path / "next-run"), now=clock())["validated"] is True
    assert urls(fake_ims) == [VALIDATE_URL, VALIDATE_URL]


def test_a_validation_sends_the_token_and_the_client_id_and_no_secret(creds, fake_ims, run_dir):
    settings = build_settings(service_credentials=creds.aem(), validate=True, retries=0)
    in_cache(run_cache(run_dir), settings, CACHED)
    valid(fake_ims)
    assert obtain_token(settings, run_cache_dir=run_dir, now=clock())["validated"] is True
    (call,) = fake_ims.calls
    assert (call["url"], call["fields"]) == (VALIDATE_URL, validation_form(CACHED, CLIENT_ID))
    assert CLIENT_SECRET not in json.dumps(call["fields"])


def test_the_runs_confirmation_holds_a_digest_of_the_token_only(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    valid(fake_ims)
    obtain_token(settings, run_cache_dir=run_dir, now=clock())
    with open(note_path(run_dir, settings), encoding="utf-8") as handle:
        note = json.load(handle)
    assert note == {"format": CONFIRMED_NOTE, "key": "v" + key_of(settings), "token": token_digest(CACHED)}


def confirmed_token_digest(run_dir, settings):
    if not os.path.exists(note_path(run_dir, settings)):
        return None
    with open(note_path(run_dir, settings), encoding="utf-8") as handle:
        return json.load(handle)["token"]


def test_a_fresh_token_from_ims_is_not_validated(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    fake_ims.token(expires_in=86399, access_token=FRESH)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["cached"], result["validated"], result["replaced_invalid"]) == (FRESH, False, False, False)
    assert urls(fake_ims) == [TOKEN_URL]
    # IMS just issued it: the rest of the run takes it as confirmed.
    assert confirmed_token_digest(run_dir, settings) == token_digest(FRESH)


def test_without_validate_a_fresh_token_is_not_noted_as_confirmed(creds, fake_ims, run_dir):
    settings = s2s(creds)
    fake_ims.token(expires_in=86399, access_token=FRESH)
    obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert confirmed_token_digest(run_dir, settings) is None
    # A later task that asks for validation confirms it, once.
    valid(fake_ims)
    validating = s2s(creds, validate=True)
    assert [obtain_token(validating, run_cache_dir=run_dir, now=clock())["validated"] for _unused in range(2)] == [True, True]
    assert urls(fake_ims) == [TOKEN_URL, VALIDATE_URL]


def test_without_validate_nothing_is_asked_and_the_result_says_nothing_of_it(creds, fake_ims, run_dir):
    settings = s2s(creds)
    in_cache(run_cache(run_dir), settings, CACHED)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["cached"]) == (CACHED, True)
    assert "validated" not in result and "replaced_invalid" not in result
    assert fake_ims.calls == []


def test_an_unusable_cached_token_is_replaced_without_a_validation(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED, expires_at=NOW + 60)
    fake_ims.token(expires_in=86399, access_token=FRESH)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["validated"], result["replaced_invalid"]) == (FRESH, False, False)
    assert urls(fake_ims) == [TOKEN_URL]


def test_force_refresh_skips_the_validation(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True, force_refresh=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    fake_ims.token(expires_in=86399, access_token=FRESH)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["cached"], result["validated"], result["replaced_invalid"]) == (FRESH, False, False, False)
    assert urls(fake_ims) == [TOKEN_URL]
    assert cached_token(run_cache(run_dir), settings) == FRESH


def test_with_cache_off_every_token_is_fresh_and_none_is_validated(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True, cache="off")
    fake_ims.token(expires_in=86399, access_token=FRESH).token(expires_in=86399, access_token=OTHER)
    assert [obtain_token(settings, run_cache_dir=run_dir, now=clock())["validated"] for _unused in range(2)] == [False, False]
    assert urls(fake_ims) == [TOKEN_URL, TOKEN_URL]


def test_without_a_run_directory_nothing_remembers_a_confirmation(creds, fake_ims, persistent):
    settings = s2s(creds, cache="persistent", cache_dir=persistent, validate=True)
    in_cache(persistent, settings, CACHED)
    valid(fake_ims)
    valid(fake_ims)
    assert [obtain_token(settings, run_cache_dir=None, now=clock())["validated"] for _unused in range(2)] == [True, True]
    assert urls(fake_ims) == [VALIDATE_URL, VALIDATE_URL]
    assert sorted(os.listdir(persistent)) == [key_of(settings) + ".json", key_of(settings) + ".lock"]


def test_a_fork_that_waited_takes_the_confirmation_of_another(creds, fake_ims, run_dir, monkeypatch):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    real_lock = TokenCache.lock

    def lock(self, key, wait):
        # Another fork validated the token while this one waited for the lock.
        TokenCache(run_cache(run_dir)).write_note("v" + key, CONFIRMED_NOTE, {"token": token_digest(CACHED)})
        return real_lock(self, key, wait)

    monkeypatch.setattr(TokenCache, "lock", lock)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["validated"]) == (CACHED, True)
    assert fake_ims.calls == []


def test_the_validation_is_made_under_the_lock_of_the_token(creds, fake_ims, run_dir, monkeypatch):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    held = []
    real_lock, real_confirm = TokenCache.lock, TokenService.validate_token

    def lock(self, key, wait):
        held.append(key)
        return real_lock(self, key, wait)

    def spied_confirm(*args):
        assert held == [key_of(settings)], "validated before the lock was taken"
        return real_confirm(*args)

    monkeypatch.setattr(TokenCache, "lock", lock)
    monkeypatch.setattr(TokenService, "validate_token", spied_confirm)
    valid(fake_ims)
    assert obtain_token(settings, run_cache_dir=run_dir, now=clock())["validated"] is True


# --- validate: an invalid token is replaced in the same call ----------------------------------


@pytest.mark.parametrize("mode", ["run", "persistent"])
def test_a_token_ims_calls_invalid_goes_from_every_cache_and_is_replaced(creds, fake_ims, run_dir, persistent, mode):
    settings = s2s(creds, cache=mode, cache_dir=persistent, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, CACHED)
    # A confirmation of a token this run saw before (since replaced by another process).
    TokenCache(run_cache(run_dir)).write_note("v" + key_of(settings), CONFIRMED_NOTE, {"token": token_digest(OTHER)})
    valid(fake_ims, False).token(expires_in=86399, access_token=FRESH)
    result = obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["access_token"], result["cached"], result["validated"], result["replaced_invalid"]) == (FRESH, False, False, True)
    assert urls(fake_ims) == [VALIDATE_URL, TOKEN_URL]
    assert fake_ims.calls[0]["fields"] == validation_form(CACHED)
    # The new token is in the cache of the mode, the invalid one in none.
    active, other = (run_cache(run_dir), persistent) if mode == "run" else (persistent, run_cache(run_dir))
    assert (cached_token(active, settings), cached_token(other, settings)) == (FRESH, None)
    # The run's confirmation is of the new token now, never of an old one.
    assert confirmed_token_digest(run_dir, settings) == token_digest(FRESH)


def test_the_default_cache_dir_is_cleared_of_an_invalid_token_too(creds, fake_ims, run_dir, cache_home):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(str(cache_home), settings, CACHED)
    valid(fake_ims, False).token(expires_in=86399, access_token=FRESH)
    assert obtain_token(settings, run_cache_dir=run_dir, now=clock())["replaced_invalid"] is True
    assert (cached_token(run_cache(run_dir), settings), cached_token(str(cache_home), settings)) == (FRESH, None)


def test_a_token_ims_calls_invalid_is_never_returned_even_if_no_new_one_comes(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    valid(fake_ims, False).error(400, "invalid_scope", "Invalid scope")
    with pytest.raises(ImsResponseError) as info:
        obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert one_line(info.value).startswith("IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_scope")
    assert cached_token(run_cache(run_dir), settings) is None


@pytest.mark.parametrize("how", ["exchanged", "replaced"])
def test_a_token_obtained_in_this_run_is_not_validated_later_in_the_run(creds, fake_ims, run_dir, how):
    settings = s2s(creds, validate=True)
    if how == "replaced":
        in_cache(run_cache(run_dir), settings, CACHED)
        valid(fake_ims, False)
    fake_ims.token(expires_in=86399, access_token=FRESH)
    obtain_token(settings, run_cache_dir=run_dir, now=clock())
    requests_before = len(fake_ims.calls)
    for _unused in range(3):
        later = obtain_token(settings, run_cache_dir=run_dir, now=clock())
        assert (later["access_token"], later["cached"], later["validated"], later["replaced_invalid"]) == (FRESH, True, True, False)
    assert len(fake_ims.calls) == requests_before, "IMS was asked to validate a token it issued earlier in this run"


# --- validate: a validation that fails never serves the token ---------------------------------


@pytest.mark.parametrize(
    "answers, error_class, message",
    [
        (
            [(503, "busy"), (503, "busy")],
            ImsResponseError,
            "IMS answered the token validation with HTTP 503 and a non-JSON body (no content type): 'busy'. Hint: IMS had a server error; "
            "try again later (gave up after 2 attempts)",
        ),
        (
            [requests.exceptions.ConnectionError("Connection refused"), requests.exceptions.ConnectionError("Connection refused")],
            TransportError,
            "could not connect to IMS at %s: connection refused (gave up after 2 attempts)" % PROD,
        ),
        ([(200, {"token": {}})], ImsResponseError, "IMS answered the token validation with HTTP 200 but without a true or false valid"),
        ([(200, "<html>sign in</html>")], ImsResponseError, "IMS answered the token validation with HTTP 200 but not with JSON (no content type): 'sign in'"),
        (
            [(401, {"error": "invalid_client", "error_description": "invalid client_id parameter"})],
            ImsResponseError,
            "IMS rejected the token validation: HTTP 401 invalid_client: invalid client_id parameter. Hint: unknown client_id, or the wrong IMS "
            "environment (stage or production: ims_endpoint is %s)" % PROD,
        ),
    ],
    ids=["5xx-after-retries", "no-connection", "no-verdict", "not-json", "refused"],
)
def test_a_failed_validation_fails_the_task_and_keeps_the_token_cached(creds, fake_ims, run_dir, answers, error_class, message):
    settings = s2s(creds, validate=True, retries=1)
    in_cache(run_cache(run_dir), settings, CACHED)
    for answer in answers:
        if isinstance(answer, BaseException):
            fake_ims.fail(answer)
        else:
            fake_ims.answer(*answer)
    with pytest.raises(error_class) as info:
        obtain_token(settings, run_cache_dir=run_dir, now=clock())
    # How long the retries took is in the message, and not for a test to pin.
    assert re.sub(r"( attempts) in [0-9]+\.[0-9] s\)", r"\1)", one_line(info.value)) == message
    # No exchange instead, no confirmation: the token is neither served nor thrown away.
    assert urls(fake_ims) == [VALIDATE_URL] * len(answers)
    assert cached_token(run_cache(run_dir), settings) == CACHED
    assert not os.path.exists(note_path(run_dir, settings))


def test_a_failed_validation_is_remembered_for_the_other_forks(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    fake_ims.answer(503, "busy")
    inputs = "i" + "8" * 64
    with pytest.raises(ImsResponseError):
        obtain_token(settings, run_cache_dir=run_dir, now=clock(), inputs=inputs)
    with pytest.raises(RepeatedFailure) as info:
        obtain_token(settings, run_cache_dir=run_dir, now=clock(), inputs=inputs)
    assert info.value.msg.startswith("IMS answered the token validation with HTTP 503")
    assert "(the same error as an earlier task of this run; not retried for another " in info.value.msg
    assert len(fake_ims.calls) == 1


def test_a_token_or_secret_ims_echoes_in_a_validation_error_is_scrubbed(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    fake_ims.error(400, "invalid_request", "token %s of the client with secret %s is malformed" % (CACHED, CLIENT_SECRET), headers={"x-debug-id": CACHED})
    with pytest.raises(ImsResponseError) as info:
        obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert CACHED not in info.value.msg and CLIENT_SECRET not in info.value.msg
    assert "token ******** of the client with secret ******** is malformed" in one_line(info.value)


# --- validate_token ----------------------------------------------------------------------------


def test_confirm_remembers_a_yes_and_only_a_yes(creds, fake_ims, run_dir):
    settings = s2s(creds)
    request = build_token_request(settings)
    entry = {"access_token": CACHED}
    valid(fake_ims, False)
    assert TokenService(settings, run_dir).validate_token(request, entry) is False
    assert not os.path.exists(run_cache(run_dir))
    valid(fake_ims)
    assert TokenService(settings, run_dir).validate_token(request, entry) is True
    assert os.path.exists(note_path(run_dir, settings))
    valid(fake_ims)
    assert TokenService(settings, None).validate_token(request, entry) is True
    assert [call["fields"] for call in fake_ims.calls] == [validation_form(CACHED)] * 3


# --- revoking: the access_token option --------------------------------------------------------


def summary(**extra):
    result = {
        "auth_method": "oauth_server_to_server",
        "client_id": S2S_CLIENT_ID,
        "ims_endpoint": PROD,
        "credentials_format": "oauth_s2s_flat",
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "scopes": list(S2S_SCOPES),
    }
    result.update(extra)
    return result


def test_revoking_the_access_token_option(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", access_token=GIVEN, cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, GIVEN)
    in_cache(persistent, settings, OTHER)
    fake_ims.answer(200)
    result = revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert result == summary(revoked=1, changed=True)
    (call,) = fake_ims.calls
    assert (call["url"], call["fields"]) == (INVALIDATE_URL, invalidation_form(GIVEN))
    # The cached entry that held that token is gone; a different token of the same credentials stays.
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, OTHER)


def test_revoking_a_token_that_is_cached_nowhere(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent", access_token=GIVEN)
    fake_ims.answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock()) == summary(revoked=1, changed=True)
    assert urls(fake_ims) == [INVALIDATE_URL]
    assert os.listdir(run_dir) == []


def test_the_result_of_a_revocation_holds_no_token(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent", access_token=GIVEN)
    fake_ims.answer(200, {"access_token": OTHER})
    result = revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert "access_token" not in result and "headers" not in result
    assert GIVEN not in json.dumps(result) and OTHER not in json.dumps(result) and CLIENT_SECRET not in json.dumps(result)


def test_revoking_with_jwt_credentials_uses_their_client_and_secret(creds, fake_ims, run_dir):
    settings = build_settings(service_credentials=creds.aem(), state="absent", access_token=GIVEN, retries=0)
    fake_ims.answer(200)
    result = revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert (result["auth_method"], result["client_id"], result["metascopes"], result["revoked"], result["changed"]) == (
        "jwt",
        CLIENT_ID,
        ["ent_aem_cloud_api"],
        1,
        True,
    )
    assert fake_ims.calls[0]["fields"] == invalidation_form(GIVEN, client_id=CLIENT_ID)


# --- revoking: the cached tokens --------------------------------------------------------------


def test_revoking_the_tokens_cached_in_the_run_and_in_cache_dir(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, OTHER)
    fake_ims.answer(200).answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock()) == summary(revoked=2, changed=True)
    assert sorted(call["fields"]["token"] for call in fake_ims.calls) == sorted([CACHED, OTHER])
    assert urls(fake_ims) == [INVALIDATE_URL, INVALIDATE_URL]
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, None)


def test_one_token_cached_twice_is_revoked_once(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, CACHED)
    fake_ims.answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["revoked"] == 1
    assert [call["fields"] for call in fake_ims.calls] == [invalidation_form(CACHED)]
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, None)


def test_the_default_cache_dir_is_looked_in_whatever_the_cache_mode(creds, fake_ims, run_dir, cache_home):
    settings = s2s(creds, state="absent", cache="off")
    in_cache(str(cache_home), settings, OTHER)
    fake_ims.answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["revoked"] == 1
    assert fake_ims.calls[0]["fields"] == invalidation_form(OTHER)
    assert cached_token(str(cache_home), settings) is None


def test_expired_tokens_are_removed_without_a_request(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, OTHER, expires_at=NOW - 1)
    fake_ims.answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["revoked"] == 1
    assert [call["fields"]["token"] for call in fake_ims.calls] == [CACHED]
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, None)


def test_only_expired_tokens_is_nothing_to_revoke(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(persistent, settings, OTHER, expires_at=NOW)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock()) == summary(revoked=0, changed=False)
    assert fake_ims.calls == []
    assert cached_token(persistent, settings) is None


def test_nothing_cached_is_nothing_to_do(creds, fake_ims, run_dir, cache_home):
    settings = s2s(creds, state="absent")
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock()) == summary(revoked=0, changed=False)
    assert revoke_token(settings, run_cache_dir=None, now=clock()) == summary(revoked=0, changed=False)
    assert fake_ims.calls == []
    # Not even a cache directory is created.
    assert os.listdir(run_dir) == [] and not os.path.exists(str(cache_home))


def test_tokens_of_other_credentials_are_left_alone(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent")
    others = build_settings(service_credentials=creds.aem())
    in_cache(run_cache(run_dir), others, OTHER)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["changed"] is False
    assert fake_ims.calls == []
    assert cached_token(run_cache(run_dir), others) == OTHER


def test_the_confirmation_goes_with_the_token(creds, fake_ims, run_dir):
    settings = s2s(creds, validate=True)
    in_cache(run_cache(run_dir), settings, CACHED)
    valid(fake_ims)
    obtain_token(settings, run_cache_dir=run_dir, now=clock())
    assert os.path.exists(note_path(run_dir, settings))
    fake_ims.answer(200)
    revoke_token(s2s(creds, state="absent"), run_cache_dir=run_dir, now=clock())
    assert not os.path.exists(note_path(run_dir, settings))


def test_the_next_token_after_a_revocation_comes_from_ims(creds, fake_ims, run_dir):
    fake_ims.token(expires_in=86399, access_token=CACHED)
    assert obtain_token(s2s(creds), run_cache_dir=run_dir, now=clock())["cached"] is False
    fake_ims.answer(200)
    assert revoke_token(s2s(creds, state="absent"), run_cache_dir=run_dir, now=clock())["changed"] is True
    fake_ims.token(expires_in=86399, access_token=FRESH)
    again = obtain_token(s2s(creds), run_cache_dir=run_dir, now=clock())
    assert (again["access_token"], again["cached"]) == (FRESH, False)
    assert urls(fake_ims) == [TOKEN_URL, INVALIDATE_URL, TOKEN_URL]


def test_a_revocation_that_fails_half_way_removes_what_it_revoked(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    first, second = sorted([CACHED, OTHER])
    in_cache(run_cache(run_dir), settings, first)
    in_cache(persistent, settings, second)
    fake_ims.answer(200).error(400, "invalid_request", "The token was not issued to this client")
    with pytest.raises(ImsResponseError):
        revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, second)


def test_an_unsafe_cache_directory_is_refused_before_any_request(creds, fake_ims, run_dir):
    directory = run_cache(run_dir)
    os.mkdir(directory)
    os.chmod(directory, 0o777)
    with pytest.raises(CacheError) as info:
        revoke_token(s2s(creds, state="absent"), run_cache_dir=run_dir, now=clock())
    assert one_line(info.value).startswith("the run's token cache directory %s is writable by other users (mode 0777)" % directory)
    assert fake_ims.calls == []


# --- revoking: check mode ---------------------------------------------------------------------


def test_check_mode_sends_nothing_removes_nothing_and_says_what_it_would_do(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, OTHER)
    in_cache(str(persistent), build_settings(service_credentials=creds.aem()), GIVEN, expires_at=NOW - 1)
    before = sorted(os.listdir(persistent)), sorted(os.listdir(run_cache(run_dir)))
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock(), check_mode=True) == summary(revoked=2, changed=True)
    assert fake_ims.calls == []
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (CACHED, OTHER)
    assert (sorted(os.listdir(persistent)), sorted(os.listdir(run_cache(run_dir)))) == before


def test_check_mode_with_the_access_token_option(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent", access_token=GIVEN)
    in_cache(run_cache(run_dir), settings, GIVEN)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock(), check_mode=True) == summary(revoked=1, changed=True)
    assert fake_ims.calls == []
    assert cached_token(run_cache(run_dir), settings) == GIVEN


def test_check_mode_with_nothing_cached(creds, fake_ims, run_dir, persistent):
    settings = s2s(creds, state="absent", cache_dir=persistent)
    in_cache(persistent, settings, OTHER, expires_at=NOW - 1)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock(), check_mode=True) == summary(revoked=0, changed=False)
    assert fake_ims.calls == []
    assert os.path.exists(os.path.join(persistent, key_of(settings) + ".json")), "check mode removes nothing, expired or not"


# --- revoking: IMS refuses --------------------------------------------------------------------


def test_a_wrong_secret_fails_with_one_line_and_no_secret(creds, fake_ims, run_dir):
    settings = s2s(creds, creds.flat_s2s(CLIENT_SECRETS=[CLIENT_SECRET]), state="absent")
    in_cache(run_cache(run_dir), settings, CACHED)
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter")
    with pytest.raises(ImsResponseError) as info:
        revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert one_line(info.value) == INVALIDATION_FAILURE + BAD_SECRET_HINT
    assert (info.value.code, info.value.status) == ("invalid_client", 400)
    assert CLIENT_SECRET not in info.value.msg and CACHED not in info.value.msg
    # Not revoked, so still cached.
    assert cached_token(run_cache(run_dir), settings) == CACHED


def test_the_next_secret_is_tried_when_the_first_was_rotated_out(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent", access_token=GIVEN)
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter").answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["revoked"] == 1
    assert [call["fields"] for call in fake_ims.calls] == [invalidation_form(GIVEN, CLIENT_SECRET), invalidation_form(GIVEN, CLIENT_SECRET_2)]


def test_every_secret_refused(creds, fake_ims, run_dir):
    settings = s2s(creds, state="absent", access_token=GIVEN)
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter").error(400, "invalid_client", "invalid client_secret parameter")
    with pytest.raises(ImsResponseError) as info:
        revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert one_line(info.value) == INVALIDATION_FAILURE + BAD_SECRET_HINT
    assert len(fake_ims.calls) == 2


@pytest.mark.parametrize(
    "code, description", [("invalid_request", "The token was not issued to this client"), ("invalid_client", "invalid client_id parameter")]
)
def test_other_refusals_are_not_retried_with_the_next_secret(creds, fake_ims, run_dir, code, description):
    fake_ims.error(400, code, description)
    with pytest.raises(ImsResponseError) as info:
        revoke_token(s2s(creds, state="absent", access_token=GIVEN), run_cache_dir=run_dir, now=clock())
    assert one_line(info.value).startswith("IMS rejected the token invalidation: HTTP 400 %s: %s" % (code, description))
    assert len(fake_ims.calls) == 1


def test_an_invalidation_is_retried_after_a_server_error(creds, fake_ims, run_dir):
    fake_ims.answer(503, "busy").answer(200)
    assert revoke_token(s2s(creds, state="absent", access_token=GIVEN, retries=1), run_cache_dir=run_dir, now=clock())["changed"] is True
    assert urls(fake_ims) == [INVALIDATE_URL, INVALIDATE_URL]
    assert len(fake_ims.sleeps) == 1


@pytest.mark.parametrize("given", [True, False], ids=["access_token", "cached"])
def test_a_token_or_secret_ims_echoes_in_an_invalidation_error_is_scrubbed(creds, fake_ims, run_dir, given):
    token = GIVEN if given else CACHED
    settings = s2s(creds, state="absent", access_token=GIVEN) if given else s2s(creds, state="absent")
    if not given:
        in_cache(run_cache(run_dir), settings, CACHED)
    fake_ims.error(400, "invalid_request", "cannot revoke %s with %s" % (token, CLIENT_SECRET), headers={"x-debug-id": CLIENT_SECRET_2})
    with pytest.raises(ImsResponseError) as info:
        revoke_token(settings, run_cache_dir=run_dir, now=clock())
    assert token not in info.value.msg and CLIENT_SECRET not in info.value.msg and CLIENT_SECRET_2 not in info.value.msg
    assert "cannot revoke ******** with ********" in one_line(info.value)


# --- forget_token -----------------------------------------------------------------------------


def test_forget_token_removes_the_entry_everywhere_or_only_where_it_holds_the_token(creds, run_dir, persistent):
    settings = s2s(creds, cache_dir=persistent)
    in_cache(run_cache(run_dir), settings, CACHED)
    in_cache(persistent, settings, OTHER)
    assert forget_token(key_of(settings), settings, run_dir, token=CACHED) == [CACHED]
    assert (cached_token(run_cache(run_dir), settings), cached_token(persistent, settings)) == (None, OTHER)
    assert forget_token(key_of(settings), settings, run_dir, token=CACHED) == []
    assert forget_token(key_of(settings), settings, run_dir) == [OTHER]
    assert forget_token(key_of(settings), settings, None) == []


def test_revoking_needs_only_the_secret_even_after_the_certificate_expired(creds, keys, fake_ims, run_dir):
    expired = make_certificate(
        keys.key,
        not_before=datetime.datetime.fromtimestamp(NOW - 400 * DAY, datetime.timezone.utc),
        not_after=datetime.datetime.fromtimestamp(NOW - DAY, datetime.timezone.utc),
    )
    settings = build_settings(service_credentials=creds.aem(publicKey=expired, certificateExpirationDate=None), state="absent", access_token=GIVEN)
    fake_ims.answer(200)
    assert revoke_token(settings, run_cache_dir=run_dir, now=clock())["revoked"] == 1
    assert fake_ims.calls[0]["fields"] == invalidation_form(GIVEN, client_id=CLIENT_ID)
