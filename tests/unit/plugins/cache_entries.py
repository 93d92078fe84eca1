# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cache entries and their files, shared by the tests of _cache_reader and _cache_writer."""

from __future__ import annotations

import os
import stat

KEY = "ab" * 32
NOW = 1_767_225_600.0


def entry(**fields):
    value = {"access_token": "eyJ.token.sig", "token_type": "bearer", "issued_at": NOW, "expires_at": NOW + 86400, "certificate_not_after": None}
    value.update(fields)
    return value


def entry_path(cache, key=KEY):
    return os.path.join(cache.directory, key + ".json")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)
