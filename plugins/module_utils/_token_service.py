# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Settings in, token out: the one code path behind the module and the lookup.

Credentials are read and the cache key is hashed with the standard library; only an
exchange imports requests, PyJWT and cryptography (in _ims_client and _signing), which
cost more to import than a whole templated task.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import stat
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ansible_collections.aemops.ims.plugins.module_utils._cache import (
    MAX_LIFETIME_SECONDS,
    RUN_CACHE_SUBDIR,
    TokenCache,
    cache_directory,
    file_identity,
    open_directory,
    usable,
)
from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import METHOD_JWT
from ansible_collections.aemops.ims.plugins.module_utils._credentials import TokenRequest, build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, ImsResponseError, KeyMaterialError, redact
from ansible_collections.aemops.ims.plugins.module_utils._options import Settings
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


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_certificate_expiry(not_after: str | None, request: TokenRequest, now: float, warn: Callable[[str], None] | None) -> None:
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


def _token_claims(access_token: str) -> dict:
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


def expiry_from_answer(answer: dict, unit_seconds: float, now: float) -> float:
    """Absolute expiry of a fresh token: the answer's expires_in, which the token's claims may only shorten.

    The JWT exchange answers expires_in in milliseconds and /ims/token/v3 in seconds. The
    token itself carries created_at and expires_in in milliseconds: when they end sooner
    than the answer says (by more than a few minutes), the answer's unit was misread
    (ethyca/fides#1753) and the claims win. Claims never lengthen a lifetime, claims that
    are no real moment are ignored, and no lifetime exceeds MAX_LIFETIME_SECONDS.
    """
    expires_at = now + min(float(answer["expires_in"]) * unit_seconds, MAX_LIFETIME_SECONDS)
    claims = _token_claims(answer["access_token"])
    try:
        claimed = (float(claims["created_at"]) + float(claims["expires_in"])) / 1000.0
    except (KeyError, TypeError, ValueError, OverflowError):
        return expires_at
    if math.isfinite(claimed) and now < claimed < expires_at - EXPIRY_DISAGREEMENT_SECONDS:
        return claimed
    return expires_at


def open_cache(settings: Settings, run_cache_dir: str | None) -> TokenCache | None:
    directory = cache_directory(settings.cache, settings.cache_dir, run_cache_dir)
    if directory is None:
        return None
    return TokenCache.open(directory, "cache_dir" if settings.cache == "persistent" else "the run's token cache directory")


def exchange(request: TokenRequest, settings: Settings, now: Callable[[], float] = time.time, warn: Callable[[str], None] | None = None) -> dict:
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


def _result(request: TokenRequest, entry: dict, cached: bool, now: float) -> dict:
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


def obtain_token(
    settings: Settings,
    credentials_file: str | None = None,
    run_cache_dir: str | None = None,
    warn: Callable[[str], None] | None = None,
    now: Callable[[], float] = time.time,
    warn_on_cache_hit: bool = True,
    alias: str | None = None,
) -> dict:
    """The token result for these settings (and lookup term, if any): from the cache, else from IMS.

    The lookup passes warn_on_cache_hit=False: it runs once per host and task, and a
    certificate warning repeated hundreds of times would bury the play's output. It also
    passes alias, the input fingerprint of its call (_cache.input_fingerprint), which is
    then pointed at the token's entry for its later cache hits.
    """
    # Identities taken before the files are read: a file changed meanwhile is read again next time.
    files = {path: file_identity(path) for path in (credentials_file or settings.service_credentials_file, settings.private_key_file) if alias and path}
    request = build_token_request(settings, credentials_file)
    if not settings.validate_certs and not settings.ca_path and warn is not None:
        warn_unverified_tls(request.origin, run_cache_dir, warn, once_per_run=not warn_on_cache_hit)
    try:
        entry, cache, cached = _entry(request, settings, run_cache_dir, warn, now)
    except AemImsError as error:
        # Secrets read from a credentials file are unknown to the plugins' own scrubbing.
        error.msg = redact(error.msg, request.secret_values())
        raise
    if cached:
        check_certificate_expiry(entry.get("certificate_not_after"), request, now(), warn if warn_on_cache_hit else None)
    if alias and run_cache_dir and cache is not None and all(files.values()):
        run_cache = TokenCache.open(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), "the run's token cache directory")
        run_cache.write_alias(alias, cache.directory, request.cache_key(), settings.refresh_margin, {path: str(identity) for path, identity in files.items()})
    return _result(request, entry, cached, now())


