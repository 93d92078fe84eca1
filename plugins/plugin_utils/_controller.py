# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side glue shared by the action plugin and the lookup.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterable

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.aemops.ims.plugins.module_utils._endpoints import proxy_credentials
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, one_line, redact
from ansible_collections.aemops.ims.plugins.module_utils._options import PLUGIN_NAME
from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService

display = Display()


def run_cache_dir() -> str | None:
    """ansible-playbook's local temp directory: every worker of a run shares it, and Ansible deletes it when the run ends."""
    path = C.DEFAULT_LOCAL_TMP
    return path if path and os.path.isdir(path) else None


def warn(message: str) -> None:
    display.warning("%s: %s" % (PLUGIN_NAME, message))


def public_message(error: BaseException, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """The one line a user sees for an error: never a traceback, never a secret."""
    # A proxy URL's user and password, of any scheme, are secrets of their own.
    secrets = [*secrets, *(part for secret in secrets for part in proxy_credentials(secret))]
    if isinstance(error, AemImsError):
        return redact(error.msg, secrets)
    if isinstance(error, AnsibleError):
        # ansible-core's own errors (a bad value in ansible.cfg, an undefined variable) can quote a value.
        return redact(one_line(getattr(error, "message", None) or str(error)), secrets)
    # An unexpected exception: its text may quote values, so only its type and place are shown.
    frames = traceback.extract_tb(error.__traceback__)
    place = " at %s:%d" % (os.path.basename(frames[-1].filename), frames[-1].lineno or 0) if frames else ""
    return one_line(
        "unexpected internal error in %s (%s%s); please report it at https://github.com/aemops/ims/issues" % (PLUGIN_NAME, type(error).__name__, place)
    )


def credential_source(settings, term: str | None = None) -> str:
    """Where the credentials of a token came from, in words: a file and the option or variable that named it, or the options."""
    if term is not None:
        return "the term %s" % term
    if settings.service_credentials_file is not None:
        return "service_credentials_file %s (from %s)" % (settings.service_credentials_file, settings.where("service_credentials_file"))
    if settings.service_credentials is not None:
        return "service_credentials (from %s)" % settings.where("service_credentials")
    given = [name for name in ("client_id", "client_secret", "private_key", "private_key_file") if getattr(settings, name) is not None]
    return "single options (%s)" % ", ".join("%s from %s" % (name, settings.where(name)) for name in given)


def token_summary(result: dict, source: str, seconds: float, lookup: bool = False) -> str:
    """The -v line of one token: nothing secret, everything a user checks first; and why the task's result is hidden."""
    how = "from the cache" if result.get("cached") else "exchanged with IMS"
    if lookup:
        hidden = "the lookup returns only the token: set no_log on the task that uses it"
    else:
        hidden = "the task's result is censored because it holds the token; this line is its non-secret summary (register: keeps the whole result)"
    return "%s: token for client_id %s from %s, credentials from %s, auth_method %s, %s in %.2f s. %s" % (
        PLUGIN_NAME,
        result.get("client_id"),
        result.get("ims_endpoint"),
        source,
        result.get("auth_method"),
        how,
        seconds,
        hidden,
    )


def retry_progress(message: str) -> None:
    """A retry of a request to IMS, shown at -v (the core's ImsHttpClient says what failed and how long it waits)."""
    display.v("%s: %s" % (PLUGIN_NAME, message))


def obtain_tokens(settings, reader, requests: Iterable[tuple[str | None, str | None, str]], lookup: bool = False) -> list[dict]:
    """A token for each (term, credentials file, input fingerprint), by one TokenService, each shown at -v in one secret-free line."""
    service = TokenService(settings, run_cache_dir(), warn, reader=reader)
    results = []
    for term, credentials_file, fingerprint in requests:
        started = time.monotonic()
        # The lookup's cache hit is silent: a template may call it for every host and task.
        result = service.obtain(credentials_file, inputs=fingerprint, warn_on_cache_hit=not lookup)
        source = credential_source(settings, None if term is None else credentials_file)
        display.v(token_summary(result, source, time.monotonic() - started, lookup))
        results.append(result)
    return results
