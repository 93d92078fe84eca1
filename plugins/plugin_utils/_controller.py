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

from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, one_line, redact
from ansible_collections.aemops.ims.plugins.module_utils._options import PLUGIN_NAME

display = Display()


def run_cache_dir():
    """ansible-playbook's per-run local temp directory.

    Every forked worker of one run sees the same path, and Ansible deletes it when the
    run ends, so a token cached there is shared by all hosts and tasks and goes away
    with the run.
    """
    path = C.DEFAULT_LOCAL_TMP
    return path if path and os.path.isdir(path) else None


def warn(message):
    display.warning("%s: %s" % (PLUGIN_NAME, message))


def public_message(error, secrets=()):
    """The one line a user sees for an error: never a traceback, never a secret."""
    if isinstance(error, AnsibleError) and not isinstance(error, AemImsError):
        # ansible-core's own option errors; they can quote a value, hence the scrubbing.
        return redact(one_line(getattr(error, "message", None) or str(error)), secrets)
    if isinstance(error, AemImsError):
        return redact(error.msg, secrets)
    # An unexpected exception: its text may quote values, so only its type and place are shown.
    frames = traceback.extract_tb(error.__traceback__)
    place = ""
    if frames:
        place = " at %s:%d" % (os.path.basename(frames[-1].filename), frames[-1].lineno)
    return one_line(
        "unexpected internal error in %s (%s%s); please report it at https://github.com/aemops/ims/issues" % (PLUGIN_NAME, type(error).__name__, place)
    )


def describe_plugin_origin(name, origin):
    """Turn ansible's option origin ('Direct', 'env: X', 'var: y', an ini path) into words."""
    if not origin or origin == "default":
        return None
    if origin == "Direct":
        return "the %s option" % name
    if origin.startswith("env: "):
        return "environment variable %s" % origin[5:]
    if origin.startswith("var: "):
        return "variable %s" % origin[5:]
    return "%s in %s" % (name, origin)


def describe_module_origins(args, environ, env_names):
    """Where each module option came from: the task's arguments, else its environment variable."""
    origins = {}
    for name, env in env_names.items():
        if args.get(name) is not None:
            origins[name] = "the %s option" % name
        elif environ.get(env):
            origins[name] = "environment variable %s" % env
    return origins
