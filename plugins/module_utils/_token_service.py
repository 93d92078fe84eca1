# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Settings in, token out: the one code path behind the module and the lookup (TokenService).

The lookup imports it on a cache miss only. requests loads only when a request is sent (_ims_client), PyJWT and
cryptography only for a JWT exchange (_signing): each costs more than a whole templated task.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import (
    CONFIRMED_NOTE,
    MAX_LIFETIME_SECONDS,
    RUN_CACHE_SUBDIR,
    confirmed_this_run,
    file_identity,
    token_digest,
    usable,
)
from ansible_collections.aemops.ims.plugins.module_utils._cache_writer import RUN_CACHE_LABEL, TokenCache, check_directory
from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import METHOD_JWT
from ansible_collections.aemops.ims.plugins.module_utils._credentials import LOCAL_FILES, PluginInputs, TokenRequest, build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, ImsResponseError, KeyMaterialError, redact
from ansible_collections.aemops.ims.plugins.module_utils._failure_memory import FailureMemory
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

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.aemops.ims.plugins.module_utils._settings import Settings

CERTIFICATE_WARNING_DAYS = 30
# How far the answer's expires_in may disagree with the token's own claims before the
# claims win: beyond that, the answer's unit was misread (ms vs s, ethyca/fides#1753).
EXPIRY_DISAGREEMENT_SECONDS = 300
LOCK_GRACE_SECONDS = 5


def default_persistent_dir() -> str:
    """Under the user's cache directory, as the AWS CLI keeps ~/.aws/cli/cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aemops.ims", "tokens")


def run_directory(run_cache_dir: str | None) -> str | None:
    return os.path.join(run_cache_dir, RUN_CACHE_SUBDIR) if run_cache_dir else None


def cache_directory(mode: str, cache_dir: str | None, run_cache_dir: str | None) -> str | None:
    """Where tokens are kept for a cache mode, or None when caching is off or impossible."""
    if mode == "persistent":
        return cache_dir or default_persistent_dir()
    return run_directory(run_cache_dir) if mode == "run" else None


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


def expiry_from_answer(answer: dict, unit_seconds: float, now: float) -> float:
    """Absolute expiry of a fresh token: the answer's expires_in, which the token's claims may only shorten.

    The JWT exchange answers expires_in in milliseconds and /ims/token/v3 in seconds; the token's
    created_at and expires_in claims are milliseconds. When they end sooner than the answer says,
    the answer's unit was misread (ethyca/fides#1753) and the claims win.
    """
    expires_at = now + min(float(answer["expires_in"]) * unit_seconds, MAX_LIFETIME_SECONDS)
    try:
        # The token is a JWT: its claims are read without verifying it.
        _header, payload, _signature = answer["access_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
        claimed = (float(claims["created_at"]) + float(claims["expires_in"])) / 1000.0
    except (KeyError, TypeError, ValueError, OverflowError):
        return expires_at
    if math.isfinite(claimed) and now < claimed < expires_at - EXPIRY_DISAGREEMENT_SECONDS:
        return claimed
    return expires_at


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
    """post(secret) with each of the credential's secrets (two while one is rotated out), the next only when IMS says the secret is wrong."""
    for secret in request.client_secrets[:-1]:
        try:
            return post(secret)
        except ImsResponseError as error:
            if not is_bad_client_secret(error):
                raise
    return post(request.client_secrets[-1])


