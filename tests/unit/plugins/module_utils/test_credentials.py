# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _credentials: every credentials shape, the private key forms, files and their failures."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from hypothesis import HealthCheck, event, given, settings, strategies as st

from ansible_collections.aemops.ims.plugins.module_utils import _credentials
from ansible_collections.aemops.ims.plugins.module_utils._credentials import (
    FORMAT_AEM,
    FORMAT_AIO,
    FORMAT_CONSOLE,
    FORMAT_OPTIONS,
    FORMAT_S2S_FLAT,
    MAX_FILE_BYTES,
    METHOD_JWT,
    METHOD_S2S,
    TokenRequest,
    build_token_request,
    detect_format,
    normalize_certificate,
    normalize_metascopes,
    normalize_private_key,
    split_list,
)
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError, CredentialsError, KeyMaterialError, OptionError
from ansible_collections.aemops.ims.plugins.module_utils._options import settings_from_params
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
)

PROD = "https://ims-na1.adobelogin.com"
STAGE = "https://ims-na1-stg1.adobelogin.com"
INLINE = "service_credentials"
KEY_OPTION = "the private_key option or AEM_IMS_PRIVATE_KEY"


def request_for(document, **params):
    return build_token_request(build_settings(service_credentials=document, **params))


def error_for(document=None, error_class=AemImsError, credentials_file=None, **params):
    if document is not None:
        params["service_credentials"] = document
    with pytest.raises(error_class) as info:
        build_token_request(build_settings(**params), credentials_file)
    message = info.value.msg
    assert "\n" not in message and len(message) <= 600
    return info.value


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return str(path)


# --- shapes -----------------------------------------------------------------------------------


def test_detect_format_of_every_shape(creds):
    assert detect_format(creds.aem()) == FORMAT_AEM
    assert detect_format(creds.aem()["integration"]) == FORMAT_AEM
    assert detect_format(creds.console(creds.console_jwt())) == FORMAT_CONSOLE
    assert detect_format(creds.flat_s2s()) == FORMAT_S2S_FLAT
    assert detect_format(creds.aio_jwt()) == FORMAT_AIO
    assert detect_format(creds.aio_s2s()) == FORMAT_AIO
    assert detect_format(creds.local_development_token()) == "local_development_token"
    assert detect_format({"something": "else"}) is None
    assert detect_format({"client_id": "only an id"}) is None


def test_aem_service_credentials_as_downloaded(creds, keys):
    request = request_for(creds.aem())
    assert isinstance(request, TokenRequest)
    assert request.auth_method == METHOD_JWT
    assert request.origin == PROD
    assert request.client_id == CLIENT_ID
    assert request.client_secrets == [CLIENT_SECRET]
    assert request.credentials_format == FORMAT_AEM
    assert request.source == INLINE
    assert (request.org_id, request.technical_account_id, request.email) == (ORG_ID, TECHNICAL_ACCOUNT_ID, TECHNICAL_ACCOUNT_EMAIL)
    assert request.private_key == keys.pkcs1
    assert request.private_key_source == "integration.privateKey in the service_credentials"
    assert request.private_key_passphrase is None
    assert request.certificate == keys.certificate
    assert request.certificate_expiration == keys.not_after.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert request.metascopes == ["ent_aem_cloud_api"]
    assert request.scopes == []


def test_aem_service_credentials_from_a_file_and_as_a_json_string(creds, keys, tmp_path):
    path = write(tmp_path, "cm-p12345-e67890-integration.json", creds.aem())
    from_file = build_token_request(build_settings(service_credentials_file=path))
    assert from_file.source == "service credentials file %s" % path
    assert from_file.private_key == keys.pkcs1
    assert from_file.private_key_source == "integration.privateKey in the service credentials file %s" % path
    from_term = build_token_request(build_settings(), credentials_file=path)
    assert from_term.cache_key() == from_file.cache_key()
    from_string = request_for(json.dumps(creds.aem(), indent=2))
    assert from_string.cache_key() == from_file.cache_key()
    assert from_string.source == INLINE


