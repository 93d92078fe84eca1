# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _signing: loading keys, checking the certificate, and the JWT IMS expects."""

from __future__ import annotations

import datetime
import re

import jwt
import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ansible_collections.aemops.ims.plugins.module_utils import _signing
from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import KeyMaterialError, MissingDependencyError
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_ID,
    TECHNICAL_ACCOUNT_ID,
    build_settings,
    make_certificate,
)

KEY_OPTION = "the private_key option or AEM_IMS_PRIVATE_KEY"
NOW = 1_767_225_600.75  # 2026-01-01T00:00:00.75Z


def options_request(private_key, passphrase=None, **params):
    settings = build_settings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        org_id=ORG_ID,
        technical_account_id=TECHNICAL_ACCOUNT_ID,
        private_key=private_key,
        private_key_passphrase=passphrase,
        **params,
    )
    return build_token_request(settings)


def load(private_key, passphrase=None):
    return _signing.load_private_key(options_request(private_key, passphrase))


def key_error(private_key, passphrase=None):
    with pytest.raises(KeyMaterialError) as info:
        load(private_key, passphrase)
    return info.value


def same_key(loaded, keys):
    return loaded.private_numbers() == keys.key.private_numbers()


# --- loading the key --------------------------------------------------------------------------


def test_loads_pkcs1_and_pkcs8(keys):
    assert same_key(load(keys.pkcs1), keys)
    assert same_key(load(keys.pkcs8), keys)


def test_loads_the_aem_key_with_crlf_line_endings(creds, keys):
    request = build_token_request(build_settings(service_credentials=creds.aem()))
    assert same_key(_signing.load_private_key(request), keys)


def test_loads_encrypted_pkcs8_with_its_passphrase(keys):
    assert same_key(load(keys.pkcs8_encrypted, keys.passphrase), keys)


def test_loads_the_aio_context_key_with_the_context_passphrase(creds, keys):
    request = build_token_request(build_settings(service_credentials=creds.aio_jwt()))
    assert same_key(_signing.load_private_key(request), keys)


def test_loads_encrypted_pkcs1_with_its_passphrase(keys):
    # Traditional OpenSSL encryption: "Proc-Type: 4,ENCRYPTED" and "DEK-Info" headers, then a blank line.
    assert "Proc-Type: 4,ENCRYPTED" in keys.pkcs1_encrypted
    assert same_key(serialization.load_pem_private_key(keys.pkcs1_encrypted.encode(), keys.passphrase.encode()), keys)
    assert same_key(load(keys.pkcs1_encrypted, keys.passphrase), keys)


def test_passphrase_on_an_unencrypted_key_is_ignored(keys):
    assert same_key(load(keys.pkcs1, "a passphrase set globally"), keys)


@pytest.mark.parametrize("form", ["pkcs8_encrypted", "pkcs1_encrypted"])
def test_encrypted_key_without_passphrase(keys, form):
    error = key_error(getattr(keys, form))
    assert error.msg == "the private key from %s is encrypted: set private_key_passphrase (or AEM_IMS_PRIVATE_KEY_PASSPHRASE)" % KEY_OPTION
    assert error.field == "private_key_passphrase"


WRONG_OR_DAMAGED = "private_key_passphrase is wrong or the PEM is damaged: the private key from %s could not be decrypted" % KEY_OPTION


@pytest.mark.parametrize("form", ["pkcs8_encrypted", "pkcs1_encrypted"])
def test_encrypted_key_with_a_wrong_passphrase(keys, form):
    error = key_error(getattr(keys, form), "wrong passphrase")
    assert error.msg == WRONG_OR_DAMAGED
    assert error.field == "private_key_passphrase"
    assert "wrong passphrase" not in error.msg


def test_a_wrong_passphrase_gives_one_message_whatever_the_decryption_yields(keys):
    # With a wrong passphrase the decrypted bytes are random: about one time in 256 their
    # padding is valid and cryptography reports unparsable data instead of a bad password.
    # 600 passphrases make both outcomes all but certain; the message must not change.
    messages = {key_error(keys.pkcs8_encrypted, "wrong %d" % attempt).msg for attempt in range(600)}
    assert messages == {WRONG_OR_DAMAGED}


def test_corrupt_encrypted_key(keys):
    lines = keys.pkcs8_encrypted.splitlines()
    lines[3] = "A" * len(lines[3])
    error = key_error("\n".join(lines), keys.passphrase)
    assert error.msg == WRONG_OR_DAMAGED
    assert error.field == "private_key_passphrase"


