# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One TokenService per call, as the module and the lookup build it, in the one-line shape the service tests use.

Each helper builds a new service for the call (settings, the run's directory, the clock,
the warn callback) and takes one step of it, exactly as plugins/action and plugins/lookup do.
"""

from __future__ import annotations

import time

from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService


def obtain_token(settings, credentials_file=None, run_cache_dir=None, warn=None, now=time.time, warn_on_cache_hit=True, inputs=None):
    return TokenService(settings, run_cache_dir, warn, now).obtain(credentials_file, inputs=inputs, warn_on_cache_hit=warn_on_cache_hit)


def revoke_token(settings, run_cache_dir=None, now=time.time, check_mode=False):
    return TokenService(settings, run_cache_dir, now=now).revoke(check_mode=check_mode)


def forget_token(key, settings, run_cache_dir, token=None):
    return TokenService(settings, run_cache_dir).forget(key, token)
