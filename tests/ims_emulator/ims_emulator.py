# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HTTPS emulator of Adobe IMS for tests.

It validates JWT exchanges and OAuth Server-to-Server requests the way IMS
does (same status codes, error codes and descriptions), issues realistic
access tokens, can inject faults, and serves a tiny mock AEM API that only
accepts the tokens it issued. Run it as a script:

    python tests/ims_emulator/ims_emulator.py serve --state-dir DIR

Everything secret (CA, TLS and signing keys, integration keys) is generated
at start-up into DIR or held in memory; nothing is read from the repository.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import datetime
import email.parser
import email.policy
import email.utils
import hashlib
import ipaddress
import json
import os
import re
import secrets
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import adobe_api_stubs  # next to this script: the Cloud Manager and Forms stubs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
# IMS tolerates this much clock skew on exp (and, here, on iat).
CLOCK_SKEW = 30
JWT_EXPIRES_IN_MS = 86399999
S2S_EXPIRES_IN_S = 86399
TOKEN_LIFETIME_MS = 86400000
MAX_BODY = 1024 * 1024
HANDSHAKE_TIMEOUT = 15
IDLE_TIMEOUT = 120
HANG_LIMIT = 600
REQUEST_LOG_SIZE = 200

JWT_PATHS = frozenset(("/ims/exchange/jwt", "/ims/exchange/jwt/", "/ims/exchange/v1/jwt"))
S2S_PATHS = frozenset(("/ims/token/v2", "/ims/token/v3", "/ims/token/v4"))

DEFAULT_METASCOPES = ["ent_aem_cloud_api"]
DEFAULT_SCOPES = ["openid", "AdobeID", "read_organizations", "additional_info.projectedProductContext", "aem.document"]
DEV_TOKEN_CLIENT_ID = "dev-console-prod"
DEV_TOKEN_SCOPE = "AdobeID,openid,read_organizations,additional_info.projectedProductContext"

