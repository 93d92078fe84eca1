# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shapes of credentials documents Adobe hands out, one extractor each, into an Extracted: values under option names, and where each is.

The shapes are described by Adobe's "Generating Access Tokens for Server-Side APIs" (AEM service credentials),
adobe/aio-cli-plugin-app: schema/config.schema.json (project JSON), adobe/asset-compute-client:
test/resources/oauthServerToServer.json (flat OAuth Server-to-Server) and adobe/aio-lib-ims: README.md (aio-lib-ims contexts).

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import json
import re

from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, describe_type
from ansible_collections.aemops.ims.plugins.module_utils._settings import split_list

FORMAT_AEM = "aem_service_credentials"
FORMAT_CONSOLE = "developer_console_project"
FORMAT_S2S_FLAT = "oauth_s2s_flat"
FORMAT_AIO = "aio_context"
LOCAL_DEVELOPMENT_TOKEN = "local_development_token"

METHOD_JWT = "jwt"
METHOD_S2S = "oauth_server_to_server"
STAGE_IMS_HOST = "ims-na1-stg1.adobelogin.com"

# What CredentialDocument.get accepts for each expected type, and how a message names it.
_EXPECTED: dict[type, tuple[type | tuple[type, ...], str]] = {
    str: (str, "a string"),
    list: ((list, str), "a list or a comma-separated string"),
    dict: (dict, "an object"),
}


class CredentialDocument:
    """A parsed credentials document and its label ("service credentials file /etc/aem/x.json"), with typed accessors."""

    def __init__(self, data: dict, label: str):
        self.data = data
        self.label = label

    def get(self, path: str, expected: type = str, required: bool = False):
        """The value at a dotted path, checked against the expected type; None when absent or blank."""
        node: object = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise CredentialsError("%s is missing from %s" % (path, self.label), field=path)
                return None
            node = node[part]
        if node is None or (expected is str and isinstance(node, str) and not node.strip()):
            return None
        accepted, described = _EXPECTED.get(expected, (object, ""))
        if not isinstance(node, accepted):
            raise CredentialsError("%s in %s must be %s, got %s" % (path, self.label, described, describe_type(node, json=True)), field=path)
        if expected is list and isinstance(node, list) and not all(isinstance(item, str) for item in node):
            raise CredentialsError("%s in %s must hold strings only" % (path, self.label), field=path)
        return node.strip() if isinstance(node, str) and expected is str else node


class Extracted:
    """What one credentials document says, under option names; `paths` says where, for messages."""

    def __init__(self, credentials_format: str):
        self.credentials_format = credentials_format
        self.values: dict[str, object] = {}
        self.paths: dict[str, str] = {}
        # The kinds of credential the document's chosen credential carries (a project JSON: jwt, oauth_server_to_server).
        self.blocks: list[str] = []

    def __repr__(self):
        # The values hold the client secrets and the private key.
        return "Extracted(%s, fields=%s)" % (self.credentials_format, sorted(self.values))

    def put(self, name: str, value: object, path: str) -> None:
        if value is not None and value != []:
            self.values[name] = value
        self.paths.setdefault(name, path)


def normalize_metascopes(values) -> list[str]:
    """Accept `ent_aem_cloud_api`, `/s/ent_aem_cloud_api` or a full claim URL; de-duplicate."""
    names = []
    for value in values or ():
        name = str(value).strip()
        match = re.match(r"^(?:[a-z]+://[^/]+)?/?s/(.+)$", name)
        names.append((match.group(1) if match else name).strip("/ "))
    return list(dict.fromkeys(name for name in names if name))


def detect_format(data: dict) -> str | None:
    if "accessToken" in data and "integration" not in data:
        return LOCAL_DEVELOPMENT_TOKEN
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


def _secrets(single, several) -> list[str]:
    """A credential's client secrets, the single one first, each once."""
    return list(dict.fromkeys(([single] if single else []) + split_list(several, split_items=False)))


