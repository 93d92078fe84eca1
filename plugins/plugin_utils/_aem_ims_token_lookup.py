# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The aemops.ims.aem_ims_token lookup: its class and the cache-hit path.

Every forked worker that templates the lookup runs this module (plugins/lookup/aem_ims_token.py
says how it is loaded), so it holds only what a cache hit needs. Option resolution,
validation, error messages and the exchange are in _aem_ims_token_lookup_full, which
loads on a miss.
"""

from __future__ import annotations

import contextlib
import os
import time

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE
from ansible.plugins.lookup import LookupBase

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import cached_entry_for_fingerprint, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._option_names import OPTION_ENVIRONMENT_VARIABLES, PLUGIN_NAME

LOOKUP_MODULE_NAME = "ansible_collections.aemops.ims.plugins.lookup.aem_ims_token"
OPTION_VARIABLES = tuple("aem_ims_" + name for name in OPTION_ENVIRONMENT_VARIABLES)
ENVIRONMENT_VARIABLES = tuple(OPTION_ENVIRONMENT_VARIABLES.values())
_FALSE_WORDS = frozenset(str(word).lower() for word in BOOLEANS_FALSE)


def our_environment():
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


def wants_refresh(kwargs, option_variables, environment):
    value = kwargs.get("force_refresh", option_variables.get("aem_ims_force_refresh", environment.get("AEM_IMS_FORCE_REFRESH")))
    return value is not None and str(value).strip().lower() not in _FALSE_WORDS


def register_placeholder_option_definitions():
    """Tell ansible-core this lookup's options are known, so that its plugin loader does not look for them.

    Without documentation in the plugin file ansible-core's loader would set up a YAML
    parser in every worker, to parse nothing. The full path replaces the placeholder with
    the real definitions before its first set_options() (see _aem_ims_token_lookup_full).
    If ansible-core's internals ever change, the guard leaves the loader to do as usual.
    """
    config = getattr(C, "config", None)
    if config is None or not hasattr(config, "has_configuration_definition") or not hasattr(config, "initialize_plugin_configuration_definitions"):
        return
    # ansible-core files collection plugins under their Python module name when loading them.
    for name in (LOOKUP_MODULE_NAME, PLUGIN_NAME):
        if not config.has_configuration_definition("lookup", name):
            config.initialize_plugin_configuration_definitions("lookup", name, {})


register_placeholder_option_definitions()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        inputs = None
        # Anything unusual here (an undefined variable, a bad term) is left to the full path,
        # which reports it properly.
        with contextlib.suppress(Exception):
            inputs = self.call_inputs(terms, variables, kwargs)
            _environment, option_variables, _paths, run_root, fingerprints = inputs
            if not wants_refresh(kwargs, option_variables, inputs[0]):
                entries = [cached_entry_for_fingerprint(fingerprint, run_root, time.time()) for fingerprint in fingerprints]
                if all(entries):
                    return [entry["access_token"] for entry in entries]

        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup_full import obtain_tokens

        return obtain_tokens(self, terms, variables, kwargs, inputs)

    def call_inputs(self, terms, variables, kwargs):
        """What the call was given, before ansible-core resolves any option, and its fingerprints.

        Returns (environment, option variables, credentials file paths, the run's directory,
        one input fingerprint per path): the same inputs always resolve to the same options,
        so a fingerprint the run has already validated (see _cache_reader.input_fingerprint)
        needs neither option resolution nor validation.
        """
        environment = our_environment()
        option_variables = self._option_variables(variables)
        paths = self._credentials_files(terms, variables)
        run_root = C.DEFAULT_LOCAL_TMP if C.DEFAULT_LOCAL_TMP and os.path.isdir(C.DEFAULT_LOCAL_TMP) else None
        sources = {"keywords": kwargs, "variables": option_variables, "environment": environment, "config": C.CONFIG_FILE}
        return environment, option_variables, paths, run_root, [input_fingerprint(sources, path) for path in paths]

    def _option_variables(self, variables):
        """The aem_ims_* variables, templated.

        ansible-core hands plugin options taken from variables over as written, so
        `aem_ims_service_credentials: "{{ vault_aem_credentials }}"` would arrive as that
        literal text (see community.hashi_vault#434).
        """
        if not variables:
            return {}
        return {name: self._templar.template(variables[name]) for name in OPTION_VARIABLES if name in variables}

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
