# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _cache_writer: entries written atomically and privately, the directory's checks, locking."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.aemops.ims.plugins.module_utils import _cache_writer
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import ENTRY_FORMAT
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import TokenCache, check_directory
from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError
from ansible_collections.aemops.ims.tests.unit.plugins.cache_entries import KEY, NOW, entry, entry_path, mode_of


@pytest.fixture
def cache(tmp_path):
    return TokenCache.open(str(tmp_path / "tokens"))


# --- round trip and files ---------------------------------------------------------------------


def test_round_trip(cache):
    cache.write(KEY, entry())
    assert cache.read(KEY) == dict(entry(), format=ENTRY_FORMAT, key=KEY)


def test_missing_entry(cache):
    assert cache.read(KEY) is None


def test_modes_are_private(tmp_path):
    old_umask = os.umask(0o022)
    try:
        cache = TokenCache.open(str(tmp_path / "a" / "tokens"))
        cache.write(KEY, entry())
        with cache.lock(KEY, 1) as held:
            assert held is True
    finally:
        os.umask(old_umask)
    assert mode_of(cache.directory) == 0o700
    assert mode_of(entry_path(cache)) == 0o600
    assert mode_of(os.path.join(cache.directory, KEY + ".lock")) == 0o600


def test_write_leaves_no_temporary_file(cache):
    cache.write(KEY, entry())
    cache.write(KEY, entry(access_token="second"))
    assert sorted(os.listdir(cache.directory)) == [KEY + ".json"]
    assert cache.read(KEY)["access_token"] == "second"


def test_the_file_holds_no_secret_but_the_token(cache):
    cache.write(KEY, entry())
    with open(entry_path(cache), encoding="utf-8") as handle:
        stored = json.load(handle)
    assert sorted(stored) == ["access_token", "certificate_not_after", "expires_at", "format", "issued_at", "key", "token_type"]


def test_readers_never_see_a_partial_file(cache):
    big = "x" * 30_000
    cache.write(KEY, entry(access_token="a" + big))
    stop = threading.Event()

    def writer():
        count = 0
        while not stop.is_set():
            count += 1
            cache.write(KEY, entry(access_token=("b" if count % 2 else "a") + big))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = set()
        for _unused in range(300):
            value = cache.read(KEY)
            assert value is not None
            assert value["access_token"][1:] == big
            seen.add(value["access_token"][0])
    finally:
        stop.set()
        thread.join()
    assert seen <= {"a", "b"}


def test_failed_replace_keeps_the_old_entry_and_no_temporary(cache, monkeypatch):
    cache.write(KEY, entry(access_token="old"))

    def failing_replace(source, target, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(CacheError) as info:
        cache.write(KEY, entry(access_token="new"))
    monkeypatch.undo()
    assert info.value.msg == "cache_dir %s is not writable: No space left on device" % cache.directory
    assert cache.read(KEY)["access_token"] == "old"
    assert sorted(os.listdir(cache.directory)) == [KEY + ".json"]


def test_unwritable_directory(cache, monkeypatch):
    if os.geteuid() == 0:
        real_open = os.open

        def denied(path, *args, **kwargs):
            if str(path).endswith(".tmp"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
    else:
        os.chmod(cache.directory, 0o500)
    try:
        with pytest.raises(CacheError) as info:
            cache.write(KEY, entry())
    finally:
        os.chmod(cache.directory, 0o700)
    assert info.value.msg == "cache_dir %s is not writable: Permission denied" % cache.directory


# --- the directory ----------------------------------------------------------------------------


def test_directory_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o700)
    owner = os.stat(str(directory)).st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1000)
    with pytest.raises(CacheError) as info:
        TokenCache.open(str(directory))
    assert info.value.msg == (
        "cache_dir %s is owned by uid %d, not by you (uid %d): refusing to keep tokens there; choose another cache_dir" % (directory, owner, owner + 1000)
    )
    assert info.value.field == "cache_dir"


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o720])
def test_directory_writable_by_others_is_refused(tmp_path, mode):
    directory = tmp_path / "open"
    directory.mkdir()
    os.chmod(str(directory), mode)
    with pytest.raises(CacheError) as info:
        TokenCache.open(str(directory), "the run's token cache directory")
    assert info.value.msg == (
        "the run's token cache directory %s is writable by other users (mode %04o): refusing to keep tokens there; "
        "run chmod 700 on it or choose another cache_dir" % (directory, mode)
    )


