# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _cache_reader: what a cache hit reads (entries, aliases, confirmations), what it ignores, and all it loads."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import (
    ALIAS_FORMAT,
    CONFIRMED_NOTE,
    ENTRY_FORMAT,
    RUN_CACHE_SUBDIR,
    confirmed_this_run,
    entry_for_fingerprint,
    file_identity,
    input_fingerprint,
    read_alias,
    token_digest,
    usable,
)
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._token_service import cache_directory, default_persistent_dir
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import build_settings, write_file
from ansible_collections.aemops.ims.tests.unit.plugins.cache_entries import KEY, NOW, entry, entry_path, mode_of


@pytest.fixture
def cache(tmp_path):
    return TokenCache.open(str(tmp_path / "tokens"))


# --- what read() ignores ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b'{"access_token": "eyJ", "expires_at": 17',
        b"[1, 2, 3]",
        b"null",
        json.dumps(entry(format="someone-else/1", key=KEY)).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key="cd" * 32)).encode(),
        json.dumps(entry(format=ENTRY_FORMAT)).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key=KEY, access_token=5)).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key=KEY, access_token="")).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key=KEY, expires_at="tomorrow")).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key=KEY, expires_at=True)).encode(),
        json.dumps(entry(format=ENTRY_FORMAT, key=KEY, issued_at=None)).encode(),
        json.dumps(dict(entry(format=ENTRY_FORMAT, key=KEY), padding="x" * 70_000)).encode(),
    ],
    ids=[
        "empty",
        "not-json",
        "not-utf8",
        "truncated",
        "list",
        "null",
        "foreign-format",
        "other-key",
        "no-key",
        "token-not-a-string",
        "token-empty",
        "expiry-a-string",
        "expiry-a-bool",
        "issued-at-missing",
        "too-large",
    ],
)
def test_bad_entries_are_ignored_and_replaced(cache, content):
    with open(entry_path(cache), "wb") as handle:
        handle.write(content)
    assert cache.read(KEY) is None
    cache.write(KEY, entry())
    assert cache.read(KEY)["access_token"] == "eyJ.token.sig"


def test_deeply_nested_entry_is_ignored_not_a_crash(cache):
    with open(entry_path(cache), "wb") as handle:
        handle.write(b"[" * 60_000)
    assert cache.read(KEY) is None


@pytest.mark.parametrize(
    "not_after, valid",
    [
        (None, True),
        ("2026-11-26T05:39:24Z", True),
        ("2999-12-31T23:59:59Z", True),
        (12345, False),
        (True, False),
        (["2026-11-26T05:39:24Z"], False),
        ("", False),
        ("2026-11-26T05:39:24", False),
        ("2026-11-26 05:39:24Z", False),
        ("2026-11-26T05:39:24.000Z", False),
        ("2026-11-26T05:39:24+00:00", False),
        ("2026-1a-26T05:39:24Z", False),
        ("-026-11-26T05:39:24Z", False),
        ("\uff12026-11-26T05:39:24Z", False),
        ("2026-11-26T05:39:2\u0664Z", False),
        ("2026-13-40T99:99:99Z", False),
        ("2026-00-10T00:00:00Z", False),
        ("2026-13-01T00:00:00Z", False),
        ("2026-01-00T00:00:00Z", False),
        ("2026-01-32T00:00:00Z", False),
        ("2026-01-01T24:00:00Z", False),
        ("2026-01-01T00:60:00Z", False),
        ("2026-01-01T00:00:60Z", False),
    ],
)
def test_certificate_dates_of_entries(cache, not_after, valid):
    # A hit compares certificate_not_after with the current time as text: anything but a real
    # moment written as YYYY-MM-DDTHH:MM:SSZ makes the entry corrupt.
    with open(entry_path(cache), "w", encoding="utf-8") as handle:
        json.dump(entry(format=ENTRY_FORMAT, key=KEY, certificate_not_after=not_after), handle)
    assert (cache.read(KEY) is not None) is valid


