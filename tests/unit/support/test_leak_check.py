# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The leak check every suite uses (tests/support/leak_check.py): each form of each secret is found,
wrapped or not, and ordinary output is not reported."""

from __future__ import annotations

import base64
import json
import textwrap
from urllib.parse import quote, quote_plus

import pytest

serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")

# Importable by its collection name inside the ansible_collections/ layout (tests/support is mirrored).
from ansible_collections.aemops.ims.tests.support import leak_check  # noqa: E402  pylint: disable=wrong-import-position

PASSPHRASE = "pp-Ab3Dd9Ef-Q"
CLIENT_SECRET = "p8e-Zq1x9Yc3Vb7Nm2Lk5Jh8Gf4Ds6Aa0"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJjbGllbnRfaWQiOiJhYmMiLCJ0eXBlIjoiYWNjZXNzX3Rva2VuIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
NOISE = 'TASK [aemops.ims.aem_ims_token] ***\nok: [host001] => {"changed": false, "expires_in": 86399}\n'


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key, fmt, passphrase=None):
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode("ascii")


def _der_b64(key, fmt):
    return base64.b64encode(key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())).decode("ascii")


def leaks(output, *secrets, **options):
    return leak_check.find_leaks(output, secrets, **options)


def test_clean_output_has_no_leak(key):
    pem = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert leaks(NOISE * 50, CLIENT_SECRET, PASSPHRASE, pem) == []


@pytest.mark.parametrize(
    "form",
    [
        lambda s: s,
        lambda s: quote(s, safe=""),
        lambda s: quote_plus(s, safe=""),
        lambda s: json.dumps(s)[1:-1],
        # ansible-core 2.16 wraps a warning at 79 columns and breaks long words.
        lambda s: "\n".join(textwrap.wrap("[WARNING]: the secret is " + s, 20, break_long_words=True)),
    ],
    ids=["raw", "url-encoded", "url-encoded-plus", "json-escaped", "wrapped"],
)
def test_each_form_of_a_text_secret_is_found(form):
    odd = 'p8e-"Quoted\\Slash+Plus/Amp&Eq= Space' + CLIENT_SECRET
    for secret in (CLIENT_SECRET, odd):
        found = leaks(NOISE + form(secret) + NOISE, secret)
        assert found and all("secret #1" in item for item in found), found
        assert secret[4:12] not in "\n".join(found), "the message quotes the secret"


def test_a_wrapped_jwt_is_found_and_can_be_allowed():
    wrapped = "\n".join(textwrap.wrap("[WARNING]: token " + TOKEN, 79, break_long_words=True))
    assert TOKEN not in wrapped  # the old exact-substring search could not see it
    assert any("JWT-shaped" in item for item in leaks(NOISE + wrapped))
    assert leaks(NOISE + wrapped, allow_jwt_shaped=True) == []
    # The token as a secret is found even when JWT-shaped values are allowed.
    assert leaks(NOISE + wrapped, TOKEN, allow_jwt_shaped=True)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize(
    "printed",
    [
        # Lines and parts of the private numbers (the start of a key is its public modulus).
        lambda k: _pem(k, serialization.PrivateFormat.TraditionalOpenSSL).split("\n")[-4],
        lambda k: _der_b64(k, serialization.PrivateFormat.TraditionalOpenSSL),
        lambda k: _der_b64(k, serialization.PrivateFormat.PKCS8),
        lambda k: _der_b64(k, serialization.PrivateFormat.PKCS8)[-300:-230],
        lambda k: "\n".join(textwrap.wrap(_der_b64(k, serialization.PrivateFormat.PKCS8), 76)),
        lambda k: _der_b64(k, serialization.PrivateFormat.PKCS8).replace("+", "-").replace("/", "_"),
        lambda k: quote(_der_b64(k, serialization.PrivateFormat.PKCS8), safe=""),
        lambda k: json.dumps({"key": _pem(k, serialization.PrivateFormat.PKCS8)}),
    ],
    ids=["pkcs1-line", "pkcs1-der", "pkcs8-der", "pkcs8-der-part", "pkcs8-rewrapped", "pkcs8-base64url", "pkcs8-url-encoded", "pkcs8-json"],
)
def test_each_form_of_the_key_is_found(key, printed, encrypted):
    """The key as the credentials hold it (PKCS#1, or encrypted PKCS#8) is given; what leaks is another form."""
    if encrypted:
        given = _pem(key, serialization.PrivateFormat.PKCS8, PASSPHRASE)
        assert "ENCRYPTED PRIVATE KEY" in given
    else:
        given = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    output = NOISE + "msg: " + printed(key) + NOISE
    found = leaks(output, CLIENT_SECRET, given, PASSPHRASE)
    assert any("private key material" in item or "secret #2" in item for item in found), found


def test_an_encrypted_key_without_its_passphrase_is_still_searched_as_given(key):
    given = _pem(key, serialization.PrivateFormat.PKCS8, PASSPHRASE)
    assert leaks(NOISE + given.split("\n")[3] + NOISE, given)
    # Decrypted forms need the passphrase among the secrets.
    assert not leaks(NOISE + _der_b64(key, serialization.PrivateFormat.PKCS8) + NOISE, given)


@pytest.mark.parametrize(
    "block",
    [
        lambda k: _pem(k, serialization.PrivateFormat.PKCS8),
        lambda k: _pem(k, serialization.PrivateFormat.TraditionalOpenSSL),
        lambda k: _pem(k, serialization.PrivateFormat.PKCS8, PASSPHRASE),
        lambda k: _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL),
        lambda k: json.dumps(_pem(k, serialization.PrivateFormat.PKCS8)),
    ],
    ids=["pkcs8", "pkcs1", "encrypted", "ec", "json-escaped"],
)
def test_any_private_key_block_is_a_leak_even_of_an_unknown_key(key, block):
    found = leaks(NOISE + block(key) + NOISE)
    assert any("PEM private-key header" in item for item in found), found


@pytest.mark.parametrize(
    "message",
    [
        "private_key must be a PEM block starting with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----",
        "expected -----BEGIN PRIVATE KEY----- followed by the key, found something else entirely in that file",
    ],
)
def test_a_header_named_in_a_message_is_no_leak(message):
    assert leaks(NOISE + message + NOISE) == []


def test_empty_secrets_are_ignored():
    assert leaks(NOISE, "", None) == []


def test_assert_no_leaks_reports_every_leak_without_quoting_them(key):
    pem = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    output = NOISE + CLIENT_SECRET + " " + TOKEN + " " + _der_b64(key, serialization.PrivateFormat.PKCS8)
    with pytest.raises(AssertionError) as caught:
        leak_check.assert_no_leaks(output, CLIENT_SECRET, pem)
    text = str(caught.value)
    assert "secret #1, raw" in text and "JWT-shaped" in text and "private key material" in text
    assert CLIENT_SECRET not in text and TOKEN[:20] not in text and pem.split("\n")[3][:20] not in text


def test_the_certificate_and_public_key_are_no_leak(key):
    """The private key holds the public numbers too; printing the public half is no leak."""
    pem = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    public = key.public_key()
    printed = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode(),
        base64.b64encode(b"\0" + public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)).decode(),
        base64.b64encode(b"\0\0" + public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
    ]
    for text in printed:
        assert leaks(NOISE + text + NOISE, pem, PASSPHRASE) == [], text[:40]
    # ...while the private part next to it still is.
    assert leaks(NOISE + printed[0] + _der_b64(key, serialization.PrivateFormat.PKCS8)[-120:], pem)
