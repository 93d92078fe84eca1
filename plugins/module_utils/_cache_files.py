# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The token cache's writing side: atomic writes and locks, in a checked directory.

Only a cache miss writes or locks; the lookup's cache hit compiles _cache alone, in every
forked worker, so this code lives here. Every file is opened relative to a descriptor of
the directory that _cache.open_directory checked (dir_fd), never through a symbolic link,
without blocking, and checked once open (fstat).
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

from ansible_collections.aemops.ims.plugins.module_utils._cache import _cache_error, open_directory

LOCK_POLL_SECONDS = 0.02


def write_json(directory: str, label: str, name: str, document: Mapping[str, object]) -> None:
    """Replace <name>.json atomically (0600), so that readers never see half a file."""
    data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")
    folder = open_directory(directory, label)
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
            raise _cache_error("%s %s is not writable: %s" % (label, directory, error.strerror or error)) from None
    finally:
        os.close(folder)


@contextlib.contextmanager
def hold_lock(directory: str, label: str, key: str, timeout: float) -> Iterator[bool]:
    """Hold an exclusive lock on key for up to `timeout` seconds of waiting.

    Yields True when the lock is held. If another process holds it longer than any
    exchange can take (it hung), yields False and the caller goes on unlocked: a second
    exchange is better than a stuck play. A lock file that was removed (pruned) while this
    process waited for it is opened again, so two processes never hold locks on two files.
    """
    folder = open_directory(directory, label)
    descriptor = -1
    held = False
    try:
        give_up = time.monotonic() + timeout
        while True:
            descriptor = _open_lock(folder, directory, label, key)
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


def _open_lock(folder: int, directory: str, label: str, key: str) -> int:
    """The lock file of key: a regular file of ours, or refused."""
    try:
        descriptor = os.open(key + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=folder)
    except OSError as error:
        raise _cache_error("%s %s is not writable: %s" % (label, directory, error.strerror or error)) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(descriptor)
        raise _cache_error("%s %s holds a lock file that is not a regular file of yours: remove it or choose another cache_dir" % (label, directory))
    return descriptor
