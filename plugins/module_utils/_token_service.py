# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Options in, token out: the one code path behind the module and the lookup.

The order matters for speed. Credentials are read and the cache key is hashed with
the standard library; only a cache miss imports requests, PyJWT and cryptography
(in ``_signing`` and ``_ims_client``), which cost more than a whole templated task.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
from datetime import datetime, timezone

from ansible_collections.aemops.ims.plugins.module_utils._cache import RUN_CACHE_SUBDIR, TokenCache, cache_directory, file_identity, usable
from ansible_collections.aemops.ims.plugins.module_utils._credentials import METHOD_JWT, build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, ImsResponseError, KeyMaterialError, redact
from ansible_collections.aemops.ims.plugins.module_utils._ims_client import (
    CLIENT_CREDENTIALS_PATH,
    JWT_EXCHANGE_PATH,
    ImsHttpClient,
    deadline,
    is_bad_client_secret,
)

CERTIFICATE_WARNING_DAYS = 30
# How far the answer's expires_in may disagree with the token's own claims before the
# claims win: beyond that, the answer's unit was misread (ms vs s, ethyca/fides#1753).
EXPIRY_DISAGREEMENT_SECONDS = 300
LOCK_GRACE_SECONDS = 5


def iso_utc(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_certificate_expiry(not_after, request, now, warn):
    """Fail on an expired certificate, warn within CERTIFICATE_WARNING_DAYS of expiry."""
    if not not_after:
        return
    expires = datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    if expires <= now:
        raise KeyMaterialError(
            "the certificate of the %s expired on %s: IMS will reject every JWT. In the AEM Developer Console add a new certificate "
            "(or private key) for this technical account and download the service credentials again" % (request.source, not_after),
            field="publicKey",
        )
    days_left = (expires - now) / 86400.0
    if days_left < CERTIFICATE_WARNING_DAYS and warn is not None:
        days_left = math.ceil(days_left)
        warn(
            "the certificate of the %s expires on %s (in %d day%s): add a new certificate for this technical account in the AEM "
            "Developer Console and download the service credentials again before then" % (request.source, not_after, days_left, "" if days_left == 1 else "s")
        )


def _token_claims(access_token):
    """The claims of an IMS access token (it is a JWT), read without verifying it."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def expiry_from_answer(answer, unit_seconds, now):
    """Absolute expiry of a fresh token.

    The JWT exchange answers expires_in in milliseconds and /ims/token/v3 in seconds.
    The token itself carries created_at and expires_in in milliseconds; when the two
    disagree by more than a few minutes the answer's unit was not what it should be and
    the token's claims win.
    """
    expires_at = now + float(answer["expires_in"]) * unit_seconds
    claims = _token_claims(answer["access_token"])
    try:
        claimed = (float(claims["created_at"]) + float(claims["expires_in"])) / 1000.0
    except (KeyError, TypeError, ValueError):
        return expires_at
    if claimed > now and abs(claimed - expires_at) > EXPIRY_DISAGREEMENT_SECONDS:
        return claimed
    return expires_at


def open_cache(settings, run_cache_dir):
    directory = cache_directory(settings.cache, settings.cache_dir, run_cache_dir)
    if directory is None:
        return None
    return TokenCache.open(directory, "cache_dir" if settings.cache == "persistent" else "the run's token cache directory")


def exchange(request, settings, now=time.time, warn=None):
    """Sign (for JWT) and POST the token request; return a cache entry. Heavy imports live here."""
    # PyJWT and cryptography load with _signing, on a cache miss only.
    from ansible_collections.aemops.ims.plugins.module_utils import _signing  # pylint: disable=import-outside-toplevel

    certificate_not_after = None
    if request.auth_method == METHOD_JWT:
        key = _signing.load_private_key(request)
        certificate_not_after = _signing.check_certificate(request, key)
        check_certificate_expiry(certificate_not_after, request, now(), warn)
        path, what, unit_seconds = JWT_EXCHANGE_PATH, "JWT exchange", 0.001

        def form_for(secret):
            return lambda: {
                "client_id": request.client_id,
                "client_secret": secret,
                "jwt_token": _signing.build_jwt(request, key, settings.jwt_lifetime, now()),
            }

    else:
        path, what, unit_seconds = CLIENT_CREDENTIALS_PATH, "OAuth Server-to-Server token request", 1.0

        def form_for(secret):
            return lambda: {
                "grant_type": "client_credentials",
                "client_id": request.client_id,
                "client_secret": secret,
                "scope": ",".join(request.scopes),
            }

    client = ImsHttpClient(
        request.origin,
        timeout=settings.timeout,
        retries=settings.retries,
        validate_certs=settings.validate_certs,
        ca_path=settings.ca_path,
        proxy_url=settings.proxy_url,
        secrets=settings.secret_values() + request.secret_values(),
    )
    # A credential can hold two secrets while one is rotated out: try them in order, and
    # move on only when IMS says the secret itself is wrong.
    for index, secret in enumerate(request.client_secrets):
        try:
            answer, _server_date = client.post(path, form_for(secret), what)
            break
        except ImsResponseError as error:
            if is_bad_client_secret(error) and index + 1 < len(request.client_secrets):
                continue
            raise
    issued_at = now()
    return {
        "access_token": answer["access_token"],
        "token_type": str(answer.get("token_type") or "bearer"),
        "issued_at": issued_at,
        "expires_at": expiry_from_answer(answer, unit_seconds, issued_at),
        "certificate_not_after": certificate_not_after,
    }


def _result(request, entry, cached, now):
    result = request.public_summary()
    result.update(
        access_token=entry["access_token"],
        token_type=entry.get("token_type") or "bearer",
        expires_in=max(0, int(entry["expires_at"] - now)),
        expires_at=iso_utc(entry["expires_at"]),
        cached=cached,
        headers={"Authorization": "Bearer " + entry["access_token"], "x-api-key": request.client_id},
    )
    if entry.get("certificate_not_after"):
        result["certificate_expires_at"] = entry["certificate_not_after"]
    return {name: value for name, value in result.items() if value is not None}


def obtain_token(settings, credentials_file=None, run_cache_dir=None, warn=None, now=time.time, warn_on_cache_hit=True, input_key=None):
    """Return the token result dict for the given settings (and lookup term, if any).

    The lookup passes warn_on_cache_hit=False: it runs once per host and task, and a
    certificate warning repeated hundreds of times would bury the play's output. It
    also passes input_key (see _cache_reader.input_fingerprint): an alias from that key
    to the entry is stored in the run's directory for its fast path.
    """
    files = {}
    if input_key:
        # Identities taken before the files are read: a file changed meanwhile is validated again next time.
        for path in (credentials_file or settings.service_credentials_file, settings.private_key_file):
            if path:
                files[path] = file_identity(path)
    request = build_token_request(settings, credentials_file)
    try:
        return _obtain(request, settings, run_cache_dir, warn, now, warn_on_cache_hit, (input_key, files) if input_key else None)
    except AemImsError as error:
        # Secrets read from a credentials file are unknown to the plugins' own scrubbing.
        error.msg = redact(error.msg, request.secret_values())
        raise


def _obtain(request, settings, run_cache_dir, warn, now, warn_on_cache_hit, alias):
    hit_warn = warn if warn_on_cache_hit else None
    cache = open_cache(settings, run_cache_dir)
    if cache is None:
        return _result(request, exchange(request, settings, now, warn), False, now())

    key = request.cache_key()
    entry, cached = None, False
    if not settings.force_refresh:
        entry = cache.read(key)
        cached = usable(entry, now(), settings.refresh_margin)
    if not cached:
        with cache.lock(key, deadline(settings.timeout, settings.retries) + LOCK_GRACE_SECONDS):
            if not settings.force_refresh:
                entry = cache.read(key)
                cached = usable(entry, now(), settings.refresh_margin)
            if not cached:
                entry = exchange(request, settings, now, warn)
                cache.write(key, entry)
    if cached:
        check_certificate_expiry(entry.get("certificate_not_after"), request, now(), hit_warn)
    if alias and run_cache_dir and None not in alias[1].values():
        fingerprint, files = alias
        TokenCache.open(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), "the run's token cache directory").write_alias(
            fingerprint, cache.directory, key, settings.refresh_margin, files
        )
    return _result(request, entry, cached, now())
