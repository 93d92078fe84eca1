# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _settings: the module's sources, the one strict pass, Settings, split_list, the argument spec."""

from __future__ import annotations

import os

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError
from ansible_collections.aemops.ims.plugins.module_utils._options import (
    AUTH_METHODS,
    CACHE_MODES,
    LOOKUP_OPTIONS,
    OPTIONS,
    SECRET_OPTIONS,
    STATES,
)
from ansible_collections.aemops.ims.plugins.module_utils._settings import (
    Settings,
    argument_spec,
    module_option_values,
    settings_from_options,
    split_list,
)

ALL_MODULE_OPTIONS = sorted(OPTIONS)
ALL_LOOKUP_OPTIONS = sorted(LOOKUP_OPTIONS)
LIMITED = sorted(name for name, option in OPTIONS.items() if option.limits)
EXAMPLE = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"
SECRET = "Sup3r-Secret-Value-0099"
MODULE_ONLY = ["fact_name", "state", "access_token"]
TOKEN = "eyJ.Access-Token-To-Revoke-4242.sig"


def settings(**values):
    return settings_from_options(values)


def option_error(values, lookup=False):
    with pytest.raises(OptionError) as info:
        settings_from_options(values, lookup=lookup)
    assert "\n" not in info.value.msg
    return info.value


def test_argument_spec_has_every_option_and_no_environment_fallback():
    spec = argument_spec()
    assert list(spec) == list(OPTIONS)
    assert all("fallback" not in entry for entry in spec.values())
    for name, option in OPTIONS.items():
        assert spec[name]["type"] == option.type
        assert spec[name].get("default") == option.default
        assert spec[name].get("choices") == (list(option.choices) if option.choices else None)
        assert spec[name].get("elements") == option.elements


def test_argument_spec_no_log():
    spec = argument_spec()
    assert {name for name, entry in spec.items() if entry.get("no_log") is True} == set(SECRET_OPTIONS)
    # validate-modules wants an explicit no_log=False on every other name that looks secret.
    assert {name for name, entry in spec.items() if entry.get("no_log") is False} == {"private_key_file"}


def test_argument_spec_is_a_valid_ansible_argument_spec():
    result = ArgumentSpecValidator(argument_spec()).validate({"client_id": "x", "metascopes": "a,b", "timeout": "7"})
    assert not result.error_messages
    assert (result.validated_parameters["timeout"], result.validated_parameters["metascopes"]) == (7.0, ["a", "b"])


# --- the module's sources ---------------------------------------------------------------------


def test_module_option_values_are_task_arguments_else_the_environment():
    environ = {"AEM_IMS_CLIENT_ID": "env-client", "AEM_IMS_ORG_ID": "env-org", "AEM_IMS_RETRIES": "7", "AEM_IMS_TIMEOUT": "2"}
    values, origins = module_option_values({"client_id": "task-client", "retries": None, "timeout": 5}, environ)
    assert values == {"client_id": "task-client", "retries": "7", "timeout": 5, "org_id": "env-org"}
    # In ansible-core's words, as the lookup has them: the run's failure memory is keyed on them.
    assert origins == {"client_id": "Direct", "timeout": "Direct", "retries": "env: AEM_IMS_RETRIES", "org_id": "env: AEM_IMS_ORG_ID"}
    settings = settings_from_options(values, origins)
    assert {name: settings.where(name) for name in origins} == {
        "client_id": "the task argument client_id",
        "timeout": "the task argument timeout",
        "retries": "environment variable AEM_IMS_RETRIES",
        "org_id": "environment variable AEM_IMS_ORG_ID",
    }


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_module_option_values_take_blank_environment_variables_as_unset(blank):
    # AWX and Ansible Automation Platform inject every field of a credential type, empty ones included.
    environ = {option.env: blank for option in OPTIONS.values() if option.env}
    assert module_option_values({"client_id": "x"}, environ) == ({"client_id": "x"}, {"client_id": "Direct"})


def test_module_option_values_read_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    assert module_option_values({}) == ({"client_id": "env-client"}, {"client_id": "env: AEM_IMS_CLIENT_ID"})


