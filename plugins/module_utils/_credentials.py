# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""From options and a credentials document to a TokenRequest: who asks IMS for what, with which secret.

Standard library only: the private key and certificate are parsed at exchange time (_signing), so that
building a request imports neither PyJWT nor cryptography.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import (
    EXTRACTORS,
    FORMAT_AEM,
    FORMAT_CONSOLE,
    LOCAL_DEVELOPMENT_TOKEN,
    METHOD_JWT,
    METHOD_S2S,
    CredentialDocument,
    Extracted,
    detect_format,
    normalize_metascopes,
)
from ansible_collections.aemops.ims.plugins.module_utils._endpoints import is_adobe_ims, parse_ims_endpoint
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, KeyMaterialError, OptionError, describe_type
from ansible_collections.aemops.ims.plugins.module_utils._options import DEFAULT_IMS_HOST, DEFAULT_METASCOPE, OPTIONS
from ansible_collections.aemops.ims.plugins.module_utils._settings import Settings

FORMAT_OPTIONS = "options"
MAX_FILE_BYTES = 1024 * 1024
CACHE_KEY_VERSION = 1

_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY)-----")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,40}$")


def read_checked_bytes(path: str, what: str) -> bytes:
    """The bytes of a small file; every failure becomes one line naming the file.

    Opened without blocking, then checked (fstat): a path swapped for a FIFO or a device after a check would otherwise hang the task.
    """
    label = "%s %s" % (what, path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            info = os.fstat(descriptor)
            if stat.S_ISDIR(info.st_mode):
                raise CredentialsError("%s is a directory, not a file" % label, field=what)
            if not stat.S_ISREG(info.st_mode):
                raise CredentialsError("%s is not a regular file" % label, field=what)
            if info.st_size > MAX_FILE_BYTES:
                raise CredentialsError(
                    "%s is too large (%d bytes; credentials are a few KiB, the limit is %d bytes)" % (label, info.st_size, MAX_FILE_BYTES), field=what
                )
            return os.read(descriptor, MAX_FILE_BYTES + 1)
        finally:
            os.close(descriptor)
    except FileNotFoundError:
        shown = path if os.path.isabs(path) else "%s (%s)" % (path, os.path.abspath(path))
        raise CredentialsError("%s %s does not exist" % (what, shown), field=what) from None
    except PermissionError:
        readable_directory = os.access(os.path.dirname(os.path.abspath(path)), os.X_OK)
        problem = "is not readable" if readable_directory else "is not accessible"
        raise CredentialsError("%s %s: permission denied" % (label, problem), field=what) from None
    except OSError as error:
        raise CredentialsError("%s cannot be read: %s" % (label, error.strerror or error), field=what) from None


def decode_text(data: bytes, label: str, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CredentialsError("%s is not UTF-8 text" % label, field=what) from None


def read_text_file(path: str, what: str) -> str:
    return decode_text(read_checked_bytes(path, what), "%s %s" % (what, path), what)


class PluginInputs:
    """How the plugin around the core reads the files options name, and names where options come from.

    This base reads a file as it is and names the module's sources. On the controller the plugins pass
    plugin_utils._files.ControllerFiles, which finds a relative path as lookup('file') does and decrypts vault files in memory.
    """

    lookup = False
    # Told of each retry of a request to IMS, in one secret-free line; None: nowhere to show it.
    progress: Callable[[str], None] | None = None

    def read(self, path: str, what: str) -> str:
        """The text of the file at path; what is how messages name it ("service credentials file", "private_key_file")."""
        return read_text_file(path, what)

    def sources(self, name: str) -> str:
        """Every place the plugin reads option name from, in words, for "is missing: looked in ..." messages."""
        if not self.lookup:
            return "the %s option or %s" % (name, OPTIONS[name].env)
        places = ["the %s keyword" % name, *self._lookup_alternatives(name)]
        return "%s or %s" % (", ".join(places[:-1]), places[-1])

    def alternatives(self, name: str) -> str:
        """The places other than the option itself that the plugin reads option name from, for "set <option> (or ...)"."""
        return " or ".join(self._lookup_alternatives(name)) if self.lookup else OPTIONS[name].env or ""

    @staticmethod
    def _lookup_alternatives(name: str) -> list[str]:
        option = OPTIONS[name]
        places = ["variable %s" % option.variable, "environment variable %s" % option.env]
        return [*places, "%s in the [aem_ims] section of ansible.cfg" % name] if option.in_ini else places

    def warn(self, message: str) -> None:
        """A warning that does not stop the task; the base has nowhere to show it."""


LOCAL_FILES = PluginInputs()


def parse_json_object(text: str, label: str, field_name: str) -> dict:
    if not text.strip():
        raise CredentialsError("%s is empty" % label, field=field_name)
    try:
        document = json.loads(text)
    except RecursionError:
        raise CredentialsError("%s is not valid JSON: it is nested too deeply" % label, field=field_name) from None
    except json.JSONDecodeError as error:
        # Its msg, lineno and colno never quote the document, which may hold secrets.
        raise CredentialsError("%s is not valid JSON: %s (line %d, column %d)" % (label, error.msg, error.lineno, error.colno), field=field_name) from None
    except ValueError:
        raise CredentialsError("%s is not valid JSON" % label, field=field_name) from None
    if not isinstance(document, dict):
        raise CredentialsError("%s must hold a JSON object, got %s" % (label, describe_type(document, json=True)), field=field_name)
    return document


def _only_one(settings: Settings, name: str, other: str) -> None:
    if getattr(settings, name) is not None and getattr(settings, other) is not None:
        raise OptionError("%s (from %s) and %s (from %s) are both set: set only one" % (name, settings.where(name), other, settings.where(other)), field=name)


def _credentials_file_document(path: str, inputs: PluginInputs) -> CredentialDocument:
    label = "service credentials file %s" % path
    return CredentialDocument(parse_json_object(inputs.read(path, "service credentials file"), label, "service_credentials_file"), label)


def load_document(settings: Settings, credentials_file: str | None = None, inputs: PluginInputs = LOCAL_FILES) -> CredentialDocument | None:
    """The credentials document to read (a lookup term wins over the options), or None when only single options are given."""
    if credentials_file is not None:
        return _credentials_file_document(os.path.expanduser(str(credentials_file)), inputs)
    _only_one(settings, "service_credentials", "service_credentials_file")
    inline = settings.service_credentials
    if isinstance(inline, str):
        stripped = inline.strip()
        if stripped and stripped[0] not in "{[" and (stripped.startswith(("/", "~", ".")) or stripped.endswith(".json")):
            raise OptionError("service_credentials holds a file name, not JSON: use service_credentials_file for a path", field="service_credentials")
        return CredentialDocument(parse_json_object(inline, "service_credentials", "service_credentials"), "service_credentials")
    if inline is not None:
        return CredentialDocument(inline, "service_credentials")
    if settings.service_credentials_file is not None:
        return _credentials_file_document(settings.service_credentials_file, inputs)
    return None


def extract(document: CredentialDocument, settings: Settings) -> Extracted:
    shape = detect_format(document.data)
    if shape == LOCAL_DEVELOPMENT_TOKEN:
        raise CredentialsError(
            "%s is an AEM local development token (accessToken): a developer's personal token that expires after 24 hours, "
            "not service credentials. In the AEM Developer Console open Integrations > Technical Accounts (service credentials) "
            "and download the JSON from there instead" % document.label,
            field="service_credentials",
        )
    if shape is None:
        keys = [key for key in document.data if isinstance(key, str) and _IDENTIFIER.match(key)][:8]
        raise CredentialsError(
            "%s has an unknown shape (top-level keys: %s): expected AEM service credentials (an 'integration' object), an Adobe "
            "Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context" % (document.label, ", ".join(keys) or "none"),
            field="service_credentials",
        )
    return EXTRACTORS[shape](document, settings)


def normalize_private_key(text: object, where: str) -> str:
    """Return the key as PEM text with \\n line endings, from the forms found in the wild.

    AEM ships PKCS#1 with \\r\\n inside JSON; people paste keys into environment variables with literal
    backslash-n, or base64-encode the whole PEM to survive CI systems (adobe/jwt-auth#61). Only the armour is checked here.
    """
    if isinstance(text, list) and all(isinstance(line, str) for line in text):
        text = "\n".join(text)
    if not isinstance(text, str):
        raise KeyMaterialError("the private key from %s must be PEM text, got %s" % (where, describe_type(text, json=True)), field="private_key")
    pem = text.strip()
    if "-----BEGIN" not in pem and pem:
        try:
            decoded = base64.b64decode(re.sub(r"\s+", "", pem), validate=True)
        except ValueError:  # binascii.Error is one
            decoded = b""
        if b"-----BEGIN" in decoded and decoded.isascii():
            pem = decoded.decode("ascii").strip()
    pem = pem.replace("\\r\\n", "\n").replace("\\n", "\n")
    if "\\" in pem:
        # PEM has no backslash: one left once \\n escapes became line breaks was escaped twice (\\\\n) on its way here.
        raise KeyMaterialError(
            "the private key from %s holds literal backslashes, as when its line breaks are escaped twice: give the key with real "
            "line breaks, or escaped once" % where,
            field="private_key",
        )
    lines = [line.strip() for line in pem.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    # Traditional encrypted PEM (Proc-Type/DEK-Info) needs its blank line after the headers.
    pem = "\n".join(line + "\n" if line.startswith("DEK-Info:") else line for line in lines if line)
    if not pem:
        raise KeyMaterialError("the private key from %s is empty" % where, field="private_key")
    begin = _PRIVATE_KEY_BEGIN.search(pem)
    if not begin:
        if "BEGIN CERTIFICATE" in pem:
            raise KeyMaterialError("the private key from %s is a certificate, not a private key" % where, field="private_key")
        if "BEGIN PUBLIC KEY" in pem or "BEGIN RSA PUBLIC KEY" in pem:
            raise KeyMaterialError("the private key from %s is a public key, not a private key" % where, field="private_key")
        raise KeyMaterialError("the private key from %s is not a PEM private key: no '-----BEGIN ... PRIVATE KEY-----' line" % where, field="private_key")
    if "OPENSSH" in begin.group(1):
        raise KeyMaterialError("the private key from %s is in OpenSSH format; IMS needs a PEM RSA key (PKCS#1 or PKCS#8)" % where, field="private_key")
    if ("-----END %s-----" % begin.group(1)) not in pem:
        raise KeyMaterialError("the private key from %s is truncated: its '-----END %s-----' line is missing" % (where, begin.group(1)), field="private_key")
    return pem + "\n"


def normalize_certificate(text: object, where: str) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise KeyMaterialError("publicKey in %s must be PEM text, got %s" % (where, describe_type(text, json=True)), field="publicKey")
    pem = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n").strip()
    if not pem:
        return None
    if "-----BEGIN CERTIFICATE-----" not in pem or "-----END CERTIFICATE-----" not in pem:
        raise KeyMaterialError("publicKey in %s is not a PEM certificate" % where, field="publicKey")
    return pem + "\n"


def _checked_expiration(value: str | None, where: str) -> str | None:
    """certificateExpirationDate is ISO-8601 with milliseconds; kept as it is, but refused early if unreadable."""
    if value is None:
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CredentialsError("certificateExpirationDate in %s is not an ISO-8601 date" % where, field="certificateExpirationDate") from None
    return value


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class TokenRequest:
    """Everything one token exchange needs, resolved from credentials and options. Its repr shows no secret."""

    auth_method: str
    origin: str
    client_id: str
    client_secrets: list[str] = field(repr=False)
    credentials_format: str
    source: str
    org_id: str | None = None
    technical_account_id: str | None = None
    email: str | None = None
    private_key: str | None = field(default=None, repr=False)
    private_key_source: str | None = None
    private_key_passphrase: str | None = field(default=None, repr=False)
    certificate: str | None = field(default=None, repr=False)
    certificate_expiration: str | None = None
    metascopes: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    # The JWT issuer and subject that options set over the credentials, in words, for IMS's binding errors.
    identity_sources: list[str] = field(default_factory=list)
    # Where else than its option private_key_passphrase is read from, in words (PluginInputs.alternatives).
    passphrase_alternatives: str = "AEM_IMS_PRIVATE_KEY_PASSPHRASE"
    # Told of each retry of the exchange (PluginInputs.progress); never given a secret.
    progress: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    def cache_key(self) -> str:
        """A hash of who is asking for what; no identifier or secret is readable from it."""
        who = [CACHE_KEY_VERSION, self.origin, self.auth_method, self.client_id, self.org_id, self.technical_account_id]
        secrets = [[_sha256(secret) for secret in self.client_secrets], _sha256(self.private_key) if self.private_key else None]
        material = [*who, sorted(self.metascopes), sorted(self.scopes), *secrets]
        return hashlib.sha256(json.dumps(material, separators=(",", ":")).encode("utf-8")).hexdigest()

    def secret_values(self) -> list[str]:
        return [*self.client_secrets, *(value for value in (self.private_key, self.private_key_passphrase) if value)]

    def api_headers(self, access_token: str) -> dict[str, str]:
        """The headers Adobe's APIs authenticate with: AEM needs only Authorization (and ignores the others), Adobe I/O
        gateway APIs also x-api-key (the client ID), the Cloud Manager API also x-gw-ims-org-id (when the org is known)."""
        headers = {"Authorization": "Bearer " + access_token, "x-api-key": self.client_id}
        if self.org_id:
            headers["x-gw-ims-org-id"] = self.org_id
        return headers

    def public_summary(self) -> dict[str, object]:
        """The non-secret facts about the request, returned to the user."""
        requested = "metascopes" if self.auth_method == METHOD_JWT else "scopes"
        return {
            "auth_method": self.auth_method,
            "client_id": self.client_id,
            "ims_endpoint": self.origin,
            "credentials_format": self.credentials_format,
            "email": self.email,
            requested: list(getattr(self, requested)),
        }


@dataclass
class _Merge:
    """Options over the document, and where each value was looked for, for messages."""

    settings: Settings
    extracted: Extracted | None
    source: str
    inputs: PluginInputs

    def where(self, name: str) -> str:
        """Where an option came from, or every place the plugin looked for it."""
        return self.settings.where(name) if name in self.settings.origins else self.inputs.sources(name)

    def given_by(self, name: str) -> str:
        """Where the value of an option that is set came from."""
        return self.settings.where(name) if name in self.settings.origins else "the %s option" % name

    def document_value(self, name: str):
        return self.extracted.values.get(name) if self.extracted else None

    def document_path(self, name: str) -> str:
        return "%s in the %s" % (self.extracted.paths[name], self.source) if self.extracted and name in self.extracted.paths else ""

    def pick(self, name: str):
        value = getattr(self.settings, name)
        return value if value not in (None, (), []) else self.document_value(name)

    def missing(self, what: str, option: str, document_name: str | None = None) -> CredentialsError:
        # Every extractor records the path of each field it looks for, found or not.
        places = [self.where(option), self.document_path(document_name or option)]
        return CredentialsError("%s is missing: looked in %s" % (what, " and ".join(place for place in places if place)), field=option)

    def private_key(self) -> tuple[str | None, str | None]:
        """The private key as PEM, and where it came from: the options first, then the document."""
        settings = self.settings
        _only_one(settings, "private_key", "private_key_file")
        if settings.private_key is not None:
            text, where = settings.private_key, settings.where("private_key")
        elif settings.private_key_file is not None:
            text, where = self.inputs.read(settings.private_key_file, "private_key_file"), "private_key_file %s" % settings.private_key_file
        elif self.document_value("private_key") is not None:
            text, where = self.document_value("private_key"), self.document_path("private_key")
        else:
            return None, None
        return normalize_private_key(text, where), where

    def origin(self) -> str:
        if self.settings.ims_endpoint is not None:
            return self.settings.ims_endpoint
        endpoint = self.document_value("ims_endpoint")
        if endpoint:
            return parse_ims_endpoint(endpoint, self.document_path("ims_endpoint"))
        return parse_ims_endpoint(DEFAULT_IMS_HOST)

    def check_endpoint_trust(self, origin: str, auth_method: str) -> None:
        """Refuse to send secrets from elsewhere to an endpoint a credentials document chose.

        A shared or tampered file could name a listener of its own (any local user can listen on a loopback port) and collect
        a client secret from vault or AWX. A document's endpoint is trusted with its own secrets, Adobe's IMS hosts with any.
        """
        if self.settings.ims_endpoint is not None or not self.document_value("ims_endpoint") or is_adobe_ims(origin):
            return
        settings = self.settings
        outside = []
        if settings.client_secret is not None:
            outside.append("the client_secret comes from %s" % settings.where("client_secret"))
        if auth_method == METHOD_JWT:
            for name in ("private_key", "private_key_file"):
                if getattr(settings, name) is not None:
                    outside.append("the private key comes from %s" % settings.where(name))
        if outside:
            raise CredentialsError(
                "%s names the IMS endpoint %s, which is not an Adobe IMS host (*.adobelogin.com), and %s, not from that document: "
                "refusing to use %s there. Set ims_endpoint explicitly to use that endpoint"
                % (self.document_path("ims_endpoint"), origin, " and ".join(outside), "them" if len(outside) > 1 else "it"),
                field="ims_endpoint",
            )


# The forms of Adobe's published credential examples (AdobeDocs/adobeio-auth JWT/JWT.md; the AEM service credentials of
# AdobeDocs/experience-manager-learn.en and adobe/aemcs-api-client-lib): the organization ID ends in @AdobeOrg, the technical account
# ID in @techacct.adobe.com, its local part 24 hex digits, the account's email a UUID there: by example only, so that is only warned about.
_ORG_SUFFIX = "@adobeorg"
_TECHNICAL_ACCOUNT_SUFFIX = "@techacct.adobe.com"
_UUID_LOCAL_PART = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@", re.IGNORECASE)


def _quoted(value: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", "?", value)
    return "'%s'" % (text if len(text) <= 60 else text[:57] + "...")


def _where_found(merge: _Merge, name: str) -> str:
    """Where a value in use came from: its option's source, else its place in the document."""
    if getattr(merge.settings, name) not in (None, (), []):
        return merge.given_by(name)
    return merge.document_path(name) or merge.where(name)


def _check_jwt_identity(request: TokenRequest, merge: _Merge) -> None:
    """Refuse, before any request, a JWT issuer or subject IMS could only answer with "Could not match JWT signature to any of the bindings"."""
    org_id, account = request.org_id or "", request.technical_account_id or ""
    if not org_id.lower().endswith(_ORG_SUFFIX) or org_id.lower() == _ORG_SUFFIX:
        raise CredentialsError(
            "org_id from %s must be an IMS organization ID of the form <ID>@AdobeOrg, got %s: copy it from the credentials "
            "(org in AEM service credentials, ims_org_id in the project JSON)" % (_where_found(merge, "org_id"), _quoted(org_id)),
            field="org_id",
        )
    if request.email and account.lower() == request.email.lower():
        raise CredentialsError(
            "technical_account_id from %s is the technical account's email (%s in the %s), not its ID: use the other "
            "...@techacct.adobe.com value of the credentials (id in AEM service credentials, technical_account_id in the project JSON)"
            % (_where_found(merge, "technical_account_id"), merge.document_path("email").split(" in the ")[0], request.source),
            field="technical_account_id",
        )
    if not account.lower().endswith(_TECHNICAL_ACCOUNT_SUFFIX) or account.lower() == _TECHNICAL_ACCOUNT_SUFFIX:
        raise CredentialsError(
            "technical_account_id from %s must be a technical account ID of the form <ID>@techacct.adobe.com, got %s: copy it from the "
            "credentials (id in AEM service credentials, technical_account_id in the project JSON)"
            % (_where_found(merge, "technical_account_id"), _quoted(account)),
            field="technical_account_id",
        )
    if _UUID_LOCAL_PART.match(account):
        merge.inputs.warn(
            "technical_account_id from %s looks like a technical account's email (a UUID at techacct.adobe.com); the technical "
            "account ID Adobe issues is usually 24 hexadecimal digits (id in AEM service credentials). If IMS answers "
            "'Could not match JWT signature to any of the bindings', check it" % _where_found(merge, "technical_account_id")
        )
    # Named by the hint of IMS's "Could not match JWT signature to any of the bindings".
    request.identity_sources = [
        "%s (from %s)" % (name, merge.given_by(name)) for name in ("org_id", "technical_account_id") if getattr(merge.settings, name) not in (None, "")
    ]


# What identifies a credential when no document is given: with none of these, nothing was given at all.
_CREDENTIAL_OPTIONS = ("client_id", "client_secret", "org_id", "technical_account_id", "private_key", "private_key_file")


def build_token_request(settings: Settings, credentials_file: str | None = None, inputs: PluginInputs = LOCAL_FILES) -> TokenRequest:
    """Resolve options and credentials into a TokenRequest, with one-line errors; inputs reads the files the options name."""
    no_document = credentials_file is None and settings.service_credentials is None and settings.service_credentials_file is None
    if no_document and all(getattr(settings, name) is None for name in _CREDENTIAL_OPTIONS):
        term, elsewhere = ("a term or ", "keywords, aem_ims_* variables") if inputs.lookup else ("", "task arguments")
        raise CredentialsError(
            "no credentials were given: set %sservice_credentials_file (a credentials file), service_credentials (inline JSON or a dict), or the "
            "single fields client_id and client_secret with scopes (OAuth Server-to-Server) or with org_id, technical_account_id and private_key_file "
            "(JWT), as %s or AEM_IMS_* environment variables. In AWX or Ansible Automation Platform, attach the collection's AEM IMS credential to "
            "the job template: it sets the AEM_IMS_* variables" % (term, elsewhere),
            field="service_credentials",
        )
    document = load_document(settings, credentials_file, inputs)
    extracted = extract(document, settings) if document is not None else None
    source = document.label if document is not None else FORMAT_OPTIONS
    merge = _Merge(settings, extracted, source, inputs)
    private_key, key_source = merge.private_key()
    # A JWT credential of a Developer Console project JSON: the key was downloaded (or generated) apart from it.
    console_jwt = extracted is not None and extracted.credentials_format == FORMAT_CONSOLE and "jwt" in extracted.blocks
    if console_jwt and not private_key and settings.auth_method != METHOD_S2S and "oauth_server_to_server" not in extracted.blocks:  # type: ignore[union-attr]
        raise CredentialsError(
            "the %s holds a JWT credential, and a Developer Console project JSON never carries the private key of a JWT credential: "
            "set private_key_file to the private.key file downloaded (or generated) with the credential, looked for in %s"
            % (source, merge.where("private_key_file")),
            field="private_key_file",
        )

    auth_method = settings.auth_method
    if auth_method == "auto":
        # AEM service credentials are always JWT; elsewhere a key is what makes JWT possible.
        is_aem = extracted is not None and extracted.credentials_format == FORMAT_AEM
        auth_method = METHOD_JWT if private_key or is_aem else METHOD_S2S

    client_id = merge.pick("client_id")
    if not client_id:
        raise merge.missing("client_id", "client_id")
    secrets = [settings.client_secret] if settings.client_secret else list(merge.document_value("client_secrets") or [])
    if not secrets:
        raise merge.missing("client_secret", "client_secret", "client_secrets")

    origin = merge.origin()
    merge.check_endpoint_trust(origin, auth_method)
    request = TokenRequest(
        progress=inputs.progress,
        passphrase_alternatives=inputs.alternatives("private_key_passphrase"),
        auth_method=auth_method,
        origin=origin,
        client_id=client_id,
        client_secrets=secrets,
        credentials_format=extracted.credentials_format if extracted else FORMAT_OPTIONS,
        source=source,
        org_id=merge.pick("org_id"),
        technical_account_id=merge.pick("technical_account_id"),
        email=merge.document_value("email"),
        private_key=private_key,
        private_key_source=key_source,
        private_key_passphrase=settings.private_key_passphrase or merge.document_value("private_key_passphrase"),
        metascopes=normalize_metascopes(settings.metascopes) or list(merge.document_value("metascopes") or []),
        scopes=list(settings.scopes) or list(merge.document_value("scopes") or []),
    )
    in_document = (" and the %s" % source) if source != FORMAT_OPTIONS else ""
    if auth_method != METHOD_JWT:
        if not request.scopes:
            raise CredentialsError(
                "scopes are missing for OAuth Server-to-Server: looked in %s%s. Copy them from the credential's page in the Adobe Developer Console"
                % (merge.where("scopes"), in_document),
                field="scopes",
            )
        return request
    if not private_key:
        raise CredentialsError(
            "auth_method is jwt but no private key was found: looked in %s, %s%s" % (merge.where("private_key"), merge.where("private_key_file"), in_document),
            field="private_key",
        )
    if not request.org_id:
        raise merge.missing("org_id (the JWT issuer, ...@AdobeOrg)", "org_id")
    if not request.technical_account_id:
        raise merge.missing("technical_account_id (the JWT subject, ...@techacct.adobe.com)", "technical_account_id")
    _check_jwt_identity(request, merge)
    if not request.metascopes:
        request.metascopes = [DEFAULT_METASCOPE]
    request.certificate = normalize_certificate(merge.document_value("certificate"), source)
    request.certificate_expiration = _checked_expiration(merge.document_value("certificate_expiration"), source)
    return request
