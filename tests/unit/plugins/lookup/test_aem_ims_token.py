# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the aem_ims_token lookup: loading, terms, where options come from, errors like the module's, the cache hit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import types
from unittest.mock import MagicMock

import pytest

import ansible.plugins.loader as plugin_loader_module
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import action_loader, lookup_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.aemops.ims.plugins.module_utils import _settings
from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import CONFIRMED_NOTE, RUN_CACHE_SUBDIR, token_digest
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import TokenCache
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, OptionError
from ansible_collections.aemops.ims.plugins.module_utils._options import LOOKUP_OPTIONS, OPTIONS, SECRET_OPTIONS, plugin_option_definitions
from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options
from ansible_collections.aemops.ims.plugins.plugin_utils import _controller, _files
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_ID, CLIENT_SECRET, build_settings

NAME = "aemops.ims.aem_ims_token"
LOOKUP_MODULE = "ansible_collections.aemops.ims.plugins.lookup.aem_ims_token"
ENVIRONMENT_VARIABLES = [option.env for option in LOOKUP_OPTIONS.values()]
REGISTERED_DESCRIPTION = ["See ansible-doc -t lookup aemops.ims.aem_ims_token."]
# The keys of an option definition that ansible-core acts on.
DEFINITION_KEYS = ("type", "default", "choices", "elements", "env", "vars", "ini", "required")


class Obtained:
    """TokenService.obtain stand-in: one token per credentials file, every call recorded with what the service was built with."""

    def __init__(self):
        self.calls = []
        self.failure = None

    def __call__(self, settings, credentials_file=None, run_cache_dir=None, **kwargs):
        self.calls.append(dict(kwargs, settings=settings, credentials_file=credentials_file, run_cache_dir=run_cache_dir))
        if self.failure is not None:
            raise self.failure
        token = "token-for-%s" % (credentials_file.rsplit("/", 1)[-1] if credentials_file else "options")
        return {"access_token": token, "cached": False}

    def service(self, settings, run_dir=None, warn=None, now=None, reader=None):
        """What the lookup builds in place of TokenService(settings, run_dir, warn, reader=...)."""
        built = {"warn": warn} if reader is None else {"warn": warn, "reader": reader}
        return types.SimpleNamespace(obtain=lambda credentials_file=None, **kwargs: self(settings, credentials_file, run_dir, **built, **kwargs))


@pytest.fixture(autouse=True)
def no_ansible_cfg(ansible_cfg):
    """No ansible.cfg of the developer's reaches a test."""
    ansible_cfg("[defaults]\n", "empty.cfg")


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    directory = tmp_path / "ansible-local"
    directory.mkdir()
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(directory))
    return directory


@pytest.fixture
def obtained(monkeypatch, run_dir):
    fake = Obtained()
    monkeypatch.setattr(_controller, "TokenService", fake.service)
    return fake


def lookup(terms=None, variables=None, **kwargs):
    variables = variables or {}
    loader = DataLoader()
    plugin = lookup_loader.get(NAME, loader=loader, templar=Templar(loader=loader, variables=variables))
    return plugin.run(terms or [], variables, **kwargs)


def lookup_error(terms=None, variables=None, **kwargs):
    with pytest.raises(AnsibleLookupError) as info:
        lookup(terms, variables, **kwargs)
    message = str(info.value.message)
    assert "\n" not in message
    return message