@pytest.mark.parametrize(
    "origin, lookup, words",
    [
        ("Direct", False, "the task argument timeout"),
        ("Direct", True, "the keyword timeout"),
        ("var: aem_ims_timeout", True, "variable aem_ims_timeout"),
        ("env: AEM_IMS_TIMEOUT", False, "environment variable AEM_IMS_TIMEOUT"),
        ("/etc/ansible/ansible.cfg", True, "[aem_ims] timeout in /etc/ansible/ansible.cfg"),
        ("somewhere else", True, "somewhere else"),
    ],
)
def test_messages_end_with_the_source_in_words(origin, lookup, words):
    with pytest.raises(OptionError) as info:
        settings_from_options({"timeout": "slow"}, {"timeout": origin}, lookup=lookup)
    assert info.value.msg == "timeout must be a number, got 'slow' (from %s)" % words
    assert settings_from_options({"timeout": "5"}, {"timeout": origin}, lookup=lookup).where("timeout") == words


def test_module_option_values_keep_unknown_arguments_for_the_check():
    values, _origins = module_option_values({"bogus": 1}, {})
    assert values == {"bogus": 1}
    assert option_error(values).field == "bogus"


def test_environment_values_are_checked_like_arguments():
    environ = {
        "AEM_IMS_CLIENT_ID": "env-client",
        "AEM_IMS_CLIENT_SECRET": SECRET,
        "AEM_IMS_METASCOPES": "ent_aem_cloud_api, ent_cloudmgr_sdk",
        "AEM_IMS_JWT_LIFETIME": "120",
        "AEM_IMS_VALIDATE_CERTS": "false",
        "AEM_IMS_TIMEOUT": "2.5",
        "AEM_IMS_CACHE": "off",
        "AEM_IMS_ENDPOINT": "ims-na1-stg1.adobelogin.com",
    }
    result = settings_from_options(*module_option_values({}, environ))
    assert result.client_id == "env-client"
    assert result.client_secret == SECRET
    assert result.metascopes == ("ent_aem_cloud_api", "ent_cloudmgr_sdk")
    assert (result.jwt_lifetime, result.validate_certs, result.timeout, result.cache) == (120, False, 2.5, "off")
    assert result.ims_endpoint == "https://ims-na1-stg1.adobelogin.com"
    assert result.where("client_id") == "environment variable AEM_IMS_CLIENT_ID"


@pytest.mark.parametrize(
    "env, value, expected",
    [
        ("AEM_IMS_RETRIES", "many", "retries must be an integer, got 'many'"),
        ("AEM_IMS_CACHE", "nope", "cache must be one of run, persistent, off, got 'nope'"),
        ("AEM_IMS_JWT_LIFETIME", "5", "jwt_lifetime must be between 10 and 86400, got 5"),
        ("AEM_IMS_VALIDATE_CERTS", "ture", "validate_certs must be a boolean (true or false), got 'ture'"),
        ("AEM_IMS_ENDPOINT", "ftp://ims", "ims_endpoint must be %s, not a ftp:// URL (got 'ftp://ims')" % EXAMPLE),
    ],
)
def test_bad_environment_values_name_the_option(env, value, expected):
    values, origins = module_option_values({}, {env: value})
    with pytest.raises(OptionError) as info:
        settings_from_options(values, origins)
    # The option first, its source last.
    assert info.value.msg == "%s (from environment variable %s)" % (expected, env)


# --- settings_from_options: names -------------------------------------------------------------


def test_defaults():
    result = settings()
    assert (result.auth_method, result.jwt_lifetime, result.validate_certs, result.timeout, result.retries) == ("auto", 300, True, 30.0, 3)
    assert (result.cache, result.refresh_margin, result.force_refresh, result.metascopes, result.scopes) == ("run", 600, False, (), ())
    assert (result.client_id, result.fact_name, result.service_credentials) == (None, None, None)
    assert (result.validate, result.state, result.access_token) == (False, "present", None)
    assert isinstance(result.timeout, float)


def test_none_counts_as_unset():
    assert settings(**dict.fromkeys(OPTIONS)).cache == "run"


def test_unknown_options_are_listed_with_the_supported_ones():
    error = option_error({"client_id": "x", "bogus": 1, "another_one": 2})
    assert error.msg == "Unsupported option(s) for aemops.ims.aem_ims_token: another_one, bogus. Supported options: %s" % ", ".join(ALL_MODULE_OPTIONS)
    assert error.field == "another_one"


def test_unknown_options_for_the_lookup_do_not_offer_fact_name():
    error = option_error({"fact_name": "x"}, lookup=True)
    assert error.msg == "Unsupported option(s) for aemops.ims.aem_ims_token: fact_name. Supported options: %s" % ", ".join(ALL_LOOKUP_OPTIONS)
    assert settings_from_options({"client_id": "x"}, lookup=True).fact_name is None


