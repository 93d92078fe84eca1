# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTTP side of a token request: one POST to IMS, retried when it is worth it.

Every answer that is not a token becomes one line with the HTTP status, IMS's error code and
description, its x-debug-id and a hint; never a request body, which holds the client secret and the JWT.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ansible_collections.aemops.ims.plugins.module_utils._errors import ImsResponseError, MissingDependencyError, OptionError, TransportError, one_line, redact
from ansible_collections.aemops.ims.plugins.module_utils._options import COLLECTION_VERSION

JWT_EXCHANGE_PATH = "/ims/exchange/jwt"
CLIENT_CREDENTIALS_PATH = "/ims/token/v3"
VALIDATE_TOKEN_PATH = "/ims/validate_token/v1"
INVALIDATE_TOKEN_PATH = "/ims/invalidate_token/v2"
# What a successful answer holds: interpret_response's expect.
ANSWER_TOKEN = "token"
ANSWER_VALIDATION = "validation"
ANSWER_EMPTY = "empty"

# Waits between attempts: exponential with jitter, or IMS's Retry-After up to RETRY_AFTER_CAP; bounded waits bound the call (deadline()).
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 8.0
RETRY_AFTER_CAP = 10.0
MAX_RETRY_AFTER_SECONDS = 86400.0
# Beyond the deadline, the time an attempt's thread has to report what ended it.
DEADLINE_GRACE = 1.0
MAX_BODY_BYTES = 256 * 1024
# Bytes asked of the socket at a time, so that the deadline is checked between reads: a server that drips its answer cannot stretch the call.
READ_CHUNK_BYTES = 16 * 1024
# Ten billion: no unit of any IMS endpoint makes a real lifetime this long.
MAX_EXPIRES_IN = 1e10
USER_AGENT = "aemops.ims/%s (+https://github.com/aemops/ims)" % COLLECTION_VERSION
# What IMS's error codes usually mean for these options; _hint tells some cases apart by IMS's description.
_CODE_HINTS = {
    "invalid_token": "IMS could not decode the JWT; check org_id, technical_account_id and the private key",
    "invalid_scope": "the metascopes or scopes do not match those of the integration; copy them from the credentials",
    "unauthorized_client": "the credential is not allowed this grant; check auth_method (jwt or oauth_server_to_server)",
    "invalid_jti": "the binding requires a unique integer jti claim",
}


def deadline(timeout: float, retries: int) -> float:
    """Upper bound in seconds of one token request, all attempts and waits included."""
    return timeout * (retries + 1) + RETRY_AFTER_CAP * retries


def is_bad_client_secret(error: Exception) -> bool:
    """IMS's answer to a rotated-out secret: the next secret of the credential may still work."""
    return isinstance(error, ImsResponseError) and error.code == "invalid_client" and "client_secret" in (error.description or "").lower()


def _hint(code: str | None, description: str | None, status: int, origin: str, server_date: str | None, identity_sources: Sequence[str]) -> str | None:
    # identity_sources: the JWT issuer and subject that options set, which IMS's binding error may be about.
    text = (description or "").lower()
    if code == "invalid_token" and "bindings" in text:
        if identity_sources:
            # Values set over the credentials are the likelier mistake: name them first.
            return (
                "%s set over the credentials may not be this integration's; or the private key does not belong to it, or its certificate "
                "expired or was revoked in the AEM Developer Console" % " and ".join(identity_sources)
            )
        return (
            "the private key does not belong to this integration, or its certificate expired or was revoked in the AEM Developer Console; "
            "download the service credentials again"
        )
    if code == "invalid_token" and re.search(r"expire|not yet valid|clock|\biat\b", text):
        local = datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
        return "the controller clock looks wrong (clock skew): local time is %s, IMS time is %s" % (local, server_date or "unknown")
    if code == "invalid_client" and "client_secret" in text:
        return "the client_secret is wrong, or was rotated out in the Developer Console"
    if code == "invalid_client":
        return "unknown client_id, or the wrong IMS environment (stage or production: ims_endpoint is %s)" % origin
    if code in _CODE_HINTS:
        return _CODE_HINTS[code]
    if status == 429:
        return "IMS is rate limiting token requests; cache: run or cache: persistent avoids most of them"
    if status >= 500:
        return "IMS had a server error; try again later"
    return None


