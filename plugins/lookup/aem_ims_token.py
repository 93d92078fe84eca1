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
requirements:
  - requests
  - PyJWT >= 2.4
  - cryptography
  - urllib3 >= 2.6
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
  - Warns when the certificate of the credentials expires within 30 days (once per new token), and fails when it has expired.
  - Run with C(-v) for one non-secret line per token (client ID, endpoint, where the credentials came from, method,
    cached or not, time taken) and for each retry of a request to IMS.
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

# A cache hit loads only this file, _options and _cache: Ansible loads the lookup anew in
# every forked worker, one per host and task, and ansible-core compiles collection code from
# source each time. What a miss needs (validation's helpers, the credentials, the exchange,
# requests, PyJWT, cryptography) and the error path are imported where they are used.

import configparser
import os
import time

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.parsing.quoting import unquote
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.aemops.ims.plugins.module_utils._cache import entry_for_fingerprint, input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._options import LOOKUP_OPTIONS, SECRET_OPTIONS, plugin_option_definitions, settings_from_options


def _register_option_definitions():
    """Hand ansible-core this lookup's option definitions before its plugin loader parses DOCUMENTATION for them.

    The loader parses this DOCUMENTATION with its doc fragments every time it loads the
    lookup, in every forked worker: about a third of what a cached lookup costs
    (docs/benchmarks.md). The same definitions come from the option table instead; a unit
    test checks they say what the documentation says. Where ansible-core's config manager
    lacks these methods, the loader parses the documentation as usual.
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
        paths = [self._credentials_file(term, variables) for term in terms] or [None]
        secrets = [kwargs.get(name) for name in SECRET_OPTIONS]
        try:
            values, origins = self._option_values(variables, kwargs)
            secrets += [values.get(name) for name in SECRET_OPTIONS]
            fingerprints = [input_fingerprint(values, origins, path) for path in paths]
            # A call repeated with the same inputs in this run is served without validating or reading anything again
            # (at -v it takes the full path, which has what the summary line of each token shows).
            if not boolean(values.get("force_refresh", False), strict=False) and Display().verbosity < 1:
                confirmed = boolean(values.get("validate", False), strict=False)
                hits = [entry_for_fingerprint(fingerprint, C.DEFAULT_LOCAL_TMP, time.time(), confirmed) for fingerprint in fingerprints]
                tokens = [entry["access_token"] for entry in hits if entry]
                if len(tokens) == len(paths):
                    return tokens
            settings = settings_from_options(values, origins, lookup=True)
            secrets += settings.secret_values()
            # pylint: disable-next=import-outside-toplevel
            from ansible_collections.aemops.ims.plugins.module_utils._token_service import obtain_token
            from ansible_collections.aemops.ims.plugins.plugin_utils import _controller  # pylint: disable=import-outside-toplevel
            from ansible_collections.aemops.ims.plugins.plugin_utils._controller import run_cache_dir, warn  # pylint: disable=import-outside-toplevel

            files = self._controller_files(variables)
            files.resolve_settings(settings)
            tokens = []
            for term, path, fingerprint in zip(terms or [None], paths, fingerprints, strict=True):
                started = time.monotonic()
                result = obtain_token(
                    settings, credentials_file=path, run_cache_dir=run_cache_dir(), warn=warn, warn_on_cache_hit=False, inputs=fingerprint, reader=files
                )
                source = _controller.credential_source(settings, None if term is None else path)
                Display().v(_controller.token_summary(result, source, time.monotonic() - started, lookup=True))
                tokens.append(result["access_token"])
            return tokens
        except Exception as error:  # pylint: disable=broad-exception-caught
            from ansible_collections.aemops.ims.plugins.plugin_utils._controller import public_message  # pylint: disable=import-outside-toplevel

            # One line, never a traceback nor a secret, whatever failed.
            raise AnsibleLookupError(public_message(error, [value for value in secrets if isinstance(value, str)])) from None

    def _credentials_file(self, term, variables):
        """A term names a credentials file; a relative name is also looked for in files/, as other lookups do."""
        if not isinstance(term, str) or not term.strip():
            from ansible_collections.aemops.ims.plugins.module_utils._errors import describe_type  # pylint: disable=import-outside-toplevel

            kind = "an empty string" if isinstance(term, str) else describe_type(term)
            raise AnsibleLookupError("each term must be the path of a credentials file, got %s" % kind)
        path = os.path.expanduser(term.strip())
        if os.path.isabs(path) and os.path.exists(path):
            return path
        from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError  # pylint: disable=import-outside-toplevel

        try:
            return self._controller_files(variables).find(path, "service credentials file", "the lookup's term")
        except AemImsError as error:
            raise AnsibleLookupError(error.msg) from None

    def _controller_files(self, variables):
        """Relative paths found as find_file_in_search_path() finds them; vault files decrypted in memory (plugin_utils._files)."""
        from ansible_collections.aemops.ims.plugins.plugin_utils._controller import retry_progress, warn  # pylint: disable=import-outside-toplevel
        from ansible_collections.aemops.ims.plugins.plugin_utils._files import ControllerFiles  # pylint: disable=import-outside-toplevel

        search_path = variables.get("ansible_search_path") or [self.get_basedir(variables)]
        return ControllerFiles(self._loader, search_path, lookup=True, is_role="role_path" in variables, warn=warn, progress=retry_progress)

    def _option_values(self, variables, keywords):
        """Each option as written and where it came from, highest first: keyword, aem_ims_* variable,
        AEM_IMS_* environment variable, ansible.cfg ([aem_ims]), default (left out).

        ansible-core's set_options() resolves that precedence too, but it converts leniently
        (any unknown word is a false boolean, so "validate_certs: ture" would turn TLS checks
        off), words its errors differently in every release and, before 2.18, does not say
        where a keyword or a variable came from. So the sources a play writes are taken as
        written here, for settings_from_options() to check once with the module's messages,
        and ansible-core gives ansible.cfg's values. Unknown keywords are kept, for the check
        to name. Options from variables are templated: ansible-core hands them over as
        written (community.hashi_vault#434).

        An empty environment variable counts as unset, as for the module: AWX and Ansible
        Automation Platform inject every field of a credential type, empty ones included, and
        ansible-core would take an empty variable as set and look no further.
        """
        values = {name: value for name, value in keywords.items() if name not in LOOKUP_OPTIONS}
        origins = {}
        hidden_by_empty_variable = []
        for name, option in LOOKUP_OPTIONS.items():
            env = option.env or ""
            if name in keywords:
                values[name], origins[name] = keywords[name], "the %s option" % name
            elif option.variable in variables:
                values[name], origins[name] = self._templar.template(variables[option.variable]), "variable " + option.variable
            elif os.environ.get(env, "").strip():
                values[name], origins[name] = os.environ[env], "environment variable " + env
            elif env in os.environ:
                hidden_by_empty_variable.append(name)
        direct = dict(keywords)
        configured = _ansible_cfg_section() if hidden_by_empty_variable else {}
        for name in hidden_by_empty_variable:
            option = LOOKUP_OPTIONS[name]
            if option.in_ini and name in configured:
                values[name], origins[name] = _as_ansible_core_reads_it(option, configured[name]), "%s in %s" % (name, C.CONFIG_FILE)
            direct[name] = values.get(name, option.default)
        try:
            self.set_options(var_options=variables, direct=direct)
        except AnsibleError:
            # A value ansible-core refuses: the check names it with the module's message. If the
            # check finds nothing wrong, the value is in ansible.cfg and ansible-core's message says so.
            settings_from_options(values, origins, lookup=True)
            raise
        for name in LOOKUP_OPTIONS:
            if name not in values and name not in direct:
                value, origin = self.get_option_and_origin(name)
                if origin and origin != "default":
                    values[name], origins[name] = value, "%s in %s" % (name, origin)
        return values, origins


def _as_ansible_core_reads_it(option, text):
    """A value from ansible.cfg as ansible-core reads one: unquoted, and a relative path relative to the file's directory."""
    value = unquote(text)
    if option.type == "path":
        value = os.path.expanduser(os.path.expandvars(value))
        if not os.path.isabs(value):
            value = os.path.normpath(os.path.join(os.path.dirname(C.CONFIG_FILE or ""), value))
    return value


def _ansible_cfg_section():
    """The [aem_ims] section of the ansible.cfg in use, read as ansible-core reads it.

    Only for options whose AEM_IMS_* variable is set but empty, which hides ansible.cfg from
    ansible-core. A file ansible-core could not read has been reported by it already.
    """
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",))
    try:
        with open(C.CONFIG_FILE or "", encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeError, configparser.Error):
        return {}
    return dict(parser.items("aem_ims", raw=True)) if parser.has_section("aem_ims") else {}
