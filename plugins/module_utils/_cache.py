# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The token cache on disk, shared by every process of a run (cache=run) or across runs (persistent).

Ansible templates each (host, task) in a freshly forked worker, so an in-memory cache never
outlives one task on one host. A file per credential, written atomically and guarded by a
lock file, lets every fork reuse one token: under many parallel forks a cold cache still
makes one exchange, because the first fork to take the lock exchanges and the others find
its token once they get the lock.

Two kinds of file, in a private directory:
- entries, <key>.json, key = TokenRequest.cache_key(): the token, its expiry and the
  certificate's, the same for the module and the lookup;
- aliases, in the run's directory only, i<sha256>.json: the lookup's shortcut from what a
  call was given (input_fingerprint) to the entry it led to, so that a repeated call skips
  validation and reading the credentials. An alias is written only after the same inputs
  went the whole way successfully, and it records the identity of every file read.

Notes beside them, in the run's directory only, say what failed (f<inputs>) and what IMS
confirmed (v<key>) in this run.

The directory is checked through a descriptor (open_directory) and every file is opened
relative to it, never through a symbolic link, without blocking, and checked once open
(fstat). The lookup reads this module in every forked worker, where ansible-core compiles it
from source: standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping

ENTRY_FORMAT = "aemops.ims/token-cache/1"
ALIAS_FORMAT = "aemops.ims/token-alias/1"
# A note, in the run's directory only, that IMS confirmed a token this run (the validate option).
CONFIRMED_NOTE = "aemops.ims/confirmed/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
MAX_FILE_BYTES = 64 * 1024
# Year 2286: anything later in a cache entry is corrupt (and would overflow datetime).
MAX_EPOCH = 1e10
# IMS tokens live 24 hours (ims-protocol.md 1.5); no lifetime is kept beyond twice that.
MAX_LIFETIME_SECONDS = 48 * 3600
LOCK_POLL_SECONDS = 0.02
# Lock and temporary files older than this, with no process using them, are left-overs.
STALE_FILE_SECONDS = 3600
_HEX_DIGITS = "0123456789abcdef"


def _cache_error(message: str) -> Exception:
    # Imported on error only: a cache hit of the lookup loads as little as it can.
    from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError  # pylint: disable=import-outside-toplevel

    return CacheError(message, field="cache_dir")


