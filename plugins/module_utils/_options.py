# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The one definition of the options shared by the module and the lookup.

Both plugins validate raw values with :func:`validate_params` and turn them into a
:class:`Settings` with :func:`settings_from_params`, so an option behaves, and fails,
the same way whichever plugin reads it. The documentation of these options lives in
``plugins/doc_fragments/aem_ims.py``; a unit test keeps both in step.
"""

from __future__ import annotations

import os
import re

from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError

from ansible_collections.aemops.ims.plugins.module_utils._option_specs import (  # noqa: F401 pylint: disable=unused-import
    AUTH_METHODS,
    CACHE_MODES,
    DEFAULT_IMS_HOST,
    DEFAULT_METASCOPE,
    MODULE_ONLY_SPECS,
    OPTION_SPECS,
    PLUGIN_NAME,
    SECRET_OPTIONS,
    env_var_of,
)

_STRING_TYPES = ("str", "path")

LIMITS = {
    "jwt_lifetime": (10, 86400),
    "timeout": (1, 600),
    "retries": (0, 10),
    "refresh_margin": (0, 86400),
}

_FACT_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def env_fallback_unless_blank(*names):
    """ansible-core's env_fallback, except that an empty variable counts as unset.

    AWX and AAP inject every field of a credential type, empty or not; an empty
    AEM_IMS_JWT_LIFETIME must mean the default, not "not an integer".
    """
    from ansible.module_utils.errors import AnsibleFallbackNotFound  # pylint: disable=import-outside-toplevel

    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return value
    raise AnsibleFallbackNotFound


def argument_spec(for_module=True, with_env=True):
    """The AnsibleModule-style argument spec; the module gets environment fallbacks from it."""
    spec = {}
    for name, (option, env) in OPTION_SPECS.items():
        option = dict(option)
        if with_env:
            option["fallback"] = (env_fallback_unless_blank, [env])
        spec[name] = option
    if for_module:
        spec.update({name: dict(option) for name, option in MODULE_ONLY_SPECS.items()})
    return spec


def describe_type(value):
    """A value's kind in words, for messages that must not quote the value itself."""
    if value is None:
        return "nothing"
    # isinstance, not type().__name__: ansible-core 2.19 hands over tagged subclasses such as _AnsibleTaggedInt.
    for kind, name in ((bool, "a bool"), (dict, "a dict"), ((list, tuple), "a list"), (int, "an int"), (float, "a float"), (str, "a string")):
        if isinstance(value, kind):
            return name
    return "a " + type(value).__name__


_TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "a boolean (true or false)", "list": "a list of strings"}


def _shown(name, value):
    """How a bad value appears in a message: quoted if short and not secret, else only its kind."""
    if name in SECRET_OPTIONS or not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return describe_type(value)
    text = re.sub(r"[\x00-\x1f\x7f]", "?", str(value))
    return "'%s'" % (text if len(text) <= 40 else text[:37] + "...")


def _check_value(name, option, value):
    """Our own type and choice messages: ansible-core words its own differently in every release."""
    from ansible.module_utils.common.validation import (  # pylint: disable=import-outside-toplevel
        check_type_bool,
        check_type_float,
        check_type_int,
        check_type_list,
    )

    kind = option["type"]
    if kind in _STRING_TYPES and isinstance(value, (dict, list, tuple)):
        raise OptionError("%s must be a string, got %s" % (name, describe_type(value)), field=name)
    if kind == "list" and isinstance(value, dict):
        raise OptionError("%s must be a list of strings, got a dict" % name, field=name)
    checker = {"int": check_type_int, "float": check_type_float, "bool": check_type_bool, "list": check_type_list}.get(kind)
    if checker is not None:
        if kind in ("int", "float") and isinstance(value, bool):
            raise OptionError("%s must be %s, got a bool" % (name, _TYPE_WORDS[kind]), field=name)
        try:
            checker(value)
        except (TypeError, ValueError):
            raise OptionError("%s must be %s, got %s" % (name, _TYPE_WORDS[kind], _shown(name, value)), field=name) from None
    if "choices" in option and value not in option["choices"]:
        raise OptionError("%s must be one of %s, got %s" % (name, ", ".join(option["choices"]), _shown(name, value)), field=name)


