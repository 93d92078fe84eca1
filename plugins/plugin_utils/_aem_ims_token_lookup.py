# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The aemops.ims.aem_ims_token lookup plugin's implementation.

plugins/lookup/aem_ims_token.py holds the documentation and loads this module (see its
comment on why). Only what a cache hit needs is imported at the top; option resolution,
validation, credentials and the exchange load in _obtain() and on errors.
"""

from __future__ import annotations

import contextlib
import os
import time

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE
from ansible.plugins.lookup import LookupBase

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import cached_entry_for_fingerprint, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._option_specs import OPTION_SPECS, PLUGIN_NAME, SECRET_OPTIONS, plugin_option_definitions


LOOKUP_MODULE_NAME = "ansible_collections.aemops.ims.plugins.lookup.aem_ims_token"
OPTION_VARIABLES = tuple("aem_ims_" + name for name in OPTION_SPECS)
ENVIRONMENT_VARIABLES = tuple(env for _spec, env in OPTION_SPECS.values())
_FALSE_WORDS = frozenset(str(word).lower() for word in BOOLEANS_FALSE)


def _our_environment():
    """The AEM_IMS_* variables that are set, read once per call; empty ones count as unset.

    AWX and AAP inject every field of a credential type, empty or not, and ansible-core
    would read an empty path as the current directory and an empty choice as invalid, so
    empty ones are also removed from the environment (only this collection's variables,
    only when blank), as the module ignores them too.
    """
    environment = {}
    for name in ENVIRONMENT_VARIABLES:
        value = os.environ.get(name)
        if value is None:
            continue
        if value.strip():
            environment[name] = value
        else:
            del os.environ[name]
    return environment


def _raw_options(kwargs, option_variables, environment):
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


def _secret_strings(raw):
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


def _wants_refresh(kwargs, option_variables, environment):
    value = kwargs.get("force_refresh", option_variables.get("aem_ims_force_refresh", environment.get("AEM_IMS_FORCE_REFRESH")))
    return value is not None and str(value).strip().lower() not in _FALSE_WORDS


def _explain_invalid(raw):
    """Raise the module's own one-line message for invalid option values, if any."""
    from ansible_collections.aemops.ims.plugins.module_utils._options import validate_params  # pylint: disable=import-outside-toplevel

    validate_params(raw, for_module=False, with_env=False)


def _lock_wait(raw):
    """How long a fork waits for another one's exchange: that exchange's whole deadline, plus a little.

    From the raw values (ansible.cfg aside): the lock is taken before the core is loaded.
    """
    try:
        timeout, retries = float(raw.get("timeout", 30)), int(raw.get("retries", 3))
    except (TypeError, ValueError):
        timeout, retries = 30.0, 3
    return max(timeout, 30.0) * (max(retries, 3) + 1) + 10.0 * max(retries, 3) + 5.0