def default_persistent_dir() -> str:
    """Under the user's cache directory, as the AWS CLI keeps ~/.aws/cli/cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aemops.ims", "tokens")


def cache_directory(mode: str, cache_dir: str | None, run_cache_dir: str | None) -> str | None:
    """Where tokens are kept for a cache mode, or None when caching is off or impossible."""
    if mode == "persistent":
        return cache_dir or default_persistent_dir()
    if mode == "run" and run_cache_dir:
        return os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)
    return None


def open_directory(path: str, label: str) -> int:
    """A descriptor of a token directory that is ours alone, checked through the descriptor itself.

    Refused: a symbolic link that another user owns (they could re-point it between runs),
    and a directory that is not ours or that others can write to, where they could read or
    plant tokens. One that others can only read or enter is made private (0700). The cache's
    files are opened relative to this descriptor, so a path swapped after the check changes
    nothing.
    """
    uid = os.geteuid()
    try:
        link = os.lstat(path)
        if stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0):
            raise _cache_error(
                "%s %s is a symbolic link owned by uid %d, neither you (uid %d) nor root: its owner could re-point it; refusing to keep tokens "
                "there; choose another cache_dir" % (label, path, link.st_uid, uid)
            )
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise _cache_error("%s %s is not a directory" % (label, path)) from None
        raise _cache_error("%s %s cannot be used: %s" % (label, path, error.strerror or error)) from None
    try:
        info = os.fstat(descriptor)
        if info.st_uid != uid:
            raise _cache_error(
                "%s %s is owned by uid %d, not by you (uid %d): refusing to keep tokens there; choose another cache_dir" % (label, path, info.st_uid, uid)
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise _cache_error(
                "%s %s is writable by other users (mode %04o): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir"
                % (label, path, stat.S_IMODE(info.st_mode))
            )
        if info.st_mode & 0o077:
            os.fchmod(descriptor, 0o700)
    except BaseException as error:
        os.close(descriptor)
        if isinstance(error, OSError):
            raise _cache_error("%s %s cannot be used: %s" % (label, path, error.strerror or error)) from None
        raise
    return descriptor


def check_directory(path: str, label: str) -> None:
    """Refuse a directory that is not ours alone (see open_directory)."""
    os.close(open_directory(path, label))


def _read_json(directory: str, name: str) -> object:
    """A small JSON file of ours in directory, parsed; None when absent, foreign, unreadable or corrupt, or the directory unfit."""
    try:
        folder = open_directory(directory, "cache_dir")
    except Exception:  # pylint: disable=broad-exception-caught
        return None
    try:
        descriptor = os.open(name + ".json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_size > MAX_FILE_BYTES:
            return None
        data = os.read(descriptor, MAX_FILE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _is_utc_time(text: object) -> bool:
    """A real moment written as YYYY-MM-DDTHH:MM:SSZ (a hit cannot afford datetime.strptime's regular expression)."""
    if not isinstance(text, str) or len(text) != 20 or (text[4], text[7], text[10], text[13], text[16], text[19]) != ("-", "-", "T", ":", ":", "Z"):
        return False
    fields = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    if not all(part.isascii() and part.isdigit() for part in fields):
        return False
    _year, month, day, hour, minute, second = (int(part) for part in fields)
    return 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60


def _valid_entry(entry: object, key: str) -> bool:
    if not isinstance(entry, dict) or entry.get("format") != ENTRY_FORMAT or entry.get("key") != key:
        return False
    if not isinstance(entry.get("access_token"), str) or not entry["access_token"]:
        return False
    for name in ("expires_at", "issued_at"):
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < MAX_EPOCH:
            return False
    # No token lives longer: an entry that says so was stretched, and is replaced.
    if entry["expires_at"] - entry["issued_at"] > MAX_LIFETIME_SECONDS:
        return False
    not_after = entry.get("certificate_not_after")
    return not_after is None or _is_utc_time(not_after)


def usable(entry: Mapping | None, now: float, refresh_margin: float) -> bool:
    """A cached token is reused only while it has more than refresh_margin seconds left."""
    return entry is not None and entry["expires_at"] - now > refresh_margin


def file_identity(path: str) -> str | None:
    """What tells a changed file from the one a token was obtained with, or None if it cannot be stat'ed.

    Device, inode, size and the modification and change times in nanoseconds: any write,
    replacement or rename-over changes at least one of them (the change time cannot be set
    by hand). A stat is all a cache hit can afford; reading and hashing the file cost more.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return "%d:%d:%d:%d:%d" % (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def token_digest(token: str) -> str:
    """What a note says of a token: its hash, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def confirmed_this_run(run_cache_dir: str | None, key: str, entry: Mapping[str, object]) -> bool:
    """Whether IMS confirmed this entry's token earlier in this run."""
    if not run_cache_dir:
        return False
    note = TokenCache(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)).read_note("v" + key, CONFIRMED_NOTE)
    return note is not None and note.get("token") == token_digest(str(entry["access_token"]))


