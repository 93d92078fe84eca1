# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Controller-side glue shared by the action plugin and the lookup."""

from __future__ import annotations

import os
import traceback

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.aemops.ims.plugins.module_utils._endpoints import proxy_credentials
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, one_line, redact
from ansible_collections.aemops.ims.plugins.module_utils._options import PLUGIN_NAME

display = Display()


def run_cache_dir() -> str | None:
    """ansible-playbook's per-run local temp directory.

    Every forked worker of one run sees the same path, and Ansible deletes it when the
    run ends, so a token cached there is shared by all hosts and tasks and goes away
    with the run.
    """
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