def module_message(args):
    """The message of the module (its action plugin) for the same arguments, in the same environment."""
    task = MagicMock(Task)
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = False
    task.action = NAME
    action = action_loader.get(NAME, task=task, connection=MagicMock(), play_context=PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    result = action.run(task_vars={})
    assert result.get("failed") is True, result
    return result["msg"]


def write_credentials(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


# --- loading ----------------------------------------------------------------------------------


def test_the_lookup_is_found():
    plugin = lookup_loader.get(NAME)
    assert type(plugin).__name__ == "LookupModule"
    assert type(plugin).__module__ == LOOKUP_MODULE
    assert plugin._load_name == LOOKUP_MODULE


def test_its_options_are_what_the_table_says():
    definitions = C.config.get_configuration_definitions("lookup", lookup_loader.get(NAME)._load_name)
    assert sorted(definitions) == sorted(["_terms", *LOOKUP_OPTIONS])


class RecordingLoader:
    """ansible-core's YAML loader (a class before 2.19, a factory since), recording what the plugin loader parses."""

    parsed: list = []
    real = plugin_loader_module.AnsibleLoader

    def __new__(cls, stream, *args, **kwargs):
        cls.parsed.append(str(stream))
        return cls.real(stream, *args, **kwargs)


@pytest.fixture
def fresh_load(monkeypatch):
    """Load the lookup as a new worker does: not imported yet, no definitions registered for it, YAML parsing recorded.

    The unit run has loaded the lookup already (ansible-core keeps plugin modules in
    lookup_loader._module_cache and sys.modules); without this, the registration at import
    would not run again and the tests below would prove nothing.
    """
    lookup_loader.get(NAME)
    previous = sys.modules[LOOKUP_MODULE]
    monkeypatch.delitem(sys.modules, LOOKUP_MODULE)
    monkeypatch.setattr(lookup_loader, "_module_cache", {})
    plugins = {kind: dict(definitions) for kind, definitions in C.config._plugins.items()}
    plugins.get("lookup", {}).pop(LOOKUP_MODULE, None)
    monkeypatch.setattr(C.config, "_plugins", plugins)
    monkeypatch.setattr(RecordingLoader, "parsed", [])
    monkeypatch.setattr(plugin_loader_module, "AnsibleLoader", RecordingLoader)
    assert not C.config.has_configuration_definition("lookup", LOOKUP_MODULE)

    def load():
        plugin = lookup_loader.get(NAME)
        assert sys.modules[LOOKUP_MODULE] is not previous, "the lookup's module was not loaded again"
        assert plugin._load_name == LOOKUP_MODULE
        return plugin

    return load


def documented(definitions):
    return {name: {key: definition[key] for key in DEFINITION_KEYS if key in definition} for name, definition in definitions.items()}


def test_loading_registers_the_tables_definitions_and_the_loader_parses_no_documentation(fresh_load, obtained):
    plugin = fresh_load()
    assert RecordingLoader.parsed == [], "the plugin loader parsed the lookup's documentation"
    registered = C.config.get_configuration_definitions("lookup", plugin._load_name)
    assert documented(registered) == documented(plugin_option_definitions())
    assert registered["client_id"]["description"] == REGISTERED_DESCRIPTION
    # Every later get() of the plugin finds them registered.
    assert lookup(client_id="keyword-client") == ["token-for-options"]
    assert obtained.calls[-1]["settings"].client_id == "keyword-client"
    assert RecordingLoader.parsed == []


def test_the_registration_never_replaces_definitions(fresh_load):
    plugin = fresh_load()
    module = sys.modules[LOOKUP_MODULE]
    sentinel = {"client_id": {"type": "str", "description": ["already there"]}}
    C.config.initialize_plugin_configuration_definitions("lookup", plugin._load_name, sentinel)
    module._register_option_definitions()
    assert C.config.get_configuration_definitions("lookup", plugin._load_name) == sentinel


class ConfigWithoutRegistration:
    """A config manager without the two methods the registration uses, as some ansible-core might have."""

    def __init__(self, config):
        self._config = config

    def __getattr__(self, name):
        if name in ("has_configuration_definition", "initialize_plugin_configuration_definitions"):
            raise AttributeError(name)
        return getattr(self._config, name)


@pytest.mark.parametrize("config", [ConfigWithoutRegistration, lambda real: None], ids=["without-the-methods", "no-config-manager"])
def test_the_registration_does_nothing_where_the_config_manager_cannot_take_it(fresh_load, monkeypatch, config):
    plugin = fresh_load()
    module = sys.modules[LOOKUP_MODULE]
    C.config._plugins["lookup"].pop(plugin._load_name)
    real = C.config
    monkeypatch.setattr(C, "config", config(real))
    module._register_option_definitions()
    assert not real.has_configuration_definition("lookup", plugin._load_name)


def load_without_the_registration(monkeypatch, fresh_load):
    """Load the lookup while ansible-core's config manager lacks the registration's methods."""
    real_load_module_source = lookup_loader._load_module_source

    def load_module_source(*args, **kwargs):
        real_config = C.config
        C.config = ConfigWithoutRegistration(real_config)
        try:
            return real_load_module_source(*args, **kwargs)
        finally:
            C.config = real_config

    monkeypatch.setattr(lookup_loader, "_load_module_source", load_module_source)
    return fresh_load()


def test_without_the_registration_the_loader_reads_the_documented_options(fresh_load, monkeypatch, obtained, ansible_cfg):
    # ansible-core's config manager lacks the methods while the plugin module loads: the loader's
    # normal path parses DOCUMENTATION with its doc fragments, and the lookup works the same.
    plugin = load_without_the_registration(monkeypatch, fresh_load)
    assert len(RecordingLoader.parsed) == 1 and "short_description: Get an Adobe IMS access token" in RecordingLoader.parsed[0]
    registered = C.config.get_configuration_definitions("lookup", plugin._load_name)
    assert registered["client_id"]["description"] != REGISTERED_DESCRIPTION
    assert (registered["timeout"]["type"], registered["cache"]["choices"]) == ("float", ["run", "persistent", "off"])
    cfg = ansible_cfg("[aem_ims]\ntimeout = 12\n")
    assert lookup(variables={"aem_ims_client_id": "var-client"}) == ["token-for-options"]
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_id, settings.where("client_id"), settings.timeout, settings.where("timeout")) == (
        "var-client",
        "variable aem_ims_client_id",
        12.0,
        "[aem_ims] timeout in %s" % cfg,
    )


def test_without_the_registration_an_empty_environment_variable_still_counts_as_unset(fresh_load, monkeypatch, obtained):
    # ansible-core would hand over False for an empty AEM_IMS_VALIDATE_CERTS of the documented bool type.
    load_without_the_registration(monkeypatch, fresh_load)
    monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", "")
    lookup(client_id=CLIENT_ID)
    assert obtained.calls[-1]["settings"].validate_certs is True


@pytest.mark.xfail(strict=True, reason="without the registration, ansible-core converts ansible.cfg's 'ture' leniently to false first")
def test_without_the_registration_a_typo_in_ansible_cfg_is_not_caught(fresh_load, monkeypatch, obtained, ansible_cfg):
    # What the registration is for: with the documented types, ansible-core hands over False for
    # "ture", and the strict pass cannot tell it from a "false" written on purpose.
    load_without_the_registration(monkeypatch, fresh_load)
    ansible_cfg("[aem_ims]\nvalidate_certs = ture\n")
    lookup_error()


# --- terms ------------------------------------------------------------------------------------


def test_no_terms_gives_one_token_from_the_options(obtained, run_dir):
    assert lookup(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=["openid"]) == ["token-for-options"]
    (call,) = obtained.calls
    assert call["credentials_file"] is None
    assert call["run_cache_dir"] == str(run_dir)
    assert call["warn_on_cache_hit"] is False
    assert call["warn"] is _controller.warn
    assert call["inputs"].startswith("i") and len(call["inputs"]) == 65
    assert (call["settings"].client_id, call["settings"].client_secret, call["settings"].scopes) == (CLIENT_ID, CLIENT_SECRET, ("openid",))


def test_each_term_gives_one_token(obtained, tmp_path, creds):
    first = write_credentials(tmp_path, "dev.json", creds.aem())
    second = write_credentials(tmp_path, "stage.json", creds.flat_s2s())
    assert lookup([first, " " + second + " "]) == ["token-for-dev.json", "token-for-stage.json"]
    assert [call["credentials_file"] for call in obtained.calls] == [first, second]
    # One input fingerprint per term.
    assert len({call["inputs"] for call in obtained.calls}) == 2


def test_terms_in_the_home_directory_are_expanded(obtained, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "creds.json").write_text("{}")
    assert lookup(["~/creds.json"]) == ["token-for-creds.json"]
    assert obtained.calls[-1]["credentials_file"] == str(tmp_path / "creds.json")


def test_relative_terms_are_looked_for_in_files_then_the_playbook_directory_not_the_current_one(obtained, monkeypatch, tmp_path):
    playbook = tmp_path / "playbook"
    (playbook / "files").mkdir(parents=True)
    (playbook / "files" / "known.json").write_text("{}")
    (playbook / "beside.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "unknown.json").write_text("{}")
    monkeypatch.chdir(elsewhere)
    variables = {"ansible_search_path": [str(playbook)]}
    loader = DataLoader()
    # ansible-playbook's loader has the playbook's directory as its base directory.
    loader.set_basedir(str(playbook))
    plugin = lookup_loader.get(NAME, loader=loader, templar=Templar(loader=loader, variables=variables))
    assert plugin.run(["known.json", "beside.json"], variables) == ["token-for-known.json", "token-for-beside.json"]
    assert [call["credentials_file"] for call in obtained.calls] == [str(playbook / "files" / "known.json"), str(playbook / "beside.json")]
    # The current directory is not searched: every path tried is shown, and what gave the name.
    with pytest.raises(AnsibleLookupError) as info:
        plugin.run(["unknown.json"], variables)
    assert str(info.value.message) == (
        "service credentials file unknown.json (from the lookup's term) does not exist: a relative path is looked for in the playbook's "
        "(or role's) files/ directory and its own directory, as lookup('file') does; tried %s, %s"
        % (playbook / "files" / "unknown.json", playbook / "unknown.json")
    )


def test_relative_option_paths_follow_the_same_rule_and_name_their_source(creds, fake_ims, run_dir, tmp_path):
    playbook = tmp_path / "playbook"
    (playbook / "files").mkdir(parents=True)
    write_credentials(playbook / "files", "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="relative")
    variables = {"ansible_search_path": [str(playbook)], "aem_ims_service_credentials_file": "creds.json"}
    assert lookup([], variables) == ["relative"]
    variables["aem_ims_service_credentials_file"] = "missing.json"
    assert lookup_error([], variables).startswith(
        "service credentials file missing.json (from variable aem_ims_service_credentials_file) does not exist: a relative path is looked for"
    )


@pytest.mark.parametrize("term, kind", [("", "an empty string"), ("   ", "an empty string"), (5, "an int"), (["a"], "a list"), (None, "nothing")])
def test_bad_terms(obtained, term, kind):
    assert lookup_error([term]) == "each term must be the path of a credentials file, got %s" % kind
    assert obtained.calls == []


# --- precedence -------------------------------------------------------------------------------


def test_precedence_keyword_variable_environment_ini_default(obtained, monkeypatch, ansible_cfg):
    cfg = ansible_cfg("[aem_ims]\nclient_id = ini-client\ntimeout = 12\n")
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    variables = {"aem_ims_client_id": "var-client"}

    def settings_after(**kwargs):
        lookup(variables=variables, **kwargs)
        return obtained.calls[-1]["settings"]

    settings = settings_after(client_id="keyword-client")
    assert (settings.client_id, settings.where("client_id")) == ("keyword-client", "the keyword client_id")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("var-client", "variable aem_ims_client_id")
    variables = {}
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("env-client", "environment variable AEM_IMS_CLIENT_ID")
    monkeypatch.delenv("AEM_IMS_CLIENT_ID")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("ini-client", "[aem_ims] client_id in %s" % cfg)
    assert (settings.timeout, settings.where("timeout")) == (12.0, "[aem_ims] timeout in %s" % cfg)
    ansible_cfg("[defaults]\n", "other.cfg")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == (None, "the client_id option or AEM_IMS_CLIENT_ID")
    assert (settings.timeout, settings.retries, settings.cache, settings.auth_method) == (30.0, 3, "run", "auto")


def test_secret_options_are_not_read_from_ansible_cfg(obtained, ansible_cfg):
    ansible_cfg("[aem_ims]\nclient_secret = from-ansible-cfg\nproxy_url = http://u:p@proxy:3128\nforce_refresh = true\n")
    lookup()
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_secret, settings.proxy_url, settings.force_refresh) == (None, None, False)


@pytest.mark.parametrize("with_ansible_cfg", [False, True])
def test_empty_environment_variables_mean_unset_and_the_default_applies(obtained, monkeypatch, ansible_cfg, with_ansible_cfg):
    # AWX and Automation Platform inject every field of a credential type, empty or not. ansible-core
    # takes an empty variable as set and does not read ansible.cfg for that option: the default applies.
    if with_ansible_cfg:
        ansible_cfg(EVERYTHING_IN_ANSIBLE_CFG)
    for env in ENVIRONMENT_VARIABLES:
        monkeypatch.setenv(env, "" if env != "AEM_IMS_TIMEOUT" else "  ")
    assert lookup(client_id=CLIENT_ID) == ["token-for-options"]
    settings = obtained.calls[-1]["settings"]
    assert (settings.timeout, settings.retries, settings.jwt_lifetime, settings.refresh_margin) == (30.0, 3, 300, 600)
    assert (settings.validate_certs, settings.force_refresh, settings.cache, settings.auth_method) == (True, False, "run", "auto")
    assert (settings.service_credentials_file, settings.ca_path, settings.client_secret, settings.metascopes) == (None, None, None, ())
    assert settings.origins == {"client_id": "Direct"}


def test_a_lookup_never_changes_the_environment(obtained, monkeypatch, ansible_cfg, creds, tmp_path):
    ansible_cfg("[aem_ims]\nims_endpoint = ims-na1-stg1.adobelogin.com\n")
    for env in ENVIRONMENT_VARIABLES:
        monkeypatch.setenv(env, "")
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    before = dict(os.environ)
    lookup([write_credentials(tmp_path, "c.json", creds.aem())], {"aem_ims_org_id": "var-org"}, retries=1)
    lookup_error(retries="many")
    obtained.failure = CredentialsError("client_secret is missing")
    lookup_error()
    assert dict(os.environ) == before


def test_list_options_from_the_environment_and_variables(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_METASCOPES", "ent_aem_cloud_api, ent_cloudmgr_sdk")
    lookup(variables={"aem_ims_scopes": ["openid", "AdobeID,openid"]})
    settings = obtained.calls[-1]["settings"]
    assert settings.metascopes == ("ent_aem_cloud_api", "ent_cloudmgr_sdk")
    assert settings.scopes == ("openid", "AdobeID")


def test_option_variables_are_templated(obtained):
    variables = {"aem_ims_client_id": trust_as_template("{{ vault_client_id }}"), "vault_client_id": "templated-client", "unrelated": 1}
    lookup(variables=variables)
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_id, settings.where("client_id")) == ("templated-client", "variable aem_ims_client_id")


def test_every_option_can_come_from_a_variable(obtained):
    variables = {"aem_ims_client_id": "v-client", "aem_ims_retries": 1, "aem_ims_cache": "off", "aem_ims_ims_endpoint": "ims-na1-stg1.adobelogin.com"}
    lookup(variables=variables)
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_id, settings.retries, settings.cache, settings.ims_endpoint) == ("v-client", 1, "off", "https://ims-na1-stg1.adobelogin.com")
    assert all(settings.where(name[len("aem_ims_") :]) == "variable " + name for name in variables)


def test_the_options_are_checked_once_per_call(obtained, monkeypatch, tmp_path, creds):
    checked = []
    real = _settings.settings_from_options

    def counting(*args, **kwargs):
        checked.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_settings, "settings_from_options", counting)
    first = write_credentials(tmp_path, "a.json", creds.aem())
    second = write_credentials(tmp_path, "b.json", creds.aem())
    lookup([first, second], client_id="x")
    assert len(checked) == 1
    assert len(obtained.calls) == 2


