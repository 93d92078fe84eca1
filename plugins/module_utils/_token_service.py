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
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ansible_collections.aemops.ims.plugins.module_utils._cache import (
    CONFIRMED_NOTE,
    MAX_LIFETIME_SECONDS,
    RUN_CACHE_SUBDIR,
    TokenCache,
    cache_directory,
    check_directory,
    confirmed_this_run,
    default_persistent_dir,
    file_identity,
    open_directory,
    token_digest,
    usable,
)
from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import METHOD_JWT
from ansible_collections.aemops.ims.plugins.module_utils._credentials import LOCAL_FILES, PluginInputs, TokenRequest, build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import (
    MAX_MESSAGE_LENGTH,
    AemImsError,
    ImsResponseError,
    KeyMaterialError,
    RepeatedFailure,
    one_line,
    redact,
)
from ansible_collections.aemops.ims.plugins.module_utils._options import Settings
from ansible_collections.aemops.ims.plugins.module_utils._ims_client import (
    ANSWER_EMPTY,
    ANSWER_VALIDATION,
    CLIENT_CREDENTIALS_PATH,
    INVALIDATE_TOKEN_PATH,
    JWT_EXCHANGE_PATH,
    VALIDATE_TOKEN_PATH,
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


def ims_client(request: TokenRequest, settings: Settings, *tokens: str) -> ImsHttpClient:
    """A client for IMS as the settings say; it scrubs every secret of the request, and tokens, from its messages."""
    return ImsHttpClient(
        request.origin,
        timeout=settings.timeout,
        retries=settings.retries,
        validate_certs=settings.validate_certs,
        ca_path=settings.ca_path,
        proxy_url=settings.proxy_url,
        secrets=settings.secret_values() + request.secret_values() + list(tokens),
        progress=request.progress,
        identity_sources=request.identity_sources,
    )


def with_each_secret(request: TokenRequest, post: Callable[[str], dict]) -> dict:
    """post(secret) with the credential's secrets in order, until one is not refused as a bad secret.

    A credential can hold two secrets while one is rotated out: the next is tried only when
    IMS says the secret itself is wrong.
    """
    for index, secret in enumerate(request.client_secrets):
        try:
            return post(secret)
        except ImsResponseError as error:
            if not is_bad_client_secret(error) or index + 1 == len(request.client_secrets):
                raise
    raise AssertionError("a TokenRequest always holds a secret")  # pragma: no cover


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

    client = ims_client(request, settings)
    answer = with_each_secret(request, lambda secret: client.post(path, form_for(secret), what)[0])
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
        headers=request.api_headers(entry["access_token"]),
    )
    if entry.get("certificate_not_after"):
        result["certificate_expires_at"] = entry["certificate_not_after"]
    return {name: value for name, value in result.items() if value is not None}


class FailureMemory:
    """What failed earlier in this run for the same inputs, so that other forks fail at once instead of asking IMS again.

    Without it, an outage or a wrong secret is met by every fork in turn, each after its own
    retries: 200 hosts x 3 lookups against a failing IMS made 2,400 requests. A note is kept
    under the hash of what the plugin was given (every option as written, where it came from,
    the credentials file) in the run's token directory, whatever the cache mode, so never
    across runs. It is not kept under the token's cache key: a failure can depend on what that
    key leaves out (a passphrase, ca_path, a proxy). A definitive failure (IMS refused the
    request, the credentials or key cannot be used) holds for the rest of the run, unless a
    file it read changes; a transient one (no answer, a timeout, HTTP 5xx or 429 after the
    retries) for timeout x retries seconds (at least timeout, and at least what IMS's
    Retry-After asked), after which the next fork asks IMS again.
    """

    NOTE = "aemops.ims/failure/1"

    def __init__(self, directory: str, inputs: str, files: dict, window: float):
        # Created when there is something to remember: a run that fails nothing writes nothing.
        self.notes = TokenCache(directory, "the run's token cache directory")
        self.name = "f" + inputs
        self.files = files
        self.window = window

    @classmethod
    def of_run(cls, settings: Settings, run_cache_dir: str | None, inputs: str | None, files: dict) -> FailureMemory | None:
        """The memory of these inputs in this run, or None without a run or inputs, or when the settings bypass it."""
        if not run_cache_dir or not inputs or settings.cache == "off" or settings.force_refresh:
            return None
        return cls(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), inputs, files, settings.timeout * max(settings.retries, 1))

    def check(self, now: float) -> None:
        """Raise the failure remembered for these inputs, if it still holds."""
        note = self.notes.read_note(self.name, self.NOTE)
        if note is None or not isinstance(note.get("message"), str) or note.get("files") != self.files:
            return
        until = note.get("until")
        if until is None:
            suffix = " (the same error as an earlier task of this run; not retried)"
        elif isinstance(until, (int, float)) and not isinstance(until, bool) and until > now:
            suffix = " (the same error as an earlier task of this run; not retried for another %d s)" % math.ceil(until - now)
        else:
            return
        code = note.get("code") if isinstance(note.get("code"), str) else None
        raise RepeatedFailure(one_line(note["message"], MAX_MESSAGE_LENGTH - len(suffix)) + suffix, code=code)

    def remember(self, error: AemImsError, now: float) -> None:
        if isinstance(error, RepeatedFailure):
            return
        until = None
        if getattr(error, "retryable", False):
            until = now + max(self.window, getattr(error, "retry_after", None) or 0)
        note = {"message": error.msg, "code": error.code, "until": until, "files": self.files}
        with contextlib.suppress(AemImsError):
            # Only a speed-up for the other forks: the error itself is what this task reports.
            TokenCache.open(self.notes.directory, self.notes.label).write_note(self.name, self.NOTE, note)

    def forget(self) -> None:
        self.notes.discard(self.name)