def test_aem_service_credentials_without_the_integration_wrapper(creds, keys):
    request = request_for(creds.aem()["integration"])
    assert request.credentials_format == FORMAT_AEM
    assert request.private_key == keys.pkcs1
    assert request.private_key_source == "privateKey in the service_credentials"


def test_aem_service_credentials_with_a_byte_order_mark(creds, tmp_path):
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(creds.aem()).encode())
    assert build_token_request(build_settings(service_credentials_file=path)).client_id == CLIENT_ID


def test_aem_stage_endpoint_and_several_metascopes(creds):
    request = request_for(creds.aem(imsEndpoint="ims-na1-stg1.adobelogin.com", metascopes="ent_aem_cloud_api,ent_cloudmgr_sdk, ent_aem_cloud_api"))
    assert request.origin == STAGE
    assert request.metascopes == ["ent_aem_cloud_api", "ent_cloudmgr_sdk"]


def test_aem_without_metascopes_claims_the_aem_metascope(creds):
    document = creds.aem()
    del document["integration"]["metascopes"]
    assert request_for(document).metascopes == ["ent_aem_cloud_api"]


def test_aem_without_a_certificate_keeps_the_stated_expiration(creds):
    document = creds.aem()
    del document["integration"]["publicKey"]
    request = request_for(document)
    assert request.certificate is None
    assert request.certificate_expiration == document["integration"]["certificateExpirationDate"]


def test_aem_error_answer_from_the_developer_console():
    error = error_for({"ok": False, "statusCode": 404, "integration": {}}, CredentialsError)
    assert error.msg == (
        "service_credentials is an error answer from the AEM Developer Console (ok=false, statusCode=404), not service credentials: download them again"
    )


def test_local_development_token_is_refused(creds):
    error = error_for(creds.local_development_token(), CredentialsError)
    assert error.msg == (
        "service_credentials is an AEM local development token (accessToken): a developer's personal token that expires after 24 hours, "
        "not service credentials. In the AEM Developer Console open Integrations > Technical Accounts (service credentials) "
        "and download the JSON from there instead"
    )
    assert error.field == "service_credentials"


def test_unknown_shape_lists_the_top_level_keys():
    error = error_for({"foo": 1, "bar": {"x": 1}, "bad key!": 2, "7up": 3}, CredentialsError)
    assert error.msg == (
        "service_credentials has an unknown shape (top-level keys: foo, bar): expected AEM service credentials (an 'integration' object), "
        "an Adobe Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context"
    )
    assert error_for({}, CredentialsError).msg.startswith("service_credentials has an unknown shape (top-level keys: none): ")


def test_developer_console_project_with_one_oauth_credential(creds):
    request = request_for(creds.console(creds.console_s2s()))
    assert request.auth_method == METHOD_S2S
    assert request.credentials_format == FORMAT_CONSOLE
    assert request.client_id == S2S_CLIENT_ID
    assert request.client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]
    assert request.scopes == S2S_SCOPES
    assert (request.org_id, request.technical_account_id, request.email) == (ORG_ID, TECHNICAL_ACCOUNT_ID, TECHNICAL_ACCOUNT_EMAIL)
    assert request.origin == PROD


def test_developer_console_project_with_one_jwt_credential_and_a_key_file(creds, keys, tmp_path):
    key_file = write(tmp_path, "private.key", keys.pkcs8)
    request = request_for(creds.console(creds.console_jwt(meta_scopes=["/s/ent_aem_cloud_api"])), private_key_file=key_file)
    assert request.auth_method == METHOD_JWT
    assert request.client_id == CLIENT_ID
    assert request.client_secrets == [CLIENT_SECRET]
    assert request.metascopes == ["ent_aem_cloud_api"]
    assert request.private_key == keys.pkcs8
    assert request.private_key_source == "private_key_file %s" % key_file


