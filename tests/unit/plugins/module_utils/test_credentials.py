# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _credentials: reading documents, merging options over them, key material, files, the TokenRequest.

What each shape of credentials document holds is tested in test_credential_shapes.py.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
import threading

import pytest

from hypothesis import HealthCheck, event, given, settings, strategies as st

from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import FORMAT_AIO, FORMAT_S2S_FLAT, METHOD_JWT, METHOD_S2S
from ansible_collections.aemops.ims.plugins.module_utils._credentials import (
    FORMAT_OPTIONS,
    MAX_FILE_BYTES,
    TokenRequest,
    build_token_request,
    extract,
    load_document,
    normalize_certificate,
    normalize_private_key,
    parse_json_object,
    read_text_file,
)
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, CredentialsError, KeyMaterialError, OptionError
from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_2,
    ORG_ID,
    PASSPHRASE,
    S2S_CLIENT_ID,
    S2S_SCOPES,
    TECHNICAL_ACCOUNT_EMAIL,
    TECHNICAL_ACCOUNT_ID,
    build_settings,
    request_error,
    request_for,
    write_file,
)

PROD = "https://ims-na1.adobelogin.com"
STAGE = "https://ims-na1-stg1.adobelogin.com"
INLINE = "service_credentials"
KEY_OPTION = "the private_key option or AEM_IMS_PRIVATE_KEY"


# --- documents and options ------------------------------------------------------------------


def test_aem_service_credentials_from_a_file_and_as_a_json_string(creds, keys, tmp_path):
    path = write_file(tmp_path, "cm-p12345-e67890-integration.json", creds.aem())
    from_file = build_token_request(build_settings(service_credentials_file=path))
    assert from_file.source == "service credentials file %s" % path
    assert from_file.private_key == keys.pkcs1
    assert from_file.private_key_source == "integration.privateKey in the service credentials file %s" % path
    from_term = build_token_request(build_settings(), credentials_file=path)
    assert from_term.cache_key() == from_file.cache_key()
    from_string = request_for(json.dumps(creds.aem(), indent=2))
    assert from_string.cache_key() == from_file.cache_key()
    assert from_string.source == INLINE


def test_load_document_a_term_wins_over_the_options(creds, tmp_path):
    term = write_file(tmp_path, "term.json", creds.flat_s2s())
    option = write_file(tmp_path, "option.json", creds.aem())
    document = load_document(build_settings(service_credentials_file=option, service_credentials=creds.aem()), term)
    assert (document.label, document.data) == ("service credentials file %s" % term, creds.flat_s2s())


