# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _options: validation, messages, endpoint parsing, environment fallbacks, Settings."""

from __future__ import annotations

import os

import re

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError
from ansible_collections.aemops.ims.plugins.module_utils._options import (
    AUTH_METHODS,
    CACHE_MODES,
    LIMITS,
    MODULE_ONLY_SPECS,
    OPTION_SPECS,
    SECRET_OPTIONS,
    Settings,
    argument_spec,
    env_var_of,
    parse_ims_endpoint,
    settings_from_params,
    validate_params,
)

ALL_MODULE_OPTIONS = sorted(list(OPTION_SPECS) + list(MODULE_ONLY_SPECS))
EXAMPLE = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"
SECRET = "Sup3r-Secret-Value-0099"


def settings(**params):
    return settings_from_params(validate_params(params, for_module=True, with_env=False))


def option_error(params, for_module=True, with_env=False):
    with pytest.raises(OptionError) as info:
        settings_from_params(validate_params(params, for_module=for_module, with_env=with_env))
    return info.value


# --- the spec itself --------------------------------------------------------------------------


def test_secret_options_are_exactly_the_no_log_ones():
    assert SECRET_OPTIONS == ("service_credentials", "client_secret", "private_key", "private_key_passphrase", "proxy_url")


def test_every_option_has_an_aem_ims_environment_variable():
    for name in OPTION_SPECS:
        assert env_var_of(name) == "AEM_IMS_" + ("ENDPOINT" if name == "ims_endpoint" else name.upper())


def test_argument_spec_adds_env_fallbacks_and_module_only_options():
    spec = argument_spec(for_module=True, with_env=True)
    assert sorted(spec) == ALL_MODULE_OPTIONS
    assert spec["client_id"]["fallback"][1] == ["AEM_IMS_CLIENT_ID"]
    assert spec["client_secret"]["no_log"] is True
    assert "fallback" not in spec["fact_name"]
    plain = argument_spec(for_module=False, with_env=False)
    assert sorted(plain) == sorted(OPTION_SPECS)
    assert all("fallback" not in option for option in plain.values())
    # The shared spec is never mutated by building an argument spec.
    assert "fallback" not in OPTION_SPECS["client_id"][0]


def test_defaults():
    result = settings()
    assert (result.auth_method, result.jwt_lifetime, result.validate_certs, result.timeout, result.retries) == ("auto", 300, True, 30.0, 3)
    assert (result.cache, result.refresh_margin, result.force_refresh, result.metascopes, result.scopes) == ("run", 600, False, (), ())
    assert isinstance(result.timeout, float)


# --- names and types --------------------------------------------------------------------------


def test_unknown_options_are_listed_with_the_supported_ones():
    error = option_error({"client_id": "x", "bogus": 1, "another_one": 2})
    assert error.msg == "Unsupported option(s) for aemops.ims.aem_ims_token: another_one, bogus. Supported options: %s" % ", ".join(ALL_MODULE_OPTIONS)
    assert error.field == "another_one"


def test_unknown_options_for_the_lookup_do_not_offer_fact_name():
    error = option_error({"fact_name": "x"}, for_module=False)
    assert error.msg == "Unsupported option(s) for aemops.ims.aem_ims_token: fact_name. Supported options: %s" % ", ".join(sorted(OPTION_SPECS))


@pytest.mark.parametrize("name", [name for name, (spec, _env) in OPTION_SPECS.items() if spec["type"] in ("str", "path")] + ["fact_name"])
@pytest.mark.parametrize("value, kind", [({"a": SECRET}, "a dict"), ([SECRET], "a list"), ((SECRET,), "a list")])
def test_string_options_refuse_containers_without_quoting_them(name, value, kind):
    error = option_error({name: value})
    assert error.msg == "%s must be a string, got %s" % (name, kind)
    assert error.field == name
    assert SECRET not in error.msg


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
        ("retries", [1], "retries must be an integer, got a list"),
        ("refresh_margin", "soon", "refresh_margin must be an integer, got 'soon'"),
        ("timeout", "slow", "timeout must be a number, got 'slow'"),
    ],
)
def test_number_options_name_the_option(name, value, expected):
    error = option_error({name: value})
    assert error.msg == expected
    assert error.field == name


