# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of aemops.ims.aem_ims_token, all that a cache hit of the lookup needs: it imports nothing.

The strict pass over the values is _settings.py; a unit test keeps plugins/doc_fragments/aem_ims.py in step with OPTIONS.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

PLUGIN_NAME = "aemops.ims.aem_ims_token"
# The version in galaxy.yml (a unit test checks it), for whatever must name the release.
COLLECTION_VERSION = "0.2.0"
DEFAULT_IMS_HOST = "ims-na1.adobelogin.com"
DEFAULT_METASCOPE = "ent_aem_cloud_api"
AUTH_METHODS = ("auto", "jwt", "oauth_server_to_server")
CACHE_MODES = ("run", "persistent", "off")
STATES = ("present", "absent")


class Option:
    """One option: its argument-spec type, default and choices, and where else it may come from.

    env is its AEM_IMS_* variable; the lookup also reads the aem_ims_<name> variable and, unless secret
    or not in_ini, ansible.cfg's [aem_ims]. Secret options are no_log and never quoted in a message.
    """

    __slots__ = ("name", "type", "env", "default", "choices", "limits", "elements", "secret", "in_ini", "module_only")

    def __init__(self, name, kind, env=None, default=None, choices=None, limits=None, secret=False, in_ini=True, module_only=False):
        self.name: str = name
        self.type: str = kind
        self.env: str | None = env
        self.default: object = default
        self.choices: tuple[str, ...] | None = choices
        self.limits: tuple[float, float] | None = limits
        self.elements: str | None = "str" if kind == "list" else None
        self.secret: bool = secret
        self.in_ini: bool = in_ini and not secret and not module_only
        self.module_only: bool = module_only

    @property
    def variable(self) -> str:
        return "aem_ims_" + self.name

    @property
    def unset(self) -> object:
        """The value when nothing sets the option: its default, or an empty tuple for a list."""
        return () if self.type == "list" else self.default


# The order is the order of the documentation.
OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("service_credentials_file", "path", "AEM_IMS_SERVICE_CREDENTIALS_FILE"),
        Option("service_credentials", "raw", "AEM_IMS_SERVICE_CREDENTIALS", secret=True),
        Option("credential_name", "str", "AEM_IMS_CREDENTIAL_NAME"),
        Option("credential_id", "str", "AEM_IMS_CREDENTIAL_ID"),
        Option("auth_method", "str", "AEM_IMS_AUTH_METHOD", default="auto", choices=AUTH_METHODS),
        Option("client_id", "str", "AEM_IMS_CLIENT_ID"),
        Option("client_secret", "str", "AEM_IMS_CLIENT_SECRET", secret=True),
        Option("org_id", "str", "AEM_IMS_ORG_ID"),
        Option("technical_account_id", "str", "AEM_IMS_TECHNICAL_ACCOUNT_ID"),
        Option("private_key", "str", "AEM_IMS_PRIVATE_KEY", secret=True),
        Option("private_key_file", "path", "AEM_IMS_PRIVATE_KEY_FILE"),
        Option("private_key_passphrase", "str", "AEM_IMS_PRIVATE_KEY_PASSPHRASE", secret=True),
        Option("metascopes", "list", "AEM_IMS_METASCOPES"),
        Option("scopes", "list", "AEM_IMS_SCOPES"),
        Option("ims_endpoint", "str", "AEM_IMS_ENDPOINT"),
        Option("jwt_lifetime", "int", "AEM_IMS_JWT_LIFETIME", default=300, limits=(10, 86400)),
        Option("validate_certs", "bool", "AEM_IMS_VALIDATE_CERTS", default=True),
        Option("ca_path", "path", "AEM_IMS_CA_PATH"),
        Option("proxy_url", "str", "AEM_IMS_PROXY_URL", secret=True),
        Option("timeout", "float", "AEM_IMS_TIMEOUT", default=30.0, limits=(1, 600)),
        Option("retries", "int", "AEM_IMS_RETRIES", default=3, limits=(0, 10)),
        Option("cache", "str", "AEM_IMS_CACHE", default="run", choices=CACHE_MODES),
        Option("cache_dir", "path", "AEM_IMS_CACHE_DIR"),
        Option("refresh_margin", "int", "AEM_IMS_REFRESH_MARGIN", default=600, limits=(0, 86400)),
        # A forced refresh in ansible.cfg would make every run of every playbook ask IMS.
        Option("force_refresh", "bool", "AEM_IMS_FORCE_REFRESH", default=False, in_ini=False),
        Option("validate", "bool", "AEM_IMS_VALIDATE", default=False),
        # A lookup returns a string: it has no facts to set, and nothing to revoke.
        Option("fact_name", "str", module_only=True),
        Option("state", "str", default="present", choices=STATES, module_only=True),
        Option("access_token", "str", secret=True, module_only=True),
    )
}
LOOKUP_OPTIONS: dict[str, Option] = {name: option for name, option in OPTIONS.items() if not option.module_only}
SECRET_OPTIONS = tuple(name for name, option in OPTIONS.items() if option.secret)


def plugin_option_definitions() -> dict[str, dict]:
    """The lookup's option definitions for ansible-core's config manager: the documented sources and defaults.

    Every type raw and no choices, so that ansible-core hands each value over as written: with the documented
    types it converts leniently ("ture" is false). The strict pass (_settings) checks every source alike.
    """
    definitions: dict[str, dict] = {
        "_terms": {"type": "list", "elements": "path", "required": False, "description": ["Paths of credentials files."]},
    }
    for name, option in LOOKUP_OPTIONS.items():
        definition: dict[str, object] = {
            "type": "raw",
            "description": ["See ansible-doc -t lookup %s." % PLUGIN_NAME],
            "env": [{"name": option.env}],
            "vars": [{"name": option.variable}],
        }
        if option.default is not None:
            definition["default"] = option.default
        if option.in_ini:
            definition["ini"] = [{"section": "aem_ims", "key": name}]
        definitions[name] = definition
    return definitions