def test_developer_console_project_with_several_credentials_needs_a_choice(creds):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    error = error_for(document, CredentialsError)
    assert error.msg == "service_credentials holds several credentials (aem-jwt, aem-oauth): choose one with credential_name or credential_id"
    assert error.field == "credential_name"


def test_developer_console_credential_name_and_id_select(creds, keys):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    assert request_for(document, credential_name="aem-oauth").client_id == S2S_CLIENT_ID
    by_id = request_for(document, credential_id="111111", private_key=keys.pkcs1)
    assert (by_id.client_id, by_id.auth_method) == (CLIENT_ID, METHOD_JWT)
    # The id wins over the name when both are set.
    assert request_for(document, credential_id="222222", credential_name="aem-jwt").client_id == S2S_CLIENT_ID


def test_developer_console_unknown_credential_name_lists_the_names(creds):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    error = error_for(document, CredentialsError, credential_name="aem-nope")
    assert error.msg == "credential_name 'aem-nope' matches no credential in service_credentials (credentials: aem-jwt, aem-oauth)"
    assert error.field == "credential_name"
    error = error_for(document, CredentialsError, credential_id="999")
    assert error.msg == "credential_id '999' matches no credential in service_credentials (credentials: aem-jwt, aem-oauth)"


def test_developer_console_auth_method_filters_credentials(creds, keys):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    assert request_for(document, auth_method="oauth_server_to_server").client_id == S2S_CLIENT_ID
    jwt_request = request_for(document, auth_method="jwt", private_key=keys.pkcs1)
    assert (jwt_request.client_id, jwt_request.auth_method) == (CLIENT_ID, METHOD_JWT)
    only_oauth = creds.console(creds.console_s2s())
    error = error_for(only_oauth, CredentialsError, auth_method="jwt")
    assert error.msg == "service_credentials holds no jwt credential (credentials: aem-oauth)"


def test_developer_console_credential_of_another_kind(creds):
    api_key = {"id": "333", "name": "browser-key", "integration_type": "apikey", "api_key": {"client_id": "abc"}}
    document = creds.console(api_key, creds.console_s2s())
    error = error_for(document, CredentialsError, credential_name="browser-key")
    assert error.msg == ("credential 'browser-key' in service_credentials is neither a JWT nor an OAuth Server-to-Server credential (integration_type apikey)")
    error = error_for(creds.console(api_key), CredentialsError)
    assert error.msg == "service_credentials holds no JWT or OAuth Server-to-Server credential (credentials: browser-key)"
    assert error_for(creds.console(), CredentialsError).msg == "service_credentials holds no JWT or OAuth Server-to-Server credential (credentials: none)"


def test_developer_console_credential_during_migration_merges_both_blocks(creds):
    migrating = creds.console_s2s(name="migrating")
    migrating["jwt"] = dict(creds.console_jwt()["jwt"], client_id=S2S_CLIENT_ID, client_secret=CLIENT_SECRET_2)
    request = request_for(creds.console(migrating))
    assert request.auth_method == METHOD_S2S
    assert request.client_secrets == [CLIENT_SECRET_2, CLIENT_SECRET]
    assert request.scopes == S2S_SCOPES


@pytest.mark.parametrize(
    "credentials, message",
    [
        ("not a list", "project.workspace.details.credentials in service_credentials must be a list of objects"),
        (["not an object"], "project.workspace.details.credentials in service_credentials must be a list of objects"),
        (5, "project.workspace.details.credentials in service_credentials must be a list of objects"),
    ],
)
def test_developer_console_credentials_of_the_wrong_type(creds, credentials, message):
    document = creds.console()
    document["project"]["workspace"]["details"]["credentials"] = credentials
    assert error_for(document, CredentialsError).msg == message


def test_developer_console_without_credentials(creds):
    document = creds.console()
    del document["project"]["workspace"]["details"]
    assert error_for(document, CredentialsError).msg == "project.workspace.details.credentials is missing from service_credentials"


