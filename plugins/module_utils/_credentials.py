# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""Reading credentials in every shape Adobe hands out, with the standard library only.

This runs on every lookup, cache hit or not, in a freshly forked Ansible worker: it
must not import requests, PyJWT or cryptography (each costs 0.1-0.25 s to import).
Checks that need a parsed key or certificate happen at exchange time (``_signing``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field

from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, KeyMaterialError, OptionError
from ansible_collections.aemops.ims.plugins.module_utils._options import (
    DEFAULT_IMS_HOST,
    DEFAULT_METASCOPE,
    parse_ims_endpoint,
)

FORMAT_AEM = "aem_service_credentials"
FORMAT_CONSOLE = "developer_console_project"
FORMAT_S2S_FLAT = "oauth_s2s_flat"
FORMAT_AIO = "aio_context"
FORMAT_OPTIONS = "options"

METHOD_JWT = "jwt"
METHOD_S2S = "oauth_server_to_server"

MAX_FILE_BYTES = 1024 * 1024
CACHE_KEY_VERSION = 1
STAGE_IMS_HOST = "ims-na1-stg1.adobelogin.com"

_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY)-----")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,40}$")


def _kind(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    return "a " + type(value).__name__


def read_text_file(path, what):
    """Read a small UTF-8 text file; every failure becomes one line naming the file."""
    label = "%s %s" % (what, path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CredentialsError("%s does not exist" % label, field=what) from None
    except PermissionError:
        raise CredentialsError("%s is not accessible: permission denied" % label, field=what) from None
    except OSError as error:
        raise CredentialsError("%s cannot be read: %s" % (label, error.strerror or error), field=what) from None
    if stat.S_ISDIR(info.st_mode):
        raise CredentialsError("%s is a directory, not a file" % label, field=what)
    if not stat.S_ISREG(info.st_mode):
        raise CredentialsError("%s is not a regular file" % label, field=what)
    if info.st_size > MAX_FILE_BYTES:
        raise CredentialsError(
            "%s is too large (%d bytes; credentials are a few KiB, the limit is %d bytes)" % (label, info.st_size, MAX_FILE_BYTES), field=what
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise CredentialsError("%s is not readable: permission denied" % label, field=what) from None
    except OSError as error:
        raise CredentialsError("%s cannot be read: %s" % (label, error.strerror or error), field=what) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CredentialsError("%s is not UTF-8 text" % label, field=what) from None


def parse_json_object(text, label, field_name):
    if not text.strip():
        raise CredentialsError("%s is empty" % label, field=field_name)
    try:
        document = json.loads(text)
    except RecursionError:
        raise CredentialsError("%s is not valid JSON: it is nested too deeply" % label, field=field_name) from None
    except ValueError as error:
        # JSONDecodeError's msg/lineno/colno never quote the document, which may hold secrets.
        where = ""
        if hasattr(error, "lineno"):
            where = " (line %d, column %d)" % (error.lineno, error.colno)
        reason = getattr(error, "msg", "invalid JSON")
        raise CredentialsError("%s is not valid JSON: %s%s" % (label, reason, where), field=field_name) from None
    if not isinstance(document, dict):
        raise CredentialsError("%s must hold a JSON object, got %s" % (label, _kind(document)), field=field_name)
    return document


def normalize_metascopes(values):
    """Accept `ent_aem_cloud_api`, `/s/ent_aem_cloud_api` or a full claim URL; de-duplicate."""
    names = []
    for value in values or ():
        name = str(value).strip()
        match = re.match(r"^(?:[a-z]+://[^/]+)?/?s/(.+)$", name)
        if match:
            name = match.group(1)
        name = name.strip("/ ")
        if name and name not in names:
            names.append(name)
    return names


def split_list(value):
    """A comma-separated string or a list of strings, as Adobe's formats mix both."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    result = []
    for item in items:
        item = str(item).strip()
        if item and item not in result:
            result.append(item)
    return result


def normalize_private_key(text, where):
    """Return the key as PEM text with \\n line endings, from the forms found in the wild.

    AEM ships PKCS#1 with \\r\\n inside JSON; people paste keys into environment
    variables with literal backslash-n, or base64-encode the whole PEM to survive CI
    systems (adobe/jwt-auth#61). Only the armour is checked here; parsing waits for
    the exchange so that a cache hit does not import cryptography.
    """
    if isinstance(text, list) and all(isinstance(line, str) for line in text):
        text = "\n".join(text)
    if not isinstance(text, str):
        raise KeyMaterialError("the private key from %s must be PEM text, got %s" % (where, _kind(text)), field="private_key")
    pem = text.strip()
    if "-----BEGIN" not in pem and pem:
        compact = re.sub(r"\s+", "", pem)
        try:
            decoded = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if b"-----BEGIN" in decoded and decoded.isascii():
            pem = decoded.decode("ascii").strip()
    if "\\n" in pem:
        pem = pem.replace("\\r\\n", "\n").replace("\\n", "\n")
    pem = pem.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for line in pem.split("\n"):
        line = line.strip()
        if line:
            lines.append(line)
        # Traditional encrypted PEM (Proc-Type/DEK-Info) needs its blank line after the headers.
        if line.startswith("DEK-Info:"):
            lines.append("")
    pem = "\n".join(lines)
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


def normalize_certificate(text, where):
    if text is None:
        return None
    if not isinstance(text, str):
        raise KeyMaterialError("publicKey in %s must be PEM text, got %s" % (where, _kind(text)), field="publicKey")
    pem = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n").strip()
    if not pem:
        return None
    if "-----BEGIN CERTIFICATE-----" not in pem or "-----END CERTIFICATE-----" not in pem:
        raise KeyMaterialError("publicKey in %s is not a PEM certificate" % where, field="publicKey")
    return pem + "\n"


def _fingerprint(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class TokenRequest:
    """Everything one token exchange needs, resolved from credentials and options."""

    auth_method: str
    origin: str
    client_id: str
    client_secrets: list
    credentials_format: str
    source: str
    org_id: str | None = None
    technical_account_id: str | None = None
    email: str | None = None
    private_key: str | None = None
    private_key_source: str | None = None
    private_key_passphrase: str | None = None
    certificate: str | None = None
    certificate_expiration: str | None = None
    metascopes: list = field(default_factory=list)
    scopes: list = field(default_factory=list)

    def cache_key(self):
        """A hash of who is asking for what; no identifier or secret is readable from it."""
        material = [
            CACHE_KEY_VERSION,
            self.origin,
            self.auth_method,
            self.client_id,
            self.org_id,
            self.technical_account_id,
            sorted(self.metascopes),
            sorted(self.scopes),
            [_fingerprint(secret) for secret in self.client_secrets],
            _fingerprint(self.private_key) if self.private_key else None,
        ]
        return hashlib.sha256(json.dumps(material, separators=(",", ":")).encode("utf-8")).hexdigest()

    def secret_values(self):
        values = list(self.client_secrets)
        if self.private_key:
            values.append(self.private_key)
        if self.private_key_passphrase:
            values.append(self.private_key_passphrase)
        return values

    def public_summary(self):
        """The non-secret facts about the request, returned to the user and cached."""
        summary = {
            "auth_method": self.auth_method,
            "client_id": self.client_id,
            "ims_endpoint": self.origin,
            "credentials_format": self.credentials_format,
            "email": self.email,
        }
        if self.auth_method == METHOD_JWT:
            summary["metascopes"] = list(self.metascopes)
        else:
            summary["scopes"] = list(self.scopes)
        return summary


class _Document:
    """A credentials document plus typed, field-naming accessors."""

    def __init__(self, data, label):
        self.data = data
        self.label = label

    def get(self, path, expected=str, required=False):
        node = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise CredentialsError("%s is missing from %s" % (path, self.label), field=path)
                return None
            node = node[part]
        if node is None or (isinstance(node, str) and not node.strip() and expected is str):
            return None
        if expected is str and not isinstance(node, str):
            raise CredentialsError("%s in %s must be a string, got %s" % (path, self.label, _kind(node)), field=path)
        if expected is list and not isinstance(node, (list, str)):
            raise CredentialsError("%s in %s must be a list or a comma-separated string, got %s" % (path, self.label, _kind(node)), field=path)
        if expected is list and isinstance(node, list) and not all(isinstance(item, str) for item in node):
            raise CredentialsError("%s in %s must hold strings only" % (path, self.label), field=path)
        if expected is dict and not isinstance(node, dict):
            raise CredentialsError("%s in %s must be an object, got %s" % (path, self.label, _kind(node)), field=path)
        return node.strip() if isinstance(node, str) and expected is str else node


@dataclass
class _Extracted:
    """What one credentials document says; `paths` says where, for error messages."""

    credentials_format: str
    values: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)

    def put(self, name, value, path):
        if value is not None and value != []:
            self.values[name] = value
        self.paths.setdefault(name, path)


def detect_format(data):
    """Name the shape of a credentials document, or None."""
    if "accessToken" in data and "integration" not in data:
        return "local_development_token"
    if isinstance(data.get("integration"), dict) or "technicalAccount" in data:
        return FORMAT_AEM
    if isinstance(data.get("project"), dict):
        return FORMAT_CONSOLE
    if "CLIENT_ID" in data or "CLIENT_SECRETS" in data:
        return FORMAT_S2S_FLAT
    if "client_id" in data and any(
        key in data for key in ("client_secret", "client_secrets", "meta_scopes", "technical_account_id", "ims_org_id", "private_key", "scopes")
    ):
        return FORMAT_AIO
    return None


def _extract_aem(document):
    extracted = _Extracted(FORMAT_AEM)
    prefix = "integration." if "integration" in document.data else ""
    if document.data.get("ok") is False or document.data.get("statusCode") not in (None, 200):
        raise CredentialsError(
            "%s is an error answer from the AEM Developer Console (ok=%s, statusCode=%s), not service credentials: download them again"
            % (document.label, json.dumps(document.data.get("ok")), json.dumps(document.data.get("statusCode"))[:10]),
            field="service_credentials",
        )
    if prefix:
        document.get("integration", dict, required=True)
    document.get(prefix + "technicalAccount", dict)
    path = prefix + "technicalAccount.clientId"
    extracted.put("client_id", document.get(path), path)
    path = prefix + "technicalAccount.clientSecret"
    secret = document.get(path)
    extracted.put("client_secrets", [secret] if secret else [], path)
    for name, key in (("org_id", "org"), ("technical_account_id", "id"), ("email", "email"), ("ims_endpoint", "imsEndpoint")):
        extracted.put(name, document.get(prefix + key), prefix + key)
    extracted.put("metascopes", normalize_metascopes(split_list(document.get(prefix + "metascopes", list))), prefix + "metascopes")
    extracted.put("private_key", document.get(prefix + "privateKey", str), prefix + "privateKey")
    extracted.put("certificate", document.get(prefix + "publicKey"), prefix + "publicKey")
    extracted.put("certificate_expiration", document.get(prefix + "certificateExpirationDate"), prefix + "certificateExpirationDate")
    return extracted


def _credential_label(credential):
    name = credential.get("name") if isinstance(credential, dict) else None
    return str(name)[:60] if isinstance(name, str) else "(unnamed)"


def _extract_console(document, settings):
    extracted = _Extracted(FORMAT_CONSOLE)
    extracted.put("org_id", document.get("project.org.ims_org_id"), "project.org.ims_org_id")
    credentials = document.get("project.workspace.details.credentials", object, required=True)
    if not isinstance(credentials, list) or not all(isinstance(item, dict) for item in credentials):
        raise CredentialsError("project.workspace.details.credentials in %s must be a list of objects" % document.label, field="credentials")
    usable = [item for item in credentials if isinstance(item.get("jwt"), dict) or isinstance(item.get("oauth_server_to_server"), dict)]
    if settings.credential_id or settings.credential_name:
        wanted_field = "credential_id" if settings.credential_id else "credential_name"
        wanted = settings.credential_id or settings.credential_name
        key = "id" if settings.credential_id else "name"
        chosen = [item for item in credentials if str(item.get(key)) == wanted]
        if not chosen:
            raise CredentialsError(
                "%s '%s' matches no credential in %s (credentials: %s)"
                % (wanted_field, wanted[:60], document.label, ", ".join(_credential_label(item) for item in credentials) or "none"),
                field=wanted_field,
            )
        credential = chosen[0]
        if credential not in usable:
            raise CredentialsError(
                "credential '%s' in %s is neither a JWT nor an OAuth Server-to-Server credential (integration_type %s)"
                % (_credential_label(credential), document.label, str(credential.get("integration_type"))[:40]),
                field=wanted_field,
            )
    else:
        if settings.auth_method == METHOD_JWT:
            usable = [item for item in usable if isinstance(item.get("jwt"), dict)]
        elif settings.auth_method == METHOD_S2S:
            usable = [item for item in usable if isinstance(item.get("oauth_server_to_server"), dict)]
        if not usable:
            raise CredentialsError(
                "%s holds no %s credential (credentials: %s)"
                % (
                    document.label,
                    "JWT or OAuth Server-to-Server" if settings.auth_method == "auto" else settings.auth_method,
                    ", ".join(_credential_label(item) for item in credentials) or "none",
                ),
                field="credentials",
            )
        if len(usable) > 1:
            raise CredentialsError(
                "%s holds several credentials (%s): choose one with credential_name or credential_id"
                % (document.label, ", ".join(_credential_label(item) for item in usable)),
                field="credential_name",
            )
        credential = usable[0]
    index = credentials.index(credential)
    base = "project.workspace.details.credentials[%d]" % index
    sub = _Document(credential, document.label)
    secrets = []
    for block in ("jwt", "oauth_server_to_server"):
        if not isinstance(credential.get(block), dict):
            continue
        extracted.put("client_id", sub.get(block + ".client_id"), "%s.%s.client_id" % (base, block))
        extracted.put("technical_account_id", sub.get(block + ".technical_account_id"), "%s.%s.technical_account_id" % (base, block))
        extracted.put("email", sub.get(block + ".technical_account_email"), "%s.%s.technical_account_email" % (base, block))
        single = sub.get(block + ".client_secret")
        several = split_list(sub.get(block + ".client_secrets", list))
        for secret in ([single] if single else []) + several:
            if secret not in secrets:
                secrets.append(secret)
        extracted.paths.setdefault("client_secrets", "%s.%s.client_secret%s" % (base, block, "" if block == "jwt" else "s"))
    extracted.put("client_secrets", secrets, extracted.paths.get("client_secrets"))
    extracted.put("metascopes", normalize_metascopes(split_list(sub.get("jwt.meta_scopes", list))), base + ".jwt.meta_scopes")
    extracted.put("scopes", split_list(sub.get("oauth_server_to_server.scopes", list)), base + ".oauth_server_to_server.scopes")
    return extracted


def _extract_flat(document):
    extracted = _Extracted(FORMAT_S2S_FLAT)
    extracted.put("client_id", document.get("CLIENT_ID"), "CLIENT_ID")
    secrets = split_list(document.get("CLIENT_SECRETS", list))
    single = document.get("CLIENT_SECRET")
    if single and single not in secrets:
        secrets.insert(0, single)
    extracted.put("client_secrets", secrets, "CLIENT_SECRETS")
    extracted.put("org_id", document.get("ORG_ID"), "ORG_ID")
    extracted.put("technical_account_id", document.get("TECHNICAL_ACCOUNT_ID"), "TECHNICAL_ACCOUNT_ID")
    extracted.put("email", document.get("TECHNICAL_ACCOUNT_EMAIL"), "TECHNICAL_ACCOUNT_EMAIL")
    extracted.put("scopes", split_list(document.get("SCOPES", list)), "SCOPES")
    return extracted


def _extract_aio(document):
    extracted = _Extracted(FORMAT_AIO)
    extracted.put("client_id", document.get("client_id"), "client_id")
    secrets = []
    single = document.get("client_secret")
    for secret in ([single] if single else []) + split_list(document.get("client_secrets", list)):
        if secret not in secrets:
            secrets.append(secret)
    extracted.put("client_secrets", secrets, "client_secret" if single else "client_secrets")
    extracted.put("org_id", document.get("ims_org_id"), "ims_org_id")
    extracted.put("technical_account_id", document.get("technical_account_id"), "technical_account_id")
    extracted.put("email", document.get("technical_account_email"), "technical_account_email")
    extracted.put("metascopes", normalize_metascopes(split_list(document.get("meta_scopes", list))), "meta_scopes")
    extracted.put("scopes", split_list(document.get("scopes", list)), "scopes")
    key = document.data.get("private_key")
    extracted.put("private_key", key if key not in ("", None) else None, "private_key")
    extracted.put("private_key_passphrase", document.get("passphrase"), "passphrase")
    environment = document.get("env")
    if environment == "stage":
        extracted.put("ims_endpoint", STAGE_IMS_HOST, "env")
    return extracted


def _load_document(settings, credentials_file):
    """The credentials document to read, or None when only single options are given."""
    if credentials_file is not None:
        path = os.path.expanduser(str(credentials_file))
        label = "service credentials file %s" % path
        return _Document(parse_json_object(read_text_file(path, "service credentials file"), label, "service_credentials_file"), label)
    inline = settings.service_credentials
    if inline is not None and settings.service_credentials_file is not None:
        raise OptionError(
            "service_credentials (from %s) and service_credentials_file (from %s) are both set: set only one"
            % (settings.where("service_credentials"), settings.where("service_credentials_file")),
            field="service_credentials",
        )
    if inline is not None:
        label = "service_credentials"
        if isinstance(inline, str):
            stripped = inline.strip()
            if stripped and stripped[0] not in "{[" and (stripped.startswith(("/", "~", ".")) or stripped.endswith(".json")):
                raise OptionError("service_credentials holds a file name, not JSON: use service_credentials_file for a path", field="service_credentials")
            return _Document(parse_json_object(inline, label, "service_credentials"), label)
        return _Document(inline, label)
    if settings.service_credentials_file is not None:
        path = settings.service_credentials_file
        label = "service credentials file %s" % path
        return _Document(parse_json_object(read_text_file(path, "service credentials file"), label, "service_credentials_file"), label)
    return None


def _extract(document, settings):
    shape = detect_format(document.data)
    if shape == "local_development_token":
        raise CredentialsError(
            "%s is an AEM local development token (accessToken): a developer's personal token that expires after 24 hours, "
            "not service credentials. In the AEM Developer Console open Integrations > Technical Accounts (service credentials) "
            "and download the JSON from there instead" % document.label,
            field="service_credentials",
        )
    if shape == FORMAT_AEM:
        return _extract_aem(document)
    if shape == FORMAT_CONSOLE:
        return _extract_console(document, settings)
    if shape == FORMAT_S2S_FLAT:
        return _extract_flat(document)
    if shape == FORMAT_AIO:
        return _extract_aio(document)
    keys = [key for key in document.data if isinstance(key, str) and _IDENTIFIER.match(key)][:8]
    raise CredentialsError(
        "%s has an unknown shape (top-level keys: %s): expected AEM service credentials (an 'integration' object), an Adobe "
        "Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context" % (document.label, ", ".join(keys) or "none"),
        field="service_credentials",
    )


def _parse_expiration(value, where):
    """certificateExpirationDate is ISO-8601 with milliseconds; keep it, but fail early if unreadable."""
    if value is None:
        return None
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CredentialsError("certificateExpirationDate in %s is not an ISO-8601 date" % where, field="certificateExpirationDate") from None
    return value


class _Resolver:
    """Merge options over the document and say where each value was looked for."""

    def __init__(self, settings, extracted, source):
        self.settings = settings
        self.extracted = extracted
        self.source = source

    def where(self, option, document_name=None):
        places = []
        if option:
            places.append(self.settings.where(option))
        path = self.extracted.paths.get(document_name or option) if self.extracted else None
        if path:
            places.append("%s in the %s" % (path, self.source))
        elif self.source != "options":
            places.append("the %s" % self.source)
        return " and ".join(places)

    def document_value(self, name):
        return self.extracted.values.get(name) if self.extracted else None

    def pick(self, name):
        value = getattr(self.settings, name)
        return value if value not in (None, (), []) else self.document_value(name)

    def missing(self, what, option, document_name=None):
        return CredentialsError("%s is missing: looked in %s" % (what, self.where(option, document_name)), field=option or document_name)


def build_token_request(settings, credentials_file=None):
    """Resolve options and credentials into a TokenRequest, with one-line errors."""
    document = _load_document(settings, credentials_file)
    extracted = _extract(document, settings) if document is not None else None
    source = document.label if document is not None else "options"
    resolver = _Resolver(settings, extracted, source)

    private_key, key_source = None, None
    if settings.private_key is not None and settings.private_key_file is not None:
        raise OptionError(
            "private_key (from %s) and private_key_file (from %s) are both set: set only one"
            % (settings.where("private_key"), settings.where("private_key_file")),
            field="private_key",
        )
    if settings.private_key is not None:
        key_source = settings.where("private_key")
        private_key = normalize_private_key(settings.private_key, key_source)
    elif settings.private_key_file is not None:
        key_source = "private_key_file %s" % settings.private_key_file
        private_key = normalize_private_key(read_text_file(settings.private_key_file, "private_key_file"), key_source)
    elif resolver.document_value("private_key") is not None:
        key_source = "%s in the %s" % (extracted.paths["private_key"], source)
        private_key = normalize_private_key(resolver.document_value("private_key"), key_source)

    auth_method = settings.auth_method
    if auth_method == "auto":
        # AEM service credentials are always JWT; elsewhere a key is what makes JWT possible.
        is_aem = extracted is not None and extracted.credentials_format == FORMAT_AEM
        auth_method = METHOD_JWT if private_key or is_aem else METHOD_S2S

    client_id = resolver.pick("client_id")
    if not client_id:
        raise resolver.missing("client_id", "client_id")
    secrets = [settings.client_secret] if settings.client_secret else list(resolver.document_value("client_secrets") or [])
    if not secrets:
        raise resolver.missing("client_secret", "client_secret", "client_secrets")

    endpoint = settings.ims_endpoint
    if endpoint is None:
        document_endpoint = resolver.document_value("ims_endpoint")
        where = "%s in the %s" % (extracted.paths.get("ims_endpoint"), source) if document_endpoint else None
        endpoint = parse_ims_endpoint(document_endpoint, where) if document_endpoint else parse_ims_endpoint(DEFAULT_IMS_HOST)

    request = TokenRequest(
        auth_method=auth_method,
        origin=endpoint,
        client_id=client_id,
        client_secrets=secrets,
        credentials_format=extracted.credentials_format if extracted else FORMAT_OPTIONS,
        source=source,
        org_id=resolver.pick("org_id"),
        technical_account_id=resolver.pick("technical_account_id"),
        email=resolver.document_value("email"),
        private_key=private_key,
        private_key_source=key_source,
        private_key_passphrase=settings.private_key_passphrase or resolver.document_value("private_key_passphrase"),
        metascopes=normalize_metascopes(settings.metascopes) or list(resolver.document_value("metascopes") or []),
        scopes=list(settings.scopes) or list(resolver.document_value("scopes") or []),
    )

    if auth_method == METHOD_JWT:
        if not private_key:
            raise CredentialsError(
                "auth_method is jwt but no private key was found: looked in %s, %s%s"
                % (
                    settings.where("private_key"),
                    settings.where("private_key_file"),
                    (" and the %s" % source) if source != "options" else "",
                ),
                field="private_key",
            )
        if not request.org_id:
            raise resolver.missing("org_id (the JWT issuer, ...@AdobeOrg)", "org_id")
        if not request.technical_account_id:
            raise resolver.missing("technical_account_id (the JWT subject, ...@techacct.adobe.com)", "technical_account_id")
        if not request.metascopes:
            request.metascopes = [DEFAULT_METASCOPE]
        certificate = resolver.document_value("certificate")
        if certificate is not None:
            request.certificate = normalize_certificate(certificate, source)
        request.certificate_expiration = _parse_expiration(resolver.document_value("certificate_expiration"), source)
    elif not request.scopes:
        raise CredentialsError(
            "scopes are missing for OAuth Server-to-Server: looked in %s%s. Copy them from the credential's page in the Adobe Developer Console"
            % (settings.where("scopes"), (" and the %s" % source) if source != "options" else ""),
            field="scopes",
        )
    return request