def test_load_document_expands_a_term_in_the_home_directory(creds, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_file(tmp_path, "creds.json", creds.aem())
    assert load_document(build_settings(), "~/creds.json").label == "service credentials file %s" % (tmp_path / "creds.json")


def test_load_document_of_each_option(creds, tmp_path):
    path = write_file(tmp_path, "c.json", creds.aem())
    assert load_document(build_settings(service_credentials_file=path)).label == "service credentials file %s" % path
    inline = load_document(build_settings(service_credentials=creds.aem()))
    assert (inline.label, inline.data) == (INLINE, creds.aem())
    assert load_document(build_settings(service_credentials=json.dumps(creds.aem()))).data == creds.aem()
    assert load_document(build_settings(client_id="x")) is None


def test_extract_reads_the_document_by_its_shape(creds):
    extracted = extract(load_document(build_settings(service_credentials=creds.flat_s2s())), build_settings())
    assert extracted.credentials_format == FORMAT_S2S_FLAT
    assert extracted.values["client_secrets"] == [CLIENT_SECRET, CLIENT_SECRET_2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "LABEL is empty"),
        ("{", "LABEL is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ("[" * 100_000, "LABEL is not valid JSON: it is nested too deeply"),
        # Python refuses integers of more than 4300 digits with a plain ValueError.
        ('{"a": %s}' % ("9" * 5000), "LABEL is not valid JSON"),
        ("[]", "LABEL must hold a JSON object, got a list"),
        ("1.5", "LABEL must hold a JSON object, got a number"),
    ],
)
def test_parse_json_object(text, message):
    with pytest.raises(CredentialsError) as info:
        parse_json_object(text, "LABEL", "FIELD")
    assert (info.value.msg, info.value.field) == (message, "FIELD")
    assert parse_json_object(' {"a": [1]} ', "LABEL", "FIELD") == {"a": [1]}


def test_aem_service_credentials_with_a_byte_order_mark(creds, tmp_path):
    path = write_file(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(creds.aem()).encode())
    assert build_token_request(build_settings(service_credentials_file=path)).client_id == CLIENT_ID


def test_local_development_token_is_refused(creds):
    error = request_error(creds.local_development_token(), CredentialsError)
    assert error.msg == (
        "service_credentials is an AEM local development token (accessToken): a developer's personal token that expires after 24 hours, "
        "not service credentials. In the AEM Developer Console open Integrations > Technical Accounts (service credentials) "
        "and download the JSON from there instead"
    )
    assert error.field == "service_credentials"


def test_unknown_shape_lists_the_top_level_keys():
    error = request_error({"foo": 1, "bar": {"x": 1}, "bad key!": 2, "7up": 3}, CredentialsError)
    assert error.msg == (
        "service_credentials has an unknown shape (top-level keys: foo, bar): expected AEM service credentials (an 'integration' object), "
        "an Adobe Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context"
    )
    assert request_error({}, CredentialsError).msg.startswith("service_credentials has an unknown shape (top-level keys: none): ")


def test_client_secret_option_replaces_every_secret_of_the_credentials(creds):
    assert request_for(creds.flat_s2s(), client_secret="p8e-from-the-option-0000").client_secrets == ["p8e-from-the-option-0000"]


def test_aio_context_passphrase_option_wins(creds):
    assert request_for(creds.aio_jwt(), private_key_passphrase="from-option").private_key_passphrase == "from-option"


def test_options_only(keys):
    settings = build_settings(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_id=ORG_ID, technical_account_id=TECHNICAL_ACCOUNT_ID, private_key=keys.pkcs1
    )
    request = build_token_request(settings)
    assert (request.credentials_format, request.source, request.auth_method) == (FORMAT_OPTIONS, "options", METHOD_JWT)
    assert request.private_key_source == KEY_OPTION
    assert request.metascopes == ["ent_aem_cloud_api"]
    oauth = build_token_request(build_settings(client_id=S2S_CLIENT_ID, client_secret=CLIENT_SECRET, scopes="openid,AdobeID"))
    assert (oauth.auth_method, oauth.scopes, oauth.client_secrets) == (METHOD_S2S, ["openid", "AdobeID"], [CLIENT_SECRET])


def test_options_override_the_document(creds):
    request = request_for(
        creds.aem(),
        client_id="cm-override",
        org_id="FFFF@AdobeOrg",
        technical_account_id="EEEE@techacct.adobe.com",
        metascopes=["https://ims-na1.adobelogin.com/s/ent_cloudmgr_sdk"],
        ims_endpoint="ims-na1-stg1.adobelogin.com",
    )
    assert (request.client_id, request.org_id, request.technical_account_id) == ("cm-override", "FFFF@AdobeOrg", "EEEE@techacct.adobe.com")
    assert request.metascopes == ["ent_cloudmgr_sdk"]
    assert request.origin == STAGE


# --- missing and mistyped fields -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, message",
    [
        (
            ("technicalAccount", "clientId"),
            "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID and integration.technicalAccount.clientId in the service_credentials",
        ),
        (
            ("technicalAccount", "clientSecret"),
            "client_secret is missing: looked in the client_secret option or AEM_IMS_CLIENT_SECRET "
            "and integration.technicalAccount.clientSecret in the service_credentials",
        ),
        (
            ("technicalAccount",),
            "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID and integration.technicalAccount.clientId in the service_credentials",
        ),
        (
            ("org",),
            "org_id (the JWT issuer, ...@AdobeOrg) is missing: looked in the org_id option or AEM_IMS_ORG_ID and integration.org in the service_credentials",
        ),
        (
            ("id",),
            "technical_account_id (the JWT subject, ...@techacct.adobe.com) is missing: looked in the technical_account_id option or "
            "AEM_IMS_TECHNICAL_ACCOUNT_ID and integration.id in the service_credentials",
        ),
    ],
)
def test_missing_aem_fields_name_the_field_and_where_it_was_looked_for(creds, path, message):
    document = creds.aem()
    node = document["integration"]
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    assert request_error(document, CredentialsError).msg == message


def test_blank_aem_field_counts_as_missing(creds):
    document = creds.aem()
    document["integration"]["technicalAccount"]["clientId"] = "   "
    assert request_error(document, CredentialsError).msg.startswith("client_id is missing: ")


def test_missing_field_names_the_environment_variable_it_came_from(creds):
    document = creds.aem()
    del document["integration"]["org"]
    settings = build_settings(service_credentials=document, origins={"org_id": "environment variable AEM_IMS_ORG_ID"})
    with pytest.raises(CredentialsError) as info:
        build_token_request(settings)
    assert info.value.msg == (
        "org_id (the JWT issuer, ...@AdobeOrg) is missing: looked in environment variable AEM_IMS_ORG_ID and integration.org in the service_credentials"
    )