def _put_fields(extracted: Extracted, document: CredentialDocument, prefix: str, **fields: str) -> None:
    """Put the value of each option's field (prefix + key) of the document; scopes and metascopes are lists."""
    for name, key in fields.items():
        if name in ("scopes", "metascopes"):
            items = split_list(document.get(prefix + key, list))
            extracted.put(name, normalize_metascopes(items) if name == "metascopes" else items, prefix + key)
        else:
            extracted.put(name, document.get(prefix + key), prefix + key)


def extract_aem_service_credentials(document: CredentialDocument, settings=None) -> Extracted:
    """AEM as a Cloud Service service credentials (AEM Developer Console): {"ok": true, "integration": {"imsEndpoint", "metascopes"
    (a comma-separated string), "technicalAccount": {"clientId", "clientSecret"}, "email", "id", "org", "privateKey", "publicKey",
    "certificateExpirationDate"}, "statusCode": 200}; older downloads have the integration's fields at the top level."""
    extracted = Extracted(FORMAT_AEM)
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
    extracted.put("client_id", document.get(prefix + "technicalAccount.clientId"), prefix + "technicalAccount.clientId")
    extracted.put("client_secrets", _secrets(document.get(prefix + "technicalAccount.clientSecret"), None), prefix + "technicalAccount.clientSecret")
    _put_fields(extracted, document, prefix, org_id="org", technical_account_id="id", email="email", ims_endpoint="imsEndpoint", metascopes="metascopes")
    _put_fields(extracted, document, prefix, private_key="privateKey", certificate="publicKey", certificate_expiration="certificateExpirationDate")
    return extracted


def _credential_label(credential) -> str:
    name = credential.get("name") if isinstance(credential, dict) else None
    return str(name)[:60] if isinstance(name, str) else "(unnamed)"


def _choose_console_credential(document: CredentialDocument, credentials: list, settings) -> dict:
    """The credential the options name, else the only usable one."""
    usable = [item for item in credentials if isinstance(item.get("jwt"), dict) or isinstance(item.get("oauth_server_to_server"), dict)]
    listed = ", ".join(_credential_label(item) for item in credentials) or "none"
    if settings.credential_id or settings.credential_name:
        key = "id" if settings.credential_id else "name"
        wanted_field = "credential_" + key
        wanted = getattr(settings, wanted_field)
        chosen = [item for item in credentials if str(item.get(key)) == wanted]
        if not chosen:
            raise CredentialsError(
                "%s '%s' matches no credential in %s (credentials: %s)" % (wanted_field, wanted[:60], document.label, listed), field=wanted_field
            )
        if chosen[0] not in usable:
            raise CredentialsError(
                "credential '%s' in %s is neither a JWT nor an OAuth Server-to-Server credential (integration_type %s)"
                % (_credential_label(chosen[0]), document.label, str(chosen[0].get("integration_type"))[:40]),
                field=wanted_field,
            )
        return chosen[0]
    if settings.auth_method != "auto":
        # The methods are named as the credential's blocks are.
        usable = [item for item in usable if isinstance(item.get(settings.auth_method), dict)]
    if not usable:
        kind = "JWT or OAuth Server-to-Server" if settings.auth_method == "auto" else settings.auth_method
        raise CredentialsError("%s holds no %s credential (credentials: %s)" % (document.label, kind, listed), field="credentials")
    if len(usable) > 1:
        raise CredentialsError(
            "%s holds several credentials (%s): choose one with credential_name or credential_id"
            % (document.label, ", ".join(_credential_label(item) for item in usable)),
            field="credential_name",
        )
    return usable[0]