# --- option resolution: ansible-core's, each option as written, and where it came from ----------

NOT_IN_INI = sorted(name for name, option in LOOKUP_OPTIONS.items() if not option.in_ini)
# Every lookup option in ansible.cfg, those ansible.cfg may not hold included.
SAMPLE_VALUES = {"auth_method": "jwt", "jwt_lifetime": "120", "validate_certs": "false", "timeout": "12", "retries": "2", "cache": "off"}
SAMPLE_VALUES.update(refresh_margin="60", force_refresh="true", validate="true")
EVERYTHING_IN_ANSIBLE_CFG = "[aem_ims]\n" + "".join("%s = %s\n" % (name, SAMPLE_VALUES.get(name, "cfg-" + name)) for name in LOOKUP_OPTIONS)


def new_plugin(variables=None):
    loader = DataLoader()
    return lookup_loader.get(NAME, loader=loader, templar=Templar(loader=loader, variables=variables or {}))


def resolve(variables=None, keywords=None, plugin=None):
    """What the lookup makes of these variables and keywords before its strict pass: (values, origins)."""
    variables, keywords = variables or {}, keywords or {}
    plugin = plugin or new_plugin(variables)
    plugin.set_options(var_options=variables, direct=keywords)
    return plugin._as_written(variables, keywords)