def test_missing_field_of_a_credentials_file_names_the_file(creds, tmp_path):
    document = creds.flat_s2s()
    del document["CLIENT_ID"]
    path = write_file(tmp_path, "oauth.json", document)
    error = request_error(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID and CLIENT_ID in the service credentials file %s" % path


def test_missing_fields_with_options_only():
    assert request_error(None, CredentialsError, org_id="o@AdobeOrg").msg == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID"
    assert request_error(None, CredentialsError, client_id="x").msg == "client_secret is missing: looked in the client_secret option or AEM_IMS_CLIENT_SECRET"
    assert request_error(None, CredentialsError, client_id="x", client_secret="y").msg == (
        "scopes are missing for OAuth Server-to-Server: looked in the scopes option or AEM_IMS_SCOPES. "
        "Copy them from the credential's page in the Adobe Developer Console"
    )
    error = request_error(None, CredentialsError, client_id="x", client_secret="y", auth_method="jwt")
    assert error.msg == (
        "auth_method is jwt but no private key was found: looked in the private_key option or AEM_IMS_PRIVATE_KEY, "
        "the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE"
    )


def test_missing_scopes_of_oauth_credentials(creds):
    document = creds.flat_s2s()
    del document["SCOPES"]
    assert request_error(document, CredentialsError).msg == (
        "scopes are missing for OAuth Server-to-Server: looked in the scopes option or AEM_IMS_SCOPES and the service_credentials. "
        "Copy them from the credential's page in the Adobe Developer Console"
    )


def test_jwt_without_a_key_in_the_document(creds):
    document = creds.aem()
    del document["integration"]["privateKey"]
    error = request_error(document, CredentialsError, auth_method="jwt")
    assert error.msg == (
        "auth_method is jwt but no private key was found: looked in the private_key option or AEM_IMS_PRIVATE_KEY, "
        "the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE and the service_credentials"
    )
    assert error.field == "private_key"


def test_aem_service_credentials_without_a_private_key_say_so(creds):
    # AEM service credentials are JWT credentials: with auth_method auto a missing privateKey must be
    # reported as such, not as missing OAuth Server-to-Server scopes.
    document = creds.aem()
    del document["integration"]["privateKey"]
    error = request_error(document, CredentialsError)
    assert "private key" in error.msg
    assert "scopes" not in error.msg


def test_bad_endpoint_in_the_document_names_its_path(creds):
    error = request_error(creds.aem(imsEndpoint="https://ims-na1.adobelogin.com/ims/exchange/jwt"), OptionError)
    assert error.msg == (
        "integration.imsEndpoint in the service_credentials must be a host such as ims-na1.adobelogin.com or an origin such as "
        "https://ims-na1.adobelogin.com, without a path, query or user (got 'https://ims-na1.adobelogin.com/ims/exchange/jwt')"
    )


def test_bad_certificate_fields(creds):
    assert request_error(creds.aem(publicKey="not a certificate"), KeyMaterialError).msg == "publicKey in service_credentials is not a PEM certificate"
    assert request_error(creds.aem(certificateExpirationDate="next year"), CredentialsError).msg == (
        "certificateExpirationDate in service_credentials is not an ISO-8601 date"
    )
    assert request_for(creds.aem(publicKey="  ")).certificate is None
    assert normalize_certificate("\\r\\n", "x") is None


def test_normalize_certificate_accepts_escaped_line_breaks(keys):
    escaped = keys.certificate.replace("\n", "\\r\\n")
    assert normalize_certificate(escaped, "x") == keys.certificate
    assert normalize_certificate(None, "x") is None
    with pytest.raises(KeyMaterialError) as info:
        normalize_certificate(["a"], "the credentials")
    assert info.value.msg == "publicKey in the credentials must be PEM text, got a list"


# --- the private key in its forms -------------------------------------------------------------


def test_private_key_with_crlf_line_endings(keys):
    assert normalize_private_key(keys.pkcs1.replace("\n", "\r\n"), "x") == keys.pkcs1


@pytest.mark.parametrize("escape", ["\\n", "\\r\\n"])
def test_private_key_with_escaped_line_breaks(keys, escape):
    assert normalize_private_key(keys.pkcs1.replace("\n", escape), "x") == keys.pkcs1
    assert normalize_private_key(keys.pkcs8.strip().replace("\n", escape), "x") == keys.pkcs8


def test_private_key_as_base64_of_the_pem(keys):
    encoded = base64.b64encode(keys.pkcs1.encode("ascii")).decode("ascii")
    assert normalize_private_key(encoded, "x") == keys.pkcs1
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert normalize_private_key(wrapped, "x") == keys.pkcs1


def test_private_key_pkcs8_and_encrypted_forms_pass_unchanged(keys):
    for pem in (keys.pkcs1, keys.pkcs8, keys.pkcs8_encrypted):
        assert normalize_private_key(pem, "x") == pem
    # Encrypted PKCS#1 keeps its headers (whether it still loads is checked in test_signing).
    normalized = normalize_private_key(keys.pkcs1_encrypted.replace("\n", "\r\n"), "x")
    assert normalized.startswith("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,")
    assert normalized.endswith("-----END RSA PRIVATE KEY-----\n")


def test_base64_that_is_not_a_pem_is_reported_as_such():
    for text in (base64.b64encode(b"-----BEGIN \xff\xfe binary").decode(), base64.b64encode(b"just text").decode()):
        with pytest.raises(KeyMaterialError) as info:
            normalize_private_key(text, "WHERE")
        assert info.value.msg == "the private key from WHERE is not a PEM private key: no '-----BEGIN ... PRIVATE KEY-----' line"


def test_private_key_with_indentation_and_blank_lines(keys):
    messy = "\n\n" + "\n".join("    " + line + "  " for line in keys.pkcs1.splitlines()) + "\n\n"
    assert normalize_private_key(messy, "x") == keys.pkcs1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the private key from WHERE is empty"),
        ("\\n\\n", "the private key from WHERE is empty"),
        ("just some text", "the private key from WHERE is not a PEM private key: no '-----BEGIN ... PRIVATE KEY-----' line"),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "the private key from WHERE is a certificate, not a private key"),
        ("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "the private key from WHERE is a public key, not a private key"),
        ("-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----", "the private key from WHERE is a public key, not a private key"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "the private key from WHERE is in OpenSSH format; IMS needs a PEM RSA key (PKCS#1 or PKCS#8)",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA", "the private key from WHERE is truncated: its '-----END RSA PRIVATE KEY-----' line is missing"),
        (5, "the private key from WHERE must be PEM text, got a number"),
        ({"pem": "x"}, "the private key from WHERE must be PEM text, got an object"),
        ([1, 2], "the private key from WHERE must be PEM text, got a list"),
    ],
)
def test_private_key_errors(text, message):
    with pytest.raises(KeyMaterialError) as info:
        normalize_private_key(text, "WHERE")
    assert info.value.msg == message
    assert info.value.field == "private_key"