def test_flat_oauth_json_with_a_secret_rotation_list(creds):
    request = request_for(creds.flat_s2s())
    assert request.credentials_format == FORMAT_S2S_FLAT
    assert request.auth_method == METHOD_S2S
    assert request.client_id == S2S_CLIENT_ID
    assert request.client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]
    assert request.scopes == S2S_SCOPES
    assert (request.org_id, request.technical_account_id, request.email) == (ORG_ID, TECHNICAL_ACCOUNT_ID, TECHNICAL_ACCOUNT_EMAIL)


def test_flat_oauth_json_single_secret_comes_first_and_scopes_as_a_string(creds):
    document = creds.flat_s2s(CLIENT_SECRET="p8e-single-secret-value-123", CLIENT_SECRETS=[CLIENT_SECRET], SCOPES="openid, AdobeID")
    request = request_for(document)
    assert request.client_secrets == ["p8e-single-secret-value-123", CLIENT_SECRET]
    assert request.scopes == ["openid", "AdobeID"]
    # A secret listed in both places is tried once, in list order.
    assert request_for(creds.flat_s2s(CLIENT_SECRET=CLIENT_SECRET_2)).client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]


def test_client_secret_option_replaces_every_secret_of_the_credentials(creds):
    assert request_for(creds.flat_s2s(), client_secret="p8e-from-the-option-0000").client_secrets == ["p8e-from-the-option-0000"]


def test_aio_jwt_context_on_stage_with_an_encrypted_key(creds, keys):
    request = request_for(creds.aio_jwt())
    assert request.credentials_format == FORMAT_AIO
    assert request.auth_method == METHOD_JWT
    assert request.origin == STAGE
    assert request.metascopes == ["ent_aem_cloud_api", "ent_cloudmgr_sdk"]
    assert request.private_key == keys.pkcs8_encrypted
    assert request.private_key_passphrase == PASSPHRASE
    assert request.private_key_source == "private_key in the service_credentials"
    assert (request.org_id, request.technical_account_id) == (ORG_ID, TECHNICAL_ACCOUNT_ID)


def test_aio_context_private_key_as_a_list_of_lines(creds, keys):
    request = request_for(creds.aio_jwt(private_key=keys.pkcs1.splitlines(), passphrase=None, env="prod"))
    assert request.private_key == keys.pkcs1
    assert request.origin == PROD


def test_aio_context_passphrase_option_wins(creds):
    assert request_for(creds.aio_jwt(), private_key_passphrase="from-option").private_key_passphrase == "from-option"


def test_aio_oauth_context(creds):
    request = request_for(creds.aio_s2s())
    assert (request.credentials_format, request.auth_method) == (FORMAT_AIO, METHOD_S2S)
    assert request.client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]
    assert request.scopes == S2S_SCOPES


def test_aio_context_with_meta_scopes_in_every_form(creds):
    metascopes = ["ent_aem_cloud_api", "/s/ent_aem_cloud_api", "https://ims-na1-stg1.adobelogin.com/s/ent_cloudmgr_sdk", "s/ent_user_sdk"]
    document = creds.aio_jwt(meta_scopes=metascopes)
    assert request_for(document).metascopes == ["ent_aem_cloud_api", "ent_cloudmgr_sdk", "ent_user_sdk"]


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
    assert error_for(document, CredentialsError).msg == message


