# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""IMS endpoints: what an ims_endpoint option or a credentials document's imsEndpoint may say.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

from ansible_collections.aemops.ims.plugins.module_utils._errors import OptionError

_EXAMPLE = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"


def is_loopback(host: str) -> bool:
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_ims_endpoint(value: object, field_name: str = "ims_endpoint") -> str:
    """Turn a bare host, host:port or origin into an origin such as https://host[:port].

    Never with a path: IMS builds `aud` and the metascope claims from the origin, and would reject a JWT with a path in them.
    """
    raw = str(value).strip()
    # A user:password in a URL is a secret: never echo it.
    shown = re.sub(r"[\x00-\x1f\x7f]", "?", re.sub(r"(?<=://)[^/@]*@", "***@", raw))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."

    def refused(problem: str) -> OptionError:
        return OptionError("%s %s (got '%s')" % (field_name, problem, shown), field=field_name)

    scheme, rest = "https", raw
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", raw, re.DOTALL)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in ("https", "http"):
            raise refused("must be %s, not a %s:// URL" % (_EXAMPLE, scheme))
    rest = rest.rstrip("/")
    if not rest or any(char in rest for char in "/?#@\\") or any(char.isspace() for char in rest):
        raise refused("must be %s, without a path, query or user" % _EXAMPLE)
    host, port = rest, None
    ipv6 = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(.*))?", rest)
    if ipv6:
        host, port = "[%s]" % ipv6.group(1), ipv6.group(2)
    elif rest.count(":") == 1:
        host, port = rest.split(":")
    if port is not None and (not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536):
        raise refused("has an invalid port")
    if not ipv6 and not all(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", label) for label in host.split(".")):
        raise refused("must be " + _EXAMPLE)
    if scheme == "http" and not is_loopback(host):
        raise OptionError(
            "%s uses http:// for %s: IMS must be reached over https:// (plain http is allowed only for a loopback test server)" % (field_name, host),
            field=field_name,
        )
    origin = "%s://%s" % (scheme, host.lower())
    if port is not None and not (scheme == "https" and port == "443"):
        origin += ":" + port
    return origin


def is_adobe_ims(origin: str) -> bool:
    """Whether an origin (as parse_ims_endpoint returns it) is Adobe's IMS over https (*.adobelogin.com: ims-na1, stage's ims-na1-stg1)."""
    return re.fullmatch(r"https://[a-z0-9.-]*\.adobelogin\.com(?::[0-9]+)?", origin) is not None


def proxy_credentials(proxy_url: str | None) -> list[str]:
    """The user and password of a proxy URL of any scheme, as written and decoded.

    The user information ends at the last @ before the host, as requests and urllib3 read it: a password holding an @ or a : is found whole.
    """
    match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)@", proxy_url or "")
    if not match:
        return []
    user, _colon, password = match.group(1).partition(":")
    values = [match.group(1), user, unquote(user), password, unquote(password)]
    return [value for value in dict.fromkeys(values) if value]