def exchange_with_ims(request: TokenRequest, settings: Settings, now: Callable[[], float] = time.time, warn: Callable[[str], None] | None = None) -> dict:
    """Sign (for JWT) and POST the token request; return a cache entry. PyJWT and cryptography load here, with _signing."""
    from ansible_collections.aemops.ims.plugins.module_utils import _signing  # pylint: disable=import-outside-toplevel

    certificate_not_after = None
    if request.auth_method == METHOD_JWT:
        key = _signing.load_private_key(request)
        certificate_not_after = _signing.check_certificate(request, key)
        check_certificate_expiry(certificate_not_after, request, now(), warn)
        path, what, unit_seconds = JWT_EXCHANGE_PATH, "JWT exchange", 0.001

        def form(secret: str) -> dict:
            # Signed anew for each try: a retry must not resend a JWT that may have expired.
            return {"client_id": request.client_id, "client_secret": secret, "jwt_token": _signing.build_jwt(request, key, settings.jwt_lifetime, now())}

    else:
        path, what, unit_seconds = CLIENT_CREDENTIALS_PATH, "OAuth Server-to-Server token request", 1.0

        def form(secret: str) -> dict:
            return {"grant_type": "client_credentials", "client_id": request.client_id, "client_secret": secret, "scope": ",".join(request.scopes)}

    client = ims_client(request, settings)
    answer = with_each_secret(request, lambda secret: client.post(path, lambda: form(secret), what)[0])
    issued_at = now()
    return {
        "access_token": answer["access_token"],
        "token_type": str(answer.get("token_type") or "bearer"),
        "issued_at": issued_at,
        "expires_at": expiry_from_answer(answer, unit_seconds, issued_at),
        "certificate_not_after": certificate_not_after,
    }


def _without_none(result: dict) -> dict:
    return {name: value for name, value in result.items() if value is not None}


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