def test_blank_aem_field_counts_as_missing(creds):
    document = creds.aem()
    document["integration"]["technicalAccount"]["clientId"] = "   "
    assert error_for(document, CredentialsError).msg.startswith("client_id is missing: ")


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
    path = write(tmp_path, "oauth.json", document)
    error = error_for(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID and CLIENT_ID in the service credentials file %s" % path


def test_missing_fields_with_options_only():
    assert error_for(None, CredentialsError).msg == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID"
    assert error_for(None, CredentialsError, client_id="x").msg == "client_secret is missing: looked in the client_secret option or AEM_IMS_CLIENT_SECRET"
    assert error_for(None, CredentialsError, client_id="x", client_secret="y").msg == (
        "scopes are missing for OAuth Server-to-Server: looked in the scopes option or AEM_IMS_SCOPES. "
        "Copy them from the credential's page in the Adobe Developer Console"
    )
    error = error_for(None, CredentialsError, client_id="x", client_secret="y", auth_method="jwt")
    assert error.msg == (
        "auth_method is jwt but no private key was found: looked in the private_key option or AEM_IMS_PRIVATE_KEY, "
        "the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE"
    )


def test_missing_scopes_of_oauth_credentials(creds):
    document = creds.flat_s2s()
    del document["SCOPES"]
    assert error_for(document, CredentialsError).msg == (
        "scopes are missing for OAuth Server-to-Server: looked in the scopes option or AEM_IMS_SCOPES and the service_credentials. "
        "Copy them from the credential's page in the Adobe Developer Console"
    )


def test_jwt_without_a_key_in_the_document(creds):
    document = creds.aem()
    del document["integration"]["privateKey"]
    error = error_for(document, CredentialsError, auth_method="jwt")
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
    error = error_for(document, CredentialsError)
    assert "private key" in error.msg
    assert "scopes" not in error.msg


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("technicalAccount", "cm-p1", "integration.technicalAccount in service_credentials must be an object, got a string"),
        (
            "technicalAccount",
            {"clientId": 12345, "clientSecret": "x"},
            "integration.technicalAccount.clientId in service_credentials must be a string, got a number",
        ),
        ("org", ["a"], "integration.org in service_credentials must be a string, got a list"),
        ("id", True, "integration.id in service_credentials must be a string, got a boolean"),
        ("metascopes", 7, "integration.metascopes in service_credentials must be a list or a comma-separated string, got a number"),
        ("metascopes", ["ent_aem_cloud_api", 7], "integration.metascopes in service_credentials must hold strings only"),
        ("privateKey", {"pem": "x"}, "integration.privateKey in service_credentials must be a string, got an object"),
        ("publicKey", 5, "integration.publicKey in service_credentials must be a string, got a number"),
        ("imsEndpoint", 443, "integration.imsEndpoint in service_credentials must be a string, got a number"),
    ],
)
def test_wrong_types_name_the_json_path(creds, field, value, message):
    document = creds.aem()
    document["integration"][field] = value
    error = error_for(document, CredentialsError)
    assert error.msg == message
    assert CLIENT_SECRET not in error.msg


def test_integration_of_the_wrong_type(creds):
    document = creds.aem()
    document["integration"] = "oops"
    document["technicalAccount"] = {}
    assert error_for(document, CredentialsError).msg == "integration in service_credentials must be an object, got a string"


def test_bad_endpoint_in_the_document_names_its_path(creds):
    error = error_for(creds.aem(imsEndpoint="https://ims-na1.adobelogin.com/ims/exchange/jwt"), OptionError)
    assert error.msg == (
        "integration.imsEndpoint in the service_credentials must be a host such as ims-na1.adobelogin.com or an origin such as "
        "https://ims-na1.adobelogin.com, without a path, query or user (got 'https://ims-na1.adobelogin.com/ims/exchange/jwt')"
    )


