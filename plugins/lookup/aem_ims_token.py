# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: aem_ims_token
short_description: Get an Adobe IMS access token for AEM as a Cloud Service APIs, inline
version_added: 0.1.0
description:
  - Returns an Adobe IMS access token, for use inline in templates, for example in the C(Authorization) header
    of an M(ansible.builtin.uri) task (see the examples).
  - Does the same job as the M(aemops.ims.aem_ims_token) module, with the same options, environment variables and
    error messages. Options may also come from variables (C(aem_ims_<option>)) and from the C([aem_ims]) section of
    C(ansible.cfg). Precedence, highest first - keyword argument, variable, environment variable, C(ansible.cfg), default.
  - Tokens are cached (O(cache)). Ansible templates every task of every host in a separate process, so without the
    cache a play over 200 hosts with 3 tasks would ask IMS 600 times; with O(cache=run), the default, it asks once per
    credential per run, whatever C(forks) is.
author:
  - aemops.ims contributors (@aemops)
extends_documentation_fragment:
  - aemops.ims.aem_ims
  - aemops.ims.aem_ims.plugins
options:
  _terms:
    description:
      - Paths of credentials files, as for O(service_credentials_file). Each yields one token.
      - With no terms, one token is returned from the options.
    type: list
    elements: path
    required: false
notes:
  - A lookup cannot hide its value. Set C(no_log) on every task that uses the token, or its value can appear in
    the output, in C(log_path) and in callbacks.
  - Requires the Python packages C(requests), C(PyJWT) and C(cryptography) on the controller (or in the execution
    environment). A cache hit imports none of them.
  - Warns when the certificate of the credentials expires within 30 days (once per new token), and fails when it has expired.
seealso:
  - module: aemops.ims.aem_ims_token
  - ref: playbooks_lookups
    description: Using lookups.
"""

EXAMPLES = r"""
- name: Call an AEM API with a token from the service credentials
  ansible.builtin.uri:
    url: "https://author-p12345-e67890.adobeaemcloud.com/libs/granite/security/currentuser.json"
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', service_credentials_file='/etc/aem/service-credentials.json') }}"
  no_log: true

- name: The credentials file as a term
  ansible.builtin.uri:
    url: "{{ aem_author_url }}/libs/granite/security/currentuser.json"
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', '/etc/aem/service-credentials.json') }}"
  no_log: true

- name: One token per credentials file
  ansible.builtin.set_fact:
    aem_tokens: "{{ query('aemops.ims.aem_ims_token', '/etc/aem/dev.json', '/etc/aem/stage.json') }}"
  no_log: true

- name: Options from variables, for example set once in group_vars (aem_ims_service_credentials holds vaulted JSON)
  ansible.builtin.uri:
    url: "{{ aem_author_url }}/libs/granite/security/currentuser.json"
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token') }}"
  vars:
    aem_ims_service_credentials: "{{ vault_aem_service_credentials }}"
  no_log: true

- name: OAuth Server-to-Server
  ansible.builtin.uri:
    url: https://example.adobe.io/api/resource
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', service_credentials_file='/etc/adobe/oauth.json',
        auth_method='oauth_server_to_server') }}"
      x-api-key: "{{ adobe_client_id }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One IMS access token per term, or one if there are no terms.
  type: list
  elements: str