def test_private_key_errors_never_quote_the_key(keys):
    truncated = keys.pkcs1[: len(keys.pkcs1) // 2]
    with pytest.raises(KeyMaterialError) as info:
        normalize_private_key(truncated, "the private_key option")
    for line in keys.body_lines(keys.pkcs1):
        assert line not in info.value.msg


def test_private_key_option_errors_name_the_option(keys):
    error = request_error(None, KeyMaterialError, client_id="x", client_secret="y", private_key=keys.certificate)
    assert error.msg == "the private key from %s is a certificate, not a private key" % KEY_OPTION


def test_private_key_and_private_key_file_are_exclusive(keys, tmp_path):
    key_file = write_file(tmp_path, "k.pem", keys.pkcs1)
    error = request_error(None, OptionError, private_key=keys.pkcs1, private_key_file=key_file)
    assert error.msg == (
        "private_key (from the private_key option or AEM_IMS_PRIVATE_KEY) and private_key_file (from the private_key_file option or "
        "AEM_IMS_PRIVATE_KEY_FILE) are both set: set only one"
    )
    for line in keys.body_lines(keys.pkcs1):
        assert line not in error.msg


def test_service_credentials_and_file_are_exclusive(creds, tmp_path):
    path = write_file(tmp_path, "c.json", creds.aem())
    error = request_error(creds.aem(), OptionError, service_credentials_file=path)
    assert error.msg == (
        "service_credentials (from the service_credentials option or AEM_IMS_SERVICE_CREDENTIALS) and service_credentials_file "
        "(from the service_credentials_file option or AEM_IMS_SERVICE_CREDENTIALS_FILE) are both set: set only one"
    )
    assert error.field == "service_credentials"


def test_service_credentials_holding_a_path_is_refused(tmp_path):
    for value in ("/etc/aem/service-credentials.json", "~/creds.json", "creds.json"):
        error = request_error(value, OptionError)
        assert error.msg == "service_credentials holds a file name, not JSON: use service_credentials_file for a path"


@pytest.mark.parametrize(
    "value, message",
    [
        ("{not json", "service_credentials is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ('["a list"]', "service_credentials must hold a JSON object, got a list"),
        ("42", "service_credentials must hold a JSON object, got a number"),
        ("null", "service_credentials must hold a JSON object, got null"),
    ],
)
def test_inline_service_credentials_that_are_not_an_object(value, message):
    assert request_error(value, CredentialsError).msg == message


def test_invalid_json_never_quotes_the_document():
    document = '{"integration": {"technicalAccount": {"clientSecret": "%s"}}, oops}' % CLIENT_SECRET
    error = request_error(document, CredentialsError)
    assert error.msg.startswith("service_credentials is not valid JSON: ")
    assert CLIENT_SECRET not in error.msg


# --- files ------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = str(tmp_path / "missing.json")
    error = request_error(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "service credentials file %s does not exist" % path
    assert error.field == "service credentials file"
    error = request_error(None, CredentialsError, client_id="x", client_secret="y", private_key_file=path)
    assert error.msg == "private_key_file %s does not exist" % path


def test_directory_instead_of_a_file(tmp_path):
    error = request_error(None, CredentialsError, service_credentials_file=str(tmp_path))
    assert error.msg == "service credentials file %s is a directory, not a file" % tmp_path


def without_blocking(function):
    """function's outcome, failing the test if it blocks (as opening a FIFO without O_NONBLOCK would)."""
    outcome = []

    def call():
        try:
            function()
        except AemImsError as error:
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "reading blocked"
    return outcome[0] if outcome else None


def test_fifo_instead_of_a_file_fails_at_once(tmp_path):
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    error = without_blocking(lambda: build_token_request(build_settings(service_credentials_file=path)))
    assert isinstance(error, CredentialsError)
    assert error.msg == "service credentials file %s is not a regular file" % path
    key_error = without_blocking(lambda: build_token_request(build_settings(client_id="x", client_secret="y", private_key_file=path)))
    assert key_error.msg == "private_key_file %s is not a regular file" % path


def test_a_device_instead_of_a_file():
    assert request_error(None, CredentialsError, service_credentials_file=os.devnull).msg == "service credentials file %s is not a regular file" % os.devnull


def refuse_to_open(monkeypatch, path, error):
    """os.open fails for path with error, as it would for a user without the permission (root has every permission)."""
    real_open = os.open

    def guarded_open(name, *args, **kwargs):
        if os.fspath(name) == path:
            raise error
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)


def test_unreadable_file(creds, tmp_path, monkeypatch):
    path = write_file(tmp_path, "secret.json", creds.aem())
    if os.geteuid() == 0:
        refuse_to_open(monkeypatch, path, PermissionError(errno.EACCES, "Permission denied", path))
    else:
        os.chmod(path, 0)
    try:
        error = request_error(None, CredentialsError, service_credentials_file=path)
    finally:
        os.chmod(path, 0o600)
    assert error.msg == "service credentials file %s is not readable: permission denied" % path
    assert error.field == "service credentials file"


def test_inaccessible_file(tmp_path, monkeypatch):
    directory = tmp_path / "locked"
    directory.mkdir()
    path = str(directory / "c.json")
    if os.geteuid() == 0:
        refuse_to_open(monkeypatch, path, PermissionError(errno.EACCES, "Permission denied", path))
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda name, mode, **kwargs: False if os.fspath(name) == str(directory) else real_access(name, mode, **kwargs))
    else:
        os.chmod(str(directory), 0)
    try:
        error = request_error(None, CredentialsError, service_credentials_file=path)
    finally:
        os.chmod(str(directory), stat.S_IRWXU)
    assert error.msg == "service credentials file %s is not accessible: permission denied" % path


def test_symlink_loop(tmp_path):
    path = tmp_path / "loop.json"
    os.symlink(str(path), str(path))
    error = request_error(None, CredentialsError, service_credentials_file=str(path))
    assert error.msg == "service credentials file %s cannot be read: Too many levels of symbolic links" % path


def test_open_error(creds, tmp_path, monkeypatch):
    path = write_file(tmp_path, "c.json", creds.aem())
    refuse_to_open(monkeypatch, path, OSError(errno.EIO, "Input/output error", path))
    error = request_error(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "service credentials file %s cannot be read: Input/output error" % path


def test_read_error(creds, tmp_path, monkeypatch):
    path = write_file(tmp_path, "c.json", creds.aem())
    # Reading the opened file fails, whether it is read with os.read or through a file object.
    opened = set()
    real_open, real_read, real_fdopen = os.open, os.read, os.fdopen

    def recording_open(name, *args, **kwargs):
        descriptor = real_open(name, *args, **kwargs)
        if os.fspath(name) == path:
            opened.add(descriptor)
        return descriptor

    def failing_read(descriptor, size):
        if descriptor in opened:
            raise OSError(errno.EIO, "Input/output error")
        return real_read(descriptor, size)

    class FailingFile:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

        def read(self, size=-1):
            raise OSError(errno.EIO, "Input/output error")

    def failing_fdopen(descriptor, *args, **kwargs):
        handle = real_fdopen(descriptor, *args, **kwargs)
        return FailingFile(handle) if descriptor in opened else handle

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "read", failing_read)
    monkeypatch.setattr(os, "fdopen", failing_fdopen)
    error = request_error(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "service credentials file %s cannot be read: Input/output error" % path


def test_read_text_file(tmp_path):
    path = write_file(tmp_path, "c.json", b'\xef\xbb\xbf{"a": "\xc3\xa9"}')
    assert read_text_file(path, "service credentials file") == '{"a": "\u00e9"}'


def test_too_large_file(tmp_path):
    path = write_file(tmp_path, "big.json", b" " * (MAX_FILE_BYTES + 1))
    assert request_error(None, CredentialsError, service_credentials_file=path).msg == (
        "service credentials file %s is too large (1048577 bytes; credentials are a few KiB, the limit is 1048576 bytes)" % path
    )


def _json_error(text):
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return "%s (line %d, column %d)" % (error.msg, error.lineno, error.colno)
    raise AssertionError("valid JSON")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b" \n\t ", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        # Python's own words, which 3.13 changed ("Illegal trailing comma ..."); only they, with the place, are quoted.
        (b'{"a": 1,}', "is not valid JSON: %s" % _json_error('{"a": 1,}')),
        (b"not json at all", "is not valid JSON: Expecting value (line 1, column 1)"),
        (b"[1, 2]", "must hold a JSON object, got a list"),
        (b'"text"', "must hold a JSON object, got a string"),
        (b"true", "must hold a JSON object, got a boolean"),
    ],
)
def test_bad_file_content(tmp_path, content, message):
    path = write_file(tmp_path, "c.json", content)
    assert request_error(None, CredentialsError, service_credentials_file=path).msg == "service credentials file %s %s" % (path, message)


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path):
    # json.loads raises RecursionError (not ValueError) for deep nesting; a 200 KB file must not crash the plugin.
    path = write_file(tmp_path, "deep.json", b"[" * 200_000)
    error = request_error(None, CredentialsError, service_credentials_file=path)
    assert error.msg.startswith("service credentials file %s " % path)


