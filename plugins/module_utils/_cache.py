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

The directory is checked through a descriptor (open_directory) and every file is opened
relative to it. The lookup reads this module in every forked worker, where ansible-core
compiles it from source: standard library only, and small; writing and locking, which only
a miss needs, are in _cache_files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import time
from collections.abc import Mapping

ENTRY_FORMAT = "aemops.ims/token-cache/1"
ALIAS_FORMAT = "aemops.ims/token-alias/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
MAX_FILE_BYTES = 64 * 1024
# Year 2286: anything later in a cache entry is corrupt (and would overflow datetime).
MAX_EPOCH = 1e10
# IMS tokens live 24 hours (ims-protocol.md 1.5); no lifetime is kept beyond twice that.
MAX_LIFETIME_SECONDS = 48 * 3600
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

    def _write_json(self, name: str, document: Mapping[str, object]) -> None:
        # Writing and locking are for a miss only: their code lives apart from what a hit compiles.
        from ansible_collections.aemops.ims.plugins.module_utils._cache_files import write_json  # pylint: disable=import-outside-toplevel

        write_json(self.directory, self.label, name, document)

    def lock(self, key: str, timeout: float) -> contextlib.AbstractContextManager[bool]:
        """Hold an exclusive lock on key for up to `timeout` seconds of waiting (_cache_files.hold_lock)."""
        from ansible_collections.aemops.ims.plugins.module_utils._cache_files import hold_lock  # pylint: disable=import-outside-toplevel

        return hold_lock(self.directory, self.label, key, timeout)


def entry_for_fingerprint(fingerprint: str, run_cache_dir: str | None, now: float) -> dict | None:
    """The lookup's cache hit: the entry an input fingerprint's alias points to, if it is still good, else None.

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
    return entry