def test_each_source_for_a_different_option(monkeypatch, ansible_cfg):
    cfg = ansible_cfg("[aem_ims]\ntimeout = 12\n")
    monkeypatch.setenv("AEM_IMS_ORG_ID", "env-org")
    values, origins = resolve({"aem_ims_scopes": ["openid"], "unrelated": 1}, {"client_id": "keyword-client"})
    # As written: "12" from ansible.cfg stays text for the strict pass to convert.
    assert values == {"client_id": "keyword-client", "scopes": ["openid"], "org_id": "env-org", "timeout": "12"}
    # Origins in ansible-core's words: "Direct" for a keyword, as a task argument is for the module.
    assert origins == {"client_id": "Direct", "scopes": "var: aem_ims_scopes", "org_id": "env: AEM_IMS_ORG_ID", "timeout": cfg}


def test_options_from_the_environment_are_the_modules_word_for_word(monkeypatch):
    # The failure memory and the aliases of a run are keyed on values and origins: a credential
    # given by AEM_IMS_* variables (AWX, AAP) is the same input to the module and to the lookup.
    environ = {"AEM_IMS_CLIENT_ID": "env-client", "AEM_IMS_TIMEOUT": "7", "AEM_IMS_METASCOPES": "a,b", "AEM_IMS_CACHE": ""}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert resolve() == _settings.module_option_values({}, environ)


def test_nothing_set_gives_nothing():
    assert resolve() == ({}, {})


def test_a_keyword_set_to_none_still_wins():
    # As ansible-core does for direct options: None set on purpose hides the lower sources.
    values, origins = resolve({"aem_ims_client_id": "var-client"}, {"client_id": None})
    assert (values["client_id"], origins["client_id"]) == (None, "Direct")


def test_every_source_hands_values_over_as_written(monkeypatch, ansible_cfg):
    monkeypatch.setenv("AEM_IMS_RETRIES", "2")
    ansible_cfg("[aem_ims]\nrefresh_margin = 60\nvalidate = yes\n")
    values, _origins = resolve({"aem_ims_timeout": "7.5", "aem_ims_metascopes": "a, b"}, {"jwt_lifetime": "120", "validate_certs": "no"})
    assert values == {
        "jwt_lifetime": "120",
        "validate_certs": "no",
        "timeout": "7.5",
        "metascopes": "a, b",
        "retries": "2",
        "refresh_margin": "60",
        "validate": "yes",
    }


def test_ansible_cfg_values_are_unquoted_and_relative_paths_are_relative_to_the_file(ansible_cfg, tmp_path):
    cfg = ansible_cfg('[aem_ims]\nims_endpoint = "ims-na1-stg1.adobelogin.com"\nmetascopes = a, b\ncache_dir = tokens\nca_path = /etc/ca.pem\n')
    values, _origins = resolve()
    assert os.path.dirname(cfg) == str(tmp_path)
    assert values == {"ims_endpoint": "ims-na1-stg1.adobelogin.com", "metascopes": "a, b", "cache_dir": str(tmp_path / "tokens"), "ca_path": "/etc/ca.pem"}