def test_private_key_file_in_every_form(keys, tmp_path):
    for name, content in (("pkcs1.pem", keys.pkcs1.replace("\n", "\r\n")), ("pkcs8.pem", keys.pkcs8), ("b64.txt", base64.b64encode(keys.pkcs1.encode()))):
        path = write_file(tmp_path, name, content)
        request = build_token_request(
            build_settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_id=ORG_ID, technical_account_id=TECHNICAL_ACCOUNT_ID, private_key_file=path)
        )
        assert request.private_key in (keys.pkcs1, keys.pkcs8)
        assert request.auth_method == METHOD_JWT


# --- the request ------------------------------------------------------------------------------


def test_cache_key_is_stable_and_opaque(creds):
    first = request_for(creds.aem())
    again = request_for(json.dumps(creds.aem()))
    assert first.cache_key() == again.cache_key()
    key = first.cache_key()
    assert len(key) == 64 and all(char in "0123456789abcdef" for char in key)
    for value in (CLIENT_ID, CLIENT_SECRET, ORG_ID, TECHNICAL_ACCOUNT_ID, "ims-na1", "ent_aem_cloud_api"):
        assert value not in key


def test_cache_key_ignores_what_does_not_change_the_token(creds, other_keys):
    base = request_for(creds.aem()).cache_key()
    assert request_for(creds.aem(email="other@techacct.adobe.com")).cache_key() == base
    assert request_for(creds.aem(publicKey=other_keys.certificate)).cache_key() == base
    assert (
        request_for(creds.aem(metascopes="ent_cloudmgr_sdk,ent_aem_cloud_api")).cache_key()
        == request_for(creds.aem(metascopes="ent_aem_cloud_api,ent_cloudmgr_sdk")).cache_key()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"technicalAccount": {"clientId": CLIENT_ID, "clientSecret": "p8e-rotated-secret-0000"}},
        {"technicalAccount": {"clientId": "cm-p12345-e67890-integration-1", "clientSecret": CLIENT_SECRET}},
        {"metascopes": "ent_aem_cloud_api,ent_cloudmgr_sdk"},
        {"imsEndpoint": "ims-na1-stg1.adobelogin.com"},
        {"org": "FFFFFFFFFFFFFFFFFFFFFFFF@AdobeOrg"},
        {"id": "EEEEEEEEEEEEEEEEEEEEEEEE@techacct.adobe.com"},
        "other key",
    ],
)
def test_cache_key_changes_with_every_token_input(creds, other_keys, change):
    base = request_for(creds.aem()).cache_key()
    changed = creds.aem(privateKey=other_keys.pkcs1) if change == "other key" else creds.aem(**change)
    assert request_for(changed).cache_key() != base