def test_bad_certificate_fields(creds):
    assert error_for(creds.aem(publicKey="not a certificate"), KeyMaterialError).msg == "publicKey in service_credentials is not a PEM certificate"
    assert error_for(creds.aem(certificateExpirationDate="next year"), CredentialsError).msg == (
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
    error = error_for(None, KeyMaterialError, client_id="x", client_secret="y", private_key=keys.certificate)
    assert error.msg == "the private key from %s is a certificate, not a private key" % KEY_OPTION


def test_private_key_and_private_key_file_are_exclusive(keys, tmp_path):
    key_file = write(tmp_path, "k.pem", keys.pkcs1)
    error = error_for(None, OptionError, private_key=keys.pkcs1, private_key_file=key_file)
    assert error.msg == (
        "private_key (from the private_key option or AEM_IMS_PRIVATE_KEY) and private_key_file (from the private_key_file option or "
        "AEM_IMS_PRIVATE_KEY_FILE) are both set: set only one"
    )
    for line in keys.body_lines(keys.pkcs1):
        assert line not in error.msg


def test_service_credentials_and_file_are_exclusive(creds, tmp_path):
    path = write(tmp_path, "c.json", creds.aem())
    error = error_for(creds.aem(), OptionError, service_credentials_file=path)
    assert error.msg == (
        "service_credentials (from the service_credentials option or AEM_IMS_SERVICE_CREDENTIALS) and service_credentials_file "
        "(from the service_credentials_file option or AEM_IMS_SERVICE_CREDENTIALS_FILE) are both set: set only one"
    )
    assert error.field == "service_credentials"


def test_service_credentials_holding_a_path_is_refused(tmp_path):
    for value in ("/etc/aem/service-credentials.json", "~/creds.json", "creds.json"):
        error = error_for(value, OptionError)
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
    assert error_for(value, CredentialsError).msg == message


def test_invalid_json_never_quotes_the_document():
    document = '{"integration": {"technicalAccount": {"clientSecret": "%s"}}, oops}' % CLIENT_SECRET
    error = error_for(document, CredentialsError)
    assert error.msg.startswith("service_credentials is not valid JSON: ")
    assert CLIENT_SECRET not in error.msg


# --- files ------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = str(tmp_path / "missing.json")
    error = error_for(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "service credentials file %s does not exist" % path
    assert error.field == "service credentials file"
    error = error_for(None, CredentialsError, client_id="x", client_secret="y", private_key_file=path)
    assert error.msg == "private_key_file %s does not exist" % path


def test_directory_instead_of_a_file(tmp_path):
    error = error_for(None, CredentialsError, service_credentials_file=str(tmp_path))
    assert error.msg == "service credentials file %s is a directory, not a file" % tmp_path


def test_fifo_instead_of_a_file(tmp_path):
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    assert error_for(None, CredentialsError, service_credentials_file=path).msg == "service credentials file %s is not a regular file" % path


def test_unreadable_file(creds, tmp_path, monkeypatch):
    path = write(tmp_path, "secret.json", creds.aem())
    if os.geteuid() == 0:
        # root reads a file of mode 000 anyway: make open() fail the way it does for other users.
        real_open = open

        def guarded_open(name, *args, **kwargs):
            if str(name) == path:
                raise PermissionError(13, "Permission denied", name)
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(_credentials, "open", guarded_open, raising=False)
    else:
        os.chmod(path, 0)
    try:
        error = error_for(None, CredentialsError, service_credentials_file=path)
    finally:
        os.chmod(path, 0o600)
    assert error.msg == "service credentials file %s is not readable: permission denied" % path


def test_inaccessible_file(tmp_path, monkeypatch):
    directory = tmp_path / "locked"
    directory.mkdir()
    path = str(directory / "c.json")
    if os.geteuid() == 0:
        real_stat = os.stat

        def guarded_stat(name, *args, **kwargs):
            if str(name) == path:
                raise PermissionError(13, "Permission denied", name)
            return real_stat(name, *args, **kwargs)

        monkeypatch.setattr(os, "stat", guarded_stat)
    else:
        os.chmod(str(directory), 0)
    try:
        error = error_for(None, CredentialsError, service_credentials_file=path)
    finally:
        os.chmod(str(directory), stat.S_IRWXU)
    assert error.msg == "service credentials file %s is not accessible: permission denied" % path


def test_symlink_loop(tmp_path):
    path = tmp_path / "loop.json"
    os.symlink(str(path), str(path))
    error = error_for(None, CredentialsError, service_credentials_file=str(path))
    assert error.msg == "service credentials file %s cannot be read: Too many levels of symbolic links" % path


def test_read_error(creds, tmp_path, monkeypatch):
    path = write(tmp_path, "c.json", creds.aem())

    def failing_open(name, *args, **kwargs):
        raise OSError(5, "Input/output error", name)

    monkeypatch.setattr(_credentials, "open", failing_open, raising=False)
    error = error_for(None, CredentialsError, service_credentials_file=path)
    assert error.msg == "service credentials file %s cannot be read: Input/output error" % path


def test_too_large_file(tmp_path):
    path = write(tmp_path, "big.json", b" " * (MAX_FILE_BYTES + 1))
    assert error_for(None, CredentialsError, service_credentials_file=path).msg == (
        "service credentials file %s is too large (1048577 bytes; credentials are a few KiB, the limit is 1048576 bytes)" % path
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b" \n\t ", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b'{"a": 1,}', "is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 9)"),
        (b"not json at all", "is not valid JSON: Expecting value (line 1, column 1)"),
        (b"[1, 2]", "must hold a JSON object, got a list"),
        (b'"text"', "must hold a JSON object, got a string"),
        (b"true", "must hold a JSON object, got a boolean"),
    ],
)
def test_bad_file_content(tmp_path, content, message):
    path = write(tmp_path, "c.json", content)
    assert error_for(None, CredentialsError, service_credentials_file=path).msg == "service credentials file %s %s" % (path, message)


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path):
    # json.loads raises RecursionError (not ValueError) for deep nesting; a 200 KB file must not crash the plugin.
    path = write(tmp_path, "deep.json", b"[" * 200_000)
    error = error_for(None, CredentialsError, service_credentials_file=path)
    assert error.msg.startswith("service credentials file %s " % path)