@pytest.mark.parametrize("source", ["keyword", "variable", "environment", "ansible.cfg"])
def test_a_mistyped_boolean_reaches_the_strict_pass_as_written(monkeypatch, ansible_cfg, source):
    # ansible-core's lenient booleans read "ture" as false: it must reach the strict pass as written.
    keywords, variables = {}, {}
    if source == "keyword":
        keywords["validate_certs"] = "ture"
    elif source == "variable":
        variables["aem_ims_validate_certs"] = "ture"
    elif source == "environment":
        monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", "ture")
    else:
        ansible_cfg("[aem_ims]\nvalidate_certs = ture\n")
    values, origins = resolve(variables, keywords)
    assert values["validate_certs"] == "ture"
    with pytest.raises(OptionError) as info:
        settings_from_options(values, origins, lookup=True)
    words = {"keyword": "the keyword validate_certs", "variable": "variable aem_ims_validate_certs"}
    words.update({"environment": "environment variable AEM_IMS_VALIDATE_CERTS", "ansible.cfg": "[aem_ims] validate_certs in %s" % C.CONFIG_FILE})
    assert info.value.msg == "validate_certs must be a boolean (true or false), got 'ture' (from %s)" % words[source]


def test_variables_are_templated_and_nothing_else(monkeypatch):
    templated = []

    class RecordingTemplar:
        @staticmethod
        def template(value):
            templated.append(value)
            return "templated-" + value

    monkeypatch.setenv("AEM_IMS_CREDENTIAL_NAME", "{{ e }}")
    plugin = lookup_loader.get(NAME, templar=RecordingTemplar())
    values, origins = resolve({"aem_ims_client_id": "{{ x }}", "unrelated": "{{ y }}"}, {"org_id": "{{ z }}"}, plugin=plugin)
    assert templated == ["{{ x }}"]
    assert values == {"client_id": "templated-{{ x }}", "org_id": "{{ z }}", "credential_name": "{{ e }}"}
    assert origins["client_id"] == "var: aem_ims_client_id"


def test_unknown_keywords_are_kept_for_the_check_to_name():
    values, origins = resolve(keywords={"client_id": "x", "bogus": 1, "fact_name": "f"})
    assert values == {"client_id": "x", "bogus": 1, "fact_name": "f"}
    assert origins == {"client_id": "Direct"}
    with pytest.raises(OptionError) as info:
        settings_from_options(values, origins, lookup=True)
    assert info.value.msg.startswith("Unsupported option(s) for aemops.ims.aem_ims_token: bogus, fact_name. Supported options: ")


def test_the_plugins_options_are_set_as_written():
    plugin = new_plugin()
    resolve({"aem_ims_org_id": "var-org"}, {"client_id": "keyword-client", "retries": "2"}, plugin=plugin)
    assert (plugin.get_option("client_id"), plugin.get_option("org_id"), plugin.get_option("retries")) == ("keyword-client", "var-org", "2")
    assert plugin.get_option("cache") == "run"


@pytest.mark.parametrize("empty_environment", [False, True])
def test_secrets_and_force_refresh_are_never_read_from_ansible_cfg(monkeypatch, ansible_cfg, empty_environment):
    ansible_cfg("[aem_ims]\n" + "".join("%s = from-ansible-cfg\n" % name for name in NOT_IN_INI))
    if empty_environment:
        for name in NOT_IN_INI:
            monkeypatch.setenv(OPTIONS[name].env, "")
    values, origins = resolve()
    assert (values, origins) == ({}, {})
    assert {name for name in SECRET_OPTIONS if name in LOOKUP_OPTIONS} <= set(NOT_IN_INI)


# --- errors -----------------------------------------------------------------------------------


def module_message_for_the_lookup(args):
    """The module's message for these task arguments, in the lookup's words for where they came from."""
    return module_message(args).replace("(from the task argument ", "(from the keyword ")


def test_core_errors_become_lookup_errors_with_the_same_message(obtained):
    obtained.failure = CredentialsError("client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID")
    assert lookup_error() == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jwt_lifetime": 5},
        {"jwt_lifetime": "abc"},
        {"retries": 11},
        {"client_secret": ["x"]},
        {"metascopes": {"a": 1}},
        {"cache": "sometimes"},
        {"auth_method": "password"},
        {"ims_endpoint": "https://ims-na1.adobelogin.com/ims/token/v3"},
        {"proxy_url": "proxy:3128"},
        {"service_credentials": [1, 2]},
        {"validate_certs": "ture"},
        {"force_refresh": "maybe"},
        {"validate": "maybe"},
        {"validate": "ture"},
        {"timeout": "slow"},
    ],
    ids="-".join,
)
def test_keyword_errors_match_the_module(obtained, kwargs):
    message = lookup_error(**kwargs)
    assert message == module_message_for_the_lookup(kwargs)
    assert message.endswith("(from the keyword %s)" % next(iter(kwargs)))
    assert obtained.calls == []


def test_unknown_keyword_gives_the_module_message(obtained):
    message = lookup_error(client_id="x", bogus=1)
    assert message == "Unsupported option(s) for aemops.ims.aem_ims_token: bogus. Supported options: %s" % ", ".join(sorted(LOOKUP_OPTIONS))
    module = module_message({"client_id": "x", "bogus": 1})
    assert module.split(". Supported options: ", maxsplit=1)[0] == message.split(". Supported options: ", maxsplit=1)[0]


def test_fact_name_is_not_a_lookup_option(obtained):
    assert lookup_error(fact_name="x").startswith("Unsupported option(s) for aemops.ims.aem_ims_token: fact_name. ")


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"state": "absent"}, "state"),
        ({"state": "present"}, "state"),
        ({"access_token": "eyJ.Lookup-Access-Token-3141.sig"}, "access_token"),
        ({"state": "absent", "access_token": "eyJ.Lookup-Access-Token-3141.sig"}, "access_token, state"),
    ],
)
def test_the_lookup_has_no_state_and_no_access_token(obtained, kwargs, named):
    # A lookup returns a token; revoking is the module's.
    message = lookup_error(client_id="x", **kwargs)
    assert message == "Unsupported option(s) for aemops.ims.aem_ims_token: %s. Supported options: %s" % (named, ", ".join(sorted(LOOKUP_OPTIONS)))
    assert "eyJ.Lookup-Access-Token-3141.sig" not in message
    assert obtained.calls == []


