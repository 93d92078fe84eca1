# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""A token cache on disk, shared by every process of a run (or across runs).

Ansible templates each (host, task) in a freshly forked worker, so an in-memory cache
never outlives one task on one host. A file per credential, written atomically and
guarded by a lock file, lets every fork reuse one token: a cold cache under many
parallel forks still makes one exchange, because the first fork to take the lock
exchanges and the others find its token once they get the lock.

Standard library only: this is the hot path of a cache hit.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
import time

from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError

CACHE_FORMAT = "aemops.ims/token-cache/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
MAX_ENTRY_BYTES = 64 * 1024
LOCK_POLL_SECONDS = 0.02


def default_persistent_dir():
    """Under the user's cache directory, as the AWS CLI keeps ~/.aws/cli/cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aemops.ims", "tokens")


def _check_directory(path, label):
    try:
        info = os.lstat(path)
    except OSError as error:
        raise CacheError("%s %s cannot be used: %s" % (label, path, error.strerror or error), field="cache_dir") from None
    if stat.S_ISLNK(info.st_mode):
        info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError("%s %s is not a directory" % (label, path), field="cache_dir")
    if info.st_uid != os.geteuid():
        raise CacheError(
            "%s %s is owned by uid %d, not by you (uid %d): refusing to keep tokens there; choose another cache_dir"
            % (label, path, info.st_uid, os.geteuid()),
            field="cache_dir",
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheError(
            "%s %s is writable by other users (mode %04o): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir"
            % (label, path, stat.S_IMODE(info.st_mode)),
            field="cache_dir",
        )


class TokenCache:
    """Token entries as <key>.json (0600) next to <key>.lock in a private directory."""

    def __init__(self, directory, label="cache_dir"):
        self.directory = directory
        self.label = label

    @classmethod
    def open(cls, directory, label="cache_dir"):
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            except OSError as error:
                raise CacheError("%s %s cannot be created: %s" % (label, directory, error.strerror or error), field="cache_dir") from None
        _check_directory(directory, label)
        return cls(directory, label)

    def _path(self, key, suffix):
        return os.path.join(self.directory, key + suffix)

    def read(self, key):
        """The entry for key, or None when absent, unreadable, corrupt or foreign."""
        try:
            descriptor = os.open(self._path(key, ".json"), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_size > MAX_ENTRY_BYTES:
                return None
            data = os.read(descriptor, MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(descriptor)
        try:
            entry = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not _valid_entry(entry, key):
            return None
        return entry

    def write(self, key, entry):
        """Replace the entry atomically, so that readers never see half a file."""
        entry = dict(entry, format=CACHE_FORMAT, key=key)
        data = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode("utf-8")
        try:
            descriptor, temporary = tempfile.mkstemp(prefix=".%s." % key[:12], suffix=".tmp", dir=self.directory)
        except OSError as error:
            raise CacheError("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error), field="cache_dir") from None
        try:
            try:
                os.fchmod(descriptor, 0o600)
                os.write(descriptor, data)
            finally:
                os.close(descriptor)
            os.replace(temporary, self._path(key, ".json"))
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise CacheError("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error), field="cache_dir") from None

    def remove(self, key):
        with contextlib.suppress(OSError):
            os.unlink(self._path(key, ".json"))

    @contextlib.contextmanager
    def lock(self, key, timeout):
        """Hold an exclusive lock on key for up to `timeout` seconds of waiting.

        Yields True when the lock is held. If another process holds it longer than any
        exchange can take (it hung), yields False and the caller goes on unlocked:
        a second exchange is better than a stuck play.
        """
        import fcntl

        path = self._path(key, ".lock")
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as error:
            raise CacheError("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error), field="cache_dir") from None
        held = False
        try:
            give_up = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        break
                if time.monotonic() >= give_up:
                    break
                time.sleep(LOCK_POLL_SECONDS)
            yield held
        finally:
            if held:
                with contextlib.suppress(OSError):
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)


def _valid_entry(entry, key):
    if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
        return False
    if not isinstance(entry.get("access_token"), str) or not entry["access_token"]:
        return False
    for name in ("expires_at", "issued_at"):
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
    return True


def usable(entry, now, refresh_margin):
    """A cached token is reused only while it has more than refresh_margin seconds left."""
    return entry is not None and entry["expires_at"] - now > refresh_margin