def test_a_fifo_in_place_of_the_entry_is_ignored_without_blocking(cache):
    os.mkfifo(entry_path(cache))
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(cache.read(KEY)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert outcome == [None]


def test_a_directory_in_place_of_the_entry_is_ignored(cache):
    os.mkdir(entry_path(cache))
    assert cache.read(KEY) is None


def test_symlinked_entry_is_not_followed(cache, tmp_path):
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_text(json.dumps(entry(format=ENTRY_FORMAT, key=KEY, access_token="planted")))
    os.symlink(str(elsewhere), entry_path(cache))
    assert cache.read(KEY) is None
    cache.write(KEY, entry(access_token="mine"))
    assert json.loads(elsewhere.read_text())["access_token"] == "planted"
    assert not os.path.islink(entry_path(cache))
    assert cache.read(KEY)["access_token"] == "mine"


def test_read_error_is_a_miss(cache, monkeypatch):
    cache.write(KEY, entry())

    def failing_read(descriptor, size):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "read", failing_read)
    assert cache.read(KEY) is None


def test_entry_owned_by_another_user_is_ignored(cache, monkeypatch):
    cache.write(KEY, entry())
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    assert cache.read(KEY) is None


# --- usable and locations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_in, margin, expected",
    [(3600, 600, True), (601, 600, True), (600, 600, False), (10, 0, True), (0, 0, False), (-5, 0, False), (86400, 86400, False)],
)
def test_usable(expires_in, margin, expected):
    assert usable(entry(expires_at=NOW + expires_in), NOW, margin) is expected


def test_usable_without_entry():
    assert usable(None, NOW, 0) is False


def test_default_persistent_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_persistent_dir() == str(tmp_path / "xdg" / "aemops.ims" / "tokens")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_persistent_dir() == str(tmp_path / "home" / ".cache" / "aemops.ims" / "tokens")


def test_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_directory("off", "/x", "/run") is None
    assert cache_directory("run", None, None) is None
    assert cache_directory("run", "/x", "/run") == os.path.join("/run", RUN_CACHE_SUBDIR)
    assert cache_directory("persistent", "/x", "/run") == "/x"
    assert cache_directory("persistent", None, None) == str(tmp_path / "aemops.ims" / "tokens")


# --- input fingerprints and file identities ---------------------------------------------------


def fingerprint(values=None, origins=None, credentials_file="/creds.json"):
    values = {"client_id": "c", "client_secret": "s3cret-value"} if values is None else values
    origins = {"client_id": "the client_id option", "client_secret": "the client_secret option"} if origins is None else origins
    return input_fingerprint(values, origins, credentials_file)


def test_input_fingerprint_is_stable_opaque_and_sensitive():
    first = fingerprint()
    assert first == fingerprint()
    assert first.startswith("i") and len(first) == 65 and not first[1:].strip("0123456789abcdef")
    assert "s3cret-value" not in first
    # The order in which sources were read does not matter; every value, origin and the file do.
    assert fingerprint(values={"client_secret": "s3cret-value", "client_id": "c"}) == first
    assert fingerprint(values={"client_id": "c", "client_secret": "other"}) != first
    assert fingerprint(values={"client_id": "c", "client_secret": "s3cret-value", "timeout": 5}) != first
    assert fingerprint(origins={"client_id": "variable aem_ims_client_id", "client_secret": "the client_secret option"}) != first
    assert fingerprint(credentials_file="/other.json") != first
    assert fingerprint(credentials_file=None) != first


def test_input_fingerprint_of_values_json_cannot_hold():
    # A tuple reads as a list, anything else by its repr: never an error, always the same.
    values = {"scopes": ("openid",), "service_credentials": {"ok": True}, "odd": {1, 2} - {2}}
    assert fingerprint(values=values) == fingerprint(values=dict(values))
    assert fingerprint(values=values) != fingerprint(values=dict(values, odd={3}))