def test_readable_by_others_is_allowed(tmp_path):
    directory = tmp_path / "readable"
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    assert TokenCache.open(str(directory)).directory == str(directory)


def test_symlink_to_a_private_directory_is_allowed(tmp_path):
    target = tmp_path / "real"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    os.symlink(str(target), str(link))
    cache = TokenCache.open(str(link))
    cache.write(KEY, entry())
    assert os.path.exists(str(target / (KEY + ".json")))


def test_a_file_in_place_of_the_directory(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(CacheError) as info:
        TokenCache.open(str(path))
    assert info.value.msg == "cache_dir %s is not a directory" % path


def test_directory_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "tokens"
    with pytest.raises(CacheError) as info:
        TokenCache.open(str(path))
    assert info.value.msg == "cache_dir %s cannot be created: Not a directory" % path


def test_check_directory_of_a_vanished_path(tmp_path):
    with pytest.raises(CacheError) as info:
        check_directory(str(tmp_path / "gone"), "cache_dir")
    assert info.value.msg == "cache_dir %s cannot be used: No such file or directory" % (tmp_path / "gone")


def test_check_directory_of_a_file(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    with pytest.raises(CacheError) as info:
        check_directory(str(path), "cache_dir")
    assert info.value.msg == "cache_dir %s is not a directory" % path


class Clock:
    """_cache_writer's time module with its own sleep: what the lock does between two tries, without a real wait."""

    def __init__(self, sleep):
        self.sleep = sleep
        self.monotonic = time.monotonic


# --- locking ----------------------------------------------------------------------------------

_HOLDER = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""

_PROBE = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("busy")
else:
    print("free")
"""


def test_lock_excludes_another_process(cache):
    def probe():
        command = [sys.executable, "-c", _PROBE, os.path.join(cache.directory, KEY + ".lock")]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout.strip()

    with cache.lock(KEY, 1) as held:
        assert held is True
        assert probe() == "busy"
    assert probe() == "free"


def test_lock_held_elsewhere_times_out_and_yields_false(cache):
    path = os.path.join(cache.directory, KEY + ".lock")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with cache.lock(KEY, 0.3) as held:
            assert held is False
        # It gives up (the bound only says it did not wait for the holder).
        assert 0.3 <= time.monotonic() - started < 20
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    with cache.lock(KEY, 0.3) as held:
        assert held is True


def test_lock_waits_for_a_release(cache, monkeypatch):
    path = os.path.join(cache.directory, KEY + ".lock")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    polls = []

    def release_while_polling(seconds):
        # The first wait between two tries is where the holder lets go: the waiter has seen the lock busy.
        polls.append(seconds)
        if len(polls) == 1:
            holder.stdin.close()
            holder.wait(timeout=30)

    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(_cache_writer, "time", Clock(release_while_polling))
        with cache.lock(KEY, 3600) as held:
            assert held is True
        monkeypatch.undo()
        # It found the lock busy, waited, and took it once released: no clock decides.
        assert polls == [_cache_writer.LOCK_POLL_SECONDS]
    finally:
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_lock_that_cannot_be_taken_at_all_yields_false_at_once(cache, monkeypatch):
    def no_locks(descriptor, operation):
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with cache.lock(KEY, 3600) as held:
        assert held is False


def test_lock_on_a_symlink_is_refused(cache, tmp_path):
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(cache.directory, KEY + ".lock"))
    with pytest.raises(CacheError) as info, cache.lock(KEY, 1):
        pass
    assert info.value.msg == "cache_dir %s is not writable: Too many levels of symbolic links" % cache.directory
    assert not os.path.exists(str(tmp_path / "elsewhere"))


# --- the directory: symbolic links, modes, files opened relative to it --------------------------


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a symbolic link to another user needs root")


@needs_root
def test_a_symbolic_link_owned_by_another_user_is_refused(tmp_path):
    target = tmp_path / "mine"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    os.lchown(link, 65534, 65534)
    with pytest.raises(CacheError) as info:
        TokenCache.open(str(link))
    assert info.value.msg == (
        "cache_dir %s is a symbolic link owned by uid 65534, neither you (uid 0) nor root: its owner could re-point it; refusing to keep "
        "tokens there; choose another cache_dir" % link
    )
    assert TokenCache(str(link)).read(KEY) is None


def test_a_symbolic_link_of_ours_to_a_private_directory_is_used(tmp_path):
    target = tmp_path / "mine"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    cache = TokenCache.open(str(link))
    cache.write(KEY, entry())
    assert os.path.isfile(target / (KEY + ".json"))
    assert cache.read(KEY)["access_token"] == "eyJ.token.sig"


def test_a_directory_others_may_read_is_made_private(tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o755)
    TokenCache.open(str(directory))
    assert mode_of(directory) == 0o700


def test_a_directory_others_may_write_is_refused(tmp_path):
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(0o1777)
    with pytest.raises(CacheError) as info:
        check_directory(str(directory), "cache_dir")
    assert info.value.msg == (
        "cache_dir %s is writable by other users (mode 1777): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir" % directory
    )


@pytest.mark.parametrize("plant", ["fifo", "directory", "symlink"])
def test_a_planted_lock_file_is_refused_or_not_followed(cache, tmp_path, monkeypatch, plant):
    path = os.path.join(cache.directory, KEY + ".lock")
    if plant == "fifo":
        os.mkfifo(path, 0o600)
    elif plant == "directory":
        os.mkdir(path)
    else:
        os.symlink(str(tmp_path / "elsewhere"), path)
    # Refused at the first try: a wait between tries would be a poll of something that never becomes a lock.
    monkeypatch.setattr(_cache_writer, "time", Clock(lambda seconds: pytest.fail("waited %s s for a planted lock file" % seconds)))
    with pytest.raises(CacheError) as info, cache.lock(KEY, 1):
        pass
    assert info.value.msg.startswith("cache_dir %s " % cache.directory)
    assert not os.path.exists(tmp_path / "elsewhere")


def test_a_lock_file_removed_while_waiting_is_opened_again(cache, monkeypatch):
    path = os.path.join(cache.directory, KEY + ".lock")
    real_flock = fcntl.flock
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    real_flock(holder, fcntl.LOCK_EX)
    tries = []

    def flock(descriptor, operation):
        if operation & fcntl.LOCK_EX and not tries:
            # After the waiter opened the lock file and before it locks it, a pruner removes the file and its holder lets go.
            os.unlink(path)
            real_flock(holder, fcntl.LOCK_UN)
            os.close(holder)
        outcome = real_flock(descriptor, operation)
        if operation & fcntl.LOCK_EX:
            tries.append(os.fstat(descriptor).st_nlink)
        return outcome

    monkeypatch.setattr(fcntl, "flock", flock)
    with cache.lock(KEY, 5) as held:
        assert held is True
        assert os.path.isfile(path)
    # The waiter got the removed file's lock, saw it was no longer the lock file, and locked the new one.
    assert tries == [0, 1]


def test_an_entry_with_a_lifetime_beyond_48_hours_is_corrupt(cache):
    cache.write(KEY, entry(issued_at=NOW, expires_at=NOW + 48 * 3600))
    assert cache.read(KEY) is not None
    cache.write(KEY, entry(issued_at=NOW, expires_at=NOW + 315_359_999))
    assert cache.read(KEY) is None


def test_entries_are_read_and_written_relative_to_the_checked_directory(tmp_path, monkeypatch):
    cache = TokenCache.open(str(tmp_path / "tokens"))
    opened = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *, dir_fd=None):
        opened.append((os.path.basename(str(path)), dir_fd is not None))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", recording_open)
    cache.write(KEY, entry())
    cache.read(KEY)
    with cache.lock(KEY, 1):
        pass
    monkeypatch.undo()
    files = [(name, relative) for name, relative in opened if name != "tokens"]
    assert files and all(relative for _name, relative in files), files


def test_prune_leaves_a_planted_lock_file_beside_an_expired_entry_and_raises_nothing(cache, tmp_path):
    # Pruning is best effort: the entry's lock refuses a symbolic link, so the entry and the link stay, and the task goes on.
    cache.write(KEY, entry(issued_at=NOW - 7200, expires_at=NOW - 3600))
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(cache.directory, KEY + ".lock"))
    cache.prune(NOW)
    assert os.path.islink(os.path.join(cache.directory, KEY + ".lock"))
    assert os.path.exists(entry_path(cache))
    assert not os.path.exists(tmp_path / "elsewhere")