def input_fingerprint(values: Mapping[str, object], origins: Mapping[str, str], credentials_file: str | None) -> str:
    """A hash of everything a lookup call was given, as written, and where each value came from.

    The same inputs always lead to the same settings and the same messages, so an alias
    stored under this hash lets a repeated call skip validation and the credentials.
    """
    encoded = json.dumps([values, origins, credentials_file], sort_keys=True, default=repr, separators=(",", ":"))
    return "i" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class TokenCache:
    """Entries and aliases as <name>.json (0600), with <name>.lock beside them, in a private directory."""

    def __init__(self, directory: str, label: str = "cache_dir"):
        self.directory = directory
        self.label = label

    @classmethod
    def open(cls, directory: str, label: str = "cache_dir") -> TokenCache:
        if not os.path.lexists(directory):
            try:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            except OSError as error:
                raise _cache_error("%s %s cannot be created: %s" % (label, directory, error.strerror or error)) from None
        check_directory(directory, label)
        return cls(directory, label)

    def read(self, key: str) -> dict | None:
        """The entry for key, or None when absent, unreadable, corrupt or foreign."""
        entry = _read_json(self.directory, key)
        return entry if _valid_entry(entry, key) else None  # type: ignore[return-value]

    def write(self, key: str, entry: Mapping[str, object]) -> None:
        """Replace the entry atomically, so that readers never see half a file."""
        self._write_json(key, dict(entry, format=ENTRY_FORMAT, key=key))

    def read_alias(self, fingerprint: str) -> dict | None:
        """An alias: the entry's directory and key, the refresh margin it was obtained with and the identities of the files read."""
        alias = _read_json(self.directory, fingerprint)
        if not isinstance(alias, dict) or alias.get("format") != ALIAS_FORMAT or alias.get("key") != fingerprint:
            return None
        target, margin = alias.get("target"), alias.get("refresh_margin")
        if not isinstance(target, str) or len(target) != 64 or target.strip(_HEX_DIGITS) or not isinstance(alias.get("directory"), str):
            return None
        if isinstance(margin, bool) or not isinstance(margin, int) or not isinstance(alias.get("files"), dict):
            return None
        return alias

    def write_alias(self, fingerprint: str, directory: str, key: str, refresh_margin: int, files: Mapping[str, str]) -> None:
        """Point an input fingerprint at the entry stored under key in directory.

        The alias points at the entry rather than copying it, so a token refreshed under the
        entry's key (force_refresh, another task) is what every later hit sees.
        """
        alias = {"format": ALIAS_FORMAT, "key": fingerprint, "directory": directory, "target": key, "refresh_margin": refresh_margin, "files": files}
        self._write_json(fingerprint, alias)

    def read_note(self, name: str, kind: str) -> dict | None:
        """A note of this kind stored under name (what failed, what was confirmed), or None when absent, foreign or damaged."""
        note = _read_json(self.directory, name)
        return note if isinstance(note, dict) and note.get("format") == kind and note.get("key") == name else None

    def write_note(self, name: str, kind: str, note: Mapping[str, object]) -> None:
        self._write_json(name, dict(note, format=kind, key=name))

    def discard(self, name: str) -> None:
        """Remove what is stored under name, if anything."""
        if not os.path.lexists(self.directory):
            return
        folder = open_directory(self.directory, self.label)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name + ".json", dir_fd=folder)
        finally:
            os.close(folder)

    def _write_json(self, name: str, document: Mapping[str, object]) -> None:
        """Replace <name>.json atomically (0600), so that readers never see half a file."""
        data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")
        folder = open_directory(self.directory, self.label)
        temporary = ".%s.%s.tmp" % (name[:12], os.urandom(6).hex())
        try:
            try:
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
                try:
                    os.fchmod(descriptor, 0o600)
                    os.write(descriptor, data)
                finally:
                    os.close(descriptor)
                os.replace(temporary, name + ".json", src_dir_fd=folder, dst_dir_fd=folder)
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)
                raise _cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None
        finally:
            os.close(folder)

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold an exclusive lock on key for up to `timeout` seconds of waiting.

        Yields True when the lock is held. If another process holds it longer than any
        exchange can take (it hung), yields False and the caller goes on unlocked: a second
        exchange is better than a stuck play. A lock file that was removed (pruned) while this
        process waited for it is opened again, so two processes never hold locks on two files.
        """
        folder = open_directory(self.directory, self.label)
        descriptor = -1
        held = False
        try:
            give_up = time.monotonic() + timeout
            while True:
                descriptor = self._open_lock(folder, key)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        break
                if held:
                    try:
                        linked = os.stat(key + ".lock", dir_fd=folder, follow_symlinks=False)
                    except OSError:
                        linked = None
                    mine = os.fstat(descriptor)
                    if linked is not None and (linked.st_dev, linked.st_ino) == (mine.st_dev, mine.st_ino):
                        break
                    held = False
                elif time.monotonic() >= give_up:
                    break
                else:
                    time.sleep(LOCK_POLL_SECONDS)
                os.close(descriptor)
                descriptor = -1
            yield held
        finally:
            if descriptor >= 0:
                if held:
                    with contextlib.suppress(OSError):
                        fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)
            os.close(folder)

    def _open_lock(self, folder: int, key: str) -> int:
        """The lock file of key: a regular file of ours, or refused."""
        try:
            descriptor = os.open(key + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=folder)
        except OSError as error:
            raise _cache_error("%s %s is not writable: %s" % (self.label, self.directory, error.strerror or error)) from None
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            os.close(descriptor)
            raise _cache_error(
                "%s %s holds a lock file that is not a regular file of yours: remove it or choose another cache_dir" % (self.label, self.directory)
            )
        return descriptor

    def prune(self, now: float) -> None:
        """Remove what no run will use again: expired entries, and lock and temporary files left behind.

        An entry goes under its own lock, taken without waiting, so that a process refreshing
        it is never undercut; a lock file goes while held, and a process that opened it before
        opens it again (lock). Best effort: whatever cannot be removed now stays.
        """
        try:
            folder = open_directory(self.directory, self.label)
        except Exception:  # pylint: disable=broad-exception-caught
            return
        try:
            names = set(os.listdir(folder))
            for name in sorted(names):
                stem, dot, kind = name.partition(".")
                is_key = len(stem) == 64 and not stem.strip(_HEX_DIGITS)
                with contextlib.suppress(OSError):
                    if is_key and dot and kind == "json":
                        entry = self.read(stem)
                        if entry is not None and entry["expires_at"] <= now:
                            self._prune_key(folder, stem, now)
                    elif is_key and kind == "lock" and stem + ".json" not in names:
                        if _older_than(folder, name, now, STALE_FILE_SECONDS):
                            self._prune_key(folder, stem, now)
                    elif name.startswith(".") and name.endswith(".tmp") and _older_than(folder, name, now, STALE_FILE_SECONDS):
                        os.unlink(name, dir_fd=folder)
        except OSError:
            pass
        finally:
            os.close(folder)

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


def _older_than(folder: int, name: str, now: float, seconds: float) -> bool:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mtime < now - seconds


def entry_for_fingerprint(fingerprint: str, run_cache_dir: str | None, now: float, confirmed: bool = False) -> dict | None:
    """The lookup's cache hit: the entry an input fingerprint's alias points to, if it is still good, else None.

    With confirmed, only a token IMS confirmed earlier in this run is good (the validate option).
    Anything unusual returns None, and the caller takes the whole way, which reports problems properly.
    """
    if not run_cache_dir:
        return None
    alias = TokenCache(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)).read_alias(fingerprint)
    # A credentials or key file that changed since the alias was written is read and checked again.
    if alias is None or any(file_identity(path) != identity for path, identity in alias["files"].items()):
        return None
    # Read only from a directory that passes the checks (_read_json), as on a miss.
    entry = TokenCache(alias["directory"]).read(alias["target"])
    if not usable(entry, now, alias["refresh_margin"]):
        return None
    not_after = entry.get("certificate_not_after")  # type: ignore[union-attr]
    if not_after is not None and not_after <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)):
        return None
    if confirmed and not confirmed_this_run(run_cache_dir, alias["target"], entry):  # type: ignore[arg-type]
        return None
    return entry