@pytest.mark.parametrize("name", ["validate_certs", "force_refresh"])
def test_bool_options_name_the_option(name):
    error = option_error({name: "maybe"})
    assert error.msg == "%s must be a boolean (true or false), got 'maybe'" % name
    assert "\n" not in error.msg
    assert error.field == name


@pytest.mark.parametrize("value, expected", [("yes", True), ("no", False), ("true", True), ("0", False), (1, True)])
def test_bool_options_accept_ansible_booleans(value, expected):
    assert settings(validate_certs=value).validate_certs is expected


@pytest.mark.parametrize("name, choices", [("auth_method", AUTH_METHODS), ("cache", CACHE_MODES)])
def test_choice_options_list_the_choices(name, choices):
    error = option_error({name: "bogus"})
    assert error.msg == "%s must be one of %s, got 'bogus'" % (name, ", ".join(choices))


@pytest.mark.parametrize("name, choices", [("auth_method", AUTH_METHODS), ("cache", CACHE_MODES)])
def test_choice_options_are_checked_again_by_settings_from_params(name, choices):
    with pytest.raises(OptionError) as info:
        settings_from_params({name: "bogus"})
    assert info.value.msg == "%s must be one of %s, got 'bogus'" % (name, ", ".join(choices))
    assert info.value.field == name


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_ranges(name):
    low, high = LIMITS[name]
    assert getattr(settings(**{name: low}), name) == low
    assert getattr(settings(**{name: high}), name) == high
    for bad in (low - 1, high + 1):
        error = option_error({name: bad})
        shown = float(bad) if name == "timeout" else bad
        assert error.msg == "%s must be between %s and %s, got %s" % (name, low, high, shown)
        assert error.field == name


def test_range_limits_are_the_documented_ones():
    assert LIMITS == {"jwt_lifetime": (10, 86400), "timeout": (1, 600), "retries": (0, 10), "refresh_margin": (0, 86400)}


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


class _Unprintable:
    def __str__(self):
        return "str-of-" + SECRET

    __repr__ = __str__


@pytest.mark.parametrize("name", [name for name in SECRET_OPTIONS if name != "service_credentials"])
def test_secret_option_values_are_never_quoted(name):
    for value in ({"nested": SECRET}, [SECRET, "x"], _Unprintable()):
        with pytest.raises(OptionError) as info:
            validate_params({name: value}, with_env=False)
        assert SECRET not in info.value.msg
        assert name in info.value.msg


def test_ca_path_must_be_a_file(tmp_path):
    missing = str(tmp_path / "missing.pem")
    assert option_error({"ca_path": missing}).msg == "ca_path %s does not exist: it must be a PEM file of CA certificates" % missing
    assert option_error({"ca_path": str(tmp_path)}).msg == "ca_path %s is not a file: it must be a PEM file of CA certificates" % tmp_path
    assert option_error({"ca_path": str(tmp_path)}).field == "ca_path"


def test_blank_strings_count_as_unset():
    result = settings(client_id="   ", org_id="", ims_endpoint=" ")
    assert (result.client_id, result.org_id, result.ims_endpoint) == (None, None, None)


def test_paths_are_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    result = settings(service_credentials_file="~/creds.json", private_key_file="~/k.pem", ca_path="~/ca.pem", cache_dir="~/cache")
    assert result.service_credentials_file == os.path.join(str(tmp_path), "creds.json")
    assert result.private_key_file == os.path.join(str(tmp_path), "k.pem")
    assert result.ca_path == os.path.join(str(tmp_path), "ca.pem")
    assert result.cache_dir == os.path.join(str(tmp_path), "cache")


# --- lists ------------------------------------------------------------------------------------


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


# --- environment ------------------------------------------------------------------------------


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    monkeypatch.setenv("AEM_IMS_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AEM_IMS_METASCOPES", "ent_aem_cloud_api, ent_cloudmgr_sdk")
    monkeypatch.setenv("AEM_IMS_JWT_LIFETIME", "120")
    monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", "false")
    monkeypatch.setenv("AEM_IMS_TIMEOUT", "2.5")
    monkeypatch.setenv("AEM_IMS_CACHE", "off")
    monkeypatch.setenv("AEM_IMS_ENDPOINT", "ims-na1-stg1.adobelogin.com")
    result = settings_from_params(validate_params({}, with_env=True))
    assert result.client_id == "env-client"
    assert result.client_secret == SECRET
    assert result.metascopes == ("ent_aem_cloud_api", "ent_cloudmgr_sdk")
    assert (result.jwt_lifetime, result.validate_certs, result.timeout, result.cache) == (120, False, 2.5, "off")
    assert result.ims_endpoint == "https://ims-na1-stg1.adobelogin.com"


