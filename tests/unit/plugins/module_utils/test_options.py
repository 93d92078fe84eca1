# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _options: the option table, the collection's version, the lookup's option definitions."""

from __future__ import annotations

import os

import yaml

from ansible_collections.aemops.ims.plugins.module_utils import _options
from ansible_collections.aemops.ims.plugins.module_utils._options import (
    AUTH_METHODS,
    CACHE_MODES,
    LOOKUP_OPTIONS,
    OPTIONS,
    PLUGIN_NAME,
    SECRET_OPTIONS,
    STATES,
    plugin_option_definitions,
)

MODULE_ONLY = ["fact_name", "state", "access_token"]


# --- the table --------------------------------------------------------------------------------


def test_secret_options_are_exactly_these():
    assert SECRET_OPTIONS == ("service_credentials", "client_secret", "private_key", "private_key_passphrase", "proxy_url", "access_token")
    assert all(OPTIONS[name].secret for name in SECRET_OPTIONS)


def test_the_plugin_name():
    assert PLUGIN_NAME == "aemops.ims.aem_ims_token"


def test_every_option_but_the_module_only_ones_has_an_aem_ims_environment_variable():
    # No environment variable revokes a token: state and access_token are task arguments only.
    for name, option in OPTIONS.items():
        if name in MODULE_ONLY:
            assert option.env is None
            continue
        assert option.env == "AEM_IMS_" + ("ENDPOINT" if name == "ims_endpoint" else name.upper())


def test_environment_variables_are_ours_and_distinct():
    values = [option.env for option in OPTIONS.values() if option.env]
    assert len(set(values)) == len(values) == len(OPTIONS) - len(MODULE_ONLY)
    assert all(value.startswith("AEM_IMS_") and value == value.upper() for value in values)


def test_the_lookup_has_every_option_but_the_module_only_ones():
    assert [name for name, option in OPTIONS.items() if option.module_only] == MODULE_ONLY
    assert list(LOOKUP_OPTIONS) == [name for name in OPTIONS if name not in MODULE_ONLY]


def test_variables_are_aem_ims_and_the_option_name():
    assert {option.variable for option in OPTIONS.values()} == {"aem_ims_" + name for name in OPTIONS}


def test_options_kept_out_of_ansible_cfg():
    # Secrets never in a plain-text file; a forced refresh there would make every run ask IMS; module-only options are not the lookup's.
    # validate may be set there: confirming a cached token is a choice for every run.
    assert sorted(name for name, option in OPTIONS.items() if not option.in_ini) == sorted({*SECRET_OPTIONS, "force_refresh", *MODULE_ONLY})
    assert OPTIONS["validate"].in_ini is True


def test_types_defaults_choices_and_limits():
    kinds = {name: option.type for name, option in OPTIONS.items()}
    assert {name for name, kind in kinds.items() if kind == "path"} == {"service_credentials_file", "private_key_file", "ca_path", "cache_dir"}
    assert {name for name, kind in kinds.items() if kind == "list"} == {"metascopes", "scopes"}
    assert (kinds["service_credentials"], kinds["validate_certs"], kinds["force_refresh"], kinds["timeout"]) == ("raw", "bool", "bool", "float")
    assert (kinds["validate"], kinds["state"], kinds["access_token"]) == ("bool", "str", "str")
    assert {name: option.default for name, option in OPTIONS.items() if option.default is not None} == {
        "auth_method": "auto",
        "jwt_lifetime": 300,
        "validate_certs": True,
        "timeout": 30.0,
        "retries": 3,
        "cache": "run",
        "refresh_margin": 600,
        "force_refresh": False,
        "validate": False,
        "state": "present",
    }
    assert {name: option.choices for name, option in OPTIONS.items() if option.choices} == {"auth_method": AUTH_METHODS, "cache": CACHE_MODES, "state": STATES}
    assert STATES == ("present", "absent")
    assert AUTH_METHODS == ("auto", "jwt", "oauth_server_to_server")
    assert CACHE_MODES == ("run", "persistent", "off")
    assert {name: option.limits for name, option in OPTIONS.items() if option.limits} == {
        "jwt_lifetime": (10, 86400),
        "timeout": (1, 600),
        "retries": (0, 10),
        "refresh_margin": (0, 86400),
    }
    assert {name: option.elements for name, option in OPTIONS.items() if option.elements} == {"metascopes": "str", "scopes": "str"}


def test_unset_is_the_default_or_an_empty_list():
    assert OPTIONS["scopes"].unset == ()
    assert OPTIONS["timeout"].unset == 30.0
    assert OPTIONS["client_id"].unset is None


# --- the argument spec ------------------------------------------------------------------------


# --- the lookup's definitions -----------------------------------------------------------------


def test_plugin_option_definitions_come_from_the_table():
    # That they say what the documentation says is checked in tests/unit/plugins/doc_fragments.
    definitions = plugin_option_definitions()
    assert list(definitions) == ["_terms", *LOOKUP_OPTIONS]
    for name, option in LOOKUP_OPTIONS.items():
        assert definitions[name]["env"] == [{"name": option.env}]
        assert definitions[name]["vars"] == [{"name": "aem_ims_" + name}]
        assert ("ini" in definitions[name]) is option.in_ini
        assert definitions[name]["description"] == ["See ansible-doc -t lookup aemops.ims.aem_ims_token."]
    # As written: ansible-core converts nothing and checks no choices; the strict pass does.
    assert {definitions[name]["type"] for name in LOOKUP_OPTIONS} == {"raw"}
    assert not any("choices" in definitions[name] or "elements" in definitions[name] for name in LOOKUP_OPTIONS)
    assert definitions["cache"]["default"] == "run"
    assert "default" not in definitions["client_id"]
    assert definitions["client_id"]["ini"] == [{"section": "aem_ims", "key": "client_id"}]
    assert plugin_option_definitions() is not definitions, "each caller gets its own copy"


def test_the_collection_version_is_galaxy_ymls():
    galaxy = os.path.join(os.path.dirname(_options.__file__), "..", "..", "galaxy.yml")
    with open(galaxy, encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["version"] == _options.COLLECTION_VERSION


def test_the_table_module_imports_nothing():
    # A cache hit of the lookup compiles it in every forked worker: nothing more may come with it.
    with open(_options.__file__, encoding="utf-8") as handle:
        source = handle.read()
    assert [line for line in source.splitlines() if line.startswith(("import ", "from "))] == ["from __future__ import annotations"]