def test_state_and_access_token_variables_and_environment_variables_are_nothing_to_the_lookup(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_STATE", "absent")
    monkeypatch.setenv("AEM_IMS_ACCESS_TOKEN", "eyJ.Lookup-Access-Token-3141.sig")
    assert lookup(variables={"aem_ims_state": "absent", "aem_ims_access_token": "eyJ.x.y"}, client_id="x") == ["token-for-options"]
    settings = obtained.calls[-1]["settings"]
    assert (settings.state, settings.access_token) == ("present", None)


@pytest.mark.parametrize("source", ["keyword", "variable", "environment", "ansible.cfg"])
def test_validate_reaches_the_core_from_every_source(obtained, monkeypatch, ansible_cfg, source):
    keywords, variables = {}, {}
    if source == "keyword":
        keywords["validate"] = True
    elif source == "variable":
        variables["aem_ims_validate"] = "yes"
    elif source == "environment":
        monkeypatch.setenv("AEM_IMS_VALIDATE", "true")
    else:
        ansible_cfg("[aem_ims]\nvalidate = true\n")
    lookup(variables=variables, **keywords)
    assert obtained.calls[-1]["settings"].validate is True


@pytest.mark.parametrize(
    "env, value",
    [
        ("AEM_IMS_JWT_LIFETIME", "abc"),
        ("AEM_IMS_CACHE", "sometimes"),
        ("AEM_IMS_VALIDATE_CERTS", "maybe"),
        ("AEM_IMS_VALIDATE", "maybe"),
        ("AEM_IMS_RETRIES", "99"),
    ],
)
def test_environment_errors_are_the_modules_word_for_word(obtained, monkeypatch, env, value):
    # The same origin words too: the failure memory of a run is keyed on them.
    monkeypatch.setenv(env, value)
    message = lookup_error()
    assert message == module_message({})
    assert message.endswith("(from environment variable %s)" % env)


TYPO_IN_ANSIBLE_CFG = {
    "validate_certs": ("ture", "a boolean (true or false)"),
    "retries": ("many", "an integer"),
    "timeout": ("slow", "a number"),
    "cache": ("sometimes", None),
}


@pytest.mark.parametrize("name", sorted(TYPO_IN_ANSIBLE_CFG))
def test_a_typo_in_ansible_cfg_fails_naming_the_option_and_the_file(obtained, ansible_cfg, name):
    value, kind = TYPO_IN_ANSIBLE_CFG[name]
    cfg = ansible_cfg("[aem_ims]\n%s = %s\n" % (name, value))
    problem = "must be %s, got '%s'" % (kind, value) if kind else "must be one of run, persistent, off, got '%s'" % value
    assert lookup_error() == "%s %s (from [aem_ims] %s in %s)" % (name, problem, name, cfg)
    assert obtained.calls == []


@pytest.mark.parametrize("value", ["ture", "maybe", "yes please"])
@pytest.mark.parametrize("source", ["keyword", "variable", "environment", "ansible.cfg"])
def test_a_mistyped_validate_certs_never_turns_tls_verification_off(obtained, monkeypatch, ansible_cfg, source, value):
    # ansible-core's lenient boolean makes any unknown word false; the module refuses such a value, and so does the lookup.
    expected = "validate_certs must be a boolean (true or false), got '%s' (from " % value
    assert module_message({"validate_certs": value}) == expected + "the task argument validate_certs)"
    if source == "keyword":
        assert lookup_error(validate_certs=value) == expected + "the keyword validate_certs)"
    elif source == "variable":
        assert lookup_error(variables={"aem_ims_validate_certs": value}) == expected + "variable aem_ims_validate_certs)"
    elif source == "environment":
        monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", value)
        assert lookup_error() == expected + "environment variable AEM_IMS_VALIDATE_CERTS)"
    else:
        cfg = ansible_cfg("[aem_ims]\nvalidate_certs = %s\n" % value)
        assert lookup_error() == expected + "[aem_ims] validate_certs in %s)" % cfg
    assert obtained.calls == []


@pytest.mark.parametrize(
    "variable, value",
    [
        ("aem_ims_client_secret", ["Var-Secret-Value-777"]),
        ("aem_ims_client_secret", {"nested": "Var-Secret-Value-777"}),
        ("aem_ims_private_key", ["-----BEGIN RSA PRIVATE KEY-----", "Var-Secret-Value-777", "-----END RSA PRIVATE KEY-----"]),
        ("aem_ims_private_key_passphrase", ["Var-Secret-Value-777"]),
        ("aem_ims_proxy_url", {"url": "http://u:Var-Secret-Value-777@proxy:3128"}),
    ],
)
def test_secret_variables_of_the_wrong_type_are_not_quoted(obtained, variable, value):
    message = lookup_error(variables={variable: value})
    assert "Var-Secret-Value-777" not in message
    assert message.endswith("(from variable %s)" % variable)


def test_secrets_from_keywords_and_variables_are_redacted(obtained):
    obtained.failure = CredentialsError("IMS said Var-Secret-Value-777 and Kw-Secret-Value-888")
    message = lookup_error(variables={"aem_ims_client_secret": "Var-Secret-Value-777"}, private_key_passphrase="Kw-Secret-Value-888")
    assert message == "IMS said ******** and ********"


def test_secrets_from_the_environment_are_redacted(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_PROXY_URL", "http://user:Env-Proxy-Pass-555@proxy:3128")
    obtained.failure = CredentialsError("the proxy said Env-Proxy-Pass-555")
    assert lookup_error() == "the proxy said ********"


def test_unexpected_errors_hide_their_text(obtained):
    obtained.failure = ValueError("odd " + CLIENT_SECRET)
    message = lookup_error(client_secret=CLIENT_SECRET)
    assert re.match(
        r"^unexpected internal error in aemops\.ims\.aem_ims_token \(ValueError at test_aem_ims_token\.py:\d+\); "
        r"please report it at https://github\.com/aemops/ims/issues$",
        message,
    ), message


# --- the real path, with a fake IMS -----------------------------------------------------------


def test_a_token_is_fetched_once_and_then_served_from_the_cache(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.aem())
    fake_ims.token(expires_in=86399999, access_token="lookup-token")
    assert lookup([path]) == ["lookup-token"]
    assert lookup([path]) == ["lookup-token"]
    assert lookup(service_credentials_file=path) == ["lookup-token"]
    assert len(fake_ims.calls) == 1


def test_a_repeated_call_is_served_from_the_alias_without_checking_or_reading_again(creds, fake_ims, run_dir, tmp_path, monkeypatch):
    checked, read = [], []
    real_check, real_read = _settings.settings_from_options, _files.read_checked_bytes
    monkeypatch.setattr(_settings, "settings_from_options", lambda *args, **kwargs: checked.append(1) or real_check(*args, **kwargs))
    monkeypatch.setattr(_files, "read_checked_bytes", lambda *args: read.append(args[0]) or real_read(*args))
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="first")
    assert lookup([path]) == ["first"]
    assert (len(checked), read) == (1, [path])
    assert lookup([path]) == ["first"]
    assert (len(checked), read) == (1, [path])
    # The same content written again: the file is read again, and the cached token still serves.
    write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    assert lookup([path]) == ["first"]
    assert (len(checked), read) == (2, [path, path])
    assert len(fake_ims.calls) == 1


def test_a_changed_credentials_file_is_not_served_a_stale_token(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="first").token(expires_in=86399, access_token="second")
    assert lookup([path]) == ["first"]
    write_credentials(tmp_path, "creds.json", creds.flat_s2s(SCOPES=["openid"]))
    assert lookup([path]) == ["second"]
    assert len(fake_ims.calls) == 2


def test_changed_inputs_are_not_served_the_alias_of_others(creds, fake_ims, run_dir, tmp_path, monkeypatch):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="first").token(expires_in=86399, access_token="second")
    assert lookup([path]) == ["first"]
    # Another value of an option, from another source: validated again (and another token for other scopes).
    monkeypatch.setenv("AEM_IMS_SCOPES", "openid")
    assert lookup([path]) == ["second"]
    with pytest.raises(AnsibleLookupError):
        lookup([path], retries="many")
    assert len(fake_ims.calls) == 2