@pytest.mark.parametrize(
    "values, named",
    [
        ({"state": "absent"}, "state"),
        ({"state": "present"}, "state"),
        ({"access_token": TOKEN}, "access_token"),
        ({"state": "absent", "access_token": TOKEN}, "access_token, state"),
    ],
)
def test_the_lookup_revokes_nothing(values, named):
    # A lookup returns a token: state and access_token are the module's, whatever their value.
    error = option_error(dict(values, client_id="x"), lookup=True)
    assert error.msg == "Unsupported option(s) for aemops.ims.aem_ims_token: %s. Supported options: %s" % (named, ", ".join(ALL_LOOKUP_OPTIONS))
    assert error.field == named.split(", ")[0]
    assert TOKEN not in error.msg
    assert "state" not in ALL_LOOKUP_OPTIONS and "access_token" not in ALL_LOOKUP_OPTIONS and "validate" in ALL_LOOKUP_OPTIONS


def test_the_lookup_settings_are_present_without_a_token():
    result = settings_from_options({"client_id": "x", "validate": "yes"}, lookup=True)
    assert (result.validate, result.state, result.access_token) == (True, "present", None)


# --- settings_from_options: types -------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name, option in OPTIONS.items() if option.type in ("str", "path")])
@pytest.mark.parametrize("value, kind", [({"a": SECRET}, "a dict"), ([SECRET], "a list"), ((SECRET,), "a list")])
def test_string_options_refuse_containers_without_quoting_them(name, value, kind):
    error = option_error({name: value})
    assert error.msg == "%s must be a string, got %s" % (name, kind)
    assert error.field == name
    assert SECRET not in error.msg


@pytest.mark.parametrize("name, value", [("client_id", 12345), ("org_id", True), ("credential_id", 1.5)])
def test_string_options_take_scalars_as_text(name, value):
    assert getattr(settings(**{name: value}), name) == str(value)


@pytest.mark.parametrize("name", ["metascopes", "scopes"])
def test_list_options_refuse_a_dict(name):
    error = option_error({name: {"ent_aem_cloud_api": True}})
    assert error.msg == "%s must be a list of strings, got a dict" % name
    assert error.field == name


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("jwt_lifetime", "abc", "jwt_lifetime must be an integer, got 'abc'"),
        ("jwt_lifetime", 1.5, "jwt_lifetime must be an integer, got '1.5'"),
        ("jwt_lifetime", True, "jwt_lifetime must be an integer, got a bool"),
        ("retries", [1], "retries must be an integer, got a list"),
        ("retries", {"a": 1}, "retries must be an integer, got a dict"),
        ("refresh_margin", "soon", "refresh_margin must be an integer, got 'soon'"),
        ("timeout", "slow", "timeout must be a number, got 'slow'"),
        ("timeout", False, "timeout must be a number, got a bool"),
    ],
)
def test_number_options_name_the_option(name, value, expected):
    error = option_error({name: value})
    assert error.msg == expected
    assert error.field == name


def test_numbers_given_as_text_are_converted():
    result = settings(jwt_lifetime="120", retries="0", refresh_margin=" 60 ", timeout="2.5")
    assert (result.jwt_lifetime, result.retries, result.refresh_margin, result.timeout) == (120, 0, 60, 2.5)


def test_bad_values_are_shown_short_and_on_one_line():
    assert option_error({"jwt_lifetime": "x" * 50}).msg == "jwt_lifetime must be an integer, got '%s...'" % ("x" * 37)
    assert option_error({"jwt_lifetime": "a\nb\x7f"}).msg == "jwt_lifetime must be an integer, got 'a?b?'"


@pytest.mark.parametrize("name", ["validate_certs", "force_refresh", "validate"])
@pytest.mark.parametrize("value", ["maybe", "ture", "yes please", "2"])
def test_bool_options_are_strict(name, value):
    # Ansible's lenient booleans read any unknown word as false: "validate_certs: ture" would turn TLS checks off.
    error = option_error({name: value})
    assert error.msg == "%s must be a boolean (true or false), got '%s'" % (name, value)
    assert error.field == name


@pytest.mark.parametrize("value, expected", [("yes", True), ("no", False), ("true", True), ("True", True), ("0", False), (1, True), (False, False)])
def test_bool_options_accept_ansible_booleans(value, expected):
    assert settings(validate_certs=value).validate_certs is expected


