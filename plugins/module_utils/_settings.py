# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one strict reading of option values as written, alike for every source and both plugins: settings_from_options() and its Settings.

Only a cache miss imports this module.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

# The standard converters of Ansible modules. check_type_bool is ansible-core's strict boolean
# (convert_bool.boolean, strict=True): only its words (true/false, yes/no, on/off, 1/0, ...) turn
# validate_certs off.
from ansible.module_utils.common.validation import check_type_bool, check_type_float, check_type_int, check_type_list

from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError, describe_type
from ansible_collections.aemops.ims.plugins.module_utils._options import LOOKUP_OPTIONS, OPTIONS, PLUGIN_NAME, SECRET_OPTIONS, Option


class Settings:
    """Checked option values, ready for the core; values of secret options stay in here only.

    Not a dataclass: it would compile generated methods at import, in every worker where the lookup misses.
    """

    service_credentials_file: str | None
    service_credentials: dict | str | None
    credential_name: str | None
    credential_id: str | None
    auth_method: str
    client_id: str | None
    client_secret: str | None
    org_id: str | None
    technical_account_id: str | None
    private_key: str | None
    private_key_file: str | None
    private_key_passphrase: str | None
    metascopes: tuple[str, ...]
    scopes: tuple[str, ...]
    ims_endpoint: str | None
    jwt_lifetime: int
    validate_certs: bool
    ca_path: str | None
    proxy_url: str | None
    timeout: float
    retries: int
    cache: str
    cache_dir: str | None
    refresh_margin: int
    force_refresh: bool
    validate: bool
    fact_name: str | None
    state: str
    access_token: str | None

    __slots__ = (*OPTIONS, "origins", "lookup")

    def __init__(self, origins: Mapping[str, str] | None = None, lookup: bool = False, **values: object):
        unknown = set(values) - set(OPTIONS)
        if unknown:
            raise TypeError("unknown settings: %s" % ", ".join(sorted(unknown)))
        for name, option in OPTIONS.items():
            setattr(self, name, values.get(name, option.unset))
        # Where each option came from, in ansible-core's words (see describe_origin), for messages.
        self.origins = dict(origins or {})
        self.lookup = lookup

    def __repr__(self):
        return "Settings(%s)" % ", ".join("%s=%r" % (name, getattr(self, name)) for name in OPTIONS if name not in SECRET_OPTIONS)

    def where(self, name: str) -> str:
        """Where an option came from, or where it was looked for, in words."""
        if name not in self.origins:
            return "the %s option or %s" % (name, OPTIONS[name].env)
        return describe_origin(name, self.origins[name], self.lookup)

    def secret_values(self) -> list[str]:
        """Every secret these settings hold, for the last-resort scrubbing of messages."""
        values = [self.client_secret, self.private_key, self.private_key_passphrase, self.proxy_url, self.access_token]
        if self.proxy_url:
            from ansible_collections.aemops.ims.plugins.module_utils._endpoints import proxy_credentials  # pylint: disable=import-outside-toplevel

            values.extend(proxy_credentials(self.proxy_url))
        if isinstance(self.service_credentials, str):
            values.append(self.service_credentials)
        return [value for value in values if isinstance(value, str) and value]


def describe_origin(name: str, origin: str, lookup: bool) -> str:
    """An origin in ansible-core's words ("Direct", "var: x", "env: X", an ansible.cfg path: input_fingerprint keys on them) in a message's words."""
    if origin == "Direct":
        return "%s %s" % ("the keyword" if lookup else "the task argument", name)
    if origin.startswith(("var: ", "env: ")):
        return "%s %s" % ("variable" if origin.startswith("var: ") else "environment variable", origin[5:])
    return "[aem_ims] %s in %s" % (name, origin) if os.path.isabs(origin) else origin


def module_option_values(args: Mapping[str, object], environ: Mapping[str, str] | None = None) -> tuple[dict, dict]:
    """The module's options as written, and where each came from in ansible-core's words: a task argument, else its non-empty AEM_IMS_* variable."""
    environ = os.environ if environ is None else environ
    values = dict(args)
    origins = {name: "Direct" for name, value in args.items() if value is not None}
    for name, option in OPTIONS.items():
        if values.get(name) is None and option.env and environ.get(option.env, "").strip():
            values[name] = environ[option.env]
            origins[name] = "env: %s" % option.env
    return values, origins


def settings_from_options(values: Mapping[str, object], origins: Mapping[str, str] | None = None, lookup: bool = False) -> Settings:
    """Settings from option values as written, or an OptionError naming the option and its source; empty strings count as unset."""
    known = LOOKUP_OPTIONS if lookup else OPTIONS
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise OptionError(
            "Unsupported option(s) for %s: %s. Supported options: %s" % (PLUGIN_NAME, ", ".join(unknown), ", ".join(sorted(known))),
            field=unknown[0],
        )
    origins = dict(origins or {})
    checked: dict[str, object] = {}
    try:
        for name, option in known.items():
            value = values.get(name)
            if isinstance(value, str) and not value.strip():
                value = None
            checked[name] = option.unset if value is None else _converted(option, value)
        for option in known.values():
            if option.limits is not None:
                low, high = option.limits
                if not low <= checked[option.name] <= high:  # type: ignore[operator]
                    raise OptionError("%s must be between %s and %s, got %s" % (option.name, low, high, checked[option.name]), field=option.name)
        _check_formats(checked)
    except OptionError as error:
        if error.field not in origins:
            raise
        raise OptionError("%s (from %s)" % (error.msg, describe_origin(error.field, origins[error.field], lookup)), field=error.field) from None
    return Settings(origins, lookup, **checked)


