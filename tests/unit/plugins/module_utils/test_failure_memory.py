# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _failure_memory.FailureMemory: one failure per credential per run, as one exchange."""

from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.aemops.ims.plugins.module_utils import _token_service
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import RUN_CACHE_SUBDIR, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._errors import (
    AemImsError,
    CredentialsError,
    ImsResponseError,
    RepeatedFailure,
    TransportError,
)
from ansible_collections.aemops.ims.plugins.module_utils._failure_memory import FailureMemory
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_SECRET, build_settings
from ansible_collections.aemops.ims.tests.unit.plugins.token_service_calls import obtain_token

NOW = 1_767_225_600.0
DEFINITIVE = " (the same error as an earlier task of this run; not retried)"


class Clock:
    def __init__(self, value=NOW):
        self.value = value

    def __call__(self):
        return self.value


class Exchanges:
    """exchange() stand-in: counts calls, raises the failure it is given, else returns a token."""

    def __init__(self):
        self.calls = 0
        self.failure = None

    def __call__(self, request, settings, now=None, warn=None):
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return {"access_token": "token-%d" % self.calls, "token_type": "bearer", "issued_at": now(), "expires_at": now() + 86400}


@pytest.fixture
def exchanges(monkeypatch):
    fake = Exchanges()
    monkeypatch.setattr(_token_service, "exchange_with_ims", fake)
    return fake


def invalid_client():
    return ImsResponseError("IMS rejected the JWT exchange: HTTP 401 invalid_client: invalid client_secret parameter", status=401, code="invalid_client")


def outage(retry_after=None):
    return ImsResponseError("IMS answered the JWT exchange with HTTP 503 (gave up after 4 attempts)", status=503, retryable=True, retry_after=retry_after)


INPUTS = "i" + "7" * 64


def failure(settings, run_dir, now, inputs=INPUTS):
    # The collection's own errors only: a TypeError from a bug is no expected failure.
    with pytest.raises(AemImsError) as info:
        obtain_token(settings, run_cache_dir=str(run_dir), now=now, inputs=inputs)
    return info.value


def token(settings, run_dir, now, inputs=INPUTS):
    return obtain_token(settings, run_cache_dir=str(run_dir), now=now, inputs=inputs)


def test_a_definitive_failure_is_given_again_for_the_rest_of_the_run(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    exchanges.failure = invalid_client()
    first = failure(settings, tmp_path, Clock())
    assert isinstance(first, ImsResponseError)
    later = failure(settings, tmp_path, Clock(NOW + 6 * 3600))
    assert isinstance(later, RepeatedFailure)
    assert later.msg == first.msg + DEFINITIVE
    assert later.code == "invalid_client"
    assert exchanges.calls == 1


def test_a_transient_failure_holds_for_timeout_times_retries(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), timeout=5, retries=3)
    exchanges.failure = outage()
    failure(settings, tmp_path, Clock())
    repeated = failure(settings, tmp_path, Clock(NOW + 10))
    assert repeated.msg.endswith(" (the same error as an earlier task of this run; not retried for another 5 s)")
    assert exchanges.calls == 1
    # After the window one fork asks IMS again, and when IMS has recovered its token is used from then on.
    exchanges.failure = None
    assert token(settings, tmp_path, Clock(NOW + 15))["access_token"] == "token-2"
    assert token(settings, tmp_path, Clock(NOW + 16))["cached"] is True
    assert exchanges.calls == 2
    assert not os.path.exists(tmp_path / RUN_CACHE_SUBDIR / ("f%s.json" % INPUTS)), "a success forgets the failure"


@pytest.mark.parametrize("retries, window", [(0, 5), (1, 5), (4, 20)])
def test_the_transient_window_is_at_least_one_timeout(creds, exchanges, tmp_path, retries, window):
    settings = build_settings(service_credentials=creds.aem(), timeout=5, retries=retries)
    exchanges.failure = outage()
    failure(settings, tmp_path, Clock())
    assert isinstance(failure(settings, tmp_path, Clock(NOW + window - 0.5)), RepeatedFailure)
    failure(settings, tmp_path, Clock(NOW + window))
    assert exchanges.calls == 2


def test_a_longer_retry_after_lengthens_the_window(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), timeout=2, retries=1)
    exchanges.failure = outage(retry_after=60)
    failure(settings, tmp_path, Clock())
    assert failure(settings, tmp_path, Clock(NOW + 59)).msg.endswith("not retried for another 1 s)")
    assert exchanges.calls == 1


def test_force_refresh_and_cache_off_bypass_the_memory(creds, exchanges, tmp_path):
    exchanges.failure = invalid_client()
    failure(build_settings(service_credentials=creds.aem()), tmp_path, Clock())
    forced = build_settings(service_credentials=creds.aem(), force_refresh=True)
    assert isinstance(failure(forced, tmp_path, Clock()), ImsResponseError)
    assert isinstance(failure(forced, tmp_path, Clock()), ImsResponseError)
    off = build_settings(service_credentials=creds.aem(), cache="off")
    assert isinstance(failure(off, tmp_path / "other-run", Clock()), ImsResponseError)
    assert isinstance(failure(off, tmp_path / "other-run", Clock()), ImsResponseError)
    assert exchanges.calls == 5
    assert not os.path.exists(tmp_path / "other-run" / RUN_CACHE_SUBDIR), "cache=off keeps nothing"