TOKEN_HEADER = {"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "typ": "JWT"}

MSG_FORMAT = "JWT token is incorrectly formatted, and can not be decoded."
MSG_NOT_INTEGER = "The exp or jti field of the JWT is not an integer"
MSG_OTHER_ENV = "The audience of the JWT points at a different IMS environment"
MSG_AUD_MISMATCH = "The client_id in the JWT audience does not match the client_id parameter"
MSG_NO_BINDING = "Could not match JWT signature to any of the bindings"
MSG_EXPIRED = "JWT token has expired. Check the system clock: the exp claim is before the server time."
MSG_NOT_YET_VALID = "JWT token is not yet valid (iat is in the future). Check the system clock."
MSG_INVALID_METASCOPE = "Invalid metascope."
MSG_NO_METASCOPE = "No metascopes were found in the JWT."
MSG_METASCOPE_SUBSET = "The metascopes in the JWT are not a subset of the metascopes in the binding."
MSG_JTI = "The binding requires a JTI, but the jti field is missing or was previously used"
MSG_BAD_CLIENT_ID = "invalid client_id parameter"
MSG_BAD_SECRET = "invalid client_secret parameter"
MSG_NO_JWT_GRANT = "Client is not authorized for the jwt_bearer grant"
MSG_NO_S2S_GRANT = "Client is not authorized for the client_credentials grant"
MSG_BAD_GRANT = "The grant_type parameter must be client_credentials"
MSG_SCOPE_REQUIRED = "The scope parameter is required"
MSG_INVALID_SCOPE = "Invalid scope"

FAULT_KEYS = frozenset(
    (
        "status",
        "retry_after",
        "retry_after_http_date_in",
        "html",
        "drop",
        "delay",
        "hang",
        "body",
        "headers",
        "drip",
        "echo",
        "token_claims",
        "expires_in",
        "on",
        "gather",
    )
)
# Which requests a fault is for: token requests (the default), validations or invalidations.
FAULT_TARGETS = ("token", "validate", "invalidate")
# A dripping answer stops by itself after this long: every test server here is bounded in time.
DRIP_LIMIT = 90
# A gathering request (fault "gather": N) waits at most this long for the N-th: a hang guard, far
# above the time N honest requests of one test take to arrive, after which it answers 504.
GATHER_LIMIT = 120
# How many received JWTs the emulator keeps (their header and claims, never the signature).
JWT_LOG_SIZE = 500
INTEGRATION_OPTIONS = frozenset(
    (
        "kind",
        "metascopes",
        "scopes",
        "client_secrets",
        "key_format",
        "passphrase",
        "key_size",
        "cert_days_valid",
        "cert_not_before_days",
        "jti_required",
        "client_id",
    )
)
CERTIFICATE_OPTIONS = frozenset(("key_format", "passphrase", "key_size", "cert_days_valid", "cert_not_before_days"))

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_METASCOPE_RE = re.compile(r"^(https?://[^/]+)/s/(.*)$", re.IGNORECASE)
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
_STATUS_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "request_timeout",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_STATUS_DESCRIPTIONS = {
    429: "Too many requests. Please try again later.",
    500: "Please try again later",
    502: "Bad gateway",
    503: "The service is temporarily unavailable. Please try again later.",
    504: "Gateway timeout",
}


def log(message: str) -> None:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    sys.stderr.write(f"{stamp} ims-emulator: {message}\n")
    sys.stderr.flush()


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    if not _B64URL_RE.match(segment):
        raise ValueError("not base64url")
    segment = segment.rstrip("=")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def is_int(value) -> bool:
    # bool is an int subclass in Python, but true/false is no integer claim.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def iso_ms(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.timezone.utc)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def random_hex_upper(length: int) -> str:
    return secrets.token_hex((length + 1) // 2)[:length].upper()


def random_digits(length: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(secrets.choice("0123456789") for _index in range(length - 1))


def new_secret() -> str:
    return "p8e-" + secrets.token_urlsafe(24)


class ImsError(Exception):
    """An answer in IMS's error format."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


class AdminError(Exception):
    """A bad request to the emulator's own admin API."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


# ---------------------------------------------------------------------------
# Key material


def generate_rsa(key_size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def private_key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, key_format: str = "pkcs1", passphrase: str | None = None) -> str:
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if key_format == "pkcs1" else serialization.PrivateFormat.PKCS8
    if passphrase:
        encryption: serialization.KeySerializationEncryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    else:
        encryption = serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode("ascii")


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def build_tls_material(state_dir: str, host: str) -> tuple[str, str, str]:
    """Create a CA and a server certificate signed by it; return (ca, cert, key) paths."""
    now = time.time()
    # EC P-256 keys: instant to generate and cheap handshakes, which keeps start-up
    # and 50-client bursts fast. Only the token and integration keys must be RSA.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aemops.ims test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utc(now - 86400))
        .not_valid_after(utc(now + 30 * 86400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    if host not in ("127.0.0.1", "localhost", "::1", "", "0.0.0.0", "::"):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utc(now - 86400))
        .not_valid_after(utc(now + 30 * 86400))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = os.path.join(state_dir, "ca.pem")
    cert_path = os.path.join(state_dir, "server.pem")
    key_path = os.path.join(state_dir, "server-key.pem")
    write_private_file(ca_path, certificate_pem(ca_cert), 0o644)
    write_private_file(cert_path, certificate_pem(server_cert), 0o644)
    write_private_file(key_path, private_key_pem(server_key, "pkcs8"), 0o600)
    return ca_path, cert_path, key_path


def write_private_file(path: str, text: str, mode: int = 0o600) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Registry


@dataclass
class Binding:
    certificate: x509.Certificate
    public_key: rsa.RSAPublicKey
    certificate_pem: str
    not_before: float
    not_after: float
    fingerprint: bytes
    revoked: bool = False


@dataclass
class Integration:
    client_id: str
    kind: str
    client_secrets: list[str]
    org_id: str
    technical_account_id: str
    email: str
    metascopes: list[str]
    scopes: list[str]
    jti_required: bool
    bindings: list[Binding] = field(default_factory=list)
    used_jtis: set = field(default_factory=set)

    @property
    def allows_jwt(self) -> bool:
        return self.kind in ("jwt", "both")

    @property
    def allows_s2s(self) -> bool:
        return self.kind in ("oauth", "both")


def _option(options: dict, name: str, default, types: tuple, check=None, message: str = ""):
    value = options.get(name, default)
    if value is None and default is None:
        return None
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise AdminError(400, f"option {name} has the wrong type")
    if check is not None and not check(value):
        raise AdminError(400, message or f"option {name} is out of range")
    return value


def _string_list(options: dict, name: str, default: list[str]) -> list[str]:
    value = options.get(name, default)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise AdminError(400, f"option {name} must be a non-empty list of strings")
    return [item.strip() for item in value]


class EmulatorState:
    """All mutable emulator state, guarded by one lock."""

    def __init__(self, origin: str, endpoint: str):
        self.origin = origin
        self.endpoint = endpoint
        self.lock = threading.Lock()
        self.clock_offset = 0.0
        self.integrations: dict[str, Integration] = {}
        self.token_key = generate_rsa()
        self.token_public_key = self.token_key.public_key()
        self.issued: dict[str, dict] = {}
        # Ids of tokens invalidated through /ims/invalidate_token/v2: no longer valid anywhere.
        self.invalidated: set[str] = set()
        self.faults: collections.deque = collections.deque()
        # A fault applied to every token request while no queued one is left: an outage.
        self.outage: dict | None = None
        self.requests: collections.deque = collections.deque(maxlen=REQUEST_LOG_SIZE)
        # The header and claims of every JWT received at the exchange, for tests to check what a
        # client really sent (lifetime, aud, iss, sub, metascopes).
        self.jwts: collections.deque = collections.deque(maxlen=JWT_LOG_SIZE)
        # Requests held by "gather" faults: (generation, how many arrived); notified on each arrival.
        self.gathered = 0
        self.gather_generation = 0
        self.gathering = threading.Condition(self.lock)
        self.in_flight = 0
        self.stats: dict = {}
        self.reset_stats()

    def now(self) -> float:
        return time.time() + self.clock_offset

    # -- stats -------------------------------------------------------------

    def reset_stats(self) -> None:
        self.stats = {
            "token_requests": 0,
            "tokens_issued": 0,
            "by_endpoint": {"jwt": {"requests": 0, "issued": 0}, "oauth": {"requests": 0, "issued": 0}},
            "by_client": {},
            "errors": {},
            "concurrent_max": self.in_flight,
        }

    def reset(self) -> None:
        with self.lock:
            self.reset_stats()
            self.faults.clear()
            self.outage = None
            self.requests.clear()
            self.jwts.clear()
            # Requests still gathering are released (and answer 504): a new test starts afresh.
            self.gathered = 0
            self.gather_generation += 1
            self.gathering.notify_all()

    def gather(self, count: int) -> bool:
        """Hold this request until `count` requests are held together; False after GATHER_LIMIT.

        A barrier the tests use instead of timing: N requests that gathered were all in flight at
        once, whatever the machine's load.
        """
        deadline = time.monotonic() + GATHER_LIMIT
        with self.gathering:
            generation = self.gather_generation
            self.gathered += 1
            if self.gathered >= count:
                self.gathered = 0
                self.gather_generation += 1
                self.gathering.notify_all()
                return True
            while self.gather_generation == generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.gathered -= 1
                    return False
                self.gathering.wait(remaining)
            return True

    def record_jwt(self, client_id: str, header: dict, claims: dict) -> None:
        with self.lock:
            self.jwts.append({"client_id": client_id[:200], "header": header, "claims": claims, "received_at": self.now()})

    def begin_token_request(self, endpoint: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.stats["token_requests"] += 1
            self.stats["by_endpoint"][endpoint]["requests"] += 1
            self.stats["concurrent_max"] = max(self.stats["concurrent_max"], self.in_flight)

    def end_token_request(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def count_client(self, client_id: str) -> None:
        if not client_id:
            return
        with self.lock:
            entry = self.stats["by_client"].setdefault(client_id[:200], {"requests": 0, "issued": 0})
            entry["requests"] += 1

    def record(self, entry: dict, endpoint: str, client_id: str, issued: bool) -> None:
        with self.lock:
            self.requests.append(entry)
            if issued:
                self.stats["tokens_issued"] += 1
                self.stats["by_endpoint"][endpoint]["issued"] += 1
                if client_id:
                    self.stats["by_client"].setdefault(client_id[:200], {"requests": 0, "issued": 0})["issued"] += 1
            elif entry.get("error"):
                errors = self.stats["errors"]
                errors[entry["error"]] = errors.get(entry["error"], 0) + 1

    def snapshot_stats(self) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def pop_fault(self, kind: str = "token") -> dict | None:
        """The next fault for this kind of request ("on": token, the default, validate or invalidate), queued or the outage."""
        with self.lock:
            for fault in self.faults:
                if fault.get("on", "token") == kind:
                    self.faults.remove(fault)
                    return fault
            return dict(self.outage) if self.outage and self.outage.get("on", "token") == kind else None

    # -- integrations ------------------------------------------------------

    def new_binding(self, options: dict, common_name: str) -> tuple[Binding, str]:
        key_format = _option(options, "key_format", "pkcs1", (str,), lambda v: v in ("pkcs1", "pkcs8"), "key_format must be pkcs1 or pkcs8")
        passphrase = _option(options, "passphrase", None, (str,), lambda v: len(v) > 0, "passphrase must not be empty")
        key_size = _option(options, "key_size", 2048, (int,), lambda v: 1024 <= v <= 8192, "key_size must be between 1024 and 8192")
        days_valid = _option(options, "cert_days_valid", 365, (int, float))
        not_before_days = _option(options, "cert_not_before_days", 0, (int, float))
        # Certificates live on the real clock: a clock offset simulates skew between
        # client and IMS, and must not make existing bindings expire or not yet valid.
        now = time.time()
        not_after = now + days_valid * 86400
        not_before = now - 60 + not_before_days * 86400
        if not_before >= not_after:
            # An expired certificate still needs a sane validity window.
            not_before = not_after - 365 * 86400
        key = generate_rsa(key_size)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Adobe"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(utc(not_before))
            .not_valid_after(utc(not_after))
            .sign(key, hashes.SHA256())
        )
        binding = Binding(
            certificate=cert,
            public_key=key.public_key(),
            certificate_pem=certificate_pem(cert),
            not_before=float(int(not_before)),
            not_after=float(int(not_after)),
            fingerprint=cert.fingerprint(hashes.SHA256()),
        )
        return binding, private_key_pem(key, key_format, passphrase)

    def create_integration(self, options: dict) -> dict:
        unknown = set(options) - INTEGRATION_OPTIONS
        if unknown:
            raise AdminError(400, "unknown option(s): " + ", ".join(sorted(unknown)))
        kind = _option(options, "kind", "jwt", (str,), lambda v: v in ("jwt", "oauth", "both"), "kind must be jwt, oauth or both")
        metascopes = _string_list(options, "metascopes", DEFAULT_METASCOPES)
        scopes = _string_list(options, "scopes", DEFAULT_SCOPES)
        secret_count = _option(options, "client_secrets", 1, (int,), lambda v: 1 <= v <= 2, "client_secrets must be 1 or 2")
        jti_required = _option(options, "jti_required", False, (bool,))
        if kind == "jwt":
            default_id = f"cm-p{random_digits(5)}-e{random_digits(6)}-integration"
        else:
            default_id = secrets.token_hex(16)
        client_id = _option(options, "client_id", default_id, (str,), _CLIENT_ID_RE.match, "client_id must match [A-Za-z0-9._-]{1,128}")
        integration = Integration(
            client_id=client_id,
            kind=kind,
            client_secrets=[new_secret() for _index in range(secret_count)],
            org_id=f"{random_hex_upper(24)}@AdobeOrg",
            technical_account_id=f"{random_hex_upper(24)}@techacct.adobe.com",
            email=f"{uuid.uuid4()}@techacct.adobe.com",
            metascopes=metascopes,
            scopes=scopes,
            jti_required=jti_required,
        )
        key_pem = None
        binding = None
        if integration.allows_jwt:
            binding, key_pem = self.new_binding(options, client_id)
            integration.bindings.append(binding)
        elif set(options) & {"key_format", "passphrase", "key_size", "cert_days_valid", "cert_not_before_days"}:
            raise AdminError(400, "an oauth integration has no key or certificate")
        with self.lock:
            if client_id in self.integrations:
                raise AdminError(409, f"integration {client_id} already exists")
            self.integrations[client_id] = integration
        passphrase = options.get("passphrase")
        formats = self.formats(integration, binding, key_pem, passphrase)
        return {
            "client_id": client_id,
            "kind": kind,
            "client_secrets": list(integration.client_secrets),
            "org_id": integration.org_id,
            "technical_account_id": integration.technical_account_id,
            "email": integration.email,
            "private_key_pem": key_pem,
            "passphrase": passphrase,
            "certificate_pem": binding.certificate_pem if binding else None,
            "certificate_expiration_date": iso_ms(binding.not_after) if binding else None,
            "metascopes": list(metascopes),
            "scopes": list(scopes),
            "jti_required": jti_required,
            "formats": formats,
        }

    def add_certificate(self, client_id: str, options: dict) -> dict:
        unknown = set(options) - CERTIFICATE_OPTIONS
        if unknown:
            raise AdminError(400, "unknown option(s): " + ", ".join(sorted(unknown)))
        integration = self.get_integration(client_id)
        if not integration.allows_jwt:
            raise AdminError(400, "an oauth integration has no certificates")
        binding, key_pem = self.new_binding(options, client_id)
        with self.lock:
            integration.bindings.append(binding)
        result = {
            "private_key_pem": key_pem,
            "certificate_pem": binding.certificate_pem,
            "certificate_expiration_date": iso_ms(binding.not_after),
            "formats": {
                "aem_service_credentials": self.aem_format(integration, binding, key_pem),
                "aio_context": self.aio_jwt_context(integration, key_pem, options.get("passphrase")),
            },
        }
        return result

    def revoke(self, client_id: str, body: dict) -> dict:
        integration = self.get_integration(client_id)
        revoke_all = body.get("all") is True
        wanted = None
        if not revoke_all:
            pem = body.get("certificate_pem")
            if not isinstance(pem, str) or not pem.strip():
                raise AdminError(400, "give certificate_pem or all: true")
            try:
                wanted = x509.load_pem_x509_certificate(pem.replace("\r\n", "\n").encode("ascii")).fingerprint(hashes.SHA256())
            except ValueError as exc:
                raise AdminError(400, "certificate_pem is not a PEM certificate") from exc
        count = 0
        with self.lock:
            for binding in integration.bindings:
                if revoke_all or binding.fingerprint == wanted:
                    if not binding.revoked:
                        count += 1
                    binding.revoked = True
                    if not revoke_all:
                        break
            else:
                if not revoke_all:
                    raise AdminError(404, "no such certificate is bound to this integration")
        return {"revoked": count}

    def get_integration(self, client_id: str) -> Integration:
        with self.lock:
            integration = self.integrations.get(client_id)
        if integration is None:
            raise AdminError(404, f"no integration {client_id}")
        return integration

    # -- credential shapes ---------------------------------------------------

    def formats(self, integration: Integration, binding: Binding | None, key_pem: str | None, passphrase: str | None) -> dict:
        result: dict = {"developer_console_project": self.console_project(integration)}
        if integration.allows_jwt and binding is not None and key_pem is not None:
            result["aem_service_credentials"] = self.aem_format(integration, binding, key_pem)
            result["aio_context"] = self.aio_jwt_context(integration, key_pem, passphrase)
        if integration.allows_s2s:
            result["oauth_s2s_flat"] = {
                "ORG_ID": integration.org_id,
                "CLIENT_ID": integration.client_id,
                "CLIENT_SECRETS": list(integration.client_secrets),
                "SCOPES": list(integration.scopes),
                "TECHNICAL_ACCOUNT_ID": integration.technical_account_id,
                "TECHNICAL_ACCOUNT_EMAIL": integration.email,
            }
            oauth_context = {
                "client_id": integration.client_id,
                "client_secrets": list(integration.client_secrets),
                "technical_account_id": integration.technical_account_id,
                "technical_account_email": integration.email,
                "scopes": list(integration.scopes),
                "ims_org_id": integration.org_id,
            }
            result["aio_context" if "aio_context" not in result else "aio_context_oauth"] = oauth_context
        result["local_development_token"] = {"ok": True, "statusCode": 200, "accessToken": self.developer_token(integration.org_id)}
        return result

    def aem_format(self, integration: Integration, binding: Binding, key_pem: str) -> dict:
        return {
            "ok": True,
            "integration": {
                "imsEndpoint": self.endpoint,
                "metascopes": ",".join(integration.metascopes),
                "technicalAccount": {"clientId": integration.client_id, "clientSecret": integration.client_secrets[0]},
                "email": integration.email,
                "id": integration.technical_account_id,
                "org": integration.org_id,
                "privateKey": crlf(key_pem),
                "publicKey": crlf(binding.certificate_pem),
                "certificateExpirationDate": iso_ms(binding.not_after),
            },
            "statusCode": 200,
        }

    @staticmethod
    def aio_jwt_context(integration: Integration, key_pem: str, passphrase: str | None) -> dict:
        context = {
            "client_id": integration.client_id,
            "client_secret": integration.client_secrets[0],
            "technical_account_id": integration.technical_account_id,
            "technical_account_email": integration.email,
            "meta_scopes": list(integration.metascopes),
            "ims_org_id": integration.org_id,
            "private_key": key_pem,
        }
        if passphrase:
            context["passphrase"] = passphrase
        return context

    @staticmethod
    def console_project(integration: Integration) -> dict:
        credential: dict = {"id": random_digits(6), "name": f"aemops-ims-{integration.client_id[:24]}"}
        if integration.kind == "jwt":
            credential["integration_type"] = "service"
        elif integration.kind == "oauth":
            credential["integration_type"] = "oauth_server_to_server"
        else:
            credential["integration_type"] = "oauth_server_to_server_migrate"
        if integration.allows_jwt:
            credential["jwt"] = {
                "client_id": integration.client_id,
                "client_secret": integration.client_secrets[0],
                "technical_account_email": integration.email,
                "technical_account_id": integration.technical_account_id,
                "meta_scopes": list(integration.metascopes),
            }
        if integration.allows_s2s:
            credential["oauth_server_to_server"] = {
                "client_id": integration.client_id,
                "client_secrets": list(integration.client_secrets),
                "technical_account_email": integration.email,
                "technical_account_id": integration.technical_account_id,
                "scopes": list(integration.scopes),
            }
        namespace = f"{random_digits(6)}-aemopsimstest-stage"
        return {
            "project": {
                "id": random_digits(19),
                "name": "aemopsimstest",
                "title": "aemops.ims test project",
                "org": {"id": random_digits(6), "name": "aemops.ims Test Org", "ims_org_id": integration.org_id},
                "workspace": {
                    "id": random_digits(19),
                    "name": "Stage",
                    "title": "Stage",
                    "action_url": f"https://{namespace}.adobeioruntime.net",
                    "app_url": f"https://{namespace}.adobeio-static.net",
                    "details": {"credentials": [credential], "services": [], "runtime": {"namespaces": []}},
                },
            }
        }

    # -- tokens ------------------------------------------------------------

    def sign(self, claims: dict) -> str:
        header = b64url_encode(json.dumps(TOKEN_HEADER, separators=(",", ":")).encode("utf-8"))
        payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        signing_input = f"{header}.{payload}".encode("ascii")
        signature = self.token_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64url_encode(signature)}"

    def issue_token(self, client_id: str, user_id: str, org: str, scope: str, email_address: str, overrides: dict | None = None) -> str:
        token_id = str(uuid.uuid4())
        created = int(self.now() * 1000)
        claims = {
            "id": token_id,
            "type": "access_token",
            "client_id": client_id,
            "user_id": user_id,
            "as": "ims-na1",
            "org": org,
            "scope": scope,
            "created_at": str(created),
            "expires_in": str(TOKEN_LIFETIME_MS),
        }
        # A token_claims fault: the token says something else about itself (its answer does not).
        claims.update(overrides or {})
        token = self.sign(claims)
        with self.lock:
            self.issued[token_id] = {"email": email_address, "client_id": client_id}
        return token

    def developer_token(self, org: str) -> str:
        user = f"{random_hex_upper(24)}@AdobeID"
        email_address = f"developer-{secrets.token_hex(4)}@example.com"
        return self.issue_token(DEV_TOKEN_CLIENT_ID, user, org, DEV_TOKEN_SCOPE, email_address)

    def signed_claims(self, token: str) -> dict | None:
        """The claims of a token this emulator signed, or None (malformed, forged, not an access token)."""
        claims, _valid = self.check_token(token)
        if claims is None:
            return None
        parts = token.split(".")
        try:
            self.token_public_key.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return None
        return claims if claims.get("type") == "access_token" else None

    def check_token(self, token: str) -> tuple[dict | None, bool]:
        """Return (claims or None, valid) for an access token."""
        parts = token.split(".")
        if len(parts) != 3:
            return None, False
        try:
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
            header = json.loads(b64url_decode(parts[0]))
        except ValueError:
            return None, False
        if not isinstance(claims, dict) or not isinstance(header, dict):
            return None, False
        try:
            self.token_public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return claims, False
        if header.get("alg") != "RS256" or claims.get("type") != "access_token":
            return claims, False
        with self.lock:
            known = claims.get("id") in self.issued and claims.get("id") not in self.invalidated
        try:
            expires_ms = int(claims["created_at"]) + int(claims["expires_in"])
        except (KeyError, TypeError, ValueError):
            return claims, False
        return claims, known and expires_ms > self.now() * 1000

    def count(self, client_id: str, what: str) -> None:
        """Count a validation or an invalidation, in total and for the client (the stats' "validations"/"invalidations")."""
        with self.lock:
            self.stats[what] = self.stats.get(what, 0) + 1
            if client_id:
                entry = self.stats["by_client"].setdefault(client_id[:200], {"requests": 0, "issued": 0})
                entry[what] = entry.get(what, 0) + 1

    def invalidate(self, fields: dict) -> None:
        """/ims/invalidate_token/v2: the client's own token, with its secret; an unknown token is no error (RFC 7009)."""
        if fields.get("token_type") != "access_token":
            raise ImsError(400, "invalid_request", "Missing required parameter: token_type")
        for name in ("token", "client_id", "client_secret"):
            if not fields.get(name):
                raise ImsError(400, "invalid_request", "Missing required parameter: " + name)
        with self.lock:
            integration = self.integrations.get(fields["client_id"])
        if integration is None:
            raise ImsError(400, "invalid_client", MSG_BAD_CLIENT_ID)
        if fields["client_secret"] not in integration.client_secrets:
            raise ImsError(400, "invalid_client", MSG_BAD_SECRET)
        claims = self.signed_claims(fields["token"])
        token_id = claims.get("id") if claims else None
        with self.lock:
            known = isinstance(token_id, str) and token_id in self.issued
        if not known:
            return
        if claims.get("client_id") != fields["client_id"]:  # type: ignore[union-attr]
            raise ImsError(400, "invalid_request", "The token was not issued to this client")
        with self.lock:
            self.invalidated.add(token_id)

    def token_owner(self, claims: dict) -> dict:
        with self.lock:
            return dict(self.issued.get(claims.get("id"), {}))

    def jwks(self) -> dict:
        numbers = self.token_public_key.public_numbers()

        def encode_int(value: int) -> str:
            return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {"keys": [{"kty": "RSA", "kid": TOKEN_HEADER["kid"], "use": "sig", "alg": "RS256", "n": encode_int(numbers.n), "e": encode_int(numbers.e)}]}

    # -- IMS checks --------------------------------------------------------

    def jwt_exchange(self, fields: dict, token_claims: dict | None = None) -> dict:
        for name in ("client_id", "client_secret", "jwt_token"):
            if not fields.get(name):
                raise ImsError(400, "invalid_request", f"Missing required parameter: {name}")
        client_id = fields["client_id"]
        # Recorded before any check, whatever the answer will be: what the client sent is the point.
        received = peek_jwt(fields["jwt_token"])
        if received is not None:
            self.record_jwt(client_id, *received)
        with self.lock:
            integration = self.integrations.get(client_id)
            bindings = list(integration.bindings) if integration else []
        if integration is None:
            raise ImsError(400, "invalid_client", MSG_BAD_CLIENT_ID)
        if not integration.allows_jwt:
            raise ImsError(400, "unauthorized_client", MSG_NO_JWT_GRANT)
        if fields["client_secret"] not in integration.client_secrets:
            raise ImsError(401, "invalid_client", MSG_BAD_SECRET)

        header, claims, signing_input, signature = parse_jwt(fields["jwt_token"])

        aud = claims.get("aud")
        if not isinstance(aud, str):
            raise ImsError(400, "invalid_client", MSG_AUD_MISMATCH)
        parsed = urllib.parse.urlsplit(aud)
        if f"{parsed.scheme}://{parsed.netloc}".lower() != self.origin.lower():
            raise ImsError(400, "invalid_client", MSG_OTHER_ENV)
        if aud != f"{self.origin}/c/{client_id}":
            raise ImsError(400, "invalid_client", MSG_AUD_MISMATCH)

        now = self.now()
        if (
            header.get("alg") != "RS256"
            or claims.get("iss") != integration.org_id
            or claims.get("sub") != integration.technical_account_id
            or not verify_with_bindings(bindings, signing_input, signature, time.time())
        ):
            raise ImsError(400, "invalid_token", MSG_NO_BINDING)

        if claims["exp"] < now - CLOCK_SKEW:
            raise ImsError(400, "invalid_token", MSG_EXPIRED)
        if "iat" in claims and claims["iat"] > now + CLOCK_SKEW:
            raise ImsError(400, "invalid_token", MSG_NOT_YET_VALID)

        requested = []
        for key, value in claims.items():
            match = _METASCOPE_RE.match(key)
            if not match:
                continue
            host, name = match.groups()
            if host.lower() != self.origin.lower() or not name or value is not True:
                raise ImsError(400, "invalid_scope", MSG_INVALID_METASCOPE)
            requested.append(name)
        if not requested:
            raise ImsError(400, "invalid_scope", MSG_NO_METASCOPE)
        if not set(requested) <= set(integration.metascopes):
            raise ImsError(400, "invalid_scope", MSG_METASCOPE_SUBSET)

        if integration.jti_required:
            jti = claims.get("jti")
            with self.lock:
                if jti is None or jti in integration.used_jtis:
                    raise ImsError(400, "invalid_jti", MSG_JTI)
                integration.used_jtis.add(jti)

        token = self.issue_token(client_id, integration.technical_account_id, integration.org_id, ",".join(requested), integration.email, token_claims)
        return {"token_type": "bearer", "access_token": token, "expires_in": JWT_EXPIRES_IN_MS}

    def client_credentials(self, fields: dict, client_id: str, token_claims: dict | None = None) -> dict:
        if fields.get("grant_type") != "client_credentials":
            raise ImsError(400, "unsupported_grant_type", MSG_BAD_GRANT)
        if not client_id:
            raise ImsError(400, "invalid_request", "Missing required parameter: client_id")
        with self.lock:
            integration = self.integrations.get(client_id)
        if integration is None:
            raise ImsError(400, "invalid_client", MSG_BAD_CLIENT_ID)
        if not integration.allows_s2s:
            raise ImsError(400, "unauthorized_client", MSG_NO_S2S_GRANT)
        if fields.get("client_secret") not in integration.client_secrets:
            raise ImsError(400, "invalid_client", MSG_BAD_SECRET)
        requested = [item.strip() for item in fields.get("scope", "").split(",") if item.strip()]
        if not requested:
            raise ImsError(400, "invalid_scope", MSG_SCOPE_REQUIRED)
        if not set(requested) <= set(integration.scopes):
            raise ImsError(400, "invalid_scope", MSG_INVALID_SCOPE)
        token = self.issue_token(client_id, integration.technical_account_id, integration.org_id, ",".join(requested), integration.email, token_claims)
        return {"access_token": token, "token_type": "bearer", "expires_in": S2S_EXPIRES_IN_S}


def peek_jwt(token: str) -> tuple[dict, dict] | None:
    """The header and claims of a JWT as sent, unchecked (None when they are not two JSON objects)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0].strip()))
        claims = json.loads(b64url_decode(parts[1].strip()))
    except ValueError:
        return None
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def parse_jwt(token: str) -> tuple[dict, dict, bytes, bytes]:
    # Not stripped: a JWT is base64url segments joined by dots, with no whitespace anywhere (RFC 7515
    # section 7.1, compact serialization; RFC 7519 section 7.2), and IMS is not documented to trim
    # the jwt_token field; a client that sends " eyJ..." or a trailing newline is refused as
    # undecodable, where a lenient emulator would hide the bug.
    parts = token.split(".")
    if len(parts) != 3:
        raise ImsError(400, "invalid_token", MSG_FORMAT)
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise ImsError(400, "invalid_token", MSG_FORMAT) from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ImsError(400, "invalid_token", MSG_FORMAT)
    # exp must be an integer of seconds and jti, when present, an integer: IMS answers invalid_token
    # "The exp or jti field of the JWT is not an integer" (adobe-apiplatform/umapi-documentation:
    # docs/api/ConnectAPIRef.md; AdobeDocs/adobeio-auth: JWT/JWT.md). An exp that is missing or a
    # string was answered "JWT token is incorrectly formatted, and can not be decoded."
    # (Adobe-Consulting-Services/acs-aem-commons#2860). A large integer exp is accepted: IMS took
    # exp in milliseconds for years (adobe/pdfservices-python-sdk, 2021-2024).
    if "exp" not in claims or isinstance(claims["exp"], str):
        raise ImsError(400, "invalid_token", MSG_FORMAT)
    if not is_int(claims["exp"]) or ("jti" in claims and not is_int(claims["jti"])):
        raise ImsError(400, "invalid_token", MSG_NOT_INTEGER)
    # iat is optional and IMS names no rule for it; a number is taken (the plugin's integer iat is
    # checked end to end by the integration suites, from the claims recorded above).
    if "iat" in claims and not is_number(claims["iat"]):
        raise ImsError(400, "invalid_token", MSG_FORMAT)
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def verify_with_bindings(bindings: list[Binding], signing_input: bytes, signature: bytes, now: float) -> bool:
    for binding in bindings:
        if binding.revoked or not binding.not_before <= now <= binding.not_after:
            continue
        try:
            binding.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


# ---------------------------------------------------------------------------
# Request bodies


class BodyError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_form(content_type: str | None, body: bytes) -> tuple[dict, list[str]]:
    """Return ({name: first value}, [names in order]) of a form body."""
    kind = media_type(content_type)
    pairs: list[tuple[str, str]] = []
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            pairs = []
    elif kind == "multipart/form-data":
        pairs = parse_multipart(content_type or "", body)
    fields: dict[str, str] = {}
    names: list[str] = []
    for name, value in pairs:
        if name not in fields:
            fields[name] = value
            names.append(name)
    return fields, names


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str]]:
    raw = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        return []
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            pairs.append((str(name), payload.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return pairs


# ---------------------------------------------------------------------------
# HTTP


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections when 50 clients arrive at once.
    request_queue_size = 256

    def __init__(self, address, handler, ssl_context: ssl.SSLContext, state: EmulatorState | None = None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.ssl_context = ssl_context
        self.state = state
        self.stopping = threading.Event()
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the per-connection thread, so a client
        # that connects and never speaks cannot stall the accept loop.
        request.settimeout(HANDSHAKE_TIMEOUT)
        # Headers and body go out as separate TLS records; with Nagle on, the
        # body waits for the client's delayed ACK (~40 ms per response).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            log(f"connection error: {type(exc).__name__}")


class TokenRequestBooking:
    """Books one token request into the stats and request log exactly once.

    Booking happens before the answer is written: a client that reads the stats
    right after its answer must already see its request counted.
    """

    def __init__(self, state: EmulatorState, endpoint: str, client_id: str, entry: dict):
        self.state = state
        self.endpoint = endpoint
        self.client_id = client_id
        self.entry = entry
        self.recorded = False
        self.released = False
        state.begin_token_request(endpoint)

    def finish(self, status, error, issued: bool = False, release: bool = True) -> None:
        if not self.recorded:
            self.recorded = True
            self.entry["status"], self.entry["error"] = status, error
            self.state.record(self.entry, self.endpoint, self.client_id, issued)
        if release and not self.released:
            self.released = True
            self.state.end_token_request()


class _NotBooked:
    """A fault on a validation or invalidation: counted by the caller, not as a token request."""

    def finish(self, status, error, issued: bool = False, release: bool = True) -> None:
        del status, error, issued, release


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aemops-ims-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: EmulatorHTTPServer

    # Set per request.
    _status: int | str = "-"
    _body = b""

    @property
    def state(self) -> EmulatorState:
        assert self.server.state is not None
        return self.server.state

    # -- plumbing ------------------------------------------------------------

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # The default log line holds the raw request line, query string included.
        return

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.state.now() if timestamp is None else timestamp, usegmt=True)

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        self._dispatch()

    def _dispatch(self) -> None:
        started = time.monotonic()
        self._status = "-"
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        try:
            try:
                self._body = self._read_body()
            except BodyError as exc:
                self.close_connection = True
                self._send_json(exc.status, {"error": "invalid_request", "error_description": exc.description})
                return
            self._route(path, split.query)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True
            self._status = "disconnected"
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Keep serving after a bug, but say which exception it was.
            log(f"internal error on {self.command} {safe_path(path)}: {type(exc).__name__}")
            self.close_connection = True
            if self._status == "-":
                with contextlib.suppress(OSError):
                    self._send_json(500, {"error": "internal_error", "error_description": "Please try again later"})
        finally:
            elapsed = (time.monotonic() - started) * 1000
            log(f"{self.client_address[0]} {self.command} {safe_path(path)} {self._status} {elapsed:.1f}ms")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError as exc:
            raise BodyError(400, "invalid Content-Length") from exc
        if length < 0 or length > MAX_BODY:
            raise BodyError(413, "request body too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise BodyError(400, "invalid chunked body") from exc
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(data)
            if len(data) + size > MAX_BODY:
                raise BodyError(413, "request body too large")
            data += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        extra = dict(headers or {})
        lowered = {key.lower(): key for key in extra}
        self.send_response(status)
        if "content-type" in lowered:
            content_type = str(extra.pop(lowered["content-type"]))
        extra.pop(lowered.get("content-length", "\0"), None)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, no-store")
        if status >= 400 and "x-debug-id" not in lowered:
            self.send_header("x-debug-id", str(uuid.uuid4()))
        for key, value in extra.items():
            self.send_header(str(key), str(value))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self._status = status

    def _send_json(self, status: int, payload, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), JSON_CONTENT_TYPE, headers)

    def _json_body(self) -> dict:
        if not self._body.strip():
            return {}
        try:
            value = json.loads(self._body)
        except ValueError as exc:
            raise AdminError(400, "body is not JSON") from exc
        if not isinstance(value, dict):
            raise AdminError(400, "body must be a JSON object")
        return value

    # -- routing -------------------------------------------------------------

    def _route(self, path: str, query: str) -> None:
        method = self.command
        if adobe_api_stubs.answer(self.state, method, path, self.headers, self._body, self._send):
            return
        if path in JWT_PATHS or path in S2S_PATHS:
            if method != "POST":
                self._send_json(405, {"error": "method_not_allowed", "error_description": "Use POST"})
                return
            self._token_endpoint("jwt" if path in JWT_PATHS else "oauth", path, query)
            return
        if path == "/ims/validate_token/v1" and method == "POST":
            self._validate_token()
            return
        if path == "/ims/invalidate_token/v2" and method == "POST":
            self._invalidate_token()
            return
        if path == "/ims/keys" and method == "GET":
            self._send_json(200, self.state.jwks())
            return
        if path in {"/libs/granite/security/currentuser.json", "/aem"} or path.startswith("/aem/"):
            self._mock_aem(path)
            return
        if path.startswith("/_emulator/"):
            try:
                self._admin(method, path)
            except AdminError as exc:
                self._send_json(exc.status, {"error": "invalid_request", "error_description": exc.description})
            return
        self._send_json(404, {"error": "not_found", "error_description": "Not found"})

    def _admin(self, method: str, path: str) -> None:
        state = self.state
        parts = [urllib.parse.unquote(part) for part in path.split("/")[2:]]
        if method == "GET" and parts == ["stats"]:
            self._send_json(200, state.snapshot_stats())
        elif method == "GET" and parts == ["requests"]:
            with state.lock:
                entries = list(state.requests)
            self._send_json(200, entries)
        elif method == "POST" and parts == ["owner"]:
            # Whose still-valid token this is, for tests: not counted as a validation by a client.
            token = self._json_body().get("token")
            if not isinstance(token, str):
                raise AdminError(400, "token must be a string")
            claims, valid = state.check_token(token)
            self._send_json(200, {"client_id": claims.get("client_id") if valid and claims else None})
        elif method == "GET" and parts == ["jwts"]:
            with state.lock:
                received = list(state.jwts)
            self._send_json(200, received)
        elif method == "GET" and parts == ["health"]:
            self._send_json(200, {"ok": True, "origin": state.origin})
        elif method == "GET" and parts == ["clock"]:
            self._send_json(200, {"offset": state.clock_offset, "now": state.now()})
        elif method == "POST" and parts == ["integrations"]:
            self._send_json(201, state.create_integration(self._json_body()))
        elif method == "POST" and len(parts) == 3 and parts[0] == "integrations" and parts[2] == "certificates":
            self._send_json(201, state.add_certificate(parts[1], self._json_body()))
        elif method == "POST" and len(parts) == 3 and parts[0] == "integrations" and parts[2] == "revoke":
            self._send_json(200, state.revoke(parts[1], self._json_body()))
        elif method == "POST" and parts == ["reset"]:
            state.reset()
            self._send_json(200, {"ok": True})
        elif method == "POST" and parts == ["faults"]:
            faults = validate_faults(self._json_body().get("faults"))
            with state.lock:
                state.faults.extend(faults)
                queued = len(state.faults)
            self._send_json(200, {"queued": queued})
        elif method == "POST" and parts == ["outage"]:
            fault = self._json_body().get("fault")
            with state.lock:
                state.outage = validate_faults([fault])[0] if fault is not None else None
            self._send_json(200, {"outage": state.outage})
        elif method == "POST" and parts == ["clock"]:
            offset = self._json_body().get("offset")
            if not is_number(offset):
                raise AdminError(400, "offset must be a number of seconds")
            state.clock_offset = float(offset)
            self._send_json(200, {"offset": state.clock_offset, "now": state.now()})
        else:
            self._send_json(404, {"error": "not_found", "error_description": "Not found"})

    # -- IMS -----------------------------------------------------------------

    def _token_endpoint(self, endpoint: str, path: str, query: str) -> None:
        state = self.state
        content_type = self.headers.get("Content-Type")
        fields, names = parse_form(content_type, self._body)
        query_fields = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        client_id = fields.get("client_id", "")
        if endpoint == "oauth" and not client_id:
            client_id = query_fields.get("client_id", "")
        authorization = self.headers.get("Authorization")
        entry = {
            "path": path,
            "content_type": media_type(content_type),
            "fields": names,
            "query_fields": sorted(query_fields),
            # Only the scheme (Basic, Bearer), never the credentials: IMS takes none in this header.
            "authorization": authorization.split(" ", 1)[0][:20] if authorization else None,
            "status": None,
            "error": None,
        }
        booking = TokenRequestBooking(state, endpoint, client_id, entry)
        try:
            state.count_client(client_id)
            fault = state.pop_fault()
            if fault is not None and self._apply_fault(fault, booking, fields):
                return
            try:
                if endpoint == "jwt":
                    answer = state.jwt_exchange(fields, (fault or {}).get("token_claims"))
                else:
                    answer = state.client_credentials(fields, client_id, (fault or {}).get("token_claims"))
                if fault is not None and "expires_in" in fault:
                    answer["expires_in"] = fault["expires_in"]
            except ImsError as exc:
                booking.finish(exc.status, exc.error)
                self._send_json(exc.status, {"error": exc.error, "error_description": exc.description})
            else:
                booking.finish(200, None, issued=True)
                self._send_json(200, answer)
        finally:
            booking.finish(entry["status"], entry["error"])

    def _apply_fault(self, fault: dict, booking: TokenRequestBooking, fields: dict) -> bool:
        """Act out one queued fault; return False when normal processing should follow."""
        if fault.get("gather") and not self.state.gather(int(fault["gather"])):
            booking.finish(504, "gather_timeout")
            self._send_json(504, {"error": "gather_timeout", "error_description": "fewer requests gathered than the fault asked for"})
            return True
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault.get("drip"):
            booking.finish("dripped", "dripped")
            self._status = "dripped"
            self.close_connection = True
            self._drip(float(fault["drip"]))
            return True
        if fault.get("echo"):
            # A misbehaving server or proxy that quotes what it received: the form as sent
            # (URL-encoded), or its fields as JSON (JSON-escaped) in a non-JSON answer.
            status = int(fault.get("status", 400))
            booking.finish(status, "echo")
            if fault["echo"] == "json":
                secret_first = dict(sorted(fields.items(), key=lambda item: item[0] not in ("client_secret", "jwt_token")))
                self._send(status, ("bad: " + json.dumps(secret_first)).encode("utf-8"), "text/plain;charset=UTF-8")
            else:
                body_text = self._body.decode("utf-8", "replace")
                self._send_json(status, {"error": "invalid_request", "error_description": "could not handle " + body_text})
            return True
        if fault.get("drop"):
            booking.finish("dropped", "dropped")
            self.close_connection = True
            self._status = "dropped"
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.get("hang"):
            # Counted at once, but in flight until the client goes away.
            booking.finish("hung", "hung", release=False)
            self._status = "hung"
            self.close_connection = True
            self._hang()
            return True
        status = fault.get("status")
        if status is None:
            return False
        status = int(status)
        headers = dict(fault.get("headers") or {})
        if "retry_after" in fault:
            headers["Retry-After"] = str(fault["retry_after"])
        if "retry_after_http_date_in" in fault:
            headers["Retry-After"] = email.utils.formatdate(self.state.now() + float(fault["retry_after_http_date_in"]), usegmt=True)
        if "body" in fault:
            body = str(fault["body"]).encode("utf-8")
            try:
                json.loads(body)
                content_type = JSON_CONTENT_TYPE
            except ValueError:
                content_type = "text/plain;charset=UTF-8"
            booking.finish(status, f"http_{status}")
            self._send(status, body, content_type, headers)
        elif fault.get("html"):
            booking.finish(status, _STATUS_ERRORS.get(status, f"http_{status}"))
            html = _HTML_502 if status == 502 else _HTML_502.replace("502 Bad Gateway", f"{status} Error")
            self._send(status, html.encode("utf-8"), "text/html", headers)
        else:
            error = _STATUS_ERRORS.get(status, f"http_{status}")
            booking.finish(status, error)
            description = _STATUS_DESCRIPTIONS.get(status, "Injected fault")
            self._send_json(status, {"error": error, "error_description": description}, headers)
        return True

    def _drip(self, interval: float) -> None:
        # A 200 header, then one byte of body every `interval` seconds until the client goes away
        # (or DRIP_LIMIT passes): a read timeout per socket read never fires.
        body = json.dumps({"access_token": "x" * 4096, "token_type": "bearer", "expires_in": JWT_EXPIRES_IN_MS}).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + DRIP_LIMIT
        for index in range(len(body)):
            if time.monotonic() >= deadline or self.server.stopping.is_set():
                return
            try:
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(interval)

    def _hang(self) -> None:
        # Hold the connection without answering until the client gives up.
        sock = self.connection
        deadline = time.monotonic() + HANG_LIMIT
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            try:
                readable = select.select([sock], [], [], 0.25)[0]
            except (OSError, ValueError):
                return
            if not readable:
                continue
            try:
                sock.settimeout(0.25)
                if not sock.recv(4096):
                    return
            except ssl.SSLWantReadError:
                continue
            except TimeoutError:
                continue
            except OSError:
                return

    def _validate_token(self) -> None:
        fields = parse_form(self.headers.get("Content-Type"), self._body)[0]
        token = fields.get("token", "")
        auth = self.headers.get("Authorization", "")
        if not token and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        if not fields.get("type"):
            self._send_json(400, {"error": "invalid_request", "error_description": "Missing required parameter: type"})
            return
        if not token:
            self._send_json(400, {"error": "invalid_request", "error_description": "Missing required parameter: token"})
            return
        client_id = fields.get("client_id")
        # Every documented caller sends client_id (adobe/aio-lib-ims: src/ims.js _validateToken;
        # adobe/aio-lib-java: ims/.../api/ImsApi.java): a client that leaves it out is refused here
        # rather than answered as if IMS took it.
        if not client_id:
            self._send_json(400, {"error": "invalid_request", "error_description": "Missing required parameter: client_id"})
            return
        self.state.count(client_id, "validations")
        fault = self.state.pop_fault("validate")
        if fault is not None and self._apply_fault(fault, _NotBooked(), fields):
            return
        claims, valid = self.state.check_token(token)
        if valid and claims and claims.get("client_id") != client_id:
            valid = False
        self._send_json(200, {"valid": valid, "token": claims or {}})

    def _invalidate_token(self) -> None:
        fields = parse_form(self.headers.get("Content-Type"), self._body)[0]
        self.state.count(fields.get("client_id", ""), "invalidations")
        fault = self.state.pop_fault("invalidate")
        if fault is not None and self._apply_fault(fault, _NotBooked(), fields):
            return
        try:
            self.state.invalidate(fields)
        except ImsError as exc:
            self._send_json(exc.status, {"error": exc.error, "error_description": exc.description})
            return
        # An empty body, as IMS answers; through _send, so that it is logged with its status.
        self._send(200, b"", "text/plain;charset=UTF-8")

    # -- mock AEM --------------------------------------------------------------

    def _mock_aem(self, path: str) -> None:
        state = self.state
        auth = self.headers.get("Authorization", "")
        claims, valid = (None, False)
        if auth[:7].lower() == "bearer " and auth[7:].strip():
            claims, valid = state.check_token(auth[7:].strip())
        if not valid or claims is None:
            self._send_json(401, {"error": "unauthorized"})
            return
        api_key = self.headers.get("x-api-key")
        if api_key is not None and api_key != claims.get("client_id"):
            self._send_json(403, {"error": "forbidden"})
            return
        owner = state.token_owner(claims)
        email_address = owner.get("email", "")
        method = self.command
        if path == "/libs/granite/security/currentuser.json":
            if method != "GET":
                self._send_json(405, {"error": "method_not_allowed"})
                return
            home = "/home/users/system/" + hashlib.sha256(email_address.encode("utf-8")).hexdigest()[:20]
            self._send_json(200, {"authorizableId": email_address, "home": home, "clientId": claims.get("client_id")})
            return
        sub_path = "/" + path[len("/aem/") :] if path.startswith("/aem/") else "/"
        if method == "GET":
            self._send_json(200, {"path": sub_path, "authorizableId": email_address})
        elif method == "POST":
            try:
                body = json.loads(self._body or b"null")
            except ValueError:
                self._send_json(400, {"error": "bad_request"})
                return
            keys = list(body) if isinstance(body, dict) else []
            self._send_json(201, {"created": sub_path, "received_keys": keys})
        else:
            self._send_json(405, {"error": "method_not_allowed"})


def safe_path(path: str) -> str:
    cleaned = "".join(ch if 32 < ord(ch) < 127 else "?" for ch in path)
    return cleaned[:200] or "/"


def validate_faults(faults) -> list[dict]:
    if not isinstance(faults, list):
        raise AdminError(400, "faults must be a list")
    result = []
    for fault in faults:
        if not isinstance(fault, dict) or not fault:
            raise AdminError(400, "each fault must be a non-empty object")
        unknown = set(fault) - FAULT_KEYS
        if unknown:
            raise AdminError(400, "unknown fault key(s): " + ", ".join(sorted(unknown)))
        if fault.get("on", "token") not in FAULT_TARGETS:
            raise AdminError(400, "on must be one of " + ", ".join(FAULT_TARGETS))
        if "status" in fault and not (is_int(fault["status"]) and 100 <= fault["status"] <= 599):
            raise AdminError(400, "status must be an HTTP status code")
        for key in ("delay", "retry_after_http_date_in"):
            if key in fault and not (is_number(fault[key]) and fault[key] >= 0):
                raise AdminError(400, f"{key} must be a non-negative number")
        if "headers" in fault and not isinstance(fault["headers"], dict):
            raise AdminError(400, "headers must be an object")
        if ("body" in fault or "html" in fault or "retry_after" in fault or "headers" in fault) and "status" not in fault:
            raise AdminError(400, "body, html, retry_after and headers need a status")
        if "drip" in fault and not (is_number(fault["drip"]) and 0 < fault["drip"] <= 10):
            raise AdminError(400, "drip must be the seconds between bytes, at most 10")
        if "echo" in fault and fault["echo"] not in ("form", "json"):
            raise AdminError(400, "echo must be form or json")
        if "token_claims" in fault and not (isinstance(fault["token_claims"], dict) and all(isinstance(v, str) for v in fault["token_claims"].values())):
            raise AdminError(400, "token_claims must map claim names to strings, as IMS writes created_at and expires_in")
        if "gather" in fault and not (is_int(fault["gather"]) and 1 <= fault["gather"] <= 200):
            raise AdminError(400, "gather must be how many requests to hold together, 1 to 200")
        if "expires_in" in fault and not is_number(fault["expires_in"]):
            raise AdminError(400, "expires_in must be a number")
        if ("token_claims" in fault or "expires_in" in fault) and set(fault) - {"token_claims", "expires_in", "delay", "gather"}:
            raise AdminError(400, "token_claims and expires_in change a normal answer: combine them with delay or gather only")
        result.append(dict(fault))
    return result


# ---------------------------------------------------------------------------
# Entry point


def origin_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve(state_dir: str, host: str, port: int, parent_pid: int | None) -> int:
    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    os.chmod(state_dir, 0o700)
    ready_path = os.path.join(state_dir, "emulator.json")
    if os.path.exists(ready_path):
        os.unlink(ready_path)
    ca_path, cert_path, key_path = build_tls_material(state_dir, host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)

    server = EmulatorHTTPServer((host, port), Handler, context)
    bound_port = server.server_address[1]
    endpoint = f"{origin_host(host)}:{bound_port}"
    origin = f"https://{endpoint}"
    server.state = EmulatorState(origin, endpoint)

    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="serve", daemon=True)
    thread.start()
    info = {
        "pid": os.getpid(),
        "host": origin_host(host).strip("[]"),
        "port": bound_port,
        "origin": origin,
        "endpoint": endpoint,
        "ca_path": ca_path,
    }
    write_private_file(ready_path, json.dumps(info) + "\n", 0o644)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    log(f"listening on {origin}")

    while not stop.wait(0.5):
        if parent_pid and not pid_alive(parent_pid):
            log("parent process is gone")
            break
    log("stopping")
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
    with contextlib.suppress(OSError):
        os.unlink(ready_path)
    return 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local HTTPS emulator of Adobe IMS for tests")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="generate keys into the state directory and serve HTTPS")
    serve_parser.add_argument("--state-dir", required=True, help="directory for ca.pem, TLS keys and emulator.json")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve_parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    return serve(args.state_dir, args.host, args.port, args.parent_pid)


if __name__ == "__main__":
    sys.exit(main())