@pytest.mark.parametrize("name, choices", [("auth_method", AUTH_METHODS), ("cache", CACHE_MODES), ("state", STATES)])
def test_choice_options_list_the_choices(name, choices):
    error = option_error({name: "bogus"})
    assert error.msg == "%s must be one of %s, got 'bogus'" % (name, ", ".join(choices))
    assert error.field == name


@pytest.mark.parametrize("name", LIMITED)
def test_ranges(name):
    low, high = OPTIONS[name].limits
    assert getattr(settings(**{name: low}), name) == low
    assert getattr(settings(**{name: high}), name) == high
    for bad in (low - 1, high + 1):
        error = option_error({name: bad})
        shown = float(bad) if name == "timeout" else bad
        assert error.msg == "%s must be between %s and %s, got %s" % (name, low, high, shown)
        assert error.field == name


def test_range_limits_apply_to_text_values_too():
    assert option_error({"retries": "11"}).msg == "retries must be between 0 and 10, got 11"


def test_timeout_accepts_fractions_and_becomes_a_float():
    assert settings(timeout="2.5").timeout == 2.5
    assert settings(timeout=7).timeout == 7.0
    assert isinstance(settings(timeout=7).timeout, float)


@pytest.mark.parametrize("value, kind", [([{"a": 1}], "a list"), (42, "an int"), (4.2, "a float"), (True, "a bool")])
def test_service_credentials_must_be_a_dict_or_a_string(value, kind):
    error = option_error({"service_credentials": value})
    assert error.msg == "service_credentials must be a dict or a JSON string, got %s" % kind
    assert error.field == "service_credentials"


def test_service_credentials_accepts_a_dict_and_a_string():
    assert settings(service_credentials={"a": 1}).service_credentials == {"a": 1}
    assert settings(service_credentials='{"a": 1}').service_credentials == '{"a": 1}'


@pytest.mark.parametrize(
    "value",
    [
        "proxy.example.com:3128",
        "ftp://proxy.example.com",
        "http://proxy.example.com:3128/some/path",
        "http://user:%s@proxy.example.com:3128/path" % SECRET,
        "http://",
        "http://proxy example.com",
    ],
)
def test_proxy_url_is_checked_without_quoting_it(value):
    error = option_error({"proxy_url": value})
    assert error.msg == "proxy_url must look like http://[user:password@]host:port"
    assert SECRET not in error.msg
    assert error.field == "proxy_url"


@pytest.mark.parametrize("value", ["http://proxy.example.com:3128", "https://proxy:443/", "socks5h://127.0.0.1:1080", "http://u:p@proxy:3128"])
def test_proxy_url_accepts_proxies(value):
    assert settings(proxy_url=value).proxy_url == value


@pytest.mark.parametrize("value", ["1token", "aem-token", "aem token", "x" * 80 + "-"])
def test_fact_name_must_be_a_variable_name(value):
    error = option_error({"fact_name": value})
    assert error.msg == "fact_name must be a valid variable name, got '%s'" % value[:60]
    assert error.field == "fact_name"


@pytest.mark.parametrize("value", ["aem_token", "_t", "T1"])
def test_fact_name_accepts_variable_names(value):
    assert settings(fact_name=value).fact_name == value


# --- the token lifecycle: validate, state, access_token -----------------------------------------


@pytest.mark.parametrize("value, expected", [("true", True), ("yes", True), ("1", True), ("false", False), ("off", False)])
def test_validate_comes_from_aem_ims_validate(value, expected):
    result = settings_from_options(*module_option_values({}, {"AEM_IMS_VALIDATE": value}))
    assert result.validate is expected
    assert result.where("validate") == "environment variable AEM_IMS_VALIDATE"
    assert settings_from_options(*module_option_values({"validate": not expected}, {"AEM_IMS_VALIDATE": value})).validate is (not expected)


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_validate_maybe_is_refused_rather_than_read_as_false(source):
    # A lenient boolean would read "maybe" as false and quietly serve unconfirmed tokens.
    args, environ = ({"validate": "maybe"}, {}) if source == "argument" else ({}, {"AEM_IMS_VALIDATE": "maybe"})
    with pytest.raises(OptionError) as info:
        settings_from_options(*module_option_values(args, environ))
    origin = "the task argument validate" if source == "argument" else "environment variable AEM_IMS_VALIDATE"
    assert info.value.msg == "validate must be a boolean (true or false), got 'maybe' (from %s)" % origin
    assert info.value.field == "validate"