def wait_for_a_new_change_time(path):
    """Until a file written now would get another change time than path's (file systems keep time in ticks)."""
    before = os.stat(path).st_ctime_ns
    probe = os.path.join(os.path.dirname(path), ".tick")
    while True:
        with open(probe, "w", encoding="utf-8") as handle:
            handle.write("x")
        if os.stat(probe).st_ctime_ns != before:
            os.unlink(probe)
            return
        time.sleep(0.001)


def test_file_identity_changes_with_any_write_or_replacement(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    first = file_identity(str(path))
    assert first == file_identity(str(path))
    # Same size, modification time put back by hand: the change time still differs.
    info = os.stat(path)
    wait_for_a_new_change_time(str(path))
    path.write_text('{"a": 2}')
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert file_identity(str(path)) != first
    # Replaced by another file with the same content.
    second = file_identity(str(path))
    replacement = tmp_path / "new.json"
    replacement.write_text('{"a": 2}')
    os.replace(replacement, path)
    assert file_identity(str(path)) != second
    assert file_identity(str(tmp_path / "missing.json")) is None
    assert file_identity("bad\0path") is None


# --- aliases ----------------------------------------------------------------------------------

FINGERPRINT = "i" + "1" * 64
TARGET = "e" * 64


def test_alias_round_trip(cache, tmp_path):
    cache.write_alias(FINGERPRINT, str(tmp_path / "persistent"), TARGET, 600, {"/creds.json": "1:2:3:4:5"})
    assert read_alias(cache.directory, FINGERPRINT) == {
        "format": ALIAS_FORMAT,
        "key": FINGERPRINT,
        "directory": str(tmp_path / "persistent"),
        "target": TARGET,
        "refresh_margin": 600,
        "files": {"/creds.json": "1:2:3:4:5"},
    }
    assert mode_of(os.path.join(cache.directory, FINGERPRINT + ".json")) == 0o600
    # An alias is not an entry, nor an entry an alias.
    assert cache.read(FINGERPRINT) is None
    cache.write(TARGET, entry())
    assert read_alias(cache.directory, TARGET) is None


def test_missing_alias(cache):
    assert read_alias(cache.directory, FINGERPRINT) is None


def stored_alias(run_dir, fingerprint=FINGERPRINT, files=None, margin=600, directory=None, **fields):
    """An entry (in directory, the run cache by default) and the run's alias to it."""
    run_cache = TokenCache.open(os.path.join(run_dir, RUN_CACHE_SUBDIR))
    cache = TokenCache.open(directory) if directory else run_cache
    if "expires_at" in fields:
        # A token issued a day before it expires: a longer lifetime makes the entry corrupt.
        fields.setdefault("issued_at", fields["expires_at"] - 86400)
    cache.write(TARGET, entry(**fields))
    run_cache.write_alias(fingerprint, cache.directory, TARGET, margin, files or {})
    return cache


def rewrite_alias(run_dir, fingerprint=FINGERPRINT, **changes):
    path = os.path.join(run_dir, RUN_CACHE_SUBDIR, fingerprint + ".json")
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    document.update(changes)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)


@pytest.mark.parametrize(
    "changes",
    [
        {"target": "../../etc/passwd"},
        {"target": "E" * 64},
        {"target": "e" * 63},
        {"target": None},
        {"format": "other"},
        {"format": ENTRY_FORMAT},
        {"key": "i" + "2" * 64},
        {"refresh_margin": "600"},
        {"refresh_margin": True},
        {"refresh_margin": 600.5},
        {"files": ["x"]},
        {"directory": 5},
    ],
    ids=repr,
)
def test_a_foreign_or_damaged_alias_is_ignored(tmp_path, changes):
    cache = stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    rewrite_alias(str(tmp_path), **changes)
    assert read_alias(cache.directory, FINGERPRINT) is None
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None
    assert cache.read(TARGET) is not None


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b"null", b'"text"'])
def test_an_alias_that_is_not_an_object_is_ignored(cache, content):
    with open(os.path.join(cache.directory, FINGERPRINT + ".json"), "wb") as handle:
        handle.write(content)
    assert read_alias(cache.directory, FINGERPRINT) is None


# --- the lookup's cache hit -------------------------------------------------------------------


