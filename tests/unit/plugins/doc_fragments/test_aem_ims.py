# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation of the options says what the option table (_options.OPTIONS) does, and the other way round."""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible import constants as C
from ansible.plugins.loader import fragment_loader, lookup_loader
from ansible.utils.plugin_docs import get_docstring, get_plugin_docs

from ansible_collections.aemops.ims.plugins.doc_fragments.aem_ims import ModuleDocFragment
from ansible_collections.aemops.ims.plugins.module_utils import _options, _settings
from ansible_collections.aemops.ims.plugins.module_utils._options import LOOKUP_OPTIONS, OPTIONS, SECRET_OPTIONS, plugin_option_definitions

NAME = "aemops.ims.aem_ims_token"
DOCS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
PLUGINS = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(_options.__file__)))
SPEC_KEYS = ("type", "default", "choices", "elements")
SOURCE_KEYS = ("env", "vars", "ini")
# What only ansible-doc shows: ansible-core acts on none of it.
DOC_ONLY_KEYS = ("description", "version_added", "version_added_collection")
MODULE_ONLY = [name for name, option in OPTIONS.items() if option.module_only]
# Options added after the first release, and the release that added them.
ADDED = {"validate": "0.2.0", "state": "0.2.0", "access_token": "0.2.0"}


def table_entry(option):
    """What the documentation of an option must say, from the table."""
    entry = {"type": option.type}
    for key in ("default", "choices", "elements"):
        if getattr(option, key) is not None:
            entry[key] = list(getattr(option, key)) if key == "choices" else getattr(option, key)
    return entry


def module_documentation():
    module = importlib.import_module("ansible_collections.aemops.ims.plugins.modules.aem_ims_token")
    return yaml.safe_load(module.DOCUMENTATION)


def lookup_documentation():
    module = importlib.import_module("ansible_collections.aemops.ims.plugins.lookup.aem_ims_token")
    return yaml.safe_load(module.DOCUMENTATION)


# --- the fragment -----------------------------------------------------------------------------


def test_every_option_is_documented_in_the_order_of_the_table():
    assert list(DOCS) == list(LOOKUP_OPTIONS)
    assert list(PLUGINS) == list(LOOKUP_OPTIONS)
    assert MODULE_ONLY == ["fact_name", "state", "access_token"]


@pytest.mark.parametrize("name", list(LOOKUP_OPTIONS))
def test_type_default_choices_and_elements_match(name):
    documented = DOCS[name]
    assert {key: documented[key] for key in SPEC_KEYS if key in documented} == table_entry(OPTIONS[name])
    assert set(documented) - {"description", "version_added"} <= set(SPEC_KEYS)
    assert documented.get("required", False) is False
    assert documented.get("version_added") == ADDED.get(name)


@pytest.mark.parametrize("name", list(LOOKUP_OPTIONS))
def test_environment_variable_is_the_same_and_described(name):
    env = OPTIONS[name].env
    assert PLUGINS[name]["env"] == [{"name": env}]
    assert any("E(%s)" % env in line for line in DOCS[name]["description"]), name


@pytest.mark.parametrize("name", list(LOOKUP_OPTIONS))
def test_variable_name(name):
    assert PLUGINS[name]["vars"] == [{"name": OPTIONS[name].variable}]
    assert OPTIONS[name].variable == "aem_ims_" + name


@pytest.mark.parametrize("name", list(LOOKUP_OPTIONS))
def test_ini_entries(name):
    if OPTIONS[name].in_ini:
        assert PLUGINS[name]["ini"] == [{"section": "aem_ims", "key": name}]
    else:
        assert "ini" not in PLUGINS[name]
    assert set(PLUGINS[name]) <= set(SOURCE_KEYS)


def test_options_kept_out_of_ansible_cfg():
    without_ini = {name for name in PLUGINS if "ini" not in PLUGINS[name]}
    assert {name for name in SECRET_OPTIONS if name in LOOKUP_OPTIONS} <= without_ini
    assert "ini" in PLUGINS["validate"]
    assert without_ini == {name for name, option in LOOKUP_OPTIONS.items() if not option.in_ini}


def test_secret_options_are_the_no_log_ones():
    spec = _settings.argument_spec()
    assert set(SECRET_OPTIONS) == {name for name, entry in spec.items() if entry.get("no_log")}
    assert set(SECRET_OPTIONS) == {"service_credentials", "client_secret", "private_key", "private_key_passphrase", "proxy_url", "access_token"}


# --- the module -------------------------------------------------------------------------------


def test_module_documentation_has_its_own_options():
    documentation = module_documentation()
    assert "aemops.ims.aem_ims" in documentation["extends_documentation_fragment"]
    assert "aemops.ims.aem_ims.plugins" not in documentation["extends_documentation_fragment"]
    own = documentation["options"]
    assert list(own) == MODULE_ONLY
    for name in MODULE_ONLY:
        assert {key: own[name][key] for key in SPEC_KEYS if key in own[name]} == table_entry(OPTIONS[name])
        assert own[name].get("version_added") == ADDED.get(name)