def test_cache_key_differs_between_auth_methods_and_scopes(creds):
    oauth = request_for(creds.flat_s2s())
    assert request_for(creds.flat_s2s(SCOPES=["openid"])).cache_key() != oauth.cache_key()
    assert request_for(creds.flat_s2s(CLIENT_SECRETS=[CLIENT_SECRET])).cache_key() != oauth.cache_key()


def test_token_request_repr_shows_no_secret(creds, keys):
    request = request_for(creds.aio_jwt())
    request.certificate = keys.certificate
    shown = repr(request)
    assert shown.startswith("TokenRequest(") and CLIENT_ID in shown
    for secret in (CLIENT_SECRET, PASSPHRASE, *keys.body_lines(keys.pkcs8_encrypted), *keys.body_lines(keys.certificate)):
        assert secret not in shown


def test_public_summary_and_secret_values(creds, keys):
    jwt_request = request_for(creds.aio_jwt())
    assert jwt_request.public_summary() == {
        "auth_method": "jwt",
        "client_id": CLIENT_ID,
        "ims_endpoint": STAGE,
        "credentials_format": FORMAT_AIO,
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "metascopes": ["ent_aem_cloud_api", "ent_cloudmgr_sdk"],
    }
    assert jwt_request.secret_values() == [CLIENT_SECRET, keys.pkcs8_encrypted, PASSPHRASE]
    oauth = request_for(creds.flat_s2s())
    assert oauth.public_summary()["scopes"] == S2S_SCOPES
    assert "metascopes" not in oauth.public_summary()
    assert oauth.secret_values() == [CLIENT_SECRET, CLIENT_SECRET_2]


# --- properties: any input is a TokenRequest or one safe line ---------------------------------

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
SHAPES = ("aem", "aem_flat", "console_jwt", "console_s2s", "console_both", "flat_s2s", "aio_jwt", "aio_s2s", "local")
KNOWN_KEYS = (
    "ok",
    "statusCode",
    "integration",
    "imsEndpoint",
    "metascopes",
    "technicalAccount",
    "clientId",
    "clientSecret",
    "email",
    "id",
    "org",
    "privateKey",
    "publicKey",
    "certificateExpirationDate",
    "project",
    "org",
    "ims_org_id",
    "workspace",
    "details",
    "credentials",
    "name",
    "integration_type",
    "jwt",
    "oauth_server_to_server",
    "client_id",
    "client_secret",
    "client_secrets",
    "meta_scopes",
    "scopes",
    "technical_account_id",
    "technical_account_email",
    "CLIENT_ID",
    "CLIENT_SECRETS",
    "CLIENT_SECRET",
    "ORG_ID",
    "SCOPES",
    "TECHNICAL_ACCOUNT_ID",
    "private_key",
    "passphrase",
    "env",
    "accessToken",
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "stage", "prod", "ims-na1.adobelogin.com", "host:99999", "https://x/y", "-----BEGIN RSA PRIVATE KEY-----"]),
)
_keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10))
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)),
    max_leaves=12,
)


