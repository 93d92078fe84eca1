# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _credential_shapes: what each shape of credentials document holds, read by its own extractor.

The extractors are tested on their own, and through build_token_request for what a user gets.
"""

from __future__ import annotations

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import (
    EXTRACTORS,
    FORMAT_AEM,
    FORMAT_AIO,
    FORMAT_CONSOLE,
    FORMAT_S2S_FLAT,
    LOCAL_DEVELOPMENT_TOKEN,
    METHOD_JWT,
    METHOD_S2S,
    STAGE_IMS_HOST,
    CredentialDocument,
    Extracted,
    detect_format,
    extract_aem_service_credentials,
    extract_aio_context,
    extract_developer_console_project,
    extract_oauth_s2s_flat,
    normalize_metascopes,
)
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError
from ansible_collections.aemops.ims.plugins.module_utils._credentials import TokenRequest
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
SECRET = "Shape-Secret-Value-31337"


def document(data, label="service_credentials"):
    return CredentialDocument(data, label)


# --- detection --------------------------------------------------------------------------------


def test_detect_format_of_every_shape(creds):
    assert detect_format(creds.aem()) == FORMAT_AEM
    assert detect_format(creds.aem()["integration"]) == FORMAT_AEM
    assert detect_format(creds.console(creds.console_jwt())) == FORMAT_CONSOLE
    assert detect_format(creds.flat_s2s()) == FORMAT_S2S_FLAT
    assert detect_format(creds.aio_jwt()) == FORMAT_AIO
    assert detect_format(creds.aio_s2s()) == FORMAT_AIO
    assert detect_format(creds.local_development_token()) == LOCAL_DEVELOPMENT_TOKEN
    assert detect_format({"something": "else"}) is None
    assert detect_format({"client_id": "only an id"}) is None


def test_every_shape_has_its_extractor():
    assert {
        FORMAT_AEM: extract_aem_service_credentials,
        FORMAT_CONSOLE: extract_developer_console_project,
        FORMAT_S2S_FLAT: extract_oauth_s2s_flat,
        FORMAT_AIO: extract_aio_context,
    } == EXTRACTORS
    assert LOCAL_DEVELOPMENT_TOKEN not in EXTRACTORS


# --- the document and what is extracted -------------------------------------------------------


def test_document_get_follows_a_dotted_path():
    data = {"a": {"b": {"c": "  value  "}}, "list": ["x"], "text_list": "x, y", "object": {"k": 1}}
    assert document(data).get("a.b.c") == "value"
    assert document(data).get("a.b", dict) == {"c": "  value  "}
    assert document(data).get("list", list) == ["x"]
    assert document(data).get("text_list", list) == "x, y"
    assert document(data).get("object", object) == {"k": 1}


@pytest.mark.parametrize("path", ["missing", "a.missing", "a.b.c.d", "blank", "null"])
def test_document_get_of_what_is_not_there(path):
    data = {"a": {"b": {"c": "value"}}, "blank": "   ", "null": None}
    assert document(data).get(path) is None


def test_document_get_of_a_required_path():
    with pytest.raises(CredentialsError) as info:
        document({"a": {}}, "the LABEL").get("a.b", object, required=True)
    assert (info.value.msg, info.value.field) == ("a.b is missing from the LABEL", "a.b")


@pytest.mark.parametrize(
    "value, expected, message",
    [
        (5, str, "k in LABEL must be a string, got a number"),
        (None, str, None),
        ({"a": SECRET}, str, "k in LABEL must be a string, got an object"),
        ([SECRET], str, "k in LABEL must be a string, got a list"),
        (False, str, "k in LABEL must be a string, got a boolean"),
        (5, list, "k in LABEL must be a list or a comma-separated string, got a number"),
        ([SECRET, 5], list, "k in LABEL must hold strings only"),
        ("text", dict, "k in LABEL must be an object, got a string"),
        ([], dict, "k in LABEL must be an object, got a list"),
    ],
)
def test_document_get_checks_the_type_without_quoting_the_value(value, expected, message):
    if message is None:
        assert document({"k": value}, "LABEL").get("k", expected) is None
        return
    with pytest.raises(CredentialsError) as info:
        document({"k": value}, "LABEL").get("k", expected)
    assert (info.value.msg, info.value.field) == (message, "k")
    assert SECRET not in info.value.msg


def test_extracted_keeps_values_and_where_they_were_looked_for():
    extracted = Extracted("some_format")
    extracted.put("client_id", "cid", "a.clientId")
    extracted.put("client_id", "other", "b.clientId")
    extracted.put("org_id", None, "a.org")
    extracted.put("scopes", [], "a.scopes")
    assert extracted.values == {"client_id": "other"}
    # The first place looked in is the one messages name.
    assert extracted.paths == {"client_id": "a.clientId", "org_id": "a.org", "scopes": "a.scopes"}


def test_extracted_repr_shows_no_value():
    extracted = Extracted(FORMAT_S2S_FLAT)
    extracted.put("client_secrets", [SECRET], "CLIENT_SECRETS")
    extracted.put("client_id", "cid", "CLIENT_ID")
    assert repr(extracted) == "Extracted(oauth_s2s_flat, fields=['client_id', 'client_secrets'])"


# --- each extractor on its own ----------------------------------------------------------------


def test_extract_aem_service_credentials(creds, keys):
    extracted = extract_aem_service_credentials(document(creds.aem()))
    assert extracted.credentials_format == FORMAT_AEM
    assert {name: value for name, value in extracted.values.items() if name not in ("private_key", "certificate")} == {
        "client_id": CLIENT_ID,
        "client_secrets": [CLIENT_SECRET],
        "org_id": ORG_ID,
        "technical_account_id": TECHNICAL_ACCOUNT_ID,
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "ims_endpoint": "ims-na1.adobelogin.com",
        "metascopes": ["ent_aem_cloud_api"],
        "certificate_expiration": keys.not_after.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    assert extracted.values["private_key"] == keys.pkcs1.replace("\n", "\r\n").strip()
    assert extracted.paths["client_secrets"] == "integration.technicalAccount.clientSecret"
    assert extracted.paths["private_key"] == "integration.privateKey"
    flat = extract_aem_service_credentials(document(creds.aem()["integration"]))
    assert (flat.values["client_id"], flat.paths["client_id"]) == (CLIENT_ID, "technicalAccount.clientId")


def test_extract_developer_console_project(creds):
    project = document(creds.console(creds.console_jwt(), creds.console_s2s()))
    extracted = extract_developer_console_project(project, build_settings(credential_name="aem-oauth"))
    assert extracted.credentials_format == FORMAT_CONSOLE
    assert extracted.values == {
        "org_id": ORG_ID,
        "client_id": S2S_CLIENT_ID,
        "technical_account_id": TECHNICAL_ACCOUNT_ID,
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "client_secrets": [CLIENT_SECRET, CLIENT_SECRET_2],
        "scopes": S2S_SCOPES,
    }
    assert extracted.paths["client_id"] == "project.workspace.details.credentials[1].oauth_server_to_server.client_id"
    assert extracted.paths["client_secrets"] == "project.workspace.details.credentials[1].oauth_server_to_server.client_secrets"
    jwt_only = extract_developer_console_project(document(creds.console(creds.console_jwt())), build_settings())
    assert jwt_only.values["metascopes"] == ["ent_aem_cloud_api"]
    assert jwt_only.paths["client_secrets"] == "project.workspace.details.credentials[0].jwt.client_secret"


def test_extract_oauth_s2s_flat(creds):
    extracted = extract_oauth_s2s_flat(document(creds.flat_s2s()))
    assert extracted.credentials_format == FORMAT_S2S_FLAT
    assert extracted.values == {
        "client_id": S2S_CLIENT_ID,
        "client_secrets": [CLIENT_SECRET, CLIENT_SECRET_2],
        "org_id": ORG_ID,
        "technical_account_id": TECHNICAL_ACCOUNT_ID,
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "scopes": S2S_SCOPES,
    }


def test_extract_aio_context(creds, keys):
    extracted = extract_aio_context(document(creds.aio_jwt()))
    assert extracted.credentials_format == FORMAT_AIO
    assert extracted.values == {
        "client_id": CLIENT_ID,
        "client_secrets": [CLIENT_SECRET],
        "org_id": ORG_ID,
        "technical_account_id": TECHNICAL_ACCOUNT_ID,
        "email": TECHNICAL_ACCOUNT_EMAIL,
        "metascopes": ["ent_aem_cloud_api", "ent_cloudmgr_sdk"],
        "private_key": keys.pkcs8_encrypted,
        "private_key_passphrase": PASSPHRASE,
        "ims_endpoint": STAGE_IMS_HOST,
    }
    assert (extracted.paths["ims_endpoint"], extracted.paths["client_secrets"]) == ("env", "client_secret")
    oauth = extract_aio_context(document(creds.aio_s2s()))
    assert (oauth.paths["client_secrets"], "ims_endpoint" in oauth.values, "private_key" in oauth.values) == ("client_secrets", False, False)


# --- AEM as a Cloud Service service credentials -----------------------------------------------


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


def test_aem_service_credentials_without_the_integration_wrapper(creds, keys):
    request = request_for(creds.aem()["integration"])
    assert request.credentials_format == FORMAT_AEM
    assert request.private_key == keys.pkcs1
    assert request.private_key_source == "privateKey in the service_credentials"


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
    error = request_error({"ok": False, "statusCode": 404, "integration": {}}, CredentialsError)
    assert error.msg == (
        "service_credentials is an error answer from the AEM Developer Console (ok=false, statusCode=404), not service credentials: download them again"
    )


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
    error = request_error(document, CredentialsError)
    assert error.msg == message
    assert CLIENT_SECRET not in error.msg


def test_integration_of_the_wrong_type(creds):
    document = creds.aem()
    document["integration"] = "oops"
    document["technicalAccount"] = {}
    assert request_error(document, CredentialsError).msg == "integration in service_credentials must be an object, got a string"


# --- Adobe Developer Console project JSON -----------------------------------------------------


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
    key_file = write_file(tmp_path, "private.key", keys.pkcs8)
    request = request_for(creds.console(creds.console_jwt(meta_scopes=["/s/ent_aem_cloud_api"])), private_key_file=key_file)
    assert request.auth_method == METHOD_JWT
    assert request.client_id == CLIENT_ID
    assert request.client_secrets == [CLIENT_SECRET]
    assert request.metascopes == ["ent_aem_cloud_api"]
    assert request.private_key == keys.pkcs8
    assert request.private_key_source == "private_key_file %s" % key_file


def test_developer_console_project_with_several_credentials_needs_a_choice(creds):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    error = request_error(document, CredentialsError)
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
    error = request_error(document, CredentialsError, credential_name="aem-nope")
    assert error.msg == "credential_name 'aem-nope' matches no credential in service_credentials (credentials: aem-jwt, aem-oauth)"
    assert error.field == "credential_name"
    error = request_error(document, CredentialsError, credential_id="999")
    assert error.msg == "credential_id '999' matches no credential in service_credentials (credentials: aem-jwt, aem-oauth)"


def test_developer_console_auth_method_filters_credentials(creds, keys):
    document = creds.console(creds.console_jwt(), creds.console_s2s())
    assert request_for(document, auth_method="oauth_server_to_server").client_id == S2S_CLIENT_ID
    jwt_request = request_for(document, auth_method="jwt", private_key=keys.pkcs1)
    assert (jwt_request.client_id, jwt_request.auth_method) == (CLIENT_ID, METHOD_JWT)
    only_oauth = creds.console(creds.console_s2s())
    error = request_error(only_oauth, CredentialsError, auth_method="jwt")
    assert error.msg == "service_credentials holds no jwt credential (credentials: aem-oauth)"


def test_developer_console_credential_of_another_kind(creds):
    api_key = {"id": "333", "name": "browser-key", "integration_type": "apikey", "api_key": {"client_id": "abc"}}
    document = creds.console(api_key, creds.console_s2s())
    error = request_error(document, CredentialsError, credential_name="browser-key")
    assert error.msg == ("credential 'browser-key' in service_credentials is neither a JWT nor an OAuth Server-to-Server credential (integration_type apikey)")
    error = request_error(creds.console(api_key), CredentialsError)
    assert error.msg == "service_credentials holds no JWT or OAuth Server-to-Server credential (credentials: browser-key)"
    assert request_error(creds.console(), CredentialsError).msg == "service_credentials holds no JWT or OAuth Server-to-Server credential (credentials: none)"


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
    assert request_error(document, CredentialsError).msg == message


def test_developer_console_without_credentials(creds):
    document = creds.console()
    del document["project"]["workspace"]["details"]
    assert request_error(document, CredentialsError).msg == "project.workspace.details.credentials is missing from service_credentials"


# --- the flat OAuth Server-to-Server JSON -----------------------------------------------------


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


def test_flat_oauth_json_secret_listed_in_both_places_is_tried_once_in_list_order(creds):
    assert request_for(creds.flat_s2s(CLIENT_SECRET=CLIENT_SECRET_2)).client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]


# --- aio-lib-ims contexts ---------------------------------------------------------------------


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


def test_aio_oauth_context(creds):
    request = request_for(creds.aio_s2s())
    assert (request.credentials_format, request.auth_method) == (FORMAT_AIO, METHOD_S2S)
    assert request.client_secrets == [CLIENT_SECRET, CLIENT_SECRET_2]
    assert request.scopes == S2S_SCOPES


def test_aio_context_with_meta_scopes_in_every_form(creds):
    metascopes = ["ent_aem_cloud_api", "/s/ent_aem_cloud_api", "https://ims-na1-stg1.adobelogin.com/s/ent_cloudmgr_sdk", "s/ent_user_sdk"]
    document = creds.aio_jwt(meta_scopes=metascopes)
    assert request_for(document).metascopes == ["ent_aem_cloud_api", "ent_cloudmgr_sdk", "ent_user_sdk"]


# --- metascopes -------------------------------------------------------------------------------


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
