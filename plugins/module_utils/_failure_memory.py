# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One failure per credential per run: what failed earlier in this run, kept for the other forks. A cache miss imports it.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import TYPE_CHECKING

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import RUN_CACHE_SUBDIR
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import RUN_CACHE_LABEL, TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._errors import MAX_MESSAGE_LENGTH, AemImsError, RepeatedFailure, one_line

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.aemops.ims.plugins.module_utils._settings import Settings


class FailureMemory:
    """What failed earlier in this run for the same inputs, so that other forks fail at once instead of asking IMS again.

    Without it, 200 hosts x 3 lookups against a failing IMS made 2,400 requests. The note is kept under the inputs'
    hash, not the cache key, which leaves out what a failure can depend on (a passphrase, ca_path, a proxy). A
    definitive failure holds for the rest of the run unless a file it read changes; a transient one (no answer,
    HTTP 5xx or 429 after the retries) for timeout x retries seconds, at least timeout and IMS's Retry-After.
    """

    NOTE = "aemops.ims/failure/1"

    def __init__(self, directory: str, inputs: str, files: dict, window: float):
        # Created (open) only when there is something to remember: a run that fails nothing writes nothing.
        self.notes = TokenCache(directory, RUN_CACHE_LABEL)
        self.name = "f" + inputs
        self.files = files
        self.window = window

    @classmethod
    def of_run(cls, settings: Settings, run_cache_dir: str | None, inputs: str | None, files: dict) -> FailureMemory | None:
        """The memory of these inputs in this run, or None without a run or inputs, or when the settings bypass it."""
        if not run_cache_dir or not inputs or settings.cache == "off" or settings.force_refresh:
            return None
        return cls(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), inputs, files, settings.timeout * max(settings.retries, 1))

    def check(self, now: float) -> None:
        """Raise the failure remembered for these inputs, if it still holds."""
        note = self.notes.read_note(self.name, self.NOTE)
        if note is None or not isinstance(note.get("message"), str) or note.get("files") != self.files:
            return
        until = note.get("until")
        if until is None:
            suffix = " (the same error as an earlier task of this run; not retried)"
        elif type(until) in (int, float) and until > now:
            suffix = " (the same error as an earlier task of this run; not retried for another %d s)" % math.ceil(until - now)
        else:
            return
        code = note.get("code") if isinstance(note.get("code"), str) else None
        raise RepeatedFailure(one_line(note["message"], MAX_MESSAGE_LENGTH - len(suffix)) + suffix, code=code)

    def remember(self, error: AemImsError, now: float) -> None:
        if isinstance(error, RepeatedFailure):
            return
        until = now + max(self.window, getattr(error, "retry_after", None) or 0) if getattr(error, "retryable", False) else None
        note = {"message": error.msg, "code": error.code, "until": until, "files": self.files}
        with contextlib.suppress(AemImsError):
            # Only a speed-up for the other forks: the error itself is what this task reports.
            TokenCache.open(self.notes.directory, self.notes.label).write_note(self.name, self.NOTE, note)

    def forget(self) -> None:
        self.notes.discard(self.name)