def _excerpt(body: bytes, secrets: list[str]) -> str:
    """A short, printable, tag-free excerpt of a non-JSON body (an HTML proxy page, say)."""
    text = body.decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    text = re.sub(r"<[^>]*>", " ", title.group(1) if title else text)
    # Scrubbed before it is cut short: a secret cut in half would no longer be recognised.
    return one_line(redact(re.sub(r"[^\x20-\x7e]+", " ", redact(text, secrets)), secrets), 80)


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date), capped; None when absent or unreadable."""
    value = (value or "").strip()
    if re.fullmatch(r"[0-9]+", value):
        # float() of any length of digits is at most inf, which the cap bounds.
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    seconds = (when.replace(tzinfo=when.tzinfo or timezone.utc) - datetime.now(timezone.utc)).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)


def _printable(value: object, limit: int) -> str:
    """A header or JSON value made safe for a one-line message: printable ASCII, bounded length."""
    return one_line(re.sub(r"[^\x20-\x7e]+", " ", str(value)), limit)


def _usable_expires_in(value: object) -> bool:
    # A bool is an int to isinstance; the bounds also refuse inf and nan.
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value < MAX_EXPIRES_IN


def interpret_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    what: str,
    origin: str,
    secrets: list[str],
    expect: str = ANSWER_TOKEN,
    identity_sources: Sequence[str] = (),
) -> tuple[dict, str | None]:
    """Return (the parsed success JSON, the Date header), or raise ImsResponseError with one line.

    expect is a token, a validation verdict ({"valid": bool}) or anything (an invalidation answers an empty 200).
    What the line quotes is made printable and scrubbed of the request's secrets: a server or proxy could echo them.
    """
    content_type = _printable((headers.get("Content-Type") or "").split(";")[0].strip() or "no content type", 60)
    debug_id = headers.get("x-debug-id")
    debug_id = re.sub(r"[^A-Za-z0-9._:-]", "", redact(str(debug_id), secrets))[:80] if debug_id else None
    server_date = _printable(headers.get("Date"), 40) if headers.get("Date") else None
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    retryable = status == 429 or status >= 500
    retry_after = _retry_after_seconds(headers.get("Retry-After")) if retryable else None

    def fail(message: str, **details: str | None) -> ImsResponseError:
        return ImsResponseError(redact(one_line(message), secrets), status=status, retryable=retryable, retry_after=retry_after, **details)

    if 200 <= status < 300:
        if expect == ANSWER_EMPTY:
            return {}, server_date
        if not isinstance(data, dict):
            raise fail("IMS answered the %s with HTTP %d but not with JSON (%s): '%s'" % (what, status, content_type, _excerpt(body, secrets)))
        if expect == ANSWER_VALIDATION:
            if not isinstance(data.get("valid"), bool):
                raise fail("IMS answered the %s with HTTP %d but without a true or false valid" % (what, status))
        elif not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise fail("IMS answered the %s with HTTP %d but without an access_token" % (what, status))
        elif not _usable_expires_in(data.get("expires_in")):
            raise fail("IMS answered the %s without a usable expires_in" % what)
        return data, server_date
    if 300 <= status < 400:
        # Only an absolute target's scheme and host: a path or query could carry anything.
        target = re.match(r"^(https?://[A-Za-z0-9.:\[\]-]+)", headers.get("Location") or "")
        raise fail(
            "IMS answered the %s with a redirect (HTTP %d%s): check ims_endpoint (%s)" % (what, status, " to " + target.group(1) if target else "", origin)
        )
    code = description = None
    if isinstance(data, dict) and data.get("error"):
        # Scrubbed before they are cut short: a secret cut in half would no longer be recognised.
        code = _printable(redact(str(data.get("error")), secrets), 60)
        description = _printable(redact(str(data.get("error_description") or ""), secrets), 300)
        message = "IMS rejected the %s: HTTP %d %s" % (what, status, code)
        if description:
            message += ": " + description.rstrip(". ")
    elif data is None:
        message = "IMS answered the %s with HTTP %d and a non-JSON body (%s): '%s'" % (what, status, content_type, _excerpt(body, secrets))
    else:
        message = "IMS answered the %s with HTTP %d and JSON without an error code" % (what, status)
    if debug_id:
        message += " (x-debug-id %s)" % debug_id
    hint = _hint(code, description, status, origin, server_date, identity_sources)
    if hint:
        message += ". Hint: " + hint
    raise fail(message, code=code, description=description, debug_id=debug_id)


def _tls_reason(error: Exception) -> str:
    text = str(error)
    match = re.search(r"certificate verify failed: (.+?)\.? \(_ssl", text) or re.search(r"certificate verify failed: ([^()\"]+)", text)
    if match:
        return _printable("certificate verify failed: " + match.group(1).strip(), 200)
    match = re.search(r"(hostname '[^']+' doesn't match[^()'\"]*|wrong version number|unexpected eof[^()'\"]*)", text, re.IGNORECASE)
    return match.group(1) if match else "the TLS handshake failed"


def _connection_reason(error: Exception) -> str:
    for pattern, reason in (
        (r"Connection refused", "connection refused"),
        (r"Name or service not known|nodename nor servname|Temporary failure in name resolution|getaddrinfo failed", "the host name does not resolve"),
        (r"Network is unreachable", "network unreachable"),
        (r"RemoteDisconnected|Connection aborted|Connection reset|closed connection without response", "the connection was closed without an answer"),
        (r"Tunnel connection failed: (\d{3}[^'\")]*)", None),
    ):
        match = re.search(pattern, str(error))
        if match:
            return reason or "the proxy refused the tunnel (%s)" % match.group(1).strip()
    return "connection failed"


class ImsHttpClient:
    """Posts form-encoded requests to IMS with retries, a deadline and safe errors; progress hears of each retry (shown at -v)."""

    def __init__(
        self,
        origin: str,
        timeout: float = 30.0,
        retries: int = 3,
        validate_certs: bool = True,
        ca_path: str | None = None,
        proxy_url: str | None = None,
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] | None = None,
        identity_sources: Iterable[str] = (),
    ):
        # Imported here, not with this module (which the module's cache hit imports): requests costs more to import than a templated task.
        try:
            import requests  # pylint: disable=import-outside-toplevel
        except ImportError as error:
            raise MissingDependencyError(
                "talking to IMS needs the Python package requests on the Ansible controller: pip install requests (missing: %s)"
                % (getattr(error, "name", None) or error)
            ) from None
        self.requests = requests
        self.origin = origin
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.through_proxy = " through proxy_url" if proxy_url else ""
        self.secrets = list(secrets)
        self.sleep = sleep
        self.progress = progress
        self.identity_sources = list(identity_sources)
        self.attempts = 0
        # When the current post() must end (time.monotonic()), all attempts and waits included.
        self._limit = 0.0
        # requests speaks SOCKS only with PySocks installed (requests[socks]): say so before any request.
        if proxy_url and proxy_url.lower().startswith("socks") and importlib.util.find_spec("socks") is None:
            raise OptionError(
                "proxy_url is a %s:// proxy, which needs the Python package PySocks on the Ansible controller: pip install 'requests[socks]', "
                "or use an http:// proxy" % proxy_url.split(":", 1)[0].lower(),
                field="proxy_url",
            )
        self.session = requests.Session()
        # With trust_env, requests would let HTTPS_PROXY win over an explicit proxy and send ~/.netrc credentials to IMS.
        self.session.trust_env = False
        # IMS's certificate is checked against ca_path, else the bundle requests would read from the environment, else the system store.
        self.verify: bool | str = ca_path or False
        if validate_certs and not ca_path:
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # An explicit proxy serves every IMS request, whatever HTTPS_PROXY and NO_PROXY say.
        self.proxies = {"http": proxy_url, "https": proxy_url} if proxy_url else requests.utils.get_environ_proxies(origin)

    def _post_once(self, url: str, fields: dict, attempt_timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        requests = self.requests
        try:
            with warnings.catch_warnings() if self.verify is False else contextlib.nullcontext():
                if self.verify is False:
                    # urllib3 warns of every unverified request; the token service warns once that validate_certs is false.
                    warnings.simplefilter("ignore")
                return self._send(url, fields, attempt_timeout)
        except requests.exceptions.SSLError as error:
            raise TransportError(
                "TLS certificate problem talking to %s%s: %s. If IMS is reached through a TLS-inspecting proxy or a private CA, "
                "set ca_path to that CA bundle" % (self.origin, self.through_proxy, _tls_reason(error)),
                retryable=False,
                field="ca_path",
            ) from None
        except requests.exceptions.ProxyError as error:
            reason = _connection_reason(error)
            raise TransportError(
                "could not reach IMS at %s through the proxy: %s" % (self.origin, reason), retryable="tunnel" not in reason, field="proxy_url"
            ) from None
        except requests.exceptions.Timeout:
            raise TransportError("IMS at %s did not answer within %g s (timeout)" % (self.origin, round(attempt_timeout, 1))) from None
        except requests.exceptions.ConnectionError as error:
            raise TransportError("could not connect to IMS at %s%s: %s" % (self.origin, self.through_proxy, _connection_reason(error))) from None
        except (requests.exceptions.RequestException, ValueError) as error:
            raise TransportError("the request to IMS at %s failed: %s" % (self.origin, type(error).__name__), retryable=False) from None
        except OSError as error:
            # requests reports an unreadable CA bundle this way, before any connection.
            raise TransportError(
                "the request to IMS at %s could not be prepared: %s (check ca_path)" % (self.origin, error.strerror or type(error).__name__),
                retryable=False,
                field="ca_path",
            ) from None

    def _send(self, url: str, fields: dict, attempt_timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        response = self.session.post(
            url,
            data=fields,
            # identity: a compressed answer could inflate far beyond what was read (CVE-2025-66471).
            headers={"Accept": "application/json", "Accept-Encoding": "identity", "Cache-Control": "no-cache", "User-Agent": USER_AGENT},
            timeout=attempt_timeout,
            verify=self.verify,
            proxies=self.proxies,
            allow_redirects=False,
            stream=True,
        )
        try:
            body = self._read_body(response.raw, attempt_timeout)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # urllib3 raises its own exceptions while the body streams in (and _read_body a ReadTimeout); map them to requests'.
            if "timeout" in type(error).__name__.lower() or "timed out" in str(error).lower():
                raise self.requests.exceptions.ReadTimeout() from None
            raise self.requests.exceptions.ConnectionError("Connection aborted") from None
        finally:
            response.close()
        return response.status_code, response.headers, body

    def _read_body(self, raw, attempt_timeout: float) -> bytes:
        """The body, at most MAX_BODY_BYTES (+1), each read given only the time left: requests' timeout bounds a read, not the answer."""
        body = b""
        while len(body) <= MAX_BODY_BYTES:
            remaining = min(attempt_timeout, self._limit - time.monotonic())
            if remaining <= 0:
                raise self.requests.exceptions.ReadTimeout()
            # urllib3 2: the socket of the response's connection, when it still has one.
            with contextlib.suppress(AttributeError, OSError):
                raw.connection.sock.settimeout(max(0.05, remaining))
            chunk = raw.read1(min(READ_CHUNK_BYTES, MAX_BODY_BYTES + 1 - len(body)), decode_content=True)
            if not chunk:
                break
            body += chunk
        return body[: MAX_BODY_BYTES + 1]

    def _attempt(self, url: str, fields: dict, attempt_timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        """One attempt, abandoned at the deadline even if the server drips its headers; its thread ends with its socket read or the process."""
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["answer"] = self._post_once(url, fields, attempt_timeout)
            except BaseException as error:  # pylint: disable=broad-exception-caught
                outcome["error"] = error

        worker = threading.Thread(target=run, name="aemops-ims-request", daemon=True)
        worker.start()
        worker.join(max(0.0, self._limit - time.monotonic()) + DEADLINE_GRACE)
        if worker.is_alive():
            raise TransportError(
                "IMS at %s did not complete its answer within %g s, the deadline of this call (timeout x (retries + 1) + backoff)"
                % (self.origin, round(deadline(self.timeout, self.retries), 1)),
                retryable=False,
            )
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["answer"]  # type: ignore[return-value]

    def post(self, path: str, make_fields: Callable[[], dict], what: str, expect: str = ANSWER_TOKEN) -> tuple[dict, str | None]:
        """POST the fields make_fields() returns (fresh on each attempt); return what interpret_response does."""
        started = time.monotonic()
        limit = self._limit = started + deadline(self.timeout, self.retries)
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            attempt_timeout = max(1.0, min(self.timeout, limit - time.monotonic()))
            fields = make_fields()
            # The signed JWT is a secret too, and so is every form of the client secret an answer could echo.
            self.secrets.extend(str(fields[name]) for name in ("client_secret", "jwt_token", "token") if fields.get(name))
            try:
                status, headers, body = self._attempt(self.origin + path, fields, attempt_timeout)
                return interpret_response(status, headers, body, what, self.origin, self.secrets, expect, self.identity_sources)
            except (TransportError, ImsResponseError) as error:
                elapsed = time.monotonic() - started
                retry_after = error.retry_after if isinstance(error, ImsResponseError) else None
                may_retry = error.retryable and attempt <= self.retries
                if may_retry and retry_after is not None and retry_after > RETRY_AFTER_CAP:
                    error.msg = one_line(
                        "%s (IMS asked to retry after %d s, longer than the %d s this client waits)" % (error.msg, retry_after, RETRY_AFTER_CAP)
                    )
                    raise
                if may_retry:
                    wait = retry_after if retry_after is not None else min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
                    if time.monotonic() + wait + 1.0 <= limit:
                        if self.progress is not None:
                            self.progress(
                                "the %s to IMS at %s failed (attempt %d of %d, after %.1f s): %s; retrying in %.1f s"
                                % (what, self.origin, attempt, self.retries + 1, elapsed, one_line(error.msg, 200), wait)
                            )
                        self.sleep(wait)
                        continue
                if attempt > 1 and error.retryable:
                    error.msg = one_line("%s (gave up after %d attempts in %.1f s)" % (error.msg, attempt, elapsed))
                raise