def extract_developer_console_project(document: CredentialDocument, settings) -> Extracted:
    """An Adobe Developer Console project (workspace) JSON: {"project": {"org": {"ims_org_id"}, "workspace": {"details": {"credentials":
    [{"id", "name", "integration_type", "jwt": {...} and/or "oauth_server_to_server": {...}}]}}}}, without a JWT credential's private key."""
    extracted = Extracted(FORMAT_CONSOLE)
    extracted.put("org_id", document.get("project.org.ims_org_id"), "project.org.ims_org_id")
    credentials = document.get("project.workspace.details.credentials", object, required=True)
    if not isinstance(credentials, list) or not all(isinstance(item, dict) for item in credentials):
        raise CredentialsError("project.workspace.details.credentials in %s must be a list of objects" % document.label, field="credentials")
    credential = _choose_console_credential(document, credentials, settings)
    base = "project.workspace.details.credentials[%d]" % credentials.index(credential)
    sub = CredentialDocument(credential, document.label)
    secrets: list[str] = []
    # During a migration a credential carries both blocks; the JWT one comes first.
    for block in (METHOD_JWT, METHOD_S2S):
        if not isinstance(credential.get(block), dict):
            continue
        extracted.blocks.append(block)
        for name, key in (("client_id", "client_id"), ("technical_account_id", "technical_account_id"), ("email", "technical_account_email")):
            extracted.put(name, sub.get("%s.%s" % (block, key)), "%s.%s.%s" % (base, block, key))
        secrets += _secrets(sub.get(block + ".client_secret"), sub.get(block + ".client_secrets", list))
        extracted.paths.setdefault("client_secrets", "%s.%s.client_secret%s" % (base, block, "" if block == METHOD_JWT else "s"))
    extracted.put("client_secrets", list(dict.fromkeys(secrets)), extracted.paths["client_secrets"])
    extracted.put("metascopes", normalize_metascopes(split_list(sub.get("jwt.meta_scopes", list))), base + ".jwt.meta_scopes")
    extracted.put("scopes", split_list(sub.get("oauth_server_to_server.scopes", list)), base + ".oauth_server_to_server.scopes")
    return extracted


def extract_oauth_s2s_flat(document: CredentialDocument, settings=None) -> Extracted:
    """Flat OAuth Server-to-Server: {"ORG_ID", "CLIENT_ID", "CLIENT_SECRETS": [...], "TECHNICAL_ACCOUNT_ID", "TECHNICAL_ACCOUNT_EMAIL", "SCOPES": [...]}."""
    extracted = Extracted(FORMAT_S2S_FLAT)
    extracted.put("client_id", document.get("CLIENT_ID"), "CLIENT_ID")
    # Unlike the other shapes, the list's order wins: a CLIENT_SECRET that is also listed is not moved first.
    secrets = split_list(document.get("CLIENT_SECRETS", list), split_items=False)
    single = document.get("CLIENT_SECRET")
    extracted.put("client_secrets", secrets if single in secrets or not single else [single, *secrets], "CLIENT_SECRETS")
    _put_fields(extracted, document, "", org_id="ORG_ID", technical_account_id="TECHNICAL_ACCOUNT_ID", email="TECHNICAL_ACCOUNT_EMAIL", scopes="SCOPES")
    return extracted


def extract_aio_context(document: CredentialDocument, settings=None) -> Extracted:
    """An aio-lib-ims context. JWT: {"client_id", "client_secret", "technical_account_id", "meta_scopes", "ims_org_id", "private_key",
    "passphrase", "env"}; OAuth Server-to-Server: {"client_id", "client_secrets", "technical_account_email", "technical_account_id",
    "scopes", "ims_org_id"}. "env": "stage" means the stage IMS."""
    extracted = Extracted(FORMAT_AIO)
    extracted.put("client_id", document.get("client_id"), "client_id")
    single = document.get("client_secret")
    extracted.put("client_secrets", _secrets(single, document.get("client_secrets", list)), "client_secret" if single else "client_secrets")
    _put_fields(extracted, document, "", org_id="ims_org_id", technical_account_id="technical_account_id", email="technical_account_email")
    _put_fields(extracted, document, "", metascopes="meta_scopes", scopes="scopes", private_key_passphrase="passphrase")
    # A list of PEM lines is accepted too (aio-lib-ims does): normalize_private_key checks the type.
    key = document.data.get("private_key")
    extracted.put("private_key", key if key not in ("", None) else None, "private_key")
    if document.get("env") == "stage":
        extracted.put("ims_endpoint", STAGE_IMS_HOST, "env")
    return extracted


EXTRACTORS = {
    FORMAT_AEM: extract_aem_service_credentials,
    FORMAT_CONSOLE: extract_developer_console_project,
    FORMAT_S2S_FLAT: extract_oauth_s2s_flat,
    FORMAT_AIO: extract_aio_context,
}