class TokenService:
    """One call of the module or the lookup: its settings, the run's state directory, the clock, where warnings go and what reads files.

    The caches are opened when first needed, once per service (a path that needs none creates no
    directory). Getting a token (find) takes its steps in order: read, lock, confirm, exchange, write, note, prune.
    """

    def __init__(
        self,
        settings: Settings,
        run_dir: str | None = None,
        warn: Callable[[str], None] | None = None,
        now: Callable[[], float] = time.time,
        reader: PluginInputs = LOCAL_FILES,
    ):
        self.settings = settings
        self.run_dir = run_dir
        self.warn = warn
        self.now = now
        self.reader = reader

    @functools.cached_property
    def cache(self) -> TokenCache | None:
        """The cache the settings keep tokens in, created if need be; None when caching is off or impossible."""
        directory = cache_directory(self.settings.cache, self.settings.cache_dir, self.run_dir)
        return None if directory is None else TokenCache.open(directory, "cache_dir" if self.settings.cache == "persistent" else RUN_CACHE_LABEL)

    @functools.cached_property
    def run_notes(self) -> TokenCache | None:
        """The run's token directory, created if need be, for aliases, notes and markers; None outside a run."""
        directory = run_directory(self.run_dir)
        if directory is None:
            return None
        # With cache=run the tokens are kept there too: one directory, opened once.
        return self.cache if self.settings.cache == "run" else TokenCache.open(directory, RUN_CACHE_LABEL)

    @functools.cached_property
    def every_cache(self) -> list[TokenCache]:
        """The existing caches (the run's, cache_dir) that may hold a token of these settings, whatever their cache mode.

        An unsafe directory is refused, except a default cache_dir these settings do not use: the user never chose it."""
        chosen = self.settings.cache == "persistent" or self.settings.cache_dir is not None
        caches = []
        for directory, label, strict in (
            (run_directory(self.run_dir), RUN_CACHE_LABEL, True),
            (self.settings.cache_dir or default_persistent_dir(), "cache_dir", chosen),
        ):
            if directory and os.path.isdir(directory):
                try:
                    check_directory(directory, label)
                    caches.append(TokenCache(directory, label))
                except AemImsError:
                    if strict:
                        raise
        return caches

    def obtain(self, credentials_file: str | None = None, inputs: str | None = None, warn_on_cache_hit: bool = True) -> dict:
        """The token result for these settings (and lookup term, if any): from the cache, else from IMS.

        The lookup passes warn_on_cache_hit=False: a certificate warning for every host and task would bury the play's output.
        inputs (_cache_reader.input_fingerprint) keys the failure memory, and the alias the lookup's later cache hits follow.
        """
        settings = self.settings
        # Identities taken before the files are read: a file changed meanwhile is read again next time.
        files = {path: file_identity(path) for path in (credentials_file or settings.service_credentials_file, settings.private_key_file) if inputs and path}
        memory = FailureMemory.of_run(settings, self.run_dir, inputs, files)
        if memory is not None:
            memory.check(self.now())
        request = None
        try:
            request = build_token_request(settings, credentials_file, self.reader)
            if not settings.validate_certs and not settings.ca_path:
                self.warn_unverified_tls(request.origin, once_per_run=not warn_on_cache_hit)
            entry, cached, replaced = self.find(request, memory)
            if cached:
                check_certificate_expiry(entry.get("certificate_not_after"), request, self.now(), self.warn if warn_on_cache_hit else None)
        except AemImsError as error:
            if request is not None:
                # Secrets read from a credentials file are unknown to the plugins' own scrubbing.
                error.msg = redact(error.msg, request.secret_values())
            if memory is not None:
                memory.remember(error, self.now())
            raise
        if inputs and self.run_dir and self.cache is not None and all(files.values()):
            self.run_notes.write_alias(  # type: ignore[union-attr]
                inputs, self.cache.directory, request.cache_key(), settings.refresh_margin, {path: str(identity) for path, identity in files.items()}
            )
        result = request.public_summary()
        result.update(
            access_token=entry["access_token"],
            token_type=entry.get("token_type") or "bearer",
            expires_in=max(0, int(entry["expires_at"] - self.now())),
            expires_at=iso_utc(entry["expires_at"]),
            cached=cached,
            headers=request.api_headers(entry["access_token"]),
            certificate_expires_at=entry.get("certificate_not_after"),
        )
        if settings.validate:
            # A cached token is served only once IMS confirmed it (read, confirm); a fresh one was not asked about.
            result.update(validated=cached, replaced_invalid=replaced)
        return _without_none(result)

    def find(self, request: TokenRequest, memory: FailureMemory | None = None) -> tuple[dict, bool, bool]:
        """The token of the cache if it is usable (and, with validate, confirmed), else one from IMS; whether cached; whether it replaced an invalid one."""
        if self.cache is None:
            return self.exchange(request, memory), False, False
        key = request.cache_key()
        entry = self.read(key)
        if entry is not None:
            return entry, True, False
        # One fork exchanges (or validates); the others wait for its token, or its failure, instead of asking IMS too.
        with self.lock(key):
            entry, replaced = self.confirm(request, key)
            if entry is not None:
                return entry, True, False
            entry = self.exchange(request, memory)
            self.write(key, entry)
            self.note(request, entry)
        if memory is not None:
            memory.forget()
        self.prune()
        return entry, False, replaced

    def read(self, key: str, confirmed_only: bool = True) -> dict | None:
        """1. The cached entry of key if it may be served: usable and, with validate, confirmed in this run (unless not confirmed_only)."""
        entry = None if self.settings.force_refresh else self.cache.read(key)  # type: ignore[union-attr]
        if not usable(entry, self.now(), self.settings.refresh_margin):
            return None
        if confirmed_only and self.settings.validate and not confirmed_this_run(self.run_dir, key, entry):  # type: ignore[arg-type]
            return None
        return entry

    def lock(self, key: str) -> contextlib.AbstractContextManager[bool]:
        """2. The lock of key, waited for as long as another fork's whole exchange can take."""
        return self.cache.lock(key, deadline(self.settings.timeout, self.settings.retries) + LOCK_GRACE_SECONDS)  # type: ignore[union-attr]

    def confirm(self, request: TokenRequest, key: str) -> tuple[dict | None, bool]:
        """3. Under the lock: the entry another fork left, or, with validate, one IMS confirms now; and whether one IMS refused went from every cache."""
        entry = self.read(key, confirmed_only=False)
        if entry is None:
            return None, False
        if not self.settings.validate or confirmed_this_run(self.run_dir, key, entry) or self.validate_token(request, entry):
            return entry, False
        self.forget(key)
        return None, True

    def exchange(self, request: TokenRequest, memory: FailureMemory | None = None) -> dict:
        """4. A new token from IMS, unless this run's memory of these inputs holds a failure, which is raised instead."""
        if memory is not None:
            memory.check(self.now())
        try:
            return exchange_with_ims(request, self.settings, self.now, self.warn)
        except AemImsError as error:
            if memory is not None:
                # Scrubbed, and kept before the lock is released: the forks waiting for it print this note.
                error.msg = redact(error.msg, request.secret_values())
                memory.remember(error, self.now())
            raise

    def write(self, key: str, entry: dict) -> None:
        """5. Keep the new token for the other forks and tasks."""
        self.cache.write(key, entry)  # type: ignore[union-attr]

    def note(self, request: TokenRequest, entry: dict) -> None:
        """6. With validate, a token IMS just issued needs no confirmation from it: the other forks take it as confirmed."""
        if self.settings.validate:
            self.note_confirmed(request, entry)

    def prune(self) -> None:
        """7. Remove what no run will use again from the cache."""
        self.cache.prune(self.now())  # type: ignore[union-attr]

    def warn_unverified_tls(self, origin: str, once_per_run: bool) -> None:
        """Say that IMS's certificate goes unchecked: once per task, or for the lookup (a process per host and task) once per run and endpoint."""
        if self.warn is None:
            return
        marker = "w" + hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]
        # A marker that cannot be made counts as new: saying it twice beats never.
        with contextlib.suppress(AemImsError):
            if once_per_run and self.run_dir and not self.run_notes.mark_once(marker):  # type: ignore[union-attr]
                return
        self.warn(
            "validate_certs is false: the TLS certificate of IMS at %s is not checked, so whoever can intercept the connection can impersonate IMS "
            "and collect the client secret. Set ca_path to the CA bundle of a test server or proxy instead" % origin
        )

    def validate_token(self, request: TokenRequest, entry: dict) -> bool:
        """Ask IMS whether it still honours the entry's token; remember a yes for the run. A failure to ask raises: never serve it unconfirmed."""
        token = entry["access_token"]
        form = {"type": "access_token", "client_id": request.client_id, "token": token}
        answer, _date = ims_client(request, self.settings, token).post(VALIDATE_TOKEN_PATH, lambda: form, "token validation", expect=ANSWER_VALIDATION)
        if answer["valid"]:
            self.note_confirmed(request, entry)
        return bool(answer["valid"])

    def note_confirmed(self, request: TokenRequest, entry: dict) -> None:
        """Remember for the rest of the run that IMS honours the entry's token (read by _cache_reader.confirmed_this_run)."""
        if self.run_notes is not None:
            self.run_notes.write_note("v" + request.cache_key(), CONFIRMED_NOTE, {"token": token_digest(entry["access_token"])})

    def forget(self, key: str, token: str | None = None) -> list[str]:
        """Remove the entry under key from every cache (only where it holds token, when given); return the tokens removed."""
        removed = []
        for cache in self.every_cache:
            entry = cache.read(key)
            if entry is not None and token in (None, entry["access_token"]):
                cache.discard(key)
                removed.append(entry["access_token"])
            cache.discard("v" + key)
        return removed

    def revoke(self, check_mode: bool = False) -> dict:
        """state=absent: revoke the access_token option, else each unexpired cached token of these credentials, and remove it from every cache."""
        settings = self.settings
        request = build_token_request(settings, inputs=self.reader)
        key = request.cache_key()
        if settings.access_token:
            tokens = [settings.access_token]
        else:
            entries = [cache.read(key) for cache in self.every_cache]
            tokens = sorted({entry["access_token"] for entry in entries if entry is not None and entry["expires_at"] > self.now()})
        if not check_mode:
            for token in tokens:
                invalidate(request, settings, token)
                self.forget(key, token)
            if not settings.access_token:
                # Expired entries too: nothing of these credentials is left behind.
                self.forget(key)
        result = request.public_summary()
        result.update(revoked=len(tokens), changed=bool(tokens))
        return _without_none(result)
