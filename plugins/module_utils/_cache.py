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

Reading lives in ``_cache_reader``, which the lookup's cache-hit path loads alone; the
names it defines are re-exported here for the rest of the core.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import time

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import (  # noqa: F401 pylint: disable=unused-import
    ALIAS_FORMAT,
    CACHE_FORMAT,
    RUN_CACHE_SUBDIR,
    _cache_error,
    cache_directory,
    cached_entry_for_fingerprint,
    check_directory,
    default_persistent_dir,
    file_identity,
    input_fingerprint,
    read_alias,
    read_entry,
    usable,
)

LOCK_POLL_SECONDS = 0.02


class TokenCache:
    """Token entries as <key>.json (0600) next to <key>.lock in a private directory."""

    def __init__(self, directory, label="cache_dir"):
        self.directory = directory
        self.label = label

    @classmethod
    def open(cls, directory, label="cache_dir"):
        if not os.path.lexists(directory):
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            except OSError as error:
                raise _cache_error("%s %s cannot be created: %s" % (label, directory, error.strerror or error)) from None
        check_directory(directory, label)
        return cls(directory, label)

    def _path(self, key, suffix):
        return os.path.join(self.directory, key + suffix)

    def read(self, key):
        """The entry for key, or None when absent, unreadable, corrupt or foreign."""
        return read_entry(self.directory, key)

    def write(self, key, entry):
        """Replace the entry atomically, so that readers never see half a file."""
        self._write_json(key, dict(entry, format=CACHE_FORMAT, key=key))

    def write_alias(self, fingerprint, directory, key, refresh_margin, files):
        """Point an input fingerprint (the lookup's fast path) at the entry stored under key in directory.

        files maps each file the token was read from to its identity (file_identity), so that a changed
        credentials or key file sends the next lookup through validation again.
        """
        self._write_json(
            fingerprint,
            {"format": ALIAS_FORMAT, "key": fingerprint, "directory": directory, "target": key, "refresh_margin": refresh_margin, "files": files},
        )

    def _write_json(self, key, document):
        data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")
        try:
            descriptor, temporary = tempfile.mkstemp(prefix=".%s." % key[:12], suffix=".tmp", dir=self.directory)
        except OSError as error:
            raise _cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None
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
            raise _cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None

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
            raise _cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None
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