def test_with_a_persistent_cache_failures_stay_in_the_run(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), cache="persistent", cache_dir=str(tmp_path / "persistent"))
    exchanges.failure = invalid_client()
    failure(settings, tmp_path / "run-1", Clock())
    assert isinstance(failure(settings, tmp_path / "run-1", Clock()), RepeatedFailure)
    assert isinstance(failure(settings, tmp_path / "run-2", Clock()), ImsResponseError)
    assert [name for name in os.listdir(tmp_path / "persistent") if name.endswith(".json")] == []


def test_without_a_run_directory_or_inputs_nothing_is_remembered(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    exchanges.failure = invalid_client()
    for _attempt in range(2):
        with pytest.raises(ImsResponseError):
            obtain_token(settings, run_cache_dir=None, now=Clock(), inputs=INPUTS)
        with pytest.raises(ImsResponseError):
            obtain_token(settings, run_cache_dir=str(tmp_path), now=Clock())
    assert exchanges.calls == 4


def test_other_inputs_for_the_same_credential_are_not_given_its_failure(creds, exchanges, tmp_path):
    # What failed may depend on what the token's cache key leaves out (a passphrase, ca_path, a proxy).
    settings = build_settings(service_credentials=creds.aem())
    exchanges.failure = invalid_client()
    failure(settings, tmp_path, Clock())
    assert isinstance(failure(settings, tmp_path, Clock(), inputs="i" + "8" * 64), ImsResponseError)
    assert exchanges.calls == 2


def test_forks_queued_on_the_lock_see_the_failure_when_they_get_it(creds, exchanges, tmp_path, monkeypatch):
    settings = build_settings(service_credentials=creds.aem())
    real_lock = TokenCache.lock

    def lock(self, name, wait):
        # Another fork failed and remembered it while this one waited for the lock.
        FailureMemory.of_run(settings, str(tmp_path), INPUTS, {}).remember(invalid_client(), NOW)
        return real_lock(self, name, wait)

    monkeypatch.setattr(TokenCache, "lock", lock)
    assert isinstance(failure(settings, tmp_path, Clock()), RepeatedFailure)
    assert exchanges.calls == 0


def test_a_local_failure_is_remembered_under_the_inputs_until_a_file_changes(tmp_path, exchanges, monkeypatch):
    path = tmp_path / "credentials.json"
    path.write_text('{"integration": ')
    settings = build_settings(service_credentials_file=str(path))
    inputs = input_fingerprint({"service_credentials_file": str(path)}, {}, None)
    first = failure(settings, tmp_path / "run", Clock(), inputs=inputs)
    assert isinstance(first, CredentialsError) and "is not valid JSON" in first.msg
    reads = []
    monkeypatch.setattr(_token_service, "build_token_request", lambda *args: reads.append(args))
    assert failure(settings, tmp_path / "run", Clock(), inputs=inputs).msg == first.msg + DEFINITIVE
    assert reads == [], "the file was not read again"
    monkeypatch.undo()
    path.write_text("[]")
    assert "must hold a JSON object" in failure(settings, tmp_path / "run", Clock(), inputs=inputs).msg


def test_the_remembered_message_holds_no_secret_and_stays_one_line(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem())
    exchanges.failure = ImsResponseError("IMS said " + CLIENT_SECRET + " x" * 400, status=400, code="invalid_request")
    first = failure(settings, tmp_path, Clock())
    assert CLIENT_SECRET not in first.msg
    for name in os.listdir(tmp_path / RUN_CACHE_SUBDIR):
        assert CLIENT_SECRET not in (tmp_path / RUN_CACHE_SUBDIR / name).read_text()
    repeated = failure(settings, tmp_path, Clock())
    assert repeated.msg.endswith(DEFINITIVE) and len(repeated.msg) <= 600 and "\n" not in repeated.msg


@pytest.mark.parametrize(
    "note",
    [
        {"message": 5, "until": None},
        {"message": "x", "until": "tomorrow"},
        {"message": "x", "until": True},
        {"message": "x", "until": NOW - 1},
    ],
)
def test_a_damaged_or_stale_note_is_ignored(creds, exchanges, tmp_path, note):
    settings = build_settings(service_credentials=creds.aem())
    TokenCache.open(str(tmp_path / RUN_CACHE_SUBDIR)).write_note("f" + INPUTS, FailureMemory.NOTE, dict(note, files={}))
    assert token(settings, tmp_path, Clock())["access_token"] == "token-1"


def test_a_transport_failure_counts_as_transient(creds, exchanges, tmp_path):
    settings = build_settings(service_credentials=creds.aem(), timeout=3, retries=2)
    exchanges.failure = TransportError("could not connect to IMS at https://ims-na1.adobelogin.com: connection refused")
    failure(settings, tmp_path, Clock())
    note = json.loads((tmp_path / RUN_CACHE_SUBDIR / ("f%s.json" % INPUTS)).read_text())
    assert note["until"] == NOW + 6
    assert re.fullmatch(r".* \(the same error as an earlier task of this run; not retried for another 6 s\)", failure(settings, tmp_path, Clock()).msg)
