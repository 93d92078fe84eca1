# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures of the plugin unit tests.

Key material is generated at test time (no key or secret is ever committed): RSA keys as
PKCS#1 and PKCS#8, encrypted and not, with self-signed certificates. Credentials are built
in every shape Adobe hands out. ``fake_ims`` replaces the HTTP layer of ``ImsHttpClient``
with a queue of canned answers.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import os

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.aemops.ims.plugins.module_utils import _ims_client
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError
from ansible_collections.aemops.ims.plugins.module_utils._options import OPTIONS
from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options

# Identifiers in the shapes Adobe uses; none of them is a real account.
ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"
TECHNICAL_ACCOUNT_ID = "89ABCDEF0123456789ABCDEF@techacct.adobe.com"
TECHNICAL_ACCOUNT_EMAIL = "12345678-abcd-4ef0-9876-0123456789ab@techacct.adobe.com"
CLIENT_ID = "cm-p12345-e67890-integration"
S2S_CLIENT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
# Fake secrets, long enough that a leak is unambiguous and distinct from every other string.
CLIENT_SECRET = "p8e-UnitTestSecretAlphaQ7w9Zr2Lk5Nx"
CLIENT_SECRET_2 = "p8e-UnitTestSecretBravoM3v8Tt6Hd1Fy"
PASSPHRASE = "unit-test passphrase Kx81!"
PROD_HOST = "ims-na1.adobelogin.com"
STAGE_HOST = "ims-na1-stg1.adobelogin.com"
S2S_SCOPES = ["openid", "AdobeID", "read_organizations"]


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def make_certificate(key, not_before=None, not_after=None, common_name="aemops-ims-unit-test"):
    """A self-signed certificate for key, as PEM text."""
    not_before = not_before or _utcnow() - datetime.timedelta(days=1)
    not_after = not_after or _utcnow() + datetime.timedelta(days=365)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def iso_z(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class KeyMaterial:
    """One RSA key in every PEM form, and a self-signed certificate valid for a year."""

    def __init__(self, passphrase=PASSPHRASE):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.passphrase = passphrase
        self.pkcs1 = self._pem(serialization.PrivateFormat.TraditionalOpenSSL, None)
        self.pkcs8 = self._pem(serialization.PrivateFormat.PKCS8, None)
        self.pkcs1_encrypted = self._pem(serialization.PrivateFormat.TraditionalOpenSSL, passphrase)
        self.pkcs8_encrypted = self._pem(serialization.PrivateFormat.PKCS8, passphrase)
        self.not_after = (_utcnow() + datetime.timedelta(days=365)).replace(microsecond=0)
        self.certificate = make_certificate(self.key, not_after=self.not_after)
        self.public_key = self.key.public_key()

    def _pem(self, private_format, passphrase):
        encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase else serialization.NoEncryption()
        return self.key.private_bytes(serialization.Encoding.PEM, private_format, encryption).decode("ascii")

    def certificate_expiring(self, days):
        """A certificate of this key whose notAfter is `days` from now (negative: already expired)."""
        not_after = (_utcnow() + datetime.timedelta(days=days)).replace(microsecond=0)
        not_before = min(not_after, _utcnow()) - datetime.timedelta(days=30)
        return make_certificate(self.key, not_before=not_before, not_after=not_after), iso_z(not_after)

    @staticmethod
    def body_lines(pem):
        """The base64 lines of a PEM: the part that is actually secret."""
        return [line for line in pem.splitlines() if line and not line.startswith("-----") and ":" not in line]


class Credentials:
    """Credentials documents in each shape Adobe hands out, built around one KeyMaterial."""

    def __init__(self, keys):
        self.keys = keys

    def aem(self, **integration):
        """AEM as a Cloud Service service credentials (AEM Developer Console), with \\r\\n PEMs as downloaded."""
        document = {
            "ok": True,
            "integration": {
                "imsEndpoint": PROD_HOST,
                "metascopes": "ent_aem_cloud_api",
                "technicalAccount": {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET},
                "email": TECHNICAL_ACCOUNT_EMAIL,
                "id": TECHNICAL_ACCOUNT_ID,
                "org": ORG_ID,
                "privateKey": self.keys.pkcs1.replace("\n", "\r\n"),
                "publicKey": self.keys.certificate.replace("\n", "\r\n"),
                "certificateExpirationDate": self.keys.not_after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            },
            "statusCode": 200,
        }
        document["integration"].update(integration)
        return document

    @staticmethod
    def console_jwt(name="aem-jwt", credential_id="111111", **jwt):
        block = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "technical_account_email": TECHNICAL_ACCOUNT_EMAIL,
            "technical_account_id": TECHNICAL_ACCOUNT_ID,
            "meta_scopes": ["ent_aem_cloud_api"],
        }
        block.update(jwt)
        return {"id": credential_id, "name": name, "integration_type": "service", "jwt": block}

    @staticmethod
    def console_s2s(name="aem-oauth", credential_id="222222", **oauth):
        block = {
            "client_id": S2S_CLIENT_ID,
            "client_secrets": [CLIENT_SECRET, CLIENT_SECRET_2],
            "technical_account_email": TECHNICAL_ACCOUNT_EMAIL,
            "technical_account_id": TECHNICAL_ACCOUNT_ID,
            "scopes": list(S2S_SCOPES),
        }
        block.update(oauth)
        return {"id": credential_id, "name": name, "integration_type": "oauth_server_to_server", "oauth_server_to_server": block}

    @staticmethod
    def console(*credentials):
        """An Adobe Developer Console project (workspace) JSON."""
        return {
            "project": {
                "id": "4566206088344794931",
                "name": "aem-automation",
                "title": "AEM automation",
                "org": {"id": "12345", "name": "Example Org", "ims_org_id": ORG_ID},
                "workspace": {
                    "id": "4566206088344853970",
                    "name": "Production",
                    "details": {"credentials": list(credentials), "services": [], "runtime": {}},
                },
            }
        }

    @staticmethod
    def flat_s2s(**fields):
        """The flat OAuth Server-to-Server JSON."""
        document = {
            "ORG_ID": ORG_ID,
            "CLIENT_ID": S2S_CLIENT_ID,
            "CLIENT_SECRETS": [CLIENT_SECRET, CLIENT_SECRET_2],
            "TECHNICAL_ACCOUNT_ID": TECHNICAL_ACCOUNT_ID,
            "TECHNICAL_ACCOUNT_EMAIL": TECHNICAL_ACCOUNT_EMAIL,
            "SCOPES": list(S2S_SCOPES),
        }
        document.update(fields)
        return document

    def aio_jwt(self, **fields):
        """An aio-lib-ims JWT context, with an encrypted PKCS#8 key and its passphrase, on stage."""
        document = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "technical_account_id": TECHNICAL_ACCOUNT_ID,
            "technical_account_email": TECHNICAL_ACCOUNT_EMAIL,
            "meta_scopes": ["ent_aem_cloud_api", "ent_cloudmgr_sdk"],
            "ims_org_id": ORG_ID,
            "private_key": self.keys.pkcs8_encrypted,
            "passphrase": self.keys.passphrase,
            "env": "stage",
        }
        document.update(fields)
        return document

    @staticmethod
    def aio_s2s(**fields):
        """An aio-lib-ims OAuth Server-to-Server context."""
        document = {
            "client_id": S2S_CLIENT_ID,
            "client_secrets": [CLIENT_SECRET, CLIENT_SECRET_2],
            "technical_account_email": TECHNICAL_ACCOUNT_EMAIL,
            "technical_account_id": TECHNICAL_ACCOUNT_ID,
            "scopes": list(S2S_SCOPES),
            "ims_org_id": ORG_ID,
        }
        document.update(fields)
        return document

    @staticmethod
    def local_development_token():
        """What the AEM Developer Console's "Local Development Token" tab downloads."""
        return {"ok": True, "statusCode": 200, "accessToken": fake_access_token(created_at_ms=1_700_000_000_000, expires_in_ms=86_400_000)}

    @staticmethod
    def copy(document):
        return copy.deepcopy(document)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_access_token(created_at_ms=None, expires_in_ms=86_400_000, **claims):
    """An IMS-shaped access token (a JWT with created_at/expires_in as millisecond strings), unsigned."""
    payload = {"type": "access_token", "client_id": CLIENT_ID, "as": "ims-na1"}
    if created_at_ms is not None:
        payload["created_at"] = str(created_at_ms)
        payload["expires_in"] = str(expires_in_ms)
    payload.update(claims)
    header = {"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1"}
    return "%s.%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()), _b64url(b"not-a-signature"))