"""

import os
import time

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import BOOLEANS
from ansible.plugins.lookup import LookupBase

# Only what a cache hit needs is imported here; the rest loads in _obtain() and on errors.
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import cached_entry_for_inputs
from ansible_collections.aemops.ims.plugins.module_utils._option_specs import OPTION_SPECS, PLUGIN_NAME, SECRET_OPTIONS, plugin_option_definitions


OPTION_VARIABLES = tuple("aem_ims_" + name for name in OPTION_SPECS)
BOOLEAN_OPTIONS = tuple(name for name, (spec, _env) in OPTION_SPECS.items() if spec["type"] == "bool")
_BOOLEAN_WORDS = frozenset(word.lower() for word in BOOLEANS if isinstance(word, str))


def _forget_blank_environment():
    """Treat empty AEM_IMS_* variables as unset, as the module does.

    AWX and AAP inject every field of a credential type, empty or not, and ansible-core
    would read an empty path as the current directory and an empty choice as invalid.
    Only this collection's variables are touched, and only when they are blank.
    """
    for name in [name for name, value in os.environ.items() if name.startswith("AEM_IMS_") and not value.strip()]:
        del os.environ[name]


def _raw_options(kwargs, option_variables):
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
        elif env in os.environ:
            raw[name], origins[name] = os.environ[env], "environment variable " + env
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


def _explain_invalid(raw):
    """Raise the module's own one-line message for invalid option values, if any."""
    from ansible_collections.aemops.ims.plugins.module_utils._options import validate_params  # pylint: disable=import-outside-toplevel

    validate_params(raw, for_module=False, with_env=False)


def _register_option_definitions():
    """Give ansible-core this lookup's option definitions before it parses the YAML docs.

    Ansible templates each host and task in a fresh forked worker, and each worker that
    loads this lookup would otherwise parse the DOCUMENTATION YAML and its doc fragment
    (tens of milliseconds, more than a whole cached lookup). ansible-core skips the parse
    when definitions are already known; if its internals ever change, the guard below
    leaves ansible-core to parse the docs as usual.
    """
    config = getattr(C, "config", None)
    if config is None or not hasattr(config, "has_configuration_definition") or not hasattr(config, "initialize_plugin_configuration_definitions"):
        return
    # ansible-core files collection plugins under their Python module name when loading them.
    for name in (__name__, PLUGIN_NAME):
        if not config.has_configuration_definition("lookup", name):
            config.initialize_plugin_configuration_definitions("lookup", name, plugin_option_definitions())


_register_option_definitions()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        secrets = []
        try:
            _forget_blank_environment()
            option_variables = self._option_variables(variables)
            raw, origins = _raw_options(kwargs, option_variables)
            secrets = _secret_strings(raw)
            paths = self._credentials_files(terms, variables)
            try:
                self.set_options(var_options=option_variables, direct=kwargs)
            except AnsibleError as error:
                _explain_invalid(raw)
                raise AnsibleLookupError(self._public_message(error, secrets)) from None
            # ansible-core reads booleans leniently ("ture" is false); the module refuses them, and so does this.
            if any(isinstance(raw.get(name), str) and raw[name].strip().lower() not in _BOOLEAN_WORDS for name in BOOLEAN_OPTIONS):
                _explain_invalid(raw)
            values = {name: self.get_option(name) for name in OPTION_SPECS}

            # The common case, a token this run (or cache_dir) already holds: no validation, no parsing, no heavy imports.
            cache_root = C.DEFAULT_LOCAL_TMP if C.DEFAULT_LOCAL_TMP and os.path.isdir(C.DEFAULT_LOCAL_TMP) else None
            entries = [cached_entry_for_inputs(values, path, cache_root, time.time(), kwargs) for path in paths]
            if all(entries):
                return [entry["access_token"] for entry in entries]
            return self._obtain(values, raw, origins, paths, kwargs, cache_root)
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

    def _obtain(self, values, raw, origins, paths, kwargs, cache_root):
        """The full path: validate, read credentials, use or fill the cache, exchange when needed."""
        # pylint: disable=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.module_utils._options import settings_from_params
        from ansible_collections.aemops.ims.plugins.module_utils._token_service import obtain_token_for_inputs
        from ansible_collections.aemops.ims.plugins.plugin_utils._controller import describe_plugin_origin, warn

        def make_settings():
            _explain_invalid(raw)
            # ansible.cfg is the one source left to ask ansible-core about.
            for name in OPTION_SPECS:
                if name not in origins:
                    described = describe_plugin_origin(name, self.get_option_and_origin(name)[1])
                    if described:
                        origins[name] = described
            return settings_from_params(values, origins=origins)

        return [obtain_token_for_inputs(values, path, kwargs, cache_root, make_settings, warn=warn) for path in paths]

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