def _shape(creds, keys, name):
    if name == "aem":
        return creds.aem()
    if name == "aem_flat":
        return creds.aem()["integration"]
    if name == "console_jwt":
        return creds.console(creds.console_jwt())
    if name == "console_s2s":
        return creds.console(creds.console_s2s())
    if name == "console_both":
        return creds.console(creds.console_jwt(), creds.console_s2s())
    if name == "flat_s2s":
        return creds.flat_s2s()
    if name == "aio_jwt":
        return creds.aio_jwt()
    if name == "aio_s2s":
        return creds.aio_s2s(private_key=keys.pkcs1.splitlines())
    return creds.local_development_token()


def _paths(node, prefix=()):
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for name, child in node.items():
            yield from _paths(child, prefix + (name,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, prefix + (index,))


def _mutate(data, document):
    for _unused in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = list(_paths(document))
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = data.draw(st.sampled_from(["drop", "replace", "truncate"]), label="action")
        if action == "drop":
            del parent[last]
        elif action == "replace":
            parent[last] = data.draw(_json, label="value")
        elif isinstance(parent[last], str):
            parent[last] = parent[last][: data.draw(st.integers(0, len(parent[last])), label="length")]
    return document


def _secrets(keys):
    values = [CLIENT_SECRET, CLIENT_SECRET_2, PASSPHRASE]
    for pem in (keys.pkcs1, keys.pkcs8, keys.pkcs8_encrypted):
        values.extend(line for line in keys.body_lines(pem) if len(line) >= 16)
    return values


def _check(settings_factory, secrets, credentials_file=None):
    try:
        settings_ = settings_factory()
        request = build_token_request(settings_, credentials_file)
    except AemImsError as error:
        event("refused: %s" % type(error).__name__)
        assert "\n" not in error.msg and "\r" not in error.msg
        assert len(error.msg.splitlines()) <= 1
        assert len(error.msg) <= 600
        for secret in secrets:
            assert secret not in error.msg, secret
        return None
    event("accepted: %s" % request.auth_method)
    assert isinstance(request, TokenRequest)
    assert request.client_id and request.client_secrets
    assert request.auth_method in (METHOD_JWT, METHOD_S2S)
    return request


@pytest.fixture(scope="module")
def property_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("credentials-property")


@PROPERTY
@given(data=st.data())
def test_property_mutated_shapes(creds, keys, property_dir, data):
    document = _mutate(data, creds.copy(_shape(creds, keys, data.draw(st.sampled_from(SHAPES), label="shape"))))
    params = {"auth_method": data.draw(st.sampled_from(["auto", "jwt", "oauth_server_to_server"]), label="auth_method")}
    if data.draw(st.booleans(), label="choose"):
        params["credential_name"] = data.draw(st.sampled_from(["aem-jwt", "aem-oauth", "nope"]), label="credential_name")
    form = data.draw(st.sampled_from(["dict", "json", "file"]), label="form")
    path = str(property_dir / "credentials.json")
    if form == "dict":
        params["service_credentials"] = document
    elif form == "json":
        params["service_credentials"] = json.dumps(document)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        params["service_credentials_file"] = path
    _check(lambda: settings_from_options(params), _secrets(keys))


@PROPERTY
@given(document=st.dictionaries(_keys, _json, max_size=6))
def test_property_arbitrary_json_objects(keys, document):
    _check(lambda: settings_from_options({"service_credentials": document}), _secrets(keys))


@PROPERTY
@given(value=_json)
def test_property_arbitrary_json_values(keys, value):
    _check(lambda: settings_from_options({"service_credentials": json.dumps(value)}), _secrets(keys))


@PROPERTY
@given(data=st.data())
def test_property_random_bytes_as_file_content(creds, keys, property_dir, data):
    if data.draw(st.booleans(), label="from a valid file"):
        content = bytearray(json.dumps(creds.aem()).encode())
        for _unused in range(data.draw(st.integers(1, 5), label="flips")):
            content[data.draw(st.integers(0, len(content) - 1), label="at")] = data.draw(st.integers(0, 255), label="byte")
        content = bytes(content[: data.draw(st.integers(0, len(content)), label="cut")])
    else:
        content = data.draw(st.binary(max_size=500), label="content")
    path = str(property_dir / "random.json")
    with open(path, "wb") as handle:
        handle.write(content)
    _check(lambda: settings_from_options({}), _secrets(keys), credentials_file=path)


_pem_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "-----BEGIN RSA PRIVATE KEY-----",
                "-----END RSA PRIVATE KEY-----",
                "-----BEGIN PRIVATE KEY-----",
                "-----END PRIVATE KEY-----",
                "-----BEGIN CERTIFICATE-----",
                "-----BEGIN OPENSSH PRIVATE KEY-----",
                "Proc-Type: 4,ENCRYPTED",
                "",
                "\\n",
            ]
        ),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=64),
    ),
    max_size=8,
)


