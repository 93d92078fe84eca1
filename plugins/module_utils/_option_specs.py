# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The table of options shared by the module and the lookup, and nothing else.

Names and environment variables come from ``_option_names``; this adds their types,
defaults and choices. Kept apart from the validation in ``_options``, which only the
full paths load. ``plugins/doc_fragments/aem_ims.py`` documents these options; a unit
test keeps both in step.
"""

from __future__ import annotations

from ansible_collections.aemops.ims.plugins.module_utils._option_names import OPTION_ENVIRONMENT_VARIABLES, PLUGIN_NAME  # noqa: F401 pylint: disable=unused-import

DEFAULT_IMS_HOST = "ims-na1.adobelogin.com"
DEFAULT_METASCOPE = "ent_aem_cloud_api"
AUTH_METHODS = ("auto", "jwt", "oauth_server_to_server")
CACHE_MODES = ("run", "persistent", "off")

# name: argument spec, for every option of _option_names (a unit test checks).
_ARGUMENT_SPECS: dict[str, dict] = {
    "service_credentials_file": dict(type="path"),
    "service_credentials": dict(type="raw", no_log=True),
    "credential_name": dict(type="str"),
    "credential_id": dict(type="str"),
    "auth_method": dict(type="str", choices=list(AUTH_METHODS), default="auto"),
    "client_id": dict(type="str"),
    "client_secret": dict(type="str", no_log=True),
    "org_id": dict(type="str"),
    "technical_account_id": dict(type="str"),
    "private_key": dict(type="str", no_log=True),
    "private_key_file": dict(type="path", no_log=False),
    "private_key_passphrase": dict(type="str", no_log=True),
    "metascopes": dict(type="list", elements="str"),
    "scopes": dict(type="list", elements="str"),
    "ims_endpoint": dict(type="str"),
    "jwt_lifetime": dict(type="int", default=300),
    "validate_certs": dict(type="bool", default=True),
    "ca_path": dict(type="path"),
    "proxy_url": dict(type="str", no_log=True),
    "timeout": dict(type="float", default=30),
    "retries": dict(type="int", default=3),
    "cache": dict(type="str", choices=list(CACHE_MODES), default="run"),
    "cache_dir": dict(type="path"),
    "refresh_margin": dict(type="int", default=600),
    "force_refresh": dict(type="bool", default=False),
}

# name: (argument spec, environment variable). The order is the order of the docs.
OPTION_SPECS: dict[str, tuple[dict, str]] = {name: (_ARGUMENT_SPECS[name], env) for name, env in OPTION_ENVIRONMENT_VARIABLES.items()}

# Options only the module has: a lookup returns a string, it has no facts to set.
MODULE_ONLY_SPECS = {
    "fact_name": dict(type="str"),
}

SECRET_OPTIONS = tuple(name for name, (spec, _env) in OPTION_SPECS.items() if spec.get("no_log"))

# Options a user should not keep in ansible.cfg: the lookup reads them from keywords, variables and the environment only.
NOT_IN_INI = SECRET_OPTIONS + ("force_refresh",)


def env_var_of(name):
    return OPTION_SPECS[name][1]


def plugin_option_definitions():
    """The lookup's option definitions as ansible-core's config manager stores them.

    They say the same as the lookup's documentation (PLUGINS part of the aem_ims doc
    fragment), which a unit test checks. The lookup registers them from here because
    ansible-core otherwise parses the documentation YAML again in every forked worker.
    """
    definitions = {"_terms": {"type": "list", "elements": "path", "required": False, "description": ["Credentials files."]}}
    for name, (spec, env) in OPTION_SPECS.items():
        definition = {
            "type": spec["type"],
            "description": ["See the aemops.ims.aem_ims doc fragment."],
            "env": [{"name": env}],
            "vars": [{"name": "aem_ims_" + name}],
        }
        for key in ("default", "choices", "elements"):
            if key in spec:
                definition[key] = list(spec[key]) if key == "choices" else spec[key]
        if name not in NOT_IN_INI:
            definition["ini"] = [{"section": "aem_ims", "key": name}]
        definitions[name] = definition
    return definitions