def validate_params(params, for_module=True, with_env=True):
    """Check option names and types; return the converted parameters.

    Raises OptionError with one line that names the option. Values of secret options
    are never quoted. With with_env, unset options come from their AEM_IMS_* variables
    (empty ones count as unset), and are checked the same way.
    """
    # Imported here: a lookup served from the cache never validates, and each import costs a forked worker time.
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel

    spec = argument_spec(for_module=for_module, with_env=False)
    params = dict(params or {})
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise OptionError(
            "Unsupported option(s) for %s: %s. Supported options: %s" % (PLUGIN_NAME, ", ".join(unknown), ", ".join(sorted(spec))),
            field=unknown[0],
        )
    if with_env:
        for name, (_option, env) in OPTION_SPECS.items():
            value = os.environ.get(env)
            if params.get(name) is None and value is not None and value.strip():
                params[name] = value
    for name, value in params.items():
        if value is not None:
            _check_value(name, spec[name], value)
    result = ArgumentSpecValidator(spec).validate(params)
    if result.errors.errors:
        # Not expected after the checks above; kept so that nothing unvalidated gets through.
        message = str(result.errors.msg)
        name = _option_named_in(message, spec)
        if name in SECRET_OPTIONS:
            message = "%s has a value of the wrong type" % name
        raise OptionError(message, field=name)
    return result.validated_parameters


def _option_named_in(message, spec):
    # Longest first: "private_key_file" must win over "private_key".
    for name in sorted(spec, key=len, reverse=True):
        if re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(name), message):
            return name
    return None


def _check_range(name, value):
    low, high = LIMITS[name]
    if value is None or not low <= value <= high:
        raise OptionError("%s must be between %s and %s, got %s" % (name, low, high, value), field=name)


def _clean_list(values):
    """Split comma-separated items, strip them and drop empties and duplicates, keeping order."""
    cleaned = []
    for value in values or ():
        for item in str(value).split(","):
            item = item.strip()
            if item and item not in cleaned:
                cleaned.append(item)
    return cleaned


def _blank_to_none(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _is_loopback(host):
    import ipaddress  # pylint: disable=import-outside-toplevel

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_ims_endpoint(value, field_name="ims_endpoint"):
    """Turn a bare host, host:port or origin into an origin such as https://host[:port].

    IMS builds `aud` and the metascope claims from this origin, so it must not carry a
    path: a path would end up inside every claim and IMS would reject the JWT.
    """
    raw = str(value).strip()
    # A user:password in a URL is a secret: never echo it.
    shown = re.sub(r"(?<=://)[^/@]*@", "***@", raw)
    shown = re.sub(r"[\x00-\x1f\x7f]", "?", shown)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    example = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"
    scheme = "https"
    rest = raw
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", raw, re.DOTALL)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in ("https", "http"):
            raise OptionError("%s must be %s, not a %s:// URL (got '%s')" % (field_name, example, scheme, shown), field=field_name)
    rest = rest.rstrip("/")
    if not rest or any(char in rest for char in "/?#@\\") or any(char.isspace() for char in rest):
        raise OptionError("%s must be %s, without a path, query or user (got '%s')" % (field_name, example, shown), field=field_name)
    host, port = rest, None
    ipv6 = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(.*))?", rest)
    if ipv6:
        host, port = "[%s]" % ipv6.group(1), ipv6.group(2)
    elif rest.count(":") == 1:
        host, port = rest.split(":")
    elif ":" in rest:
        raise OptionError("%s must be %s (got '%s')" % (field_name, example, shown), field=field_name)
    if port is not None and (not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536):
        raise OptionError("%s has an invalid port (got '%s')" % (field_name, shown), field=field_name)
    if not ipv6 and not all(re.fullmatch(_HOST_LABEL, label) for label in host.split(".")):
        raise OptionError("%s must be %s (got '%s')" % (field_name, example, shown), field=field_name)
    if scheme == "http" and not _is_loopback(host):
        raise OptionError(
            "%s uses http:// for %s: IMS must be reached over https:// (plain http is allowed only for a loopback test server)" % (field_name, host),
            field=field_name,
        )
    origin = "%s://%s" % (scheme, host.lower())
    if port is not None and not (scheme == "https" and port == "443"):
        origin += ":" + port
    return origin