def test_private_key_file_in_every_form(keys, tmp_path):
    for name, content in (("pkcs1.pem", keys.pkcs1.replace("\n", "\r\n")), ("pkcs8.pem", keys.pkcs8), ("b64.txt", base64.b64encode(keys.pkcs1.encode()))):
        path = write(tmp_path, name, content)
        request = build_token_request(
            build_settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_id=ORG_ID, technical_account_id=TECHNICAL_ACCOUNT_ID, private_key_file=path)
        )
        assert request.private_key in (keys.pkcs1, keys.pkcs8)
        assert request.auth_method == METHOD_JWT


# --- metascopes and lists ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, expected",
    [
        (["ent_aem_cloud_api"], ["ent_aem_cloud_api"]),
        (["/s/ent_aem_cloud_api"], ["ent_aem_cloud_api"]),
        (["s/ent_aem_cloud_api"], ["ent_aem_cloud_api"]),
        (["https://ims-na1.adobelogin.com/s/ent_aem_cloud_api"], ["ent_aem_cloud_api"]),
        (["https://ims-na1-stg1.adobelogin.com/s/ent_cloudmgr_sdk/"], ["ent_cloudmgr_sdk"]),
        (["ent_aem_cloud_api", "/s/ent_aem_cloud_api", "https://ims-na1.adobelogin.com/s/ent_aem_cloud_api", " ent_aem_cloud_api "], ["ent_aem_cloud_api"]),
        (["b", "a", "b"], ["b", "a"]),
        (["", "  ", "/"], []),
        (None, []),
    ],
)
def test_normalize_metascopes(values, expected):
    assert normalize_metascopes(values) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(None, []), ("a, b,,a", ["a", "b"]), (["a", " b ", "a", ""], ["a", "b"]), ("", [])],
)
def test_split_list(value, expected):
    assert split_list(value) == expected


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
    _check(lambda: settings_from_params(params), _secrets(keys))


@PROPERTY
@given(document=st.dictionaries(_keys, _json, max_size=6))
def test_property_arbitrary_json_objects(keys, document):
    _check(lambda: settings_from_params({"service_credentials": document}), _secrets(keys))


@PROPERTY
@given(value=_json)
def test_property_arbitrary_json_values(keys, value):
    _check(lambda: settings_from_params({"service_credentials": json.dumps(value)}), _secrets(keys))


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
    _check(lambda: settings_from_params({}), _secrets(keys), credentials_file=path)


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