def test_merged_module_documentation_as_ansible_doc_sees_it():
    doc = get_docstring(os.path.join(PLUGINS_DIR, "modules", "aem_ims_token.py"), fragment_loader, collection_name="aemops.ims", plugin_type="module")[0]
    assert set(doc["options"]) == set(OPTIONS)
    assert all("env" not in option and "vars" not in option and "ini" not in option for option in doc["options"].values())
    for name, option in OPTIONS.items():
        assert {key: doc["options"][name][key] for key in SPEC_KEYS if key in doc["options"][name]} == table_entry(option), name


def test_the_argument_spec_says_what_the_module_documentation_says():
    doc = get_docstring(os.path.join(PLUGINS_DIR, "modules", "aem_ims_token.py"), fragment_loader, collection_name="aemops.ims", plugin_type="module")[0]
    spec = _settings.argument_spec()
    assert set(spec) == set(doc["options"])
    for name, entry in spec.items():
        assert {key: entry[key] for key in SPEC_KEYS if key in entry} == {key: doc["options"][name][key] for key in SPEC_KEYS if key in doc["options"][name]}


# --- the lookup -------------------------------------------------------------------------------


def test_lookup_documentation_is_inline_and_extends_both_parts():
    documentation = lookup_documentation()
    assert documentation["name"] == "aem_ims_token"
    assert documentation["extends_documentation_fragment"] == ["aemops.ims.aem_ims", "aemops.ims.aem_ims.plugins"]
    assert set(documentation["options"]) == {"_terms"}
    assert (documentation["options"]["_terms"]["type"], documentation["options"]["_terms"]["elements"]) == ("list", "path")
    assert not os.path.exists(os.path.join(PLUGINS_DIR, "lookup", "aem_ims_token.yml")), "no sidecar documentation"


def merged_lookup_options():
    """The lookup's options as ansible-doc sees them: its DOCUMENTATION with both parts of the fragment."""
    doc = get_plugin_docs(NAME, "lookup", lookup_loader, fragment_loader, False)[0]
    assert doc["filename"].endswith("plugins/lookup/aem_ims_token.py")
    assert doc["short_description"].startswith("Get an Adobe IMS access token")
    return doc["options"]


def loader_lookup_options(monkeypatch):
    """The lookup's options as ansible-core's plugin loader reads them from the documentation, when nothing is registered."""

    class Config:
        """ansible-core's config manager, with nothing registered for the lookup, recording what the loader registers."""

        registered: tuple = ()

        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def has_configuration_definition(self, plugin_type, name):
            return False

        def initialize_plugin_configuration_definitions(self, plugin_type, name, definitions):
            Config.registered = (plugin_type, name, definitions)

    plugin = lookup_loader.get(NAME)
    module = importlib.import_module(type(plugin).__module__)
    with monkeypatch.context() as patched:
        patched.setattr(C, "config", Config(C.config))
        lookup_loader._load_config_defs(plugin._load_name, module, plugin._original_path)
    plugin_type, name, definitions = Config.registered
    assert (plugin_type, name) == ("lookup", plugin._load_name)
    return definitions


def what_ansible_core_acts_on(definitions):
    return {name: {key: definition[key] for key in (*SPEC_KEYS, *SOURCE_KEYS, "required") if key in definition} for name, definition in definitions.items()}


@pytest.mark.parametrize("view", ["ansible-doc", "plugin-loader"])
def test_registered_definitions_say_what_the_merged_lookup_documentation_says(monkeypatch, view):
    merged = merged_lookup_options() if view == "ansible-doc" else loader_lookup_options(monkeypatch)
    registered = plugin_option_definitions()
    assert list(registered) == ["_terms", *LOOKUP_OPTIONS]
    assert set(merged) == set(registered)
    # The same sources and defaults; the registered ones take every value as written (type raw,
    # no choices, no elements) for the strict pass to convert, where the documented ones convert.
    as_written = {"type", "choices", "elements"}

    def sources_and_defaults(definitions):
        acted_on = what_ansible_core_acts_on(definitions)
        return {name: {key: value for key, value in entry.items() if name == "_terms" or key not in as_written} for name, entry in acted_on.items()}

    assert sources_and_defaults(merged) == sources_and_defaults(registered)
    for name in LOOKUP_OPTIONS:
        assert registered[name]["type"] == "raw"
        # Nothing documented that the registered definitions leave out (aliases, deprecation...) but what only ansible-doc shows.
        assert set(merged[name]) - set(DOC_ONLY_KEYS) - as_written == set(registered[name]) - {"description", "type"}, name
        assert merged[name].get("version_added") == ADDED.get(name)
    assert merged["client_id"]["env"] == [{"name": "AEM_IMS_CLIENT_ID"}]
    assert merged["cache"]["choices"] == ["run", "persistent", "off"]
    assert (registered["_terms"]["type"], registered["_terms"]["elements"], registered["_terms"]["required"]) == ("list", "path", False)
