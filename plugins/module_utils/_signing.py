# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Loading the private key and certificate, and signing the JWT: imported for a JWT exchange only, as PyJWT and cryptography are slow to import.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ansible_collections.aemops.ims.plugins.module_utils._errors import KeyMaterialError, MissingDependencyError

if TYPE_CHECKING:
    from ansible_collections.aemops.ims.plugins.module_utils._credentials import TokenRequest

CRYPTO_IMPORT_ERROR: ImportError | None
try:
    import cryptography
    import jwt
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError as import_error:
    CRYPTO_IMPORT_ERROR = import_error
else:
    CRYPTO_IMPORT_ERROR = None

# cryptography 39+ may skip its RSA consistency check, 0.1 s the first fork of a play pays while the others wait: the check
# protects decryption, and this key only signs a JWT (a damaged one still fails to parse, or IMS refuses its signature).
_FAST_RSA_LOAD = {"unsafe_skip_rsa_key_validation": True} if CRYPTO_IMPORT_ERROR is None and int(cryptography.__version__.split(".")[0]) >= 39 else {}


def _require_crypto() -> None:
    if CRYPTO_IMPORT_ERROR is not None:
        raise MissingDependencyError(
            "signing the IMS JWT needs the Python packages PyJWT and cryptography on the Ansible controller "
            "(missing: %s): pip install PyJWT cryptography" % (getattr(CRYPTO_IMPORT_ERROR, "name", None) or CRYPTO_IMPORT_ERROR)
        )


def load_private_key(request: TokenRequest) -> rsa.RSAPrivateKey:
    """Load the RSA private key of a TokenRequest, with a one-line error for each way it can fail."""
    _require_crypto()
    where = request.private_key_source or "the credentials"
    pem = request.private_key or ""
    encrypted = "BEGIN ENCRYPTED PRIVATE KEY" in pem or "Proc-Type: 4,ENCRYPTED" in pem
    passphrase = request.private_key_passphrase
    if encrypted and not passphrase:
        raise KeyMaterialError(
            "the private key from %s is encrypted: set private_key_passphrase (or %s)" % (where, request.passphrase_alternatives),
            field="private_key_passphrase",
        )
    # A passphrase for a key that is not encrypted is harmless (it is often set globally), so it is ignored.
    password = passphrase.encode("utf-8") if encrypted and passphrase else None
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii", "replace"), password=password, **_FAST_RSA_LOAD)
    except (ValueError, TypeError):
        if encrypted:
            # cryptography cannot always tell a wrong passphrase from a damaged PEM (about one wrong
            # decryption in 256 ends in valid padding): one message for both keeps the answer stable.
            raise KeyMaterialError(
                "private_key_passphrase is wrong or the PEM is damaged: the private key from %s could not be decrypted" % where,
                field="private_key_passphrase",
            ) from None
        raise KeyMaterialError(
            "the private key from %s could not be loaded: the PEM body is damaged or not a supported key" % where, field="private_key"
        ) from None
    except UnsupportedAlgorithm:
        raise KeyMaterialError("the private key from %s uses an unsupported algorithm or encryption" % where, field="private_key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.replace("_", "").replace("PrivateKey", "").replace("Elliptic", "") or "non-RSA"
        article = "an" if kind[:1] in "AEIOU" else "a"
        raise KeyMaterialError("the private key from %s is %s %s key: IMS signs with RS256 and needs an RSA key" % (where, article, kind), field="private_key")
    return key


def check_certificate(request: TokenRequest, key: rsa.RSAPrivateKey) -> str | None:
    """Return the certificate's notAfter as an ISO-8601 string, or the credentials' stated date.

    Checked before anything is sent: to a key that does not belong to the certificate IMS answers
    only "Could not match JWT signature to any of the bindings", which does not say which half is wrong.
    """
    _require_crypto()
    if request.certificate:
        try:
            certificate = x509.load_pem_x509_certificate(request.certificate.encode("ascii", "replace"))
        except ValueError:
            raise KeyMaterialError("publicKey in the %s is not a readable X.509 certificate" % request.source, field="publicKey") from None
        # Compared as SubjectPublicKeyInfo bytes: a certificate may hold any kind of key.
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if certificate.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            raise KeyMaterialError(
                "the private key from %s does not match the certificate in publicKey of the %s: they belong to different "
                "integrations or key rotations; download the service credentials again, or use the matching private key"
                % (request.private_key_source, request.source),
                field="private_key",
            )
        # not_valid_after_utc came with cryptography 42.
        not_after = getattr(certificate, "not_valid_after_utc", None) or certificate.not_valid_after.replace(tzinfo=timezone.utc)
    elif request.certificate_expiration:
        stated = datetime.fromisoformat(request.certificate_expiration.replace("Z", "+00:00"))
        not_after = stated.replace(tzinfo=stated.tzinfo or timezone.utc)
    else:
        return None
    return not_after.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_jwt(request: TokenRequest, key: rsa.RSAPrivateKey, lifetime: int, now: float) -> str:
    """The signed JWT for /ims/exchange/jwt. `exp` and `iat` are integers, as IMS insists."""
    _require_crypto()
    claims = {
        "iss": request.org_id,
        "sub": request.technical_account_id,
        "aud": "%s/c/%s" % (request.origin, request.client_id),
        "iat": int(now),
        "exp": int(now) + int(lifetime),
        **{"%s/s/%s" % (request.origin, metascope): True for metascope in request.metascopes},
    }
    return jwt.encode(claims, key, algorithm="RS256")