def register_option_definitions(lookup_module_name, placeholder=False):
    """Give ansible-core this lookup's option definitions, so that it does not parse the YAML docs.

    Ansible templates each host and task in a fresh forked worker, and each worker that
    loads this lookup would otherwise parse the DOCUMENTATION YAML and its doc fragment
    (tens of milliseconds, more than a whole cached lookup). ansible-core skips the parse
    when definitions are already known. At load time an empty placeholder is enough (a
    cache hit never resolves options); the real definitions replace it before the first
    set_options(). If ansible-core's internals ever change, the guard leaves ansible-core
    to parse the docs as usual.
    """
    config = getattr(C, "config", None)
    if config is None or not hasattr(config, "has_configuration_definition") or not hasattr(config, "initialize_plugin_configuration_definitions"):
        return
    # ansible-core files collection plugins under their Python module name when loading them.
    for name in (lookup_module_name, PLUGIN_NAME):
        if placeholder:
            if not config.has_configuration_definition("lookup", name):
                config.initialize_plugin_configuration_definitions("lookup", name, {})
        elif not config.get_configuration_definitions("lookup", name):
            config.initialize_plugin_configuration_definitions("lookup", name, plugin_option_definitions())


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        secrets = []
        try:
            environment = _our_environment()
            option_variables = self._option_variables(variables)
            paths = self._credentials_files(terms, variables)
            run_root = C.DEFAULT_LOCAL_TMP if C.DEFAULT_LOCAL_TMP and os.path.isdir(C.DEFAULT_LOCAL_TMP) else None
            sources = {"keywords": kwargs, "variables": option_variables, "environment": environment, "config": C.CONFIG_FILE}
            fingerprints = [input_fingerprint(sources, path) for path in paths]

            # The common case, inputs this run has already validated: no option resolution, no
            # validation, no parsing, no heavy imports; a few small files read.
            if not _wants_refresh(kwargs, option_variables, environment):
                entries = [cached_entry_for_fingerprint(fingerprint, run_root, time.time()) for fingerprint in fingerprints]
                if all(entries):
                    return [entry["access_token"] for entry in entries]

            raw, origins = _raw_options(kwargs, option_variables, environment)
            secrets = _secret_strings(raw)
            return [
                self._obtain(kwargs, option_variables, raw, origins, path, fingerprint, run_root) for fingerprint, path in zip(fingerprints, paths, strict=True)
            ]
        except AnsibleLookupError:
            raise
        except Exception as error:  # pylint: disable=broad-exception-caught
            raise AnsibleLookupError(self._public_message(error, secrets)) from None

    def _option_variables(self, variables):
        """The aem_ims_* variables, templated.

        ansible-core hands plugin options taken from variables over as written, so
        `aem_ims_service_credentials: "{{ vault_aem_credentials }}"` would arrive as that
        literal text (see community.hashi_vault#434).
        """
        if not variables:
            return {}
        return {name: self._templar.template(variables[name]) for name in OPTION_VARIABLES if name in variables}

    @staticmethod
    def _public_message(error, secrets):
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.plugin_utils._controller import public_message

        return public_message(error, secrets)

    def _obtain(self, kwargs, option_variables, raw, origins, path, fingerprint, run_root):
        """After a fast-path miss: one fork per input fingerprint at a time does the full path.

        When a play starts every fork misses at once. They queue on a lock first, before
        loading the core, so that one of them validates, exchanges and stores the token,
        and the others find it on the fast path and never load the rest.
        """
        # pylint: disable=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.module_utils._cache import RUN_CACHE_SUBDIR, TokenCache

        lock = contextlib.nullcontext()
        if run_root:
            try:
                lock = TokenCache.open(os.path.join(run_root, RUN_CACHE_SUBDIR), "the run's token cache directory").lock(fingerprint, _lock_wait(raw))
            except Exception:  # pylint: disable=broad-exception-caught
                # An unusable directory: the full path reports it with the right message.
                lock = contextlib.nullcontext()
        with lock:
            entry = cached_entry_for_fingerprint(fingerprint, run_root, time.time())
            if entry:
                return entry["access_token"]
            return self._validate_and_obtain(kwargs, option_variables, raw, origins, path, fingerprint, run_root)

    def _validate_and_obtain(self, kwargs, option_variables, raw, origins, path, fingerprint, run_root):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.module_utils._options import settings_from_params
        from ansible_collections.aemops.ims.plugins.module_utils._token_service import obtain_token
        from ansible_collections.aemops.ims.plugins.plugin_utils._controller import describe_plugin_origin, warn

        register_option_definitions(getattr(self, "_load_name", None) or LOOKUP_MODULE_NAME)
        try:
            self.set_options(var_options=option_variables, direct=kwargs)
        except AnsibleError as error:
            _explain_invalid(raw)
            raise AnsibleLookupError(self._public_message(error, _secret_strings(raw))) from None
        # The module's checks and messages, for keywords, variables and the environment alike; they
        # also refuse booleans such as "ture", which ansible-core reads as false.
        _explain_invalid(raw)
        values = {name: self.get_option(name) for name in OPTION_SPECS}
        # ansible.cfg is the one source left to ask ansible-core about.
        for name in OPTION_SPECS:
            if name not in origins:
                described = describe_plugin_origin(name, self.get_option_and_origin(name)[1])
                if described:
                    origins[name] = described
        settings = settings_from_params(values, origins=origins)
        result = obtain_token(settings, credentials_file=path, run_cache_dir=run_root, warn=warn, warn_on_cache_hit=False, input_key=fingerprint)
        return result["access_token"]

    def _credentials_files(self, terms, variables):
        """Each term names a credentials file; relative names are also looked for in files/ as other lookups do."""
        if not terms:
            return [None]
        paths = []
        for term in terms:
            if not isinstance(term, str) or not term.strip():
                from ansible_collections.aemops.ims.plugins.module_utils._options import describe_type  # pylint: disable=import-outside-toplevel

                kind = "an empty string" if isinstance(term, str) else describe_type(term)
                raise AnsibleLookupError("each term must be the path of a credentials file, got %s" % kind)
            path = os.path.expanduser(term.strip())
            if not os.path.isabs(path) and not os.path.exists(path):
                found = self.find_file_in_search_path(variables or {}, "files", path, ignore_missing=True)
                path = found or path
            paths.append(path)
        return paths