def test_cache_hit(tmp_path):
    stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    hit = entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time())
    assert hit == dict(entry(expires_at=hit["expires_at"], issued_at=hit["issued_at"]), format=ENTRY_FORMAT, key=TARGET)


def test_no_hit_without_alias_run_directory_or_margin(tmp_path):
    stored_alias(str(tmp_path), expires_at=time.time() + 3600, margin=7200)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None
    assert entry_for_fingerprint("i" + "2" * 64, str(tmp_path), time.time()) is None
    assert entry_for_fingerprint(FINGERPRINT, None, time.time()) is None
    assert entry_for_fingerprint(FINGERPRINT, "", time.time()) is None
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path / "nothing"), time.time()) is None


def test_no_hit_once_the_entry_is_gone_or_corrupt(tmp_path):
    cache = stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    with open(os.path.join(cache.directory, TARGET + ".json"), "w", encoding="utf-8") as handle:
        json.dump(entry(format=ENTRY_FORMAT, key=TARGET, certificate_not_after="2026-13-40T99:99:99Z"), handle)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None
    os.unlink(os.path.join(cache.directory, TARGET + ".json"))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None


def test_no_hit_when_a_file_changed(tmp_path):
    credentials = tmp_path / "c.json"
    credentials.write_text('{"a": 1}')
    key_file = tmp_path / "k.pem"
    key_file.write_text("key")
    files = {str(credentials): file_identity(str(credentials)), str(key_file): file_identity(str(key_file))}
    stored_alias(str(tmp_path), files=files, expires_at=time.time() + 3600)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is not None
    key_file.write_text("another key")
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None
    key_file.unlink()
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None


def test_no_hit_when_the_credentials_file_is_gone(tmp_path):
    credentials = tmp_path / "c.json"
    credentials.write_text('{"a": 1}')
    stored_alias(str(tmp_path), files={str(credentials): file_identity(str(credentials))}, expires_at=time.time() + 3600)
    credentials.unlink()
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None


def test_no_hit_from_an_unsafe_entry_directory(tmp_path):
    persistent = tmp_path / "persist"
    stored_alias(str(tmp_path), directory=str(persistent), expires_at=time.time() + 3600)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is not None
    os.chmod(persistent, 0o777)
    try:
        assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None
    finally:
        os.chmod(persistent, 0o700)
    rewrite_alias(str(tmp_path), directory=str(tmp_path / "vanished"))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is None


@pytest.mark.parametrize("not_after, hit", [("2999-01-01T00:00:00Z", True), ("2000-01-01T00:00:00Z", False)])
def test_a_hit_checks_the_certificate_date(tmp_path, not_after, hit):
    stored_alias(str(tmp_path), expires_at=time.time() + 3600, certificate_not_after=not_after)
    assert (entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is not None) is hit


def test_a_hit_from_a_persistent_cache_dir(tmp_path):
    stored_alias(str(tmp_path), directory=str(tmp_path / "persist"), expires_at=time.time() + 3600)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time())["access_token"] == "eyJ.token.sig"


def test_a_hit_follows_the_alias_to_a_refreshed_entry(tmp_path):
    cache = stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    cache.write(TARGET, entry(issued_at=time.time(), expires_at=time.time() + 7200, access_token="eyJ.refreshed.sig"))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time())["access_token"] == "eyJ.refreshed.sig"


def test_a_hit_uses_the_refresh_margin_the_alias_was_written_with(tmp_path):
    now = float(int(time.time()))
    stored_alias(str(tmp_path), expires_at=now + 601, margin=600)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), now) is not None
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), now + 1) is None


# --- confirmations (the validate option) ------------------------------------------------------


def confirm_in_run(run_dir, key=TARGET, token="eyJ.token.sig", **fields):
    """What _token_service.confirm() leaves in the run's directory once IMS confirmed token."""
    notes = TokenCache.open(os.path.join(run_dir, RUN_CACHE_SUBDIR))
    notes.write_note("v" + key, CONFIRMED_NOTE, dict({"token": token_digest(token)}, **fields))
    return os.path.join(notes.directory, "v" + key + ".json")


