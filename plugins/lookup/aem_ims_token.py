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
  - B(Which credentials do I have?) An B(AEM technical account), from the AEM Developer Console (Integrations >
    Technical Accounts), is a JSON with an C(integration) object that holds everything, key and metascopes included;
    give its path as the term or O(service_credentials_file) (JWT exchange). An B(OAuth Server-to-Server) credential,
    from the Adobe Developer Console, needs a client ID, a client secret and B(scopes); its project JSON carries them
    all, or give O(client_id), O(client_secret) and O(scopes). O(auth_method) is picked from what the credentials hold.
  - Adobe has retired JWT (Service Account) credentials on the B(Adobe) Developer Console in favour of OAuth
    Server-to-Server; the service credentials of the B(AEM) Developer Console are not deprecated and keep using JWT.
    The M(aemops.ims.aem_ims_token) module's documentation has the details and Adobe's links.
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
      - Paths of credentials files, as for O(service_credentials_file) (relative paths and C(ansible-vault)
        encryption included). Each yields one token.
      - With no terms, one token is returned from the options.
    type: list
    elements: path
    required: false
notes:
  - A lookup cannot hide its value. Set C(no_log) on every task that uses the token, or its value can appear in
    the output, in C(log_path) and in callbacks.
  - The Python packages under requirements are needed on the controller (or in the execution environment). A cache
    hit imports none of them.
seealso:
  - module: aemops.ims.aem_ims_token
  - ref: playbooks_lookups
    description: Using lookups.
"""

EXAMPLES = r"""
- name: An AEM technical account (JWT) - the service credentials JSON as downloaded is all it needs
  ansible.builtin.uri:
    url: "https://author-p12345-e67890.adobeaemcloud.com/libs/granite/security/currentuser.json"
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', '/etc/aem/service-credentials.json') }}"
  no_log: true

- name: An OAuth Server-to-Server credential - the Adobe Developer Console project JSON carries its scopes
  ansible.builtin.uri:
    url: https://example.adobe.io/api/resource
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token', service_credentials_file='/etc/adobe/project-workspace.json') }}"
      x-api-key: 0123456789abcdef0123456789abcdef
  no_log: true

- name: One token per credentials file
  ansible.builtin.set_fact:
    aem_tokens: "{{ query('aemops.ims.aem_ims_token', '/etc/aem/dev.json', '/etc/aem/stage.json') }}"
  no_log: true

- name: Options from variables, for example set once in group_vars (vault_aem_service_credentials from an ansible-vault encrypted vars file)
  ansible.builtin.uri:
    url: "{{ aem_author_url }}/libs/granite/security/currentuser.json"
    headers:
      Authorization: "Bearer {{ lookup('aemops.ims.aem_ims_token') }}"
  vars:
    aem_author_url: https://author-p12345-e67890.adobeaemcloud.com
    aem_ims_service_credentials: "{{ vault_aem_service_credentials }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One IMS access token per term, or one if there are no terms.
  type: list
  elements: str