def obtain_token(
    settings: Settings,
    credentials_file: str | None = None,
    run_cache_dir: str | None = None,
    warn: Callable[[str], None] | None = None,
    now: Callable[[], float] = time.time,
    warn_on_cache_hit: bool = True,
    inputs: str | None = None,
    reader: PluginInputs = LOCAL_FILES,
) -> dict:
    """The token result for these settings (and lookup term, if any): from the cache, else from IMS.

    The lookup passes warn_on_cache_hit=False: it runs once per host and task, and a
    certificate warning repeated hundreds of times would bury the play's output. inputs is
    the hash of what the plugin was given (_cache.input_fingerprint): failures are remembered
    under it (FailureMemory), and it is pointed at the token's entry for the lookup's later
    cache hits. reader reads the files the options name (_credentials.PluginInputs).
    """
    # Identities taken before the files are read: a file changed meanwhile is read again next time.
    files = {path: file_identity(path) for path in (credentials_file or settings.service_credentials_file, settings.private_key_file) if inputs and path}
    memory = FailureMemory.of_run(settings, run_cache_dir, inputs, files)
    if memory is not None:
        memory.check(now())
    request = None
    try:
        request = build_token_request(settings, credentials_file, reader)
        if not settings.validate_certs and not settings.ca_path and warn is not None:
            warn_unverified_tls(request.origin, run_cache_dir, warn, once_per_run=not warn_on_cache_hit)
        found = _Found.of(request, settings, run_cache_dir, warn, now, memory)
        if found.cached:
            check_certificate_expiry(found.entry.get("certificate_not_after"), request, now(), warn if warn_on_cache_hit else None)
    except AemImsError as error:
        if request is not None:
            # Secrets read from a credentials file are unknown to the plugins' own scrubbing.
            error.msg = redact(error.msg, request.secret_values())
        if memory is not None:
            memory.remember(error, now())
        raise
    if inputs and run_cache_dir and found.cache is not None and all(files.values()):
        run_cache = TokenCache.open(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), "the run's token cache directory")
        run_cache.write_alias(
            inputs, found.cache.directory, request.cache_key(), settings.refresh_margin, {path: str(identity) for path, identity in files.items()}
        )
    result = _result(request, found.entry, found.cached, now())
    if settings.validate:
        result.update(validated=found.confirmed, replaced_invalid=found.replaced)
    return result


class _Found:
    """A token entry, where it was found and how: cached or fresh, confirmed by IMS, replacing an invalid one."""

    __slots__ = ("entry", "cache", "cached", "confirmed", "replaced")

    def __init__(self, entry: dict, cache: TokenCache | None, cached: bool, confirmed: bool = False, replaced: bool = False):
        self.entry, self.cache, self.cached, self.confirmed, self.replaced = entry, cache, cached, confirmed, replaced

    @classmethod
    def of(
        cls,
        request: TokenRequest,
        settings: Settings,
        run_cache_dir: str | None,
        warn: Callable[[str], None] | None,
        now: Callable[[], float],
        memory: FailureMemory | None = None,
    ) -> _Found:
        """The token of the cache if it is usable (and, with validate, confirmed), else one from IMS."""
        cache = open_cache(settings, run_cache_dir)
        if cache is None:
            return cls(exchange(request, settings, now, warn), None, False)
        key = request.cache_key()
        if not settings.force_refresh:
            entry = cache.read(key)
            fresh_enough = entry is not None and usable(entry, now(), settings.refresh_margin)
            if fresh_enough and (not settings.validate or confirmed_this_run(run_cache_dir, key, entry)):  # type: ignore[arg-type]
                return cls(entry, cache, True, confirmed=settings.validate)  # type: ignore[arg-type]
        # One fork exchanges (or validates); the others wait for its token, or its failure, instead of asking IMS too.
        replaced = False
        with cache.lock(key, deadline(settings.timeout, settings.retries) + LOCK_GRACE_SECONDS):
            if not settings.force_refresh:
                entry = cache.read(key)
                if entry is not None and usable(entry, now(), settings.refresh_margin):
                    if not settings.validate or confirmed_this_run(run_cache_dir, key, entry):
                        return cls(entry, cache, True, confirmed=settings.validate)
                    if confirm(request, settings, entry, run_cache_dir):
                        return cls(entry, cache, True, confirmed=True)
                    # IMS no longer honours it: it goes from every cache, and a new one is obtained now.
                    forget_token(key, settings, run_cache_dir)
                    replaced = True
            if memory is not None:
                memory.check(now())
            try:
                entry = exchange(request, settings, now, warn)
            except AemImsError as error:
                if memory is not None:
                    # Scrubbed, and kept before the lock is released: the forks waiting for it print this note.
                    error.msg = redact(error.msg, request.secret_values())
                    memory.remember(error, now())
                raise
            cache.write(key, entry)
            if settings.validate:
                # A token IMS just issued needs no confirmation from it: the other forks take it as confirmed.
                note_confirmed(request, entry, run_cache_dir)
        if memory is not None:
            memory.forget()
        cache.prune(now())
        return cls(entry, cache, False, replaced=replaced)


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


