# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Reading the token cache: everything a cache hit needs, and nothing more.

The lookup loads this in every forked worker, so it is small and uses the standard
library only; writing, locking and the exchange live in ``_cache`` and
``_token_service``, which load on a cache miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time


def _cache_error(message):
    # Imported on error only: the cache-hit path of the lookup loads as few modules as possible.
    from ansible_collections.aemops.ims.plugins.module_utils._errors import CacheError  # pylint: disable=import-outside-toplevel

    return CacheError(message, field="cache_dir")


CACHE_FORMAT = "aemops.ims/token-cache/1"
ALIAS_FORMAT = "aemops.ims/token-alias/1"
RUN_CACHE_SUBDIR = "aemops_ims_tokens"
MAX_ENTRY_BYTES = 64 * 1024
INPUT_FINGERPRINT_VERSION = 1
# Year 2286: anything later in a cache entry is corrupt (and would overflow datetime).
MAX_EPOCH = 1e10
# The shape of a UTC time to the second, 0 standing for any ASCII digit. Checked without the re
# module: compiling a pattern in a freshly forked worker costs more than the whole cache hit.
ISO_UTC_SECONDS_SHAPE = "0000-00-00T00:00:00Z"
_DIGITS = "0123456789"
_HEX_DIGITS = "0123456789abcdef"


def is_iso_utc_seconds(text):
    return len(text) == len(ISO_UTC_SECONDS_SHAPE) and all(
        char in _DIGITS if shape == "0" else char == shape for char, shape in zip(text, ISO_UTC_SECONDS_SHAPE, strict=True)
    )


def is_cache_key(text):
    """A cache key as _credentials.TokenRequest.cache_key() makes them: sha256 in lower-case hex."""
    return len(text) == 64 and not text.strip(_HEX_DIGITS)


def default_persistent_dir():
    """Under the user's cache directory, as the AWS CLI keeps ~/.aws/cli/cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aemops.ims", "tokens")


def check_directory(path, label):
    try:
        info = os.lstat(path)
    except OSError as error:
        raise _cache_error("%s %s cannot be used: %s" % (label, path, error.strerror or error)) from None
    if stat.S_ISLNK(info.st_mode):
        info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise _cache_error("%s %s is not a directory" % (label, path))
    if info.st_uid != os.geteuid():
        raise _cache_error(
            "%s %s is owned by uid %d, not by you (uid %d): refusing to keep tokens there; choose another cache_dir" % (label, path, info.st_uid, os.geteuid())
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _cache_error(
            "%s %s is writable by other users (mode %04o): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir"
            % (label, path, stat.S_IMODE(info.st_mode))
        )


def _read_json(directory, name):
    """A small JSON file we own in directory, parsed; None when absent, foreign, unreadable or corrupt."""
    try:
        descriptor = os.open(os.path.join(directory, name + ".json"), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
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
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def read_entry(directory, key):
    """The token entry for key, or None when absent, unreadable, corrupt or foreign."""
    entry = _read_json(directory, key)
    return entry if _valid_entry(entry, key) else None


def read_alias(directory, fingerprint):
    """What an input fingerprint points to, or None: the entry's directory and key, the
    refresh margin it was validated with, and the identities of the files it was read from.

    An alias points at the entry rather than copying it, so a token refreshed under the
    entry key (force_refresh, a larger refresh_margin elsewhere) is what every fast path
    sees next.
    """
    alias = _read_json(directory, fingerprint)
    if not isinstance(alias, dict) or alias.get("format") != ALIAS_FORMAT or alias.get("key") != fingerprint:
        return None
    target, entry_directory, margin, files = alias.get("target"), alias.get("directory"), alias.get("refresh_margin"), alias.get("files")
    if not isinstance(target, str) or not is_cache_key(target) or not isinstance(entry_directory, str):
        return None
    if isinstance(margin, bool) or not isinstance(margin, int) or not isinstance(files, dict):
        return None
    return alias


def _valid_entry(entry, key):
    if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
        return False
    if not isinstance(entry.get("access_token"), str) or not entry["access_token"]:
        return False
    for name in ("expires_at", "issued_at"):
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < MAX_EPOCH:
            return False
    not_after = entry.get("certificate_not_after")
    return not_after is None or (isinstance(not_after, str) and is_iso_utc_seconds(not_after))


def usable(entry, now, refresh_margin):
    """A cached token is reused only while it has more than refresh_margin seconds left."""
    return entry is not None and entry["expires_at"] - now > refresh_margin


def file_identity(path):
    """What tells a changed file from the one a token was validated with, or None if it cannot be stat'ed.

    Device, inode, size and the modification and change times in nanoseconds: any write,
    replacement or rename-over changes at least one of them (the change time cannot be set
    by hand). A stat is all a cache hit can afford; reading and hashing the file cost more.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return "%d:%d:%d:%d:%d" % (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def input_fingerprint(sources, credentials_file=None):
    """A hash of everything a lookup call was given, before ansible-core resolves it.

    `sources` holds the keyword arguments, the aem_ims_* variables, the AEM_IMS_*
    environment and the ansible.cfg in use: the same sources always resolve to the
    same options, so a call with a known fingerprint needs neither ansible-core's
    option resolution nor validation nor parsing. An alias is stored under it only
    after the same sources went through the full path successfully.
    """
    encoded = json.dumps([INPUT_FINGERPRINT_VERSION, sources, credentials_file], sort_keys=True, default=str, separators=(",", ":"))
    return "i" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def cache_directory(mode, cache_dir, run_cache_dir):
    """Where tokens are kept for a cache mode, or None when caching is off or impossible."""
    if mode == "persistent":
        return cache_dir or default_persistent_dir()
    if mode == "run" and run_cache_dir:
        return os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)
    return None


def cached_entry_for_fingerprint(fingerprint, run_cache_dir, now):
    """The fast path of a cache hit: the entry an input fingerprint's alias points to, or None.

    Aliases live in the run's directory (they remember what this run has validated);
    the entry they point to may be in a persistent cache_dir. Standard library only, no
    validation: anything unusual returns None and the caller takes the full path, which
    validates and reports errors properly.
    """
    if not run_cache_dir:
        return None
    alias = read_alias(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), fingerprint)
    if alias is None:
        return None
    # The credentials or key file changed since the alias was written: validate again.
    if any(file_identity(path) != identity for path, identity in alias["files"].items()):
        return None
    try:
        check_directory(alias["directory"], "cache_dir")
    except Exception:  # pylint: disable=broad-exception-caught
        return None
    entry = read_entry(alias["directory"], alias["target"])
    if not usable(entry, now, alias["refresh_margin"]):
        return None
    not_after = entry.get("certificate_not_after")
    if not_after is not None and not_after <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)):
        return None
    return entry