def test_state_gone_lists_the_states():
    error = option_error({"state": "gone"})
    assert error.msg == "state must be one of present, absent, got 'gone'"
    assert error.field == "state"
    assert option_error({"state": "Absent"}).msg == "state must be one of present, absent, got 'Absent'"


def test_state_and_access_token_never_come_from_the_environment():
    # Nothing in a job's environment can turn a task into a revocation, nor name the token to revoke.
    values, origins = module_option_values({"client_id": "x"}, {"AEM_IMS_STATE": "absent", "AEM_IMS_ACCESS_TOKEN": TOKEN})
    assert (values, origins) == ({"client_id": "x"}, {"client_id": "Direct"})
    assert (settings_from_options(values, origins).state, settings_from_options(values, origins).access_token) == ("present", None)


def test_state_absent_with_and_without_an_access_token():
    assert (settings(state="absent").state, settings(state="absent").access_token) == ("absent", None)
    result = settings(state="absent", access_token=TOKEN)
    assert (result.state, result.access_token) == ("absent", TOKEN)


@pytest.mark.parametrize("state", [None, "present", "", "  "])
def test_an_access_token_is_only_for_state_absent(state):
    values = {"access_token": TOKEN} if state is None else {"access_token": TOKEN, "state": state}
    error = option_error(values)
    assert error.msg == "access_token is the token to revoke with state=absent; state is present"
    assert error.field == "access_token"
    assert TOKEN not in error.msg


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_access_token_counts_as_unset(blank):
    assert settings(access_token=blank).access_token is None
    assert settings(access_token=blank, state="absent").access_token is None


@pytest.mark.parametrize("value, kind", [({"token": TOKEN}, "a dict"), ([TOKEN], "a list")])
def test_an_access_token_of_the_wrong_type_is_not_quoted(value, kind):
    error = option_error({"access_token": value, "state": "absent"})
    assert error.msg == "access_token must be a string, got %s" % kind
    assert TOKEN not in error.msg


def test_the_access_token_is_a_secret_of_the_settings():
    result = settings(state="absent", access_token=TOKEN, client_secret=SECRET, client_id="visible-client")
    assert result.secret_values() == [SECRET, TOKEN]
    assert TOKEN not in repr(result) and SECRET not in repr(result)
    assert "state='absent'" in repr(result) and "validate=False" in repr(result)


@pytest.mark.parametrize("name", [name for name in SECRET_OPTIONS if name != "service_credentials"])
@pytest.mark.parametrize("value", [{"nested": SECRET}, [SECRET, "x"], (SECRET,)])
def test_secret_option_values_are_never_quoted(name, value):
    error = option_error({name: value})
    assert SECRET not in error.msg
    assert name in error.msg


def test_ca_path_must_be_a_file(tmp_path):
    missing = str(tmp_path / "missing.pem")
    assert option_error({"ca_path": missing}).msg == "ca_path %s does not exist: it must be a PEM file of CA certificates" % missing
    assert option_error({"ca_path": str(tmp_path)}).msg == "ca_path %s is not a file: it must be a PEM file of CA certificates" % tmp_path
    assert option_error({"ca_path": str(tmp_path)}).field == "ca_path"


def test_blank_strings_count_as_unset():
    result = settings(client_id="   ", org_id="", ims_endpoint=" ", cache="", timeout=" ", validate_certs="")
    assert (result.client_id, result.org_id, result.ims_endpoint) == (None, None, None)
    assert (result.cache, result.timeout, result.validate_certs) == ("run", 30.0, True)


def test_paths_are_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AEMOPS_UNIT_DIR", str(tmp_path / "from-variable"))
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    result = settings(service_credentials_file="~/creds.json", private_key_file="~/k.pem", ca_path="~/ca.pem", cache_dir="$AEMOPS_UNIT_DIR/cache")
    assert result.service_credentials_file == os.path.join(str(tmp_path), "creds.json")
    assert result.private_key_file == os.path.join(str(tmp_path), "k.pem")
    assert result.ca_path == os.path.join(str(tmp_path), "ca.pem")
    assert result.cache_dir == os.path.join(str(tmp_path), "from-variable", "cache")