# --- confirming and revoking tokens ----------------------------------------------------------------


def confirm(request: TokenRequest, settings: Settings, entry: dict, run_cache_dir: str | None) -> bool:
    """Ask IMS whether it still honours the entry's token; remember a yes for the rest of the run.

    A failure to ask (no answer, 5xx after the retries) raises: with validate, an
    unconfirmed token is never served.
    """
    token = entry["access_token"]
    form = {"type": "access_token", "client_id": request.client_id, "token": token}
    answer, _date = ims_client(request, settings, token).post(VALIDATE_TOKEN_PATH, lambda: form, "token validation", expect=ANSWER_VALIDATION)
    if answer["valid"]:
        note_confirmed(request, entry, run_cache_dir)
    return bool(answer["valid"])


def note_confirmed(request: TokenRequest, entry: dict, run_cache_dir: str | None) -> None:
    """Remember for the rest of the run that IMS honours the entry's token (read by _cache.confirmed_this_run)."""
    if run_cache_dir:
        notes = TokenCache.open(os.path.join(run_cache_dir, RUN_CACHE_SUBDIR), "the run's token cache directory")
        notes.write_note("v" + request.cache_key(), CONFIRMED_NOTE, {"token": token_digest(entry["access_token"])})


def _caches_of(settings: Settings, run_cache_dir: str | None) -> list[TokenCache]:
    """Every cache that may hold a token of these settings, whatever their cache mode: the run's and cache_dir.

    An unsafe directory is refused, except the default cache_dir of settings that do not use
    it: that one is only left alone, as the user never chose it.
    """
    chosen = settings.cache == "persistent" or settings.cache_dir is not None
    caches = []
    for directory, label, strict in (
        (cache_directory("run", None, run_cache_dir), "the run's token cache directory", True),
        (settings.cache_dir or default_persistent_dir(), "cache_dir", chosen),
    ):
        if not directory or not os.path.isdir(directory):
            continue
        try:
            check_directory(directory, label)
        except AemImsError:
            if strict:
                raise
            continue
        caches.append(TokenCache(directory, label))
    return caches


def forget_token(key: str, settings: Settings, run_cache_dir: str | None, token: str | None = None) -> list[str]:
    """Remove the entry under key from every cache (only where it holds token, when given); return the tokens removed."""
    removed = []
    for cache in _caches_of(settings, run_cache_dir):
        entry = cache.read(key)
        if entry is not None and token in (None, entry["access_token"]):
            cache.discard(key)
            removed.append(entry["access_token"])
        cache.discard("v" + key)
    return removed


def invalidate(request: TokenRequest, settings: Settings, token: str) -> None:
    """Ask IMS to invalidate a token of this request's client; it needs the client's secret."""
    client = ims_client(request, settings, token)
    form = {"token_type": "access_token", "token": token, "client_id": request.client_id}

    def post(secret: str) -> dict:
        return client.post(INVALIDATE_TOKEN_PATH, lambda: dict(form, client_secret=secret), "token invalidation", expect=ANSWER_EMPTY)[0]

    try:
        with_each_secret(request, post)
    except AemImsError as error:
        error.msg = redact(error.msg, request.secret_values())
        raise


def revoke_token(
    settings: Settings, run_cache_dir: str | None = None, now: Callable[[], float] = time.time, check_mode: bool = False, reader: PluginInputs = LOCAL_FILES
) -> dict:
    """state=absent: revoke the token of these credentials at IMS, and remove it from every cache.

    The token is the access_token option when given, else each unexpired token cached for these
    credentials. In check mode nothing is sent and nothing removed. Returns the result: the
    request's public summary, revoked (how many tokens) and changed.
    """
    request = build_token_request(settings, inputs=reader)
    key = request.cache_key()
    if settings.access_token:
        tokens = [settings.access_token]
    else:
        entries = [cache.read(key) for cache in _caches_of(settings, run_cache_dir)]
        tokens = sorted({entry["access_token"] for entry in entries if entry is not None and entry["expires_at"] > now()})
    if not check_mode:
        for token in tokens:
            invalidate(request, settings, token)
            forget_token(key, settings, run_cache_dir, token)
        if not settings.access_token:
            # Expired entries too: nothing of these credentials is left behind.
            forget_token(key, settings, run_cache_dir)
    result = request.public_summary()
    result.update(revoked=len(tokens), changed=bool(tokens))
    return {name: value for name, value in result.items() if value is not None}
