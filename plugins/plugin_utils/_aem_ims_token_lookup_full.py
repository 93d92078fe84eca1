# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The aemops.ims.aem_ims_token lookup's full path, taken when the cache-hit path misses.

Resolves and validates the options the way the module does (same messages), then gets
the token through the shared core, one fork per input fingerprint at a time.
"""

from __future__ import annotations

import contextlib
import os
import time

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError

from ansible_collections.aemops.ims.plugins.module_utils._cache import RUN_CACHE_SUBDIR, TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import cached_entry_for_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._option_specs import OPTION_SPECS, PLUGIN_NAME, SECRET_OPTIONS, plugin_option_definitions
from ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup import LOOKUP_MODULE_NAME, wants_refresh


def obtain_tokens(lookup, terms, variables, kwargs, inputs=None):
    """One token per credentials file, through option resolution, validation and the shared cache.

    inputs is what LookupModule.call_inputs() returned on the hit path, if it got that far.
    """
    secrets = []
    try:
        environment, option_variables, paths, run_root, fingerprints = inputs or lookup.call_inputs(terms, variables, kwargs)
        raw, origins = raw_options(kwargs, option_variables, environment)
        secrets = secret_strings(raw)
        refresh = wants_refresh(kwargs, option_variables, environment)
        return [
            _obtain(lookup, kwargs, option_variables, raw, origins, path, fingerprint, run_root, refresh)
            for fingerprint, path in zip(fingerprints, paths, strict=True)
        ]
    except AnsibleLookupError:
        raise
    except Exception as error:  # pylint: disable=broad-exception-caught
        raise AnsibleLookupError(public_message(error, secrets)) from None


def raw_options(kwargs, option_variables, environment):
    """Each option as written, and where from, for the highest source that sets it (ansible.cfg aside).

    Worked out here rather than asked of ansible-core, whose get_option_and_origin() ignores
    keywords and variables before 2.18.
    """
    raw, origins = {}, {}
    for name, (_spec, env) in OPTION_SPECS.items():
        if name in kwargs:
            raw[name], origins[name] = kwargs[name], "the %s option" % name
        elif "aem_ims_" + name in option_variables:
            raw[name], origins[name] = option_variables["aem_ims_" + name], "variable aem_ims_" + name
        elif env in environment:
            raw[name], origins[name] = environment[env], "environment variable " + env
    # Unknown keywords too, so that validation names them.
    raw.update((name, value) for name, value in kwargs.items() if name not in OPTION_SPECS)
    return raw, origins


def secret_strings(raw):
    """Every string inside the secret options' values, for scrubbing messages."""
    found = []
    pending = [raw.get(name) for name in SECRET_OPTIONS]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
    return found


def public_message(error, secrets):
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.aemops.ims.plugins.plugin_utils._controller import public_message as controller_public_message

    return controller_public_message(error, secrets)


def explain_invalid(raw):
    """Raise the module's own one-line message for invalid option values, if any."""
    from ansible_collections.aemops.ims.plugins.module_utils._options import validate_params  # pylint: disable=import-outside-toplevel

    validate_params(raw, for_module=False, with_env=False)


def lock_wait(raw):
    """How long a fork waits for another one's exchange: that exchange's whole deadline, plus a little.

    From the raw values (ansible.cfg aside): the lock is taken before the core is loaded.
    """
    try:
        timeout, retries = float(raw.get("timeout", 30)), int(raw.get("retries", 3))
    except (TypeError, ValueError):
        timeout, retries = 30.0, 3
    return max(timeout, 30.0) * (max(retries, 3) + 1) + 10.0 * max(retries, 3) + 5.0


def register_option_definitions(lookup_module_name):
    """Give ansible-core this lookup's option definitions before the first set_options().

    The lookup's documentation is a YAML file beside it, which ansible-core's plugin loader
    does not read for options, and the hit path registered an empty placeholder; the
    definitions come from the shared option table (a unit test checks that they say what
    the documentation says).
    """
    config = getattr(C, "config", None)
    if config is None or not hasattr(config, "get_configuration_definitions") or not hasattr(config, "initialize_plugin_configuration_definitions"):
        return
    # ansible-core files collection plugins under their Python module name when loading them.
    for name in (lookup_module_name, PLUGIN_NAME):
        if not config.get_configuration_definitions("lookup", name):
            config.initialize_plugin_configuration_definitions("lookup", name, plugin_option_definitions())


def _obtain(lookup, kwargs, option_variables, raw, origins, path, fingerprint, run_root, refresh):
    """After a hit-path miss: one fork per input fingerprint at a time does the full path.

    When a play starts every fork misses at once. They queue on a lock first, before
    loading the core, so that one of them validates, exchanges and stores the token,
    and the others find it on the hit path and never load the rest. With force_refresh
    every call exchanges, as the module does.
    """
    lock = contextlib.nullcontext()
    if run_root:
        try:
            lock = TokenCache.open(os.path.join(run_root, RUN_CACHE_SUBDIR), "the run's token cache directory").lock(fingerprint, lock_wait(raw))
        except Exception:  # pylint: disable=broad-exception-caught
            # An unusable directory: the full path reports it with the right message.
            lock = contextlib.nullcontext()
    with lock:
        entry = None if refresh else cached_entry_for_fingerprint(fingerprint, run_root, time.time())
        if entry:
            return entry["access_token"]
        return _validate_and_obtain(lookup, kwargs, option_variables, raw, origins, path, fingerprint, run_root)


def _validate_and_obtain(lookup, kwargs, option_variables, raw, origins, path, fingerprint, run_root):
    # pylint: disable=import-outside-toplevel
    from ansible_collections.aemops.ims.plugins.module_utils._options import settings_from_params
    from ansible_collections.aemops.ims.plugins.module_utils._token_service import obtain_token
    from ansible_collections.aemops.ims.plugins.plugin_utils._controller import describe_plugin_origin, warn

    register_option_definitions(getattr(lookup, "_load_name", None) or LOOKUP_MODULE_NAME)
    try:
        lookup.set_options(var_options=option_variables, direct=kwargs)
    except AnsibleError as error:
        explain_invalid(raw)
        raise AnsibleLookupError(public_message(error, secret_strings(raw))) from None
    # The module's checks and messages, for keywords, variables and the environment alike; they
    # also refuse booleans such as "ture", which ansible-core reads as false.
    explain_invalid(raw)
    values = {name: lookup.get_option(name) for name in OPTION_SPECS}
    # ansible.cfg is the one source left to ask ansible-core about.
    for name in OPTION_SPECS:
        if name not in origins:
            described = describe_plugin_origin(name, lookup.get_option_and_origin(name)[1])
            if described:
                origins[name] = described
    settings = settings_from_params(values, origins=origins)
    result = obtain_token(settings, credentials_file=path, run_cache_dir=run_root, warn=warn, warn_on_cache_hit=False, input_key=fingerprint)
    return result["access_token"]
