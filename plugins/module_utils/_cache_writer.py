# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writing the token cache (a miss only): under many forks a cold cache makes one exchange, by the first to take the entry's lock.

Besides what _cache_reader reads, a directory holds <key>.lock files, temporary files (.<name>.<random>.tmp) and, in
the run's, warned markers (w<hash>.warned) whose creation tells the one process that creates them to say something once
per run. Every file is created relative to the checked directory's descriptor, private (0600), never through a symlink.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import (
    ALIAS_FORMAT,
    ENTRY_FORMAT,
    HEX_DIGITS,
    cache_error,
    open_directory,
    read_document,
    read_entry,
)
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError

RUN_CACHE_LABEL = "the run's token cache directory"
LOCK_POLL_SECONDS = 0.02
# Lock and temporary files older than this, with no process using them, are left-overs.
STALE_FILE_SECONDS = 3600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def check_directory(path: str, label: str) -> None:
    """Refuse a directory that is not ours alone (_cache_reader.open_directory)."""
    os.close(open_directory(path, label))


class TokenCache:
    """Entries, aliases and notes as <name>.json (0600), with <name>.lock beside them, in a private directory."""

    def __init__(self, directory: str, label: str = "cache_dir"):
        self.directory = directory
        self.label = label

    @classmethod
    def open(cls, directory: str, label: str = "cache_dir") -> TokenCache:
        """The cache in directory, created private (0700) if it does not exist yet, and checked."""
        if not os.path.lexists(directory):
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            except OSError as error:
                raise cache_error("%s %s cannot be created: %s" % (label, directory, error.strerror or error)) from None
        check_directory(directory, label)
        return cls(directory, label)

    def read(self, key: str) -> dict | None:
        return read_entry(self.directory, key)

    def read_note(self, name: str, kind: str) -> dict | None:
        return read_document(self.directory, name, kind)

    def write(self, key: str, entry: Mapping[str, object]) -> None:
        self.write_note(key, ENTRY_FORMAT, entry)

    def write_alias(self, fingerprint: str, directory: str, key: str, refresh_margin: int, files: Mapping[str, str]) -> None:
        """Point an input fingerprint at the entry under key in directory (not a copy: a token refreshed there is what later hits see)."""
        self.write_note(fingerprint, ALIAS_FORMAT, {"directory": directory, "target": key, "refresh_margin": refresh_margin, "files": files})

    def write_note(self, name: str, kind: str, note: Mapping[str, object]) -> None:
        """Replace <name>.json atomically (0600), so that readers never see half a file."""
        data = json.dumps(dict(note, format=kind, key=name), separators=(",", ":"), sort_keys=True).encode("utf-8")
        temporary = ".%s.%s.tmp" % (name[:12], os.urandom(6).hex())
        with self._folder() as folder:
            try:
                descriptor = os.open(temporary, _CREATE, 0o600, dir_fd=folder)
                try:
                    os.fchmod(descriptor, 0o600)
                    os.write(descriptor, data)
                finally:
                    os.close(descriptor)
                os.replace(temporary, name + ".json", src_dir_fd=folder, dst_dir_fd=folder)
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)
                raise cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None

    def mark_once(self, name: str) -> bool:
        """Create the empty marker <name>.warned; True for the one process that creates it, False once it exists."""
        with self._folder() as folder:
            try:
                os.close(os.open(name + ".warned", _CREATE, 0o600, dir_fd=folder))
            except OSError as error:
                # A marker that cannot be created at all counts as new: saying something twice beats never.
                return not isinstance(error, FileExistsError)
        return True

    def discard(self, name: str) -> None:
        """Remove what is stored under name, if anything."""
        if os.path.lexists(self.directory):
            with self._folder() as folder, contextlib.suppress(FileNotFoundError):
                os.unlink(name + ".json", dir_fd=folder)

    @contextlib.contextmanager
    def _folder(self) -> Iterator[int]:
        """The checked directory's descriptor, closed afterwards."""
        folder = open_directory(self.directory, self.label)
        try:
            yield folder
        finally:
            os.close(folder)

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float) -> Iterator[bool]:
        """Whether an exclusive lock on key was got within timeout seconds: after that, a second exchange beats a play stuck on a hung one.

        A lock file removed (pruned) while this process waited for it is opened again: two processes never lock two files.
        """
        with self._folder() as folder:
            descriptor = -1
            held = False
            try:
                give_up = time.monotonic() + timeout
                while not held:
                    descriptor = self._open_lock(folder, key)
                    try:
                        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError as error:
                        if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) or time.monotonic() >= give_up:
                            break
                        time.sleep(LOCK_POLL_SECONDS)
                    else:
                        try:
                            held = os.path.samestat(os.stat(key + ".lock", dir_fd=folder, follow_symlinks=False), os.fstat(descriptor))
                        except OSError:
                            held = False
                    if not held:
                        os.close(descriptor)
                        descriptor = -1
                yield held
            finally:
                if descriptor >= 0:
                    if held:
                        with contextlib.suppress(OSError):
                            fcntl.flock(descriptor, fcntl.LOCK_UN)
                    os.close(descriptor)

    def _open_lock(self, folder: int, key: str) -> int:
        """The lock file of key: a regular file of ours, or refused."""
        try:
            descriptor = os.open(key + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=folder)
        except OSError as error:
            raise cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            os.close(descriptor)
            raise cache_error(
                "%s %s holds a lock file that is not a regular file of yours: remove it or choose another cache_dir" % (self.label, self.directory)
            )
        return descriptor

    def prune(self, now: float) -> None:
        """Remove expired entries, and lock and temporary files left behind; whatever cannot be removed now stays.

        An entry goes under its own lock, taken without waiting, so that a process refreshing it is never undercut;
        a lock file goes while held (a process that opened it opens it again).
        """
        with contextlib.suppress(OSError, AemImsError), self._folder() as folder:
            names = set(os.listdir(folder))
            for name in sorted(names):
                stem, _dot, kind = name.partition(".")
                is_key = len(stem) == 64 and not stem.strip(HEX_DIGITS)
                with contextlib.suppress(OSError, AemImsError):
                    if is_key and kind == "json":
                        entry = self.read(stem)
                        if entry is not None and entry["expires_at"] <= now:
                            self._prune_key(folder, stem, now)
                    elif is_key and kind == "lock" and stem + ".json" not in names:
                        if _older_than(folder, name, now):
                            self._prune_key(folder, stem, now)
                    elif name.startswith(".") and name.endswith(".tmp") and _older_than(folder, name, now):
                        os.unlink(name, dir_fd=folder)

    def _prune_key(self, folder: int, key: str, now: float) -> None:
        """The entry of key if it expired, and its lock file, both under the lock; nothing if someone holds it."""
        with self.lock(key, 0) as held:
            if not held:
                return
            entry = self.read(key)
            if entry is not None and entry["expires_at"] > now:
                return
            if entry is not None:
                os.unlink(key + ".json", dir_fd=folder)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.stat(key + ".json", dir_fd=folder, follow_symlinks=False)
                    # A file that is no entry of ours (corrupt, foreign) is replaced on its next use, not removed here.
                    return
            os.unlink(key + ".lock", dir_fd=folder)


def _older_than(folder: int, name: str, now: float) -> bool:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mtime < now - STALE_FILE_SECONDS