def test_parameters_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    monkeypatch.setenv("AEM_IMS_RETRIES", "7")
    result = settings_from_params(validate_params({"client_id": "param-client", "retries": 1}, with_env=True))
    assert (result.client_id, result.retries) == ("param-client", 1)


def test_environment_is_ignored_without_with_env(monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    assert settings_from_params(validate_params({}, with_env=False)).client_id is None


@pytest.mark.parametrize(
    "env, value, expected",
    [
        ("AEM_IMS_RETRIES", "many", "retries must be an integer, got 'many'"),
        ("AEM_IMS_CACHE", "nope", "cache must be one of run, persistent, off, got 'nope'"),
        ("AEM_IMS_JWT_LIFETIME", "5", "jwt_lifetime must be between 10 and 86400, got 5"),
        ("AEM_IMS_ENDPOINT", "ftp://ims", "ims_endpoint must be %s, not a ftp:// URL (got 'ftp://ims')" % EXAMPLE),
    ],
)
def test_bad_environment_values_name_the_option(monkeypatch, env, value, expected):
    monkeypatch.setenv(env, value)
    assert option_error({}, with_env=True).msg == expected


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
        "proxyuser",
        "Pr0xyPassw0rd",
        '{"integration": {}}',
    ]


def test_secret_values_of_a_proxy_without_credentials_and_of_empty_settings():
    assert settings(proxy_url="http://proxy:3128").secret_values() == ["http://proxy:3128"]
    assert settings(service_credentials={"a": "b"}).secret_values() == []


def test_where_describes_the_origin_of_an_option():
    plain = settings()
    assert plain.where("client_id") == "the client_id option or AEM_IMS_CLIENT_ID"
    described = settings_from_params(validate_params({}, with_env=False), origins={"client_id": "environment variable AEM_IMS_CLIENT_ID"})
    assert described.where("client_id") == "environment variable AEM_IMS_CLIENT_ID"
    assert described.where("org_id") == "the org_id option or AEM_IMS_ORG_ID"


def test_settings_repr_never_shows_secret_values():
    result = settings(client_secret=SECRET, private_key_passphrase=SECRET + "2", client_id="visible-client")
    assert SECRET not in repr(result)
    assert "visible-client" in repr(result)


def test_settings_refuse_unknown_names():
    with pytest.raises(TypeError):
        Settings(not_an_option=1)


# --- parse_ims_endpoint -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ims-na1.adobelogin.com", "https://ims-na1.adobelogin.com"),
        ("IMS-NA1.AdobeLogin.COM", "https://ims-na1.adobelogin.com"),
        ("  ims-na1-stg1.adobelogin.com  ", "https://ims-na1-stg1.adobelogin.com"),
        ("ims-na1.adobelogin.com:8443", "https://ims-na1.adobelogin.com:8443"),
        ("ims-na1.adobelogin.com:443", "https://ims-na1.adobelogin.com"),
        ("https://ims-na1.adobelogin.com", "https://ims-na1.adobelogin.com"),
        ("https://ims-na1.adobelogin.com/", "https://ims-na1.adobelogin.com"),
        ("HTTPS://ims-na1.adobelogin.com:443/", "https://ims-na1.adobelogin.com"),
        ("https://ims-na1.adobelogin.com:8443/", "https://ims-na1.adobelogin.com:8443"),
        ("[2001:db8::1]", "https://[2001:db8::1]"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://LOCALHOST", "http://localhost"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.0.0.53", "http://127.0.0.53"),
        ("localhost", "https://localhost"),
    ],
)
def test_parse_ims_endpoint(value, expected):
    assert parse_ims_endpoint(value) == expected