class Settings:
    """Validated options, ready for the core. Values of secret options stay in here only.

    A plain class rather than a dataclass: building a dataclass compiles code at import,
    and this module is imported in every forked worker that uses the lookup.
    """

    __slots__ = tuple(OPTION_SPECS) + tuple(MODULE_ONLY_SPECS) + ("origins",)

    def __init__(self, origins=None, **values):
        unknown = set(values) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown settings: %s" % ", ".join(sorted(unknown)))
        for name in self.__slots__[:-1]:
            spec = OPTION_SPECS[name][0] if name in OPTION_SPECS else MODULE_ONLY_SPECS[name]
            default = spec.get("default")
            if spec["type"] == "list":
                default = ()
            setattr(self, name, values.get(name, default))
        # Where each option came from ("the client_id option", "environment variable AEM_IMS_CLIENT_ID"), for messages.
        self.origins = dict(origins or {})

    def __repr__(self):
        shown = ", ".join("%s=%r" % (name, getattr(self, name)) for name in self.__slots__[:-1] if name not in SECRET_OPTIONS)
        return "Settings(%s)" % shown

    def secret_values(self):
        """Every secret that settings hold, for the last-resort scrubbing of messages."""
        values = [self.client_secret, self.private_key, self.private_key_passphrase]
        if self.proxy_url:
            values.append(self.proxy_url)
            credentials = re.match(r"^[a-z]+://([^@/]+)@", self.proxy_url)
            if credentials:
                values.extend(credentials.group(1).split(":", 1))
        if isinstance(self.service_credentials, str):
            values.append(self.service_credentials)
        return [value for value in values if isinstance(value, str) and value]

    def where(self, name):
        """Human description of where an option was looked for."""
        return self.origins.get(name) or "the %s option or %s" % (name, env_var_of(name))


def settings_from_params(params, origins=None):
    """Semantic checks on validated parameters (ranges, formats); returns Settings."""
    values = {name: _blank_to_none(params.get(name)) for name in list(OPTION_SPECS) + list(MODULE_ONLY_SPECS)}
    for name, (option, _env) in OPTION_SPECS.items():
        if values[name] is None and "default" in option:
            values[name] = option["default"]

    for name in LIMITS:
        _check_range(name, values[name])
    for name, choices in (("auth_method", AUTH_METHODS), ("cache", CACHE_MODES)):
        if values[name] not in choices:
            raise OptionError("%s must be one of %s, got %s" % (name, ", ".join(choices), _shown(name, values[name])), field=name)

    credentials = values["service_credentials"]
    if credentials is not None and not isinstance(credentials, (dict, str)):
        raise OptionError("service_credentials must be a dict or a JSON string, got %s" % describe_type(credentials), field="service_credentials")
    if values["ims_endpoint"] is not None:
        values["ims_endpoint"] = parse_ims_endpoint(values["ims_endpoint"])
    if values["proxy_url"] is not None and not re.match(r"^(https?|socks5h?)://[^/?#\s]+/?$", values["proxy_url"]):
        raise OptionError("proxy_url must look like http://[user:password@]host:port", field="proxy_url")
    fact_name = values["fact_name"]
    if fact_name is not None and not re.fullmatch(_FACT_NAME, fact_name):
        raise OptionError("fact_name must be a valid variable name, got '%s'" % fact_name[:60], field="fact_name")

    values["metascopes"] = tuple(_clean_list(values["metascopes"]))
    values["scopes"] = tuple(_clean_list(values["scopes"]))
    for name in ("service_credentials_file", "private_key_file", "ca_path", "cache_dir"):
        if values[name] is not None:
            values[name] = os.path.expanduser(str(values[name]))
    # requests would only fail on a missing CA bundle when connecting, with an OSError that names nothing.
    if values["ca_path"] is not None and not os.path.isfile(values["ca_path"]):
        problem = "is not a file" if os.path.exists(values["ca_path"]) else "does not exist"
        raise OptionError("ca_path %s %s: it must be a PEM file of CA certificates" % (values["ca_path"], problem), field="ca_path")
    values["timeout"] = float(values["timeout"])
    return Settings(origins=origins, **values)