def _shown(option: Option, value: object) -> str:
    """How a bad value appears in a message: quoted if short and not secret, else only its kind."""
    if option.secret or not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return describe_type(value)
    text = re.sub(r"[\x00-\x1f\x7f]", "?", str(value))
    return "'%s'" % (text if len(text) <= 40 else text[:37] + "...")


def _converted(option: Option, value: object) -> object:
    """A value converted to its option's type with Ansible's own rules (_TYPES), or an OptionError in our words.

    Our words: ansible-core's differ in every release. Strict booleans: the lenient ones read any unknown word ("ture") as false.
    """
    if option.type == "raw":
        return value
    words, refused, convert = _TYPES[option.type]
    if isinstance(value, refused):
        raise OptionError("%s must be %s, got %s" % (option.name, words, describe_type(value)), field=option.name)
    try:
        converted = convert(value)
    except (TypeError, ValueError):
        raise OptionError("%s must be %s, got %s" % (option.name, words, _shown(option, value)), field=option.name) from None
    if option.choices is not None and converted not in option.choices:
        raise OptionError("%s must be one of %s, got %s" % (option.name, ", ".join(option.choices), _shown(option, converted)), field=option.name)
    return converted


# Per type: what a value must be, in a message's words; what is refused before converting (a bool
# is no number, though Python's int() takes it); and the converter.
_TYPES: dict[str, tuple[str, type | tuple[type, ...], Callable[[object], object]]] = {
    "str": ("a string", (dict, list, tuple), str),
    "path": ("a string", (dict, list, tuple), lambda value: os.path.expanduser(os.path.expandvars(str(value)))),
    "int": ("an integer", bool, check_type_int),
    "float": ("a number", bool, check_type_float),
    "bool": ("a boolean (true or false)", (), check_type_bool),
    "list": ("a list of strings", dict, lambda value: tuple(split_list(check_type_list(value)))),
}


def split_list(values: object, split_items: bool = True) -> list[str]:
    """Items of a list or of a comma-separated string (Adobe's formats mix both, as users do), stripped, without empties or duplicates, in order.

    With split_items false, items of a list are kept whole (a client secret is not a list).
    """
    if values is None:
        return []
    items = values.split(",") if isinstance(values, str) else values
    cleaned: list[str] = []
    for value in items:  # type: ignore[attr-defined]
        for item in str(value).split(",") if split_items else [str(value)]:
            item = item.strip()
            if item and item not in cleaned:
                cleaned.append(item)
    return cleaned


def _check_formats(values: dict) -> None:
    """The checks a type cannot express, in place: credentials, endpoint, proxy, fact name, CA bundle."""
    credentials = values["service_credentials"]
    if credentials is not None and not isinstance(credentials, (dict, str)):
        raise OptionError("service_credentials must be a dict or a JSON string, got %s" % describe_type(credentials), field="service_credentials")
    if values["ims_endpoint"] is not None:
        from ansible_collections.aemops.ims.plugins.module_utils._endpoints import parse_ims_endpoint  # pylint: disable=import-outside-toplevel

        values["ims_endpoint"] = parse_ims_endpoint(values["ims_endpoint"])
    if values["proxy_url"] is not None and not re.match(r"^(https?|socks5h?)://[^/?#\s]+/?$", values["proxy_url"]):
        raise OptionError("proxy_url must look like http://[user:password@]host:port", field="proxy_url")
    fact_name = values.get("fact_name")
    if fact_name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fact_name):
        raise OptionError("fact_name must be a valid variable name, got '%s'" % fact_name[:60], field="fact_name")
    if values.get("access_token") is not None and values.get("state") != "absent":
        raise OptionError("access_token is the token to revoke with state=absent; state is %s" % values.get("state"), field="access_token")
    # requests would only fail on a missing CA bundle when connecting, with an OSError that names nothing.
    ca_path = values["ca_path"]
    if ca_path is not None and not os.path.isfile(ca_path):
        problem = "is not a file" if os.path.exists(ca_path) else "does not exist"
        raise OptionError("ca_path %s %s: it must be a PEM file of CA certificates" % (ca_path, problem), field="ca_path")


def argument_spec() -> dict[str, dict]:
    """The module's argument spec, for tools that read it (validate-modules, ansible-doc); the action plugin does the work."""
    spec: dict[str, dict] = {}
    for name, option in OPTIONS.items():
        entry: dict[str, object] = {"type": option.type}
        for key in ("default", "choices", "elements"):
            if getattr(option, key) is not None:
                entry[key] = list(getattr(option, key)) if key == "choices" else getattr(option, key)
        if option.secret:
            entry["no_log"] = True
        elif re.search(r"pass(?!ive)|secret|token|key", name):
            # validate-modules wants an explicit no_log on every name that looks secret.
            entry["no_log"] = False
        spec[name] = entry
    return spec