"""

# ansible-core compiles this file and its collection imports from source in every forked worker,
# so a cache hit loads only _options and _cache_reader; what a miss or an error needs is imported there.

import os
import time

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.parsing.quoting import unquote
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import entry_for_fingerprint, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._options import LOOKUP_OPTIONS, SECRET_OPTIONS, plugin_option_definitions


def _register_option_definitions():
    """The one write into ansible-core's config manager: this lookup's option definitions, type raw, so that values come as written.

    The loader derives definitions from DOCUMENTATION only where none are registered. Without these
    methods it does so, and converts typed values leniently first ("ture" reads as false; a unit test
    shows it). Kept for that, not for speed (docs/docsite/rst/benchmarks.rst).
    """
    config = getattr(C, "config", None)
    if not hasattr(config, "has_configuration_definition") or not hasattr(config, "initialize_plugin_configuration_definitions"):
        return
    # The loader files a collection's plugin under its Python module name.
    if not config.has_configuration_definition("lookup", __name__):  # type: ignore[union-attr]
        config.initialize_plugin_configuration_definitions("lookup", __name__, plugin_option_definitions())  # type: ignore[union-attr]


_register_option_definitions()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        secrets = [kwargs.get(name) for name in SECRET_OPTIONS]
        try:
            paths = [self._credentials_file(term, variables) for term in terms] or [None]
            self.set_options(var_options=variables, direct=kwargs)
            values, origins = self._as_written(variables, kwargs)
            secrets += [values.get(name) for name in SECRET_OPTIONS]
            fingerprints = [input_fingerprint(values, origins, path) for path in paths]
            # Inputs that went the whole way before in this run have an alias: no checking or reading again.
            # At -v the whole way is taken, for the summary line of each token.
            if not boolean(values.get("force_refresh", False), strict=False) and Display().verbosity < 1:
                confirmed = boolean(values.get("validate", False), strict=False)
                hits = [entry_for_fingerprint(fingerprint, C.DEFAULT_LOCAL_TMP, time.time(), confirmed) for fingerprint in fingerprints]
                tokens = [entry["access_token"] for entry in hits if entry]
                if len(tokens) == len(paths):
                    return tokens
            # pylint: disable=import-outside-toplevel
            from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options
            from ansible_collections.aemops.ims.plugins.plugin_utils._controller import obtain_tokens

            settings = settings_from_options(values, origins, lookup=True)
            secrets += settings.secret_values()
            files = self._controller_files(variables)
            files.resolve_settings(settings)
            return [result["access_token"] for result in obtain_tokens(settings, files, zip(terms or [None], paths, fingerprints, strict=True), lookup=True)]
        except Exception as error:  # pylint: disable=broad-exception-caught
            from ansible_collections.aemops.ims.plugins.plugin_utils._controller import public_message  # pylint: disable=import-outside-toplevel

            # One line, never a traceback nor a secret, whatever failed.
            raise AnsibleLookupError(public_message(error, [value for value in secrets if isinstance(value, str)])) from None

    def _as_written(self, variables, keywords):
        """Each option set somewhere, as ansible-core resolved it, and its origin in ansible-core's words.

        Glue where ansible-core cannot serve: keywords come from the call, as before 2.18
        get_option_and_origin forgets direct values; variables are templated, as set_options
        hands them over untemplated (community.hashi_vault#434); an empty environment variable
        counts as unset, and ansible-core then did not read ansible.cfg: the default applies.
        Unknown keywords are kept, for the strict pass to name.
        """
        values = {name: value for name, value in keywords.items() if name not in LOOKUP_OPTIONS}
        origins = {}
        for name in LOOKUP_OPTIONS:
            value, origin = (keywords[name], "Direct") if name in keywords else self.get_option_and_origin(name, hostvars=variables)
            if origin.startswith("var: "):
                value = self._templar.template(value)
            elif origin.startswith("env: ") and not os.environ.get(origin[5:], "").strip():
                continue
            elif os.path.isabs(origin):
                # From ansible.cfg, whose path is the origin, read as ansible-core reads strings and
                # paths there: unquoted (2.16 forgets to) and relative to the file.
                value = unquote(value) if isinstance(value, str) else value
                if LOOKUP_OPTIONS[name].type == "path" and isinstance(value, str):
                    value = os.path.join(os.path.dirname(origin), os.path.expanduser(os.path.expandvars(value)))
            if origin != "default":
                values[name], origins[name] = value, origin
        return values, origins

    def _credentials_file(self, term, variables):
        """A term names a credentials file; a relative name is also looked for in files/, as other lookups do."""
        if not isinstance(term, str) or not term.strip():
            from ansible_collections.aemops.ims.plugins.module_utils._errors import describe_type  # pylint: disable=import-outside-toplevel

            kind = "an empty string" if isinstance(term, str) else describe_type(term)
            raise AnsibleLookupError("each term must be the path of a credentials file, got %s" % kind)
        path = os.path.expanduser(term.strip())
        if os.path.isabs(path) and os.path.exists(path):
            return path
        return self._controller_files(variables).find(path, "service credentials file", "the lookup's term")

    def _controller_files(self, variables):
        """Relative paths found as find_file_in_search_path() finds them; vault files decrypted in memory (plugin_utils._files)."""
        from ansible_collections.aemops.ims.plugins.plugin_utils._controller import retry_progress, warn  # pylint: disable=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.plugin_utils._files import ControllerFiles  # pylint: disable=import-outside-toplevel

        search_path = variables.get("ansible_search_path") or [self.get_basedir(variables)]
        return ControllerFiles(self._loader, search_path, lookup=True, is_role="role_path" in variables, warn=warn, progress=retry_progress)