def build_settings(origins=None, **params):
    """Settings the way the action plugin builds them from task arguments (the environment is not read)."""
    return settings_from_options(params, origins)


def request_for(document, **params):
    """The TokenRequest for a credentials document given inline (service_credentials), with other options."""
    return build_token_request(build_settings(service_credentials=document, **params))


def request_error(document=None, error_class=AemImsError, credentials_file=None, **params):
    """The error building a TokenRequest raises; its message is always one line of at most 600 characters."""
    if document is not None:
        params["service_credentials"] = document
    with pytest.raises(error_class) as info:
        build_token_request(build_settings(**params), credentials_file)
    message = info.value.msg
    assert "\n" not in message and len(message) <= 600
    return info.value


def write_file(tmp_path, name, content):
    """A file in tmp_path holding content: JSON for a dict or list, UTF-8 for text, bytes as they are."""
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return str(path)


class FakeIms:
    """Canned IMS answers for ImsHttpClient._send, and a record of every request and wait."""

    def __init__(self):
        self.answers = []
        self.calls = []
        self.sleeps = []

    def answer(self, status=200, body=None, headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            headers = dict({"Content-Type": "application/json;charset=UTF-8"}, **(headers or {}))
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.answers.append((status, dict(headers or {}), body or b""))
        return self

    def token(self, expires_in=86_399_999, access_token=None, **extra):
        body = {"token_type": "bearer", "access_token": access_token or fake_access_token(), "expires_in": expires_in}
        body.update(extra)
        return self.answer(200, body)

    def error(self, status, code, description, headers=None):
        return self.answer(status, {"error": code, "error_description": description}, headers)

    def fail(self, exception):
        self.answers.append(exception)
        return self

    def send(self, url, fields, attempt_timeout):
        from requests.structures import CaseInsensitiveDict  # pylint: disable=import-outside-toplevel

        self.calls.append({"url": url, "fields": dict(fields), "timeout": attempt_timeout})
        if not self.answers:
            raise AssertionError("unexpected request to IMS: %s" % url)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        status, headers, body = answer
        return status, CaseInsensitiveDict(headers), body


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No AEM_IMS_* variable (or proxy variable) of the developer's shell reaches a test."""
    for option in OPTIONS.values():
        if option.env:
            monkeypatch.delenv(option.env, raising=False)
    for name in list(os.environ):
        if name.startswith("AEM_IMS_") or name.lower() in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ansible_cfg(tmp_path, monkeypatch):
    """use(text, name): point ansible-core's configuration (and C.CONFIG_FILE) at an ansible.cfg of the test's own."""
    from ansible import constants as C  # pylint: disable=import-outside-toplevel

    def use(text, name="ansible.cfg"):
        path = tmp_path / name
        path.write_text(text)
        parsers = dict(C.config._parsers)
        parsers.pop(str(path), None)
        monkeypatch.setattr(C.config, "_parsers", parsers)
        monkeypatch.setattr(C.config, "_config_file", str(path))
        monkeypatch.setattr(C, "CONFIG_FILE", str(path))
        return str(path)

    return use


@pytest.fixture(scope="session")
def keys():
    return KeyMaterial()


@pytest.fixture(scope="session")
def other_keys():
    return KeyMaterial(passphrase="another passphrase")


@pytest.fixture(scope="session")
def creds(keys):
    return Credentials(keys)


@pytest.fixture
def fake_ims(monkeypatch):
    """Replace the HTTP layer of every ImsHttpClient; waits between attempts are recorded, not slept."""
    fake = FakeIms()
    original_init = _ims_client.ImsHttpClient.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("sleep", fake.sleeps.append)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(_ims_client.ImsHttpClient, "__init__", init)
    monkeypatch.setattr(_ims_client.ImsHttpClient, "_send", lambda self, url, fields, attempt_timeout: fake.send(url, fields, attempt_timeout))
    return fake