def test_the_endpoint_is_parsed_into_an_origin():
    assert settings(ims_endpoint="https://ims-na1-stg1.adobelogin.com/").ims_endpoint == "https://ims-na1-stg1.adobelogin.com"
    error = option_error({"ims_endpoint": "https://x.example.com/p"})
    assert error.msg == "ims_endpoint must be %s, without a path, query or user (got 'https://x.example.com/p')" % EXAMPLE
    assert error.field == "ims_endpoint"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ent_aem_cloud_api", ("ent_aem_cloud_api",)),
        ("a, b,,a , ", ("a", "b")),
        (["a,b", " c ", "b", ""], ("a", "b", "c")),
        ([], ()),
        (None, ()),
    ],
)
@pytest.mark.parametrize("name", ["metascopes", "scopes"])
def test_lists_are_split_stripped_and_deduplicated(name, value, expected):
    assert getattr(settings(**{name: value}), name) == expected


# --- Settings ---------------------------------------------------------------------------------


def test_secret_values_include_proxy_credentials():
    result = settings(
        client_secret="client-secret-1",
        private_key="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
        private_key_passphrase="pass-phrase",
        proxy_url="http://proxyuser:Pr0xyPassw0rd@proxy.example.com:3128",
        service_credentials='{"integration": {}}',
    )
    assert result.secret_values() == [
        "client-secret-1",
        "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
        "pass-phrase",
        "http://proxyuser:Pr0xyPassw0rd@proxy.example.com:3128",
        "proxyuser:Pr0xyPassw0rd",
        "proxyuser",
        "Pr0xyPassw0rd",
        '{"integration": {}}',
    ]


@pytest.mark.parametrize("scheme", ["http", "https", "socks5", "socks5h"])
def test_secret_values_split_proxy_credentials_of_every_scheme(scheme):
    # A password with an encoded @ and a raw : is found whole, as written and as requests decodes it.
    result = settings(proxy_url="%s://proxy%%2Duser:p%%40ss:w0rd@proxy.example.com:1080" % scheme)
    values = result.secret_values()
    for expected in ("proxy%2Duser", "proxy-user", "p%40ss:w0rd", "p@ss:w0rd"):
        assert expected in values


def test_secret_values_of_a_proxy_without_credentials_and_of_empty_settings():
    assert settings(proxy_url="http://proxy:3128").secret_values() == ["http://proxy:3128"]
    assert settings(service_credentials={"a": "b"}).secret_values() == []
    assert settings().secret_values() == []


def test_where_describes_the_origin_of_an_option():
    assert settings().where("client_id") == "the client_id option or AEM_IMS_CLIENT_ID"
    origins = {"client_id": "environment variable AEM_IMS_CLIENT_ID"}
    described = settings_from_options({}, origins)
    assert described.where("client_id") == "environment variable AEM_IMS_CLIENT_ID"
    assert described.where("org_id") == "the org_id option or AEM_IMS_ORG_ID"
    # The settings keep a copy of the origins.
    origins["org_id"] = "changed later"
    assert described.where("org_id") == "the org_id option or AEM_IMS_ORG_ID"


def test_settings_repr_never_shows_secret_values():
    result = settings(client_secret=SECRET, private_key_passphrase=SECRET + "2", proxy_url="http://u:%s@proxy:3128" % SECRET, client_id="visible-client")
    assert SECRET not in repr(result)
    assert "visible-client" in repr(result)
    assert repr(result).startswith("Settings(")


def test_settings_refuse_unknown_names():
    with pytest.raises(TypeError):
        Settings(not_an_option=1)


def test_settings_hold_every_option_and_nothing_else():
    result = Settings(client_id="c")
    assert {name: getattr(result, name) for name in ("client_id", "scopes", "cache")} == {"client_id": "c", "scopes": (), "cache": "run"}
    with pytest.raises(AttributeError):
        result.not_an_option = 1


# --- split_list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(None, []), ("", []), ("a, b,,a", ["a", "b"]), (["a", " b ", "a", ""], ["a", "b"]), (["a,b", "c"], ["a", "b", "c"]), ((1, 2, 1), ["1", "2"])],
)
def test_split_list(value, expected):
    assert split_list(value) == expected


def test_split_list_can_keep_items_whole():
    # A client secret may hold a comma: items of a list are then kept whole.
    assert split_list(["p8e,secret", " p8e,secret ", "other"], split_items=False) == ["p8e,secret", "other"]
    assert split_list("a, b", split_items=False) == ["a", "b"]
