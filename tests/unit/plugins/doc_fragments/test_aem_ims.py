# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation of the options says what the argument spec does, and the other way round."""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible.plugins.loader import fragment_loader, lookup_loader
from ansible.utils.plugin_docs import get_docstring, get_plugin_docs

from ansible_collections.aemops.ims.plugins.doc_fragments.aem_ims import ModuleDocFragment
from ansible_collections.aemops.ims.plugins.module_utils import _option_specs
from ansible_collections.aemops.ims.plugins.module_utils._options import MODULE_ONLY_SPECS, OPTION_SPECS, SECRET_OPTIONS

DOCS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
PLUGINS = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(_option_specs.__file__)))
SPEC_KEYS = ("type", "default", "choices", "elements")


def test_every_option_is_documented_in_the_order_of_the_spec():
    assert list(DOCS) == list(OPTION_SPECS)
    assert list(PLUGINS) == list(OPTION_SPECS)


@pytest.mark.parametrize("name", list(OPTION_SPECS))
def test_type_default_choices_and_elements_match(name):
    spec, _env = OPTION_SPECS[name]
    documented = DOCS[name]
    for key in SPEC_KEYS:
        assert documented.get(key) == spec.get(key), "%s: %s" % (name, key)
    assert set(documented) - {"description"} <= set(SPEC_KEYS)
    assert documented.get("required", False) is False


@pytest.mark.parametrize("name", list(OPTION_SPECS))
def test_environment_variable_is_the_same_and_described(name):
    _spec, env = OPTION_SPECS[name]
    assert PLUGINS[name]["env"] == [{"name": env}]
    assert any("E(%s)" % env in line for line in DOCS[name]["description"]), name


@pytest.mark.parametrize("name", list(OPTION_SPECS))
def test_variable_name(name):
    assert PLUGINS[name]["vars"] == [{"name": "aem_ims_" + name}]


@pytest.mark.parametrize("name", list(OPTION_SPECS))
def test_ini_entries(name):
    if name in SECRET_OPTIONS:
        assert "ini" not in PLUGINS[name]
    if "ini" in PLUGINS[name]:
        assert PLUGINS[name]["ini"] == [{"section": "aem_ims", "key": name}]
    assert set(PLUGINS[name]) <= {"env", "ini", "vars"}


def test_options_kept_out_of_ansible_cfg():
    without_ini = tuple(name for name in PLUGINS if "ini" not in PLUGINS[name])
    assert set(SECRET_OPTIONS) <= set(without_ini)
    assert set(_option_specs.NOT_IN_INI) == set(without_ini)


def test_registered_plugin_definitions_say_what_the_docs_say():
    registered = _option_specs.plugin_option_definitions()
    assert set(registered) == set(OPTION_SPECS) | {"_terms"}
    for name in OPTION_SPECS:
        for key in SPEC_KEYS:
            assert registered[name].get(key) == DOCS[name].get(key), "%s: %s" % (name, key)
        for key in ("env", "ini", "vars"):
            assert registered[name].get(key) == PLUGINS[name].get(key), "%s: %s" % (name, key)
    assert (registered["_terms"]["type"], registered["_terms"]["elements"], registered["_terms"].get("required", False)) == ("list", "path", False)


def test_secret_options_are_the_no_log_ones():
    assert set(SECRET_OPTIONS) == {name for name, (spec, _env) in OPTION_SPECS.items() if spec.get("no_log")}
    assert set(SECRET_OPTIONS) == {"service_credentials", "client_secret", "private_key", "private_key_passphrase", "proxy_url"}


def test_module_documentation_has_its_own_options():
    module = importlib.import_module("ansible_collections.aemops.ims.plugins.modules.aem_ims_token")
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert "aemops.ims.aem_ims" in documentation["extends_documentation_fragment"]
    assert "aemops.ims.aem_ims.plugins" not in documentation["extends_documentation_fragment"]
    own = documentation["options"]
    assert set(own) == set(MODULE_ONLY_SPECS)
    for name, spec in MODULE_ONLY_SPECS.items():
        for key in SPEC_KEYS:
            assert own[name].get(key) == spec.get(key), "%s: %s" % (name, key)


def test_lookup_documentation_extends_both_parts_and_documents_terms():
    with open(os.path.join(PLUGINS_DIR, "lookup", "aem_ims_token.yml"), encoding="utf-8") as handle:
        documentation = yaml.safe_load(handle)["DOCUMENTATION"]
    assert documentation["extends_documentation_fragment"] == ["aemops.ims.aem_ims", "aemops.ims.aem_ims.plugins"]
    assert set(documentation["options"]) == {"_terms"}
    assert (documentation["options"]["_terms"]["type"], documentation["options"]["_terms"]["elements"]) == ("list", "path")


def test_merged_lookup_documentation_as_ansible_doc_sees_it():
    # The way ansible-doc finds it: no DOCUMENTATION in the plugin file, so the YAML file beside it.
    doc = get_plugin_docs("aemops.ims.aem_ims_token", "lookup", lookup_loader, fragment_loader, False)[0]
    assert doc["filename"].endswith("plugins/lookup/aem_ims_token.yml")
    assert doc["short_description"].startswith("Get an Adobe IMS access token")
    assert set(doc["options"]) == set(OPTION_SPECS) | {"_terms"}
    assert doc["options"]["client_id"]["env"] == [{"name": "AEM_IMS_CLIENT_ID"}]
    assert doc["options"]["client_id"]["type"] == "str"
    assert doc["options"]["cache"]["choices"] == ["run", "persistent", "off"]


def test_merged_module_documentation_as_ansible_doc_sees_it():
    doc = get_docstring(os.path.join(PLUGINS_DIR, "modules", "aem_ims_token.py"), fragment_loader, collection_name="aemops.ims", plugin_type="module")[0]
    assert set(doc["options"]) == set(OPTION_SPECS) | set(MODULE_ONLY_SPECS)
    assert all("env" not in option and "vars" not in option for option in doc["options"].values())