def test_token_digest_is_a_sha256_that_never_shows_the_token():
    digest = token_digest("eyJ.token.sig")
    assert digest == hashlib.sha256(b"eyJ.token.sig").hexdigest()
    assert len(digest) == 64 and not digest.strip("0123456789abcdef")
    assert token_digest("eyJ.token.sig") == digest != token_digest("eyJ.token.sih")
    assert token_digest("t\u00e9") == hashlib.sha256("t\u00e9".encode("utf-8")).hexdigest()


def test_a_confirmation_holds_a_digest_not_the_token(tmp_path):
    path = confirm_in_run(str(tmp_path))
    with open(path, encoding="utf-8") as handle:
        note = json.load(handle)
    assert note == {"format": CONFIRMED_NOTE, "key": "v" + TARGET, "token": token_digest("eyJ.token.sig")}
    assert "eyJ.token.sig" not in json.dumps(note)
    assert mode_of(path) == 0o600


def test_confirmed_this_run(tmp_path):
    run_dir = str(tmp_path)
    assert confirmed_this_run(run_dir, TARGET, entry()) is False
    confirm_in_run(run_dir)
    assert confirmed_this_run(run_dir, TARGET, entry()) is True
    # Another token under the same key (a refreshed or replaced one) was not confirmed.
    assert confirmed_this_run(run_dir, TARGET, entry(access_token="eyJ.other.sig")) is False
    # Nor is the same token under another key, nor in another run.
    assert confirmed_this_run(run_dir, "f" * 64, entry()) is False
    assert confirmed_this_run(str(tmp_path / "another-run"), TARGET, entry()) is False
    assert confirmed_this_run(None, TARGET, entry()) is False
    assert confirmed_this_run("", TARGET, entry()) is False


@pytest.mark.parametrize(
    "changes",
    [{"format": "aemops.ims/failure/1"}, {"format": ALIAS_FORMAT}, {"key": "v" + "f" * 64}, {"key": TARGET}, {"token": None}, {"token": "eyJ.token.sig"}],
    ids=repr,
)
def test_a_foreign_or_damaged_confirmation_confirms_nothing(tmp_path, changes):
    path = confirm_in_run(str(tmp_path))
    with open(path, encoding="utf-8") as handle:
        note = json.load(handle)
    note.update(changes)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(note, handle)
    assert confirmed_this_run(str(tmp_path), TARGET, entry()) is False


def test_a_confirmation_is_no_entry_and_an_entry_no_confirmation(tmp_path):
    confirm_in_run(str(tmp_path))
    cache = TokenCache(os.path.join(str(tmp_path), RUN_CACHE_SUBDIR))
    assert cache.read("v" + TARGET) is None
    assert read_alias(cache.directory, "v" + TARGET) is None
    cache.write(TARGET, entry())
    assert cache.read_note(TARGET, CONFIRMED_NOTE) is None


def test_discarding_a_confirmation_and_discarding_nothing(tmp_path):
    path = confirm_in_run(str(tmp_path))
    cache = TokenCache(os.path.dirname(path))
    cache.discard("v" + TARGET)
    assert not os.path.exists(path)
    assert confirmed_this_run(str(tmp_path), TARGET, entry()) is False
    cache.discard("v" + TARGET)
    cache.discard("never-written")


def test_a_hit_with_confirmed_needs_the_confirmation_of_this_token(tmp_path):
    stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time(), confirmed=True) is None
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time()) is not None, "without validate, no confirmation is needed"
    confirm_in_run(str(tmp_path))
    hit = entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time(), confirmed=True)
    assert hit["access_token"] == "eyJ.token.sig"


def test_a_confirmation_of_another_token_is_no_hit(tmp_path):
    stored_alias(str(tmp_path), expires_at=time.time() + 3600)
    confirm_in_run(str(tmp_path), token="eyJ.the-token-before.sig")
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), time.time(), confirmed=True) is None


