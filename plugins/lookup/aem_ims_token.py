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


import contextlib
import os
import sys

from ansible import constants as C

# Ansible forks a fresh worker for every host and task, and each worker that templates this
# lookup loads it anew. ansible-core's collection loader compiles collection modules from
# source every time (it never uses .pyc files), which made loading this plugin cost more
# than the cached lookup itself. The modules a cache hit needs are therefore compiled once
# per run into the run's private temporary directory, and later workers load that code.
# Anything unusual falls back to a plain import.
_FAST_MODULES = (("module_utils", "_option_specs"), ("module_utils", "_cache_reader"), ("plugin_utils", "_aem_ims_token_lookup"))


def _load_from_code_cache(modules):
    import marshal  # pylint: disable=import-outside-toplevel
    import stat  # pylint: disable=import-outside-toplevel
    import types  # pylint: disable=import-outside-toplevel
    from importlib import import_module  # pylint: disable=import-outside-toplevel
    from importlib.util import MAGIC_NUMBER  # pylint: disable=import-outside-toplevel

    run_directory = C.DEFAULT_LOCAL_TMP
    info = os.lstat(run_directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return
    store = os.path.join(run_directory, "aemops_ims_code")
    plugins = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for package, leaf in modules:
        name = "ansible_collections.aemops.ims.plugins.%s.%s" % (package, leaf)
        if name in sys.modules:
            continue
        parent = import_module("ansible_collections.aemops.ims.plugins." + package)
        source = os.path.join(plugins, package, leaf + ".py")
        source_info = os.stat(source)
        compiled = os.path.join(store, "%s-%d-%d-%s.bin" % (leaf, source_info.st_size, source_info.st_mtime_ns, MAGIC_NUMBER.hex()))
        try:
            with open(compiled, "rb") as handle:
                if os.fstat(handle.fileno()).st_uid != os.geteuid():
                    raise ValueError("not ours")
                code = marshal.loads(handle.read())
        except (OSError, ValueError, EOFError, TypeError):
            with open(source, encoding="utf-8") as handle:
                code = compile(handle.read(), source, "exec", dont_inherit=True)
            os.makedirs(store, mode=0o700, exist_ok=True)
            temporary = "%s.%d.tmp" % (compiled, os.getpid())
            with open(temporary, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(temporary, compiled)
        module = types.ModuleType(name)
        module.__file__ = source
        module.__package__ = parent.__name__
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)  # pylint: disable=exec-used
        except BaseException:
            del sys.modules[name]
            raise
        setattr(parent, leaf, module)


with contextlib.suppress(Exception):
    _load_from_code_cache(_FAST_MODULES)

# ansible-core looks up the plugin class as this module's LookupModule.
# pylint: disable-next=wrong-import-position,unused-import
from ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup import LookupModule, register_option_definitions  # noqa: E402,F401

register_option_definitions(__name__, placeholder=True)