def test_unsupported_key_algorithm(keys, monkeypatch):
    from cryptography.exceptions import UnsupportedAlgorithm  # pylint: disable=import-outside-toplevel

    def unsupported(data, password=None, **kwargs):
        raise UnsupportedAlgorithm("this cipher is not supported")

    monkeypatch.setattr(_signing.serialization, "load_pem_private_key", unsupported)
    error = key_error(keys.pkcs1)
    assert error.msg == "the private key from %s uses an unsupported algorithm or encryption" % KEY_OPTION


@pytest.mark.parametrize(
    "make_key, kind, private_format",
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "EC", serialization.PrivateFormat.PKCS8),
        (lambda: ec.generate_private_key(ec.SECP256R1()), "EC", serialization.PrivateFormat.TraditionalOpenSSL),
        (ed25519.Ed25519PrivateKey.generate, "Ed25519", serialization.PrivateFormat.PKCS8),
    ],
    ids=["ec-pkcs8", "ec-traditional", "ed25519-pkcs8"],
)
def test_non_rsa_keys_are_refused(make_key, kind, private_format):
    key = make_key()
    pem = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption()).decode()
    error = key_error(pem)
    pattern = r"^the private key from %s is an? %s key: IMS signs with RS256 and needs an RSA key$" % (re.escape(KEY_OPTION), kind)
    assert re.match(pattern, error.msg), error.msg
    assert error.field == "private_key"


def test_corrupt_pem_body(keys):
    lines = keys.pkcs1.splitlines()
    lines[5] = "A" * len(lines[5])
    lines[6] = "!" * len(lines[6])
    error = key_error("\n".join(lines))
    assert error.msg == "the private key from %s could not be loaded: the PEM body is damaged or not a supported key" % KEY_OPTION
    for line in keys.body_lines(keys.pkcs1):
        assert line not in error.msg


def test_missing_crypto_packages_are_named(keys, monkeypatch):
    request = options_request(keys.pkcs1)
    monkeypatch.setattr(_signing, "CRYPTO_IMPORT_ERROR", ImportError("No module named 'jwt'", name="jwt"))
    calls = (
        lambda: _signing.load_private_key(request),
        lambda: _signing.check_certificate(request, None),
        lambda: _signing.build_jwt(request, None, 300, NOW),
    )
    for call in calls:
        with pytest.raises(MissingDependencyError) as info:
            call()
        assert info.value.msg == (
            "signing the IMS JWT needs the Python packages PyJWT and cryptography on the Ansible controller (missing: jwt): pip install PyJWT cryptography"
        )


# --- the certificate --------------------------------------------------------------------------


def test_certificate_not_after_is_returned(creds, keys):
    request = build_token_request(build_settings(service_credentials=creds.aem()))
    key = _signing.load_private_key(request)
    assert _signing.check_certificate(request, key) == keys.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_key_and_certificate_mismatch(creds, other_keys):
    request = build_token_request(build_settings(service_credentials=creds.aem(publicKey=other_keys.certificate)))
    key = _signing.load_private_key(request)
    with pytest.raises(KeyMaterialError) as info:
        _signing.check_certificate(request, key)
    assert info.value.msg == (
        "the private key from integration.privateKey in the service_credentials does not match the certificate in publicKey of the "
        "service_credentials: they belong to different integrations or key rotations; download the service credentials again, "
        "or use the matching private key"
    )
    assert info.value.field == "private_key"


def test_certificate_of_a_non_rsa_key_is_a_mismatch_not_a_crash(creds):
    # An Ed25519 public key has no public_numbers(): the comparison must still end in a KeyMaterialError.
    other = ed25519.Ed25519PrivateKey.generate()
    request = build_token_request(build_settings(service_credentials=creds.aem(publicKey=make_certificate(other))))
    key = _signing.load_private_key(request)
    with pytest.raises(KeyMaterialError) as info:
        _signing.check_certificate(request, key)
    assert info.value.msg.startswith("the private key from integration.privateKey in the service_credentials does not match the certificate")


def test_certificate_of_an_ec_key_is_a_mismatch(creds):
    other = ec.generate_private_key(ec.SECP256R1())
    request = build_token_request(build_settings(service_credentials=creds.aem(publicKey=make_certificate(other))))
    with pytest.raises(KeyMaterialError) as info:
        _signing.check_certificate(request, _signing.load_private_key(request))
    assert "does not match the certificate" in info.value.msg