def test_a_confirmed_hit_from_a_persistent_cache_dir_reads_the_runs_confirmation(tmp_path):
    stored_alias(str(tmp_path / "run"), directory=str(tmp_path / "persist"), expires_at=time.time() + 3600)
    # A confirmation kept beside the entry, in cache_dir, is not one of this run.
    confirm_in_run(str(tmp_path / "persist-as-run"))
    os.replace(str(tmp_path / "persist-as-run" / RUN_CACHE_SUBDIR / ("v" + TARGET + ".json")), str(tmp_path / "persist" / ("v" + TARGET + ".json")))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path / "run"), time.time(), confirmed=True) is None
    confirm_in_run(str(tmp_path / "run"))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path / "run"), time.time(), confirmed=True)["access_token"] == "eyJ.token.sig"


def test_a_confirmed_token_still_has_to_be_usable(tmp_path):
    now = float(int(time.time()))
    stored_alias(str(tmp_path), expires_at=now + 601, margin=600, certificate_not_after="2999-01-01T00:00:00Z")
    confirm_in_run(str(tmp_path))
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), now, confirmed=True) is not None
    assert entry_for_fingerprint(FINGERPRINT, str(tmp_path), now + 1, confirmed=True) is None


# --- what a cache hit loads -------------------------------------------------------------------

# A forked worker as ansible-playbook makes one: a fresh interpreter with the collection
# loader, the run's directory, and one templated lookup call. It prints the modules of this
# collection it holds afterwards (plain modules, not the packages above them).
_WORKER = r"""
import json, sys
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([sys.argv[1]])
from ansible import constants as C
if sys.argv[2] == "-":
    import ansible_collections.aemops.ims.plugins.module_utils._options
    tokens = []
else:
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    C.DEFAULT_LOCAL_TMP = sys.argv[2]
    loader = DataLoader()
    lookup = lookup_loader.get("aemops.ims.aem_ims_token", loader=loader, templar=Templar(loader=loader))
    tokens = lookup.run([sys.argv[3]], {})
prefix = "ansible_collections.aemops.ims."
print(json.dumps({"tokens": tokens, "loaded": sorted(
    name[len(prefix):] for name, module in list(sys.modules.items())
    if name.startswith(prefix) and module is not None and not hasattr(module, "__path__")
)}))
"""


def _collections_root():
    path = os.path.abspath(__file__)
    while os.path.basename(path) != "ansible_collections":
        path = os.path.dirname(path)
    return os.path.dirname(path)


def _worker(tmp_path, run_root="-", credentials="-"):
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-temp"))
    command = [sys.executable, "-c", _WORKER, _collections_root(), str(run_root), credentials]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_lookup_cache_hit_loads_only_the_lookup_the_option_table_and_the_reader(creds, tmp_path):
    credentials = write_file(tmp_path, "creds.json", creds.aem())
    run_root = tmp_path / "run"
    run_root.mkdir()
    request = build_token_request(build_settings(service_credentials_file=credentials))
    now = time.time()
    cached = {"access_token": "cached-token", "issued_at": now, "expires_at": now + 3600, "certificate_not_after": "2999-01-01T00:00:00Z"}
    TokenCache.open(str(run_root / RUN_CACHE_SUBDIR)).write(request.cache_key(), cached)
    # The first call of the run goes the whole way (a miss: the service, the writer) and leaves an alias.
    first = _worker(tmp_path, run_root, credentials)
    assert first["tokens"] == ["cached-token"]
    assert {"plugins.module_utils._token_service", "plugins.module_utils._cache_writer"} <= set(first["loaded"]), "the miss is seen"
    # What importing the option table alone brings (its own imports are its business, not the hit's).
    table = set(_worker(tmp_path)["loaded"])
    assert "plugins.module_utils._options" in table
    # The next call, in a new worker of the same run, is a hit: nothing else of this collection loads.
    second = _worker(tmp_path, run_root, credentials)
    assert second["tokens"] == ["cached-token"]
    assert set(second["loaded"]) == table | {"plugins.lookup.aem_ims_token", "plugins.module_utils._cache_reader"}
