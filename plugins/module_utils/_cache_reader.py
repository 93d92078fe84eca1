# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the token cache: all that the lookup's cache hit uses (ansible-core compiles it in every worker), standard library only.

A directory of tokens holds <name>.json files: entries (TokenRequest.cache_key()) and, in the run's directory only,
aliases (input_fingerprint -> the entry it led to, and the identities of the files read), notes that IMS confirmed a
token this run (v<key>) and failures (f<inputs>, _failure_memory). Each is opened relative to a checked directory
descriptor, never through a symbolic link, without blocking, and checked by fstat.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
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
CONFIRMED_NOTE = "aemops.ims/confirmed/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
MAX_FILE_BYTES = 64 * 1024
# Year 2286: anything later in a cache entry is corrupt (and would overflow datetime).
MAX_EPOCH = 1e10
# IMS access tokens live 24 hours ("Access tokens usually expire in 24 hours", Adobe Developer
# Console docs, AdobeDocs/adobe-dev-console: ServerToServerAuthentication/implementation.md);
# no lifetime is kept beyond twice that.
MAX_LIFETIME_SECONDS = 48 * 3600
HEX_DIGITS = "0123456789abcdef"
# YYYY-MM-DDTHH:MM:SSZ with every ASCII digit made 0 (a hit cannot afford datetime.strptime's regular expression).
_ZEROED = str.maketrans("123456789", "000000000")


def cache_error(message: str) -> Exception:
    # Imported on error only: a cache hit of the lookup loads as little as it can.
    from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError  # pylint: disable=import-outside-toplevel

    return CacheError(message, field="cache_dir")


def open_directory(path: str, label: str) -> int:
    """A descriptor of a token directory that is ours alone, checked through the descriptor, so that a path swapped later changes nothing.

    Refused: a symbolic link another user owns (they could re-point it), and a directory that is not
    ours or that others can write to (they could read or plant tokens); one others can read is made private.
    """
    uid = os.geteuid()
    descriptor = -1
    try:
        link = os.lstat(path)
        if stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0):
            raise cache_error(
                "%s %s is a symbolic link owned by uid %d, neither you (uid %d) nor root: its owner could re-point it; refusing to keep tokens "
                "there; choose another cache_dir" % (label, path, link.st_uid, uid)
            )
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC)
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
        return descriptor
    except BaseException as error:
        if descriptor >= 0:
            os.close(descriptor)
        if not isinstance(error, OSError):
            raise
        problem = "is not a directory" if error.errno == errno.ENOTDIR else "cannot be used: %s" % (error.strerror or error)
        raise cache_error("%s %s %s" % (label, path, problem)) from None


def read_document(directory: str, name: str, kind: str) -> dict | None:
    """<name>.json of kind in directory, parsed; None when absent, foreign, unreadable or corrupt, or the directory unfit."""
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
        document = json.loads(os.read(descriptor, MAX_FILE_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(descriptor)
    return document if isinstance(document, dict) and document.get("format") == kind and document.get("key") == name else None


def _valid_entry(entry: dict) -> bool:
    token, not_after = entry.get("access_token"), entry.get("certificate_not_after")
    if not token or not isinstance(token, str):
        return False
    for name in ("issued_at", "expires_at"):
        # type(), not isinstance(): a JSON true is no time.
        if type(entry.get(name)) not in (int, float) or not 0 <= entry[name] < MAX_EPOCH:
            return False
    # No token lives longer: an entry that says so was stretched, and is replaced.
    if entry["expires_at"] - entry["issued_at"] > MAX_LIFETIME_SECONDS:
        return False
    # A hit compares not_after with the time as text: it must be a real moment written as YYYY-MM-DDTHH:MM:SSZ.
    if not_after is None:
        return True
    if not isinstance(not_after, str) or not_after.translate(_ZEROED) != "0000-00-00T00:00:00Z":
        return False
    return "01" <= not_after[5:7] <= "12" and "01" <= not_after[8:10] <= "31" and not_after[11:13] < "24" and max(not_after[14:16], not_after[17:19]) < "60"


def usable(entry: Mapping | None, now: float, refresh_margin: float) -> bool:
    """A cached token is reused only while it has more than refresh_margin seconds left."""
    return entry is not None and entry["expires_at"] - now > refresh_margin


def file_identity(path: str) -> str | None:
    """Device, inode, size, modification and change times of a file (None if it cannot be stat'ed): any write or rename-over changes one.

    The change time cannot be set by hand; a stat is all a cache hit can afford, hashing the file costs more.
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
    """A hash of what a lookup call was given, as written, and where from: the same inputs lead to the same settings, so a repeated call can skip them."""
    encoded = json.dumps([values, origins, credentials_file], sort_keys=True, default=repr, separators=(",", ":"))
    return "i" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def read_entry(directory: str, key: str) -> dict | None:
    entry = read_document(directory, key, ENTRY_FORMAT)
    return entry if entry is not None and _valid_entry(entry) else None


def read_alias(directory: str, fingerprint: str) -> dict | None:
    """An alias: the entry's directory and key (target), the refresh margin it was obtained with and the identities of the files read."""
    alias = read_document(directory, fingerprint, ALIAS_FORMAT)
    if alias is None or not isinstance(alias.get("directory"), str) or not isinstance(alias.get("files"), dict):
        return None
    target, margin = alias.get("target"), alias.get("refresh_margin")
    if isinstance(margin, bool) or not isinstance(margin, int):
        return None
    return alias if isinstance(target, str) and len(target) == 64 and not target.strip(HEX_DIGITS) else None


def confirmed_this_run(run_cache_dir: str | None, key: str, entry: Mapping[str, object]) -> bool:
    """Whether IMS confirmed this entry's token earlier in this run."""
    note = read_document(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), "v" + key, CONFIRMED_NOTE) if run_cache_dir else None
    return note is not None and note.get("token") == token_digest(str(entry["access_token"]))


def entry_for_fingerprint(fingerprint: str, run_cache_dir: str | None, now: float, confirmed: bool = False) -> dict | None:
    """The lookup's cache hit: the entry an input fingerprint's alias points to if it is still good (and, with confirmed, IMS confirmed it this run).

    Anything unusual returns None, and the caller takes the whole way, which reports problems properly.
    """
    alias = read_alias(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), fingerprint) if run_cache_dir else None
    if alias is None:
        return None
    for path, identity in alias["files"].items():
        # A credentials or key file that changed since the alias was written is read and checked again.
        if file_identity(path) != identity:
            return None
    entry = read_entry(alias["directory"], alias["target"])
    if not usable(entry, now, alias["refresh_margin"]):
        return None
    not_after = entry.get("certificate_not_after")  # type: ignore[union-attr]
    if not_after is not None and not_after <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)):
        return None
    if confirmed and not confirmed_this_run(run_cache_dir, alias["target"], entry):  # type: ignore[arg-type]
        return None
    return entry