def test_force_refresh_and_cache_off_always_ask_ims(creds, fake_ims, run_dir, tmp_path, monkeypatch):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    for token in "abcdefg":
        fake_ims.token(expires_in=86399, access_token=token)
    assert lookup([path]) == ["a"]
    # Every forced call asks IMS, as the module does, and the new token is the cached one.
    assert lookup([path], force_refresh=True) == ["b"]
    assert lookup([path], force_refresh=True) == ["c"]
    assert lookup([path]) == ["c"]
    assert lookup([path], cache="off") == ["d"]
    assert lookup([path], cache="off") == ["e"]
    monkeypatch.setenv("AEM_IMS_FORCE_REFRESH", "yes")
    assert lookup([path]) == ["f"]
    assert lookup([path]) == ["g"]
    assert len(fake_ims.calls) == 7


def test_an_ims_failure_through_the_lookup(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.error(400, "invalid_scope", "Invalid scope")
    message = lookup_error([path], retries=0)
    assert message == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_scope: Invalid scope. "
        "Hint: the metascopes or scopes do not match those of the integration; copy them from the credentials"
    )


# --- validate: the alias serves a token only once IMS confirmed it in this run ----------------


def warm_cache(directory, credentials, token="cached-lookup-token"):
    """A token cached for these credentials by an earlier task or run (IMS not asked yet in this one)."""
    request = build_token_request(build_settings(service_credentials_file=credentials))
    now = time.time()
    TokenCache.open(directory).write(request.cache_key(), {"access_token": token, "issued_at": now, "expires_at": now + 86400})
    return request.cache_key()


@pytest.fixture
def counted_checks(monkeypatch):
    """How many times the lookup went the whole way (checked its options) rather than served a hit."""
    checked = []
    real_check = _settings.settings_from_options
    monkeypatch.setattr(_settings, "settings_from_options", lambda *args, **kwargs: checked.append(1) or real_check(*args, **kwargs))
    return checked


def validation_urls(fake_ims):
    return [call["url"] for call in fake_ims.calls if call["url"].endswith("/ims/validate_token/v1")]


@pytest.mark.parametrize("mode", ["run", "persistent"])
def test_with_validate_the_alias_serves_a_token_only_once_it_is_confirmed(creds, fake_ims, run_dir, tmp_path, counted_checks, mode):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    kwargs = {"validate": True, "cache": mode, "cache_dir": str(tmp_path / "persistent")}
    key = warm_cache(str(tmp_path / "persistent") if mode == "persistent" else str(run_dir / RUN_CACHE_SUBDIR), path)
    fake_ims.answer(200, {"valid": True})
    assert lookup([path], **kwargs) == ["cached-lookup-token"]
    assert (len(validation_urls(fake_ims)), len(counted_checks)) == (1, 1)
    assert fake_ims.calls[0]["fields"]["token"] == "cached-lookup-token"
    # Confirmed in this run: later calls with the same inputs are hits, with no request.
    for _unused in range(3):
        assert lookup([path], **kwargs) == ["cached-lookup-token"]
    assert (len(fake_ims.calls), len(counted_checks)) == (1, 1)
    # Without the confirmation (another run, say), the alias alone is not enough: IMS is asked again.
    os.unlink(str(run_dir / RUN_CACHE_SUBDIR / ("v%s.json" % key)))
    fake_ims.answer(200, {"valid": True})
    assert lookup([path], **kwargs) == ["cached-lookup-token"]
    assert (len(validation_urls(fake_ims)), len(counted_checks)) == (2, 2)


def test_with_validate_from_ansible_cfg_the_alias_needs_the_confirmation_too(creds, fake_ims, run_dir, tmp_path, ansible_cfg, counted_checks):
    ansible_cfg("[aem_ims]\nvalidate = true\n")
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    key = warm_cache(str(run_dir / RUN_CACHE_SUBDIR), path)
    fake_ims.answer(200, {"valid": True})
    assert lookup([path]) == lookup([path]) == ["cached-lookup-token"]
    assert (len(validation_urls(fake_ims)), len(counted_checks)) == (1, 1)
    # A confirmation of another token does not serve this one.
    TokenCache(str(run_dir / RUN_CACHE_SUBDIR)).write_note("v" + key, CONFIRMED_NOTE, {"token": token_digest("another-token")})
    fake_ims.answer(200, {"valid": True})
    assert lookup([path]) == ["cached-lookup-token"]
    assert (len(validation_urls(fake_ims)), len(counted_checks)) == (2, 2)