@pytest.mark.parametrize(
    "value, host",
    [("http://ims-na1.adobelogin.com", "ims-na1.adobelogin.com"), ("http://10.0.0.1:8080", "10.0.0.1"), ("http://[2001:db8::1]", "[2001:db8::1]")],
)
def test_parse_ims_endpoint_refuses_plain_http_off_loopback(value, host):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value)
    assert info.value.msg == (
        "ims_endpoint uses http:// for %s: IMS must be reached over https:// (plain http is allowed only for a loopback test server)" % host
    )


@pytest.mark.parametrize(
    "value",
    [
        "https://ims-na1.adobelogin.com/ims/token/v3",
        "ims-na1.adobelogin.com/ims",
        "https://ims-na1.adobelogin.com?x=1",
        "https://ims-na1.adobelogin.com#frag",
        "https://user@ims-na1.adobelogin.com",
        "ims na1.adobelogin.com",
        "ims-na1.adobelogin.com\\x",
        "",
        "   ",
        "https://",
        "https:///",
    ],
)
def test_parse_ims_endpoint_refuses_paths_queries_and_users(value):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value)
    shown = re.sub(r"(?<=://)[^/@]*@", "***@", value.strip())
    assert info.value.msg == "ims_endpoint must be %s, without a path, query or user (got '%s')" % (EXAMPLE, shown)
    assert info.value.field == "ims_endpoint"


@pytest.mark.parametrize("scheme", ["ftp", "file", "wss"])
def test_parse_ims_endpoint_refuses_other_schemes(scheme):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint("%s://ims-na1.adobelogin.com" % scheme)
    assert info.value.msg == "ims_endpoint must be %s, not a %s:// URL (got '%s://ims-na1.adobelogin.com')" % (EXAMPLE, scheme, scheme)


@pytest.mark.parametrize("value", ["ims.example.com:0", "ims.example.com:65536", "ims.example.com:https", "ims.example.com:", "[::1]:99999", "[::1]:x"])
def test_parse_ims_endpoint_refuses_bad_ports(value):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value)
    assert info.value.msg == "ims_endpoint has an invalid port (got '%s')" % value


@pytest.mark.parametrize(
    "value", ["a:b:c", "-bad.example.com", "bad-.example.com", "ims..example.com", "ims.example.com.", "ims_na1.example.com", "\u00e9.example.com"]
)
def test_parse_ims_endpoint_refuses_bad_host_names(value):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value)
    assert info.value.msg == "ims_endpoint must be %s (got '%s')" % (EXAMPLE, value)


def test_parse_ims_endpoint_shortens_long_values_and_uses_the_given_name():
    value = "https://" + "a" * 100 + ".example.com/path"
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value, "integration.imsEndpoint in the service_credentials")
    assert info.value.msg == "integration.imsEndpoint in the service_credentials must be %s, without a path, query or user (got '%s...')" % (
        EXAMPLE,
        value[:77],
    )
    assert info.value.field == "integration.imsEndpoint in the service_credentials"


def test_parse_ims_endpoint_refuses_a_non_ascii_digit_port():
    # '²'.isdigit() is True but int('²') raises ValueError: it must be an OptionError, not a crash.
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint("ims.example.com:\u00b2")
    assert info.value.msg == "ims_endpoint has an invalid port (got 'ims.example.com:\u00b2')"


@pytest.mark.parametrize("value", ["ims-na1\n.adobelogin.com", "ims-na1.adobelogin\n.com", "https://ims-na1.adobelogin.com\n:8443"])
def test_parse_ims_endpoint_refuses_embedded_newlines(value):
    # `$` in the host-label pattern matches before a trailing newline, so a label like "ims-na1\n" passes.
    with pytest.raises(OptionError):
        parse_ims_endpoint(value)


def test_parse_ims_endpoint_does_not_echo_a_password():
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint("https://admin:%s@ims-na1.adobelogin.com" % SECRET)
    assert SECRET not in info.value.msg


def test_settings_from_params_parses_the_endpoint():
    assert settings(ims_endpoint="https://ims-na1-stg1.adobelogin.com/").ims_endpoint == "https://ims-na1-stg1.adobelogin.com"
    assert option_error({"ims_endpoint": "https://x.example.com/p"}).field == "ims_endpoint"