@PROPERTY
@given(
    text=st.one_of(
        st.text(max_size=200),
        _pem_lines.map("\n".join),
        _pem_lines.map("\r\n".join),
        _pem_lines.map("\\n".join),
        _pem_lines.map(lambda lines: base64.b64encode("\n".join(lines).encode()).decode()),
    )
)
def test_property_normalize_private_key(text):
    try:
        pem = normalize_private_key(text, "the private_key option")
    except KeyMaterialError as error:
        assert "\n" not in error.msg and len(error.msg) <= 600
        for line in text.splitlines():
            if len(line.strip()) >= 16 and "-----" not in line:
                assert line.strip() not in error.msg
        return
    assert pem.endswith("\n") and "\r" not in pem and "\\n" not in pem
    assert pem.startswith("-----BEGIN ") or "-----BEGIN " in pem
    assert "PRIVATE KEY-----" in pem


# --- endpoint trust: a document's endpoint gets only that document's secrets -------------------

LISTENER = "127.0.0.1:8443"


@pytest.mark.parametrize(
    "options, outside",
    [
        ({"client_secret": "vaulted-secret-123"}, "the client_secret comes from the client_secret option"),
        ({"private_key": "KEY"}, "the private key comes from the private_key option"),
        ({"private_key_file": "KEY_FILE"}, "the private key comes from the private_key_file option"),
        (
            {"client_secret": "vaulted-secret-123", "private_key_file": "KEY_FILE"},
            "the client_secret comes from the client_secret option and the private key comes from the private_key_file option",
        ),
    ],
)
def test_a_document_endpoint_does_not_get_secrets_from_elsewhere(creds, keys, tmp_path, options, outside):
    path = write_file(tmp_path, "shared.json", creds.aem(imsEndpoint=LISTENER))
    key_file = write_file(tmp_path, "private.key", keys.pkcs1)
    options = {name: {"KEY": keys.pkcs1, "KEY_FILE": key_file}.get(value, value) for name, value in options.items()}
    origins = {name: "the %s option" % name for name in options}
    error = request_error(service_credentials_file=path, error_class=CredentialsError, origins=origins, **options)
    assert error.msg == (
        "integration.imsEndpoint in the service credentials file %s names the IMS endpoint https://127.0.0.1:8443, which is not an Adobe IMS "
        "host (*.adobelogin.com), and %s, not from that document: refusing to use %s there. Set ims_endpoint explicitly to use that endpoint"
        % (path, outside, "them" if " and " in outside else "it")
    )
    assert error.field == "ims_endpoint"
    # An explicit ims_endpoint is always trusted, from any source.
    assert build_token_request(build_settings(service_credentials_file=path, ims_endpoint=LISTENER, **options)).origin == "https://127.0.0.1:8443"


def test_a_document_endpoint_gets_the_document_own_secrets(creds, tmp_path):
    path = write_file(tmp_path, "own.json", creds.aem(imsEndpoint=LISTENER))
    assert build_token_request(build_settings(service_credentials_file=path)).origin == "https://127.0.0.1:8443"
    # Options that are no secrets change nothing.
    assert build_token_request(build_settings(service_credentials_file=path, client_id="other", metascopes=["x"])).origin == "https://127.0.0.1:8443"


@pytest.mark.parametrize("endpoint", [PROD[len("https://") :], "ims-na1-stg1.adobelogin.com", "https://ims-na1.adobelogin.com:443"])
def test_adobe_ims_hosts_in_a_document_get_any_secret(creds, tmp_path, endpoint):
    path = write_file(tmp_path, "adobe.json", creds.aem(imsEndpoint=endpoint))
    request = build_token_request(build_settings(service_credentials_file=path, client_secret="vaulted-secret-123"))
    assert request.origin.endswith(".adobelogin.com")


@pytest.mark.parametrize("endpoint", ["adobelogin.com.example.net", "evil-adobelogin.com", "ims.adobelogin.com.evil.example"])
def test_look_alike_hosts_are_not_adobe(creds, tmp_path, endpoint):
    path = write_file(tmp_path, "alike.json", creds.aem(imsEndpoint=endpoint))
    error = request_error(service_credentials_file=path, client_secret="vaulted-secret-123", error_class=CredentialsError)
    assert error.field == "ims_endpoint"


def test_an_oauth_credential_with_a_key_option_is_judged_by_its_secret(creds, tmp_path, keys):
    document = dict(creds.flat_s2s(), imsEndpoint=LISTENER)
    path = write_file(tmp_path, "flat.json", document)
    # The flat JSON holds no endpoint of its own: the default, Adobe's, is used.
    assert build_token_request(build_settings(service_credentials_file=path, client_secret="other-secret-123")).origin == PROD
