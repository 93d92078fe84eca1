# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _endpoints: what an ims_endpoint option or a document's imsEndpoint may say."""

from __future__ import annotations

import re

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._endpoints import is_loopback, parse_ims_endpoint
from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError

EXAMPLE = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"
SECRET = "Sup3r-Secret-Value-0099"


def endpoint_error(value, *args):
    with pytest.raises(OptionError) as info:
        parse_ims_endpoint(value, *args)
    assert "\n" not in info.value.msg
    return info.value


@pytest.mark.parametrize(
    "host, expected",
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.10.20.30", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("[2001:db8::1]", False),
        ("ims-na1.adobelogin.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


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
        ("http://127.0.0.1:443", "http://127.0.0.1:443"),
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
    error = endpoint_error(value)
    assert error.msg == ("ims_endpoint uses http:// for %s: IMS must be reached over https:// (plain http is allowed only for a loopback test server)" % host)
    assert error.field == "ims_endpoint"


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
    error = endpoint_error(value)
    shown = re.sub(r"(?<=://)[^/@]*@", "***@", value.strip())
    assert error.msg == "ims_endpoint must be %s, without a path, query or user (got '%s')" % (EXAMPLE, shown)
    assert error.field == "ims_endpoint"


@pytest.mark.parametrize("scheme", ["ftp", "file", "wss"])
def test_parse_ims_endpoint_refuses_other_schemes(scheme):
    error = endpoint_error("%s://ims-na1.adobelogin.com" % scheme)
    assert error.msg == "ims_endpoint must be %s, not a %s:// URL (got '%s://ims-na1.adobelogin.com')" % (EXAMPLE, scheme, scheme)


@pytest.mark.parametrize("value", ["ims.example.com:0", "ims.example.com:65536", "ims.example.com:https", "ims.example.com:", "[::1]:99999", "[::1]:x"])
def test_parse_ims_endpoint_refuses_bad_ports(value):
    assert endpoint_error(value).msg == "ims_endpoint has an invalid port (got '%s')" % value


@pytest.mark.parametrize(
    "value", ["a:b:c", "-bad.example.com", "bad-.example.com", "ims..example.com", "ims.example.com.", "ims_na1.example.com", "\u00e9.example.com"]
)
def test_parse_ims_endpoint_refuses_bad_host_names(value):
    assert endpoint_error(value).msg == "ims_endpoint must be %s (got '%s')" % (EXAMPLE, value)


def test_parse_ims_endpoint_shortens_long_values_and_uses_the_given_name():
    value = "https://" + "a" * 100 + ".example.com/path"
    error = endpoint_error(value, "integration.imsEndpoint in the service_credentials")
    assert error.msg == "integration.imsEndpoint in the service_credentials must be %s, without a path, query or user (got '%s...')" % (
        EXAMPLE,
        value[:77],
    )
    assert error.field == "integration.imsEndpoint in the service_credentials"


def test_parse_ims_endpoint_refuses_a_non_ascii_digit_port():
    # '²'.isdigit() is True but int('²') raises ValueError: it must be an OptionError, not a crash.
    assert endpoint_error("ims.example.com:\u00b2").msg == "ims_endpoint has an invalid port (got 'ims.example.com:\u00b2')"


@pytest.mark.parametrize("value", ["ims-na1\n.adobelogin.com", "ims-na1.adobelogin\n.com", "https://ims-na1.adobelogin.com\n:8443"])
def test_parse_ims_endpoint_refuses_embedded_newlines(value):
    # `$` in a pattern matches before a trailing newline, so a label like "ims-na1\n" must still be refused.
    assert "\n" not in endpoint_error(value).msg


def test_parse_ims_endpoint_replaces_control_characters_in_what_it_shows():
    assert endpoint_error("ims\x07.example.com/p").msg == "ims_endpoint must be %s, without a path, query or user (got 'ims?.example.com/p')" % EXAMPLE


def test_parse_ims_endpoint_does_not_echo_a_password():
    error = endpoint_error("https://admin:%s@ims-na1.adobelogin.com" % SECRET)
    assert SECRET not in error.msg
    assert "***@ims-na1.adobelogin.com" in error.msg