def _entry(
    request: TokenRequest, settings: Settings, run_cache_dir: str | None, warn: Callable[[str], None] | None, now: Callable[[], float]
) -> tuple[dict, TokenCache | None, bool]:
    """(the cache entry, the cache it is in or None, whether it was cached), exchanging when needed."""
    cache = open_cache(settings, run_cache_dir)
    if cache is None:
        return exchange(request, settings, now, warn), None, False
    key = request.cache_key()
    if not settings.force_refresh:
        entry = cache.read(key)
        if entry is not None and usable(entry, now(), settings.refresh_margin):
            return entry, cache, True
    # One fork exchanges; the others wait for its token instead of asking IMS too.
    with cache.lock(key, deadline(settings.timeout, settings.retries) + LOCK_GRACE_SECONDS):
        if not settings.force_refresh:
            entry = cache.read(key)
            if entry is not None and usable(entry, now(), settings.refresh_margin):
                return entry, cache, True
        entry = exchange(request, settings, now, warn)
        cache.write(key, entry)
    prune_cache(cache, now())
    return entry, cache, False


def warn_unverified_tls(origin: str, run_cache_dir: str | None, warn: Callable[[str], None], once_per_run: bool) -> None:
    """Say that IMS's certificate goes unchecked: once per task, or once per run and endpoint for the lookup.

    The lookup runs in a fresh process for every host and task, so "once per run" is a
    marker file in the run's token cache directory that only the first process creates.
    """
    if once_per_run and run_cache_dir:
        directory = os.path.join(run_cache_dir, RUN_CACHE_SUBDIR)
        try:
            TokenCache.open(directory, "the run's token cache directory")
            folder = open_directory(directory, "the run's token cache directory")
        except AemImsError:
            folder = -1
        if folder >= 0:
            marker = "w%s.warned" % hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]
            try:
                os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder))
            except FileExistsError:
                return
            except OSError:
                pass
            finally:
                os.close(folder)
    warn(
        "validate_certs is false: the TLS certificate of IMS at %s is not checked, so whoever can intercept the connection can impersonate IMS "
        "and collect the client secret. Set ca_path to the CA bundle of a test server or proxy instead" % origin
    )


# Lock and temporary files older than this, with no process using them, are left-overs.
STALE_FILE_SECONDS = 3600


def prune_cache(cache: TokenCache, now: float) -> None:
    """Remove what no run will use again: expired entries, and lock and temporary files left behind.

    An entry goes under its own lock, taken without waiting, so that a process refreshing
    it is never undercut; a lock file goes while held, and a process that opened it before
    opens it again (TokenCache.lock). Best effort: whatever cannot be removed now stays.
    """
    try:
        folder = open_directory(cache.directory, cache.label)
    except AemImsError:
        return
    try:
        names = set(os.listdir(folder))
        for name in sorted(names):
            stem, dot, kind = name.partition(".")
            with contextlib.suppress(OSError):
                if len(stem) == 64 and not stem.strip("0123456789abcdef") and dot and kind == "json":
                    entry = cache.read(stem)
                    if entry is not None and entry["expires_at"] <= now:
                        _prune_key(cache, folder, stem, now)
                elif len(stem) == 64 and not stem.strip("0123456789abcdef") and kind == "lock" and stem + ".json" not in names:
                    if _older_than(folder, name, now, STALE_FILE_SECONDS):
                        _prune_key(cache, folder, stem, now)
                elif name.startswith(".") and name.endswith(".tmp") and _older_than(folder, name, now, STALE_FILE_SECONDS):
                    os.unlink(name, dir_fd=folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def _older_than(folder: int, name: str, now: float, seconds: float) -> bool:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mtime < now - seconds


def _prune_key(cache: TokenCache, folder: int, key: str, now: float) -> None:
    """The entry of key if it expired, and its lock file, both under the lock; nothing if someone holds it."""
    with cache.lock(key, 0) as held:
        if not held:
            return
        entry = cache.read(key)
        if entry is not None and entry["expires_at"] > now:
            return
        if entry is not None:
            os.unlink(key + ".json", dir_fd=folder)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.stat(key + ".json", dir_fd=folder, follow_symlinks=False)
                # A file that is no entry of ours (corrupt, foreign) is replaced on its next use, not removed here.
                return
        os.unlink(key + ".lock", dir_fd=folder)