def test_without_validate_the_alias_needs_no_confirmation(creds, fake_ims, run_dir, tmp_path, counted_checks):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    warm_cache(str(run_dir / RUN_CACHE_SUBDIR), path)
    assert lookup([path]) == lookup([path]) == ["cached-lookup-token"]
    assert (fake_ims.calls, len(counted_checks)) == ([], 1)
    # The same call with validate is other inputs: it asks IMS, whatever the alias of the first says.
    fake_ims.answer(200, {"valid": True})
    assert lookup([path], validate=True) == lookup([path], validate=True) == ["cached-lookup-token"]
    assert (len(validation_urls(fake_ims)), len(counted_checks)) == (1, 2)


def test_with_validate_a_token_obtained_by_the_first_call_serves_the_next_ones(creds, fake_ims, run_dir, tmp_path, counted_checks):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="fresh-lookup-token")
    for _unused in range(3):
        assert lookup([path], validate=True) == ["fresh-lookup-token"]
    assert ([call["url"] for call in fake_ims.calls], len(counted_checks)) == (["https://ims-na1.adobelogin.com/ims/token/v3"], 1)


def test_with_validate_an_invalid_token_is_replaced_and_the_new_one_served(creds, fake_ims, run_dir, tmp_path, counted_checks):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    warm_cache(str(run_dir / RUN_CACHE_SUBDIR), path, token="revoked-lookup-token")
    fake_ims.answer(200, {"valid": False}).token(expires_in=86399, access_token="new-lookup-token")
    assert lookup([path], validate=True) == lookup([path], validate=True) == ["new-lookup-token"]
    assert len(fake_ims.calls) == 2 and len(validation_urls(fake_ims)) == 1
    assert len(counted_checks) == 1


def test_with_validate_a_failed_validation_fails_the_lookup(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    warm_cache(str(run_dir / RUN_CACHE_SUBDIR), path)
    fake_ims.answer(503, "busy")
    message = lookup_error([path], validate=True, retries=0)
    assert message == (
        "IMS answered the token validation with HTTP 503 and a non-JSON body (no content type): 'busy'. Hint: IMS had a server error; try again later"
    )
    assert "cached-lookup-token" not in message


# --- a cache hit in a new worker imports none of the heavy packages ---------------------------

_LOOKUP_CALL = r"""
import json, sys
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([sys.argv[1]])
from ansible import constants as C
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
# Every worker of one run shares the run's directory (ansible-playbook creates it once).
C.DEFAULT_LOCAL_TMP = sys.argv[2]
loader = DataLoader()
lookup = lookup_loader.get("aemops.ims.aem_ims_token", loader=loader, templar=Templar(loader=loader))
before = set(sys.modules)
tokens = lookup.run([sys.argv[3]], {}, **json.loads(sys.argv[4]))
heavy = ("requests", "jwt", "cryptography", "urllib3")
core = ("_token_service", "_credentials", "_credential_shapes", "_signing", "_ims_client", "_endpoints")
print(json.dumps({
    "tokens": tokens,
    "new_heavy": sorted(name for name in set(sys.modules) - before if name.split(".")[0] in heavy),
    "requests_or_jwt": sorted(name for name in sys.modules if name.split(".")[0] in ("requests", "jwt")),
    "core": sorted(name.rsplit(".", 1)[-1] for name in sys.modules if name.startswith("ansible_collections.aemops.ims.plugins.module_utils.")
                   and name.rsplit(".", 1)[-1] in core),
}))
"""


def _collections_root():
    import ansible_collections.aemops.ims.plugins.module_utils._errors as anchor  # pylint: disable=import-outside-toplevel

    path = os.path.abspath(anchor.__file__)
    for _unused in range(6):
        path = os.path.dirname(path)
    return path


@pytest.mark.parametrize("mode", ["run", "persistent"])
def test_a_cache_hit_in_a_new_worker_imports_no_heavy_package(creds, tmp_path, mode):
    credentials = write_credentials(tmp_path, "creds.json", creds.aem())
    run_root = tmp_path / "run"
    run_root.mkdir()
    cache_dir = tmp_path / "persistent"
    kwargs = {"cache": "persistent", "cache_dir": str(cache_dir)} if mode == "persistent" else {}
    # A token another run (persistent) or another task of this run (run) cached: no IMS needed.
    request = build_token_request(build_settings(service_credentials_file=credentials))
    now = time.time()
    entry = {"access_token": "cached-token", "issued_at": now, "expires_at": now + 3600, "certificate_not_after": "2999-01-01T00:00:00Z"}
    TokenCache.open(str(cache_dir) if mode == "persistent" else str(run_root / RUN_CACHE_SUBDIR)).write(request.cache_key(), entry)
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-temp"))

    def worker():
        completed = subprocess.run(
            [sys.executable, "-c", _LOOKUP_CALL, _collections_root(), str(run_root), credentials, json.dumps(kwargs)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout.strip().splitlines()[-1])

    # The first call goes the whole way (the core reads the credentials and finds the cached token) and leaves an alias.
    first = worker()
    assert first["tokens"] == ["cached-token"]
    assert {"_token_service", "_credentials", "_credential_shapes"} <= set(first["core"]), "the measurement sees the core when it loads"
    # A second call with the same inputs, in a new worker of the same run, is served from the alias alone.
    second = worker()
    assert second == {"tokens": ["cached-token"], "new_heavy": [], "requests_or_jwt": [], "core": []}
    # A credentials file written since is read again.
    write_credentials(tmp_path, "creds.json", creds.aem())
    third = worker()
    assert third["tokens"] == ["cached-token"]
    assert "_credentials" in third["core"]
    assert (third["new_heavy"], third["requests_or_jwt"]) == ([], [])