def test_unreadable_certificate(creds):
    garbage = "-----BEGIN CERTIFICATE-----\nTUlJQm9ndXM=\n-----END CERTIFICATE-----\n"
    request = build_token_request(build_settings(service_credentials=creds.aem(publicKey=garbage)))
    with pytest.raises(KeyMaterialError) as info:
        _signing.check_certificate(request, _signing.load_private_key(request))
    assert info.value.msg == "publicKey in the service_credentials is not a readable X.509 certificate"
    assert info.value.field == "publicKey"


@pytest.mark.parametrize(
    "stated, expected",
    [
        ("2027-03-26T16:20:18.000Z", "2027-03-26T16:20:18Z"),
        ("2027-03-26T18:20:18+02:00", "2027-03-26T16:20:18Z"),
        ("2027-03-26T16:20:18", "2027-03-26T16:20:18Z"),
    ],
)
def test_certificate_expiration_date_is_the_fallback(creds, stated, expected):
    document = creds.aem(certificateExpirationDate=stated)
    del document["integration"]["publicKey"]
    request = build_token_request(build_settings(service_credentials=document))
    assert _signing.check_certificate(request, _signing.load_private_key(request)) == expected


def test_no_certificate_and_no_date(creds):
    document = creds.aem()
    del document["integration"]["publicKey"]
    del document["integration"]["certificateExpirationDate"]
    request = build_token_request(build_settings(service_credentials=document))
    assert _signing.check_certificate(request, _signing.load_private_key(request)) is None


# --- the JWT ----------------------------------------------------------------------------------


def test_jwt_claims_are_exactly_what_ims_expects(creds, keys):
    request = build_token_request(build_settings(service_credentials=creds.aem(metascopes="ent_aem_cloud_api,ent_cloudmgr_sdk")))
    key = _signing.load_private_key(request)
    token = _signing.build_jwt(request, key, 300, NOW)
    assert isinstance(token, str)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    claims = jwt.decode(
        token,
        keys.public_key,
        algorithms=["RS256"],
        audience="https://ims-na1.adobelogin.com/c/" + CLIENT_ID,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": ORG_ID,
        "sub": TECHNICAL_ACCOUNT_ID,
        "aud": "https://ims-na1.adobelogin.com/c/" + CLIENT_ID,
        "iat": 1_767_225_600,
        "exp": 1_767_225_900,
        "https://ims-na1.adobelogin.com/s/ent_aem_cloud_api": True,
        "https://ims-na1.adobelogin.com/s/ent_cloudmgr_sdk": True,
    }
    for name in ("iat", "exp"):
        assert isinstance(claims[name], int) and not isinstance(claims[name], bool)


def test_jwt_verifies_with_the_public_key_only(creds, keys, other_keys):
    request = build_token_request(build_settings(service_credentials=creds.aem()))
    token = _signing.build_jwt(request, _signing.load_private_key(request), 120, NOW)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_keys.public_key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False})
    raw = jwt.decode(token, keys.public_key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False})
    assert raw["exp"] - raw["iat"] == 120


def test_jwt_on_stage_uses_the_stage_origin_everywhere(creds):
    request = build_token_request(build_settings(service_credentials=creds.aio_jwt()))
    token = _signing.build_jwt(request, _signing.load_private_key(request), 60, NOW)
    claims = jwt.decode(token, options={"verify_signature": False})
    origin = "https://ims-na1-stg1.adobelogin.com"
    assert claims["aud"] == origin + "/c/" + CLIENT_ID
    assert sorted(name for name in claims if "/s/" in name) == [origin + "/s/ent_aem_cloud_api", origin + "/s/ent_cloudmgr_sdk"]
    assert all(claims[name] is True for name in claims if "/s/" in name)


def test_jwt_with_a_custom_endpoint_port(keys):
    request = options_request(keys.pkcs1, ims_endpoint="http://127.0.0.1:8443")
    claims = jwt.decode(_signing.build_jwt(request, _signing.load_private_key(request), 10, NOW), options={"verify_signature": False})
    assert claims["aud"] == "http://127.0.0.1:8443/c/" + CLIENT_ID
    assert claims["http://127.0.0.1:8443/s/ent_aem_cloud_api"] is True


def test_jwt_times_are_integers_for_float_inputs(creds):
    request = build_token_request(build_settings(service_credentials=creds.aem()))
    claims = jwt.decode(_signing.build_jwt(request, _signing.load_private_key(request), 300.9, 1000.99), options={"verify_signature": False})
    assert (claims["iat"], claims["exp"]) == (1000, 1300)


def test_generated_key_material_is_rsa_2048(keys):
    assert isinstance(keys.key, rsa.RSAPrivateKey) and keys.key.key_size == 2048
    assert datetime.datetime.now(datetime.timezone.utc) < keys.not_after.replace(tzinfo=datetime.timezone.utc)
