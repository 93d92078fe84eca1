# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The table of options shared by the module and the lookup, and nothing else.

It is kept apart from the validation in ``_options`` because the lookup loads it in
every forked worker, cache hit or not: each module the collection loader imports
there costs about a millisecond, and the lookup must cost less than the task it
serves. ``plugins/doc_fragments/aem_ims.py`` documents these options; a unit test
keeps both in step.
"""

from __future__ import annotations

PLUGIN_NAME = "aemops.ims.aem_ims_token"
DEFAULT_IMS_HOST = "ims-na1.adobelogin.com"
DEFAULT_METASCOPE = "ent_aem_cloud_api"
AUTH_METHODS = ("auto", "jwt", "oauth_server_to_server")
CACHE_MODES = ("run", "persistent", "off")

# name: (argument spec, environment variable). The order is the order of the docs.
OPTION_SPECS: dict[str, tuple[dict, str]] = {
    "service_credentials_file": (dict(type="path"), "AEM_IMS_SERVICE_CREDENTIALS_FILE"),
    "service_credentials": (dict(type="raw", no_log=True), "AEM_IMS_SERVICE_CREDENTIALS"),
    "credential_name": (dict(type="str"), "AEM_IMS_CREDENTIAL_NAME"),
    "credential_id": (dict(type="str"), "AEM_IMS_CREDENTIAL_ID"),
    "auth_method": (dict(type="str", choices=list(AUTH_METHODS), default="auto"), "AEM_IMS_AUTH_METHOD"),
    "client_id": (dict(type="str"), "AEM_IMS_CLIENT_ID"),
    "client_secret": (dict(type="str", no_log=True), "AEM_IMS_CLIENT_SECRET"),
    "org_id": (dict(type="str"), "AEM_IMS_ORG_ID"),
    "technical_account_id": (dict(type="str"), "AEM_IMS_TECHNICAL_ACCOUNT_ID"),
    "private_key": (dict(type="str", no_log=True), "AEM_IMS_PRIVATE_KEY"),
    "private_key_file": (dict(type="path", no_log=False), "AEM_IMS_PRIVATE_KEY_FILE"),
    "private_key_passphrase": (dict(type="str", no_log=True), "AEM_IMS_PRIVATE_KEY_PASSPHRASE"),
    "metascopes": (dict(type="list", elements="str"), "AEM_IMS_METASCOPES"),
    "scopes": (dict(type="list", elements="str"), "AEM_IMS_SCOPES"),
    "ims_endpoint": (dict(type="str"), "AEM_IMS_ENDPOINT"),
    "jwt_lifetime": (dict(type="int", default=300), "AEM_IMS_JWT_LIFETIME"),
    "validate_certs": (dict(type="bool", default=True), "AEM_IMS_VALIDATE_CERTS"),
    "ca_path": (dict(type="path"), "AEM_IMS_CA_PATH"),
    "proxy_url": (dict(type="str", no_log=True), "AEM_IMS_PROXY_URL"),
    "timeout": (dict(type="float", default=30), "AEM_IMS_TIMEOUT"),
    "retries": (dict(type="int", default=3), "AEM_IMS_RETRIES"),
    "cache": (dict(type="str", choices=list(CACHE_MODES), default="run"), "AEM_IMS_CACHE"),
    "cache_dir": (dict(type="path"), "AEM_IMS_CACHE_DIR"),
    "refresh_margin": (dict(type="int", default=600), "AEM_IMS_REFRESH_MARGIN"),
    "force_refresh": (dict(type="bool", default=False), "AEM_IMS_FORCE_REFRESH"),
}

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
