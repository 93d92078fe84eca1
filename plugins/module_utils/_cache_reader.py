# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Reading the token cache on disk: all that a cache hit uses, and nothing that writes.

Ansible templates each (host, task) in a freshly forked worker, where ansible-core compiles
collection code from source, so the lookup's cache hit loads this module and no other of the
cache: writing, locking, pruning and the notes' writers are _cache_writer, which only a miss
imports. Standard library only.

What a directory of tokens holds (written by _cache_writer.TokenCache), each as <name>.json:
- entries, <key>.json, key = TokenRequest.cache_key(): the token, its expiry and the
  certificate's, the same for the module and the lookup;
- aliases, in the run's directory only, i<sha256>.json: the lookup's shortcut from what a
  call was given (input_fingerprint) to the entry it led to, so that a repeated call skips
  validation and reading the credentials. An alias is written only after the same inputs
  went the whole way successfully, and it records the identity of every file read;
- notes, in the run's directory only: what IMS confirmed in this run (v<key>, read here by
  confirmed_this_run) and what failed (f<inputs>, _failure_memory).

The directory is checked through a descriptor (open_directory) and every file is opened
relative to it, never through a symbolic link, without blocking, and checked once open (fstat).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import time
from collections.abc import Mapping

ENTRY_FORMAT = "aemops.ims/token-cache/1"
ALIAS_FORMAT = "aemops.ims/token-alias/1"
# A note, in the run's directory only, that IMS confirmed a token this run (the validate option).
CONFIRMED_NOTE = "aemops.ims/confirmed/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
RUN_CACHE_LABEL = "the run's token cache directory"
MAX_FILE_BYTES = 64 * 1024
# Year 2286: anything later in a cache entry is corrupt (and would overflow datetime).
MAX_EPOCH = 1e10
# IMS access tokens live 24 hours ("Access tokens usually expire in 24 hours", Adobe Developer
# Console docs, AdobeDocs/adobe-dev-console: ServerToServerAuthentication/implementation.md);
# no lifetime is kept beyond twice that.
MAX_LIFETIME_SECONDS = 48 * 3600
HEX_DIGITS = "0123456789abcdef"


def cache_error(message: str) -> Exception:
    # Imported on error only: a cache hit of the lookup loads as little as it can.
    from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError  # pylint: disable=import-outside-toplevel

    return CacheError(message, field="cache_dir")


def default_persistent_dir() -> str:
    """Under the user's cache directory, as the AWS CLI keeps ~/.aws/cli/cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aemops.ims", "tokens")


def run_directory(run_cache_dir: str | None) -> str | None:
    """The token directory inside the run's state directory, or None without one."""
    return os.path.join(run_cache_dir, RUN_CACHE_SUBDIR) if run_cache_dir else None


def cache_directory(mode: str, cache_dir: str | None, run_cache_dir: str | None) -> str | None:
    """Where tokens are kept for a cache mode, or None when caching is off or impossible."""
    if mode == "persistent":
        return cache_dir or default_persistent_dir()
    return run_directory(run_cache_dir) if mode == "run" else None


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
            raise cache_error(
                "%s %s is a symbolic link owned by uid %d, neither you (uid %d) nor root: its owner could re-point it; refusing to keep tokens "
                "there; choose another cache_dir" % (label, path, link.st_uid, uid)
            )
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise cache_error("%s %s is not a directory" % (label, path)) from None
        raise cache_error("%s %s cannot be used: %s" % (label, path, error.strerror or error)) from None
    try:
        info = os.fstat(descriptor)
        if info.st_uid != uid:
            raise cache_error(
                "%s %s is owned by uid %d, not by you (uid %d): refusing to keep tokens there; choose another cache_dir" % (label, path, info.st_uid, uid)
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise cache_error(
                "%s %s is writable by other users (mode %04o): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir"
                % (label, path, stat.S_IMODE(info.st_mode))
            )
        if info.st_mode & 0o077:
            os.fchmod(descriptor, 0o700)
    except BaseException as error:
        os.close(descriptor)
        if isinstance(error, OSError):
            raise cache_error("%s %s cannot be used: %s" % (label, path, error.strerror or error)) from None
        raise
    return descriptor


def read_json(directory: str, name: str) -> object:
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


def input_fingerprint(values: Mapping[str, object], origins: Mapping[str, str], credentials_file: str | None) -> str:
    """A hash of everything a lookup call was given, as written, and where each value came from.

    The same inputs always lead to the same settings and the same messages, so an alias
    stored under this hash lets a repeated call skip validation and the credentials.
    """
    encoded = json.dumps([values, origins, credentials_file], sort_keys=True, default=repr, separators=(",", ":"))
    return "i" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class CacheReader:
    """Entries, aliases and notes of one token directory, read only; a directory that fails the checks reads as empty."""

    def __init__(self, directory: str, label: str = "cache_dir"):
        self.directory = directory
        self.label = label

    def read(self, key: str) -> dict | None:
        """The entry for key, or None when absent, unreadable, corrupt or foreign."""
        entry = read_json(self.directory, key)
        return entry if _valid_entry(entry, key) else None  # type: ignore[return-value]

    def read_alias(self, fingerprint: str) -> dict | None:
        """An alias: the entry's directory and key, the refresh margin it was obtained with and the identities of the files read."""
        alias = read_json(self.directory, fingerprint)
        if not isinstance(alias, dict) or alias.get("format") != ALIAS_FORMAT or alias.get("key") != fingerprint:
            return None
        target, margin = alias.get("target"), alias.get("refresh_margin")
        if not isinstance(target, str) or len(target) != 64 or target.strip(HEX_DIGITS) or not isinstance(alias.get("directory"), str):
            return None
        if isinstance(margin, bool) or not isinstance(margin, int) or not isinstance(alias.get("files"), dict):
            return None
        return alias

    def read_note(self, name: str, kind: str) -> dict | None:
        """A note of this kind stored under name (what failed, what was confirmed), or None when absent, foreign or damaged."""
        note = read_json(self.directory, name)
        return note if isinstance(note, dict) and note.get("format") == kind and note.get("key") == name else None


def confirmed_this_run(run_cache_dir: str | None, key: str, entry: Mapping[str, object]) -> bool:
    """Whether IMS confirmed this entry's token earlier in this run."""
    if not run_cache_dir:
        return False
    note = CacheReader(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)).read_note("v" + key, CONFIRMED_NOTE)
    return note is not None and note.get("token") == token_digest(str(entry["access_token"]))


def entry_for_fingerprint(fingerprint: str, run_cache_dir: str | None, now: float, confirmed: bool = False) -> dict | None:
    """The lookup's cache hit: the entry an input fingerprint's alias points to, if it is still good, else None.

    With confirmed, only a token IMS confirmed earlier in this run is good (the validate option).
    Anything unusual returns None, and the caller takes the whole way, which reports problems properly.
    """
    if not run_cache_dir:
        return None
    alias = CacheReader(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)).read_alias(fingerprint)
    # A credentials or key file that changed since the alias was written is read and checked again.
    if alias is None or any(file_identity(path) != identity for path, identity in alias["files"].items()):
        return None
    # Read only from a directory that passes the checks (read_json), as on a miss.
    entry = CacheReader(alias["directory"]).read(alias["target"])
    if not usable(entry, now, alias["refresh_margin"]):
        return None
    not_after = entry.get("certificate_not_after")  # type: ignore[union-attr]
    if not_after is not None and not_after <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)):
        return None
    if confirmed and not confirmed_this_run(run_cache_dir, alias["target"], entry):  # type: ignore[arg-type]
        return None
    return entry
