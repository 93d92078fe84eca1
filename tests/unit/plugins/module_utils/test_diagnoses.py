# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 21: the diagnosis of each common first-hour mistake, said locally and before any request.

The same messages go through the module and the lookup in the bad-input catalogue
(tests/integration/catalogue/test_bad_inputs.py); here each is pinned at the core, with the
sources each plugin names.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.aemops.ims.plugins.module_utils._credentials import PluginInputs, build_token_request, normalize_private_key
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, ImsResponseError, KeyMaterialError
from ansible_collections.aemops.ims.plugins.module_utils._ims_client import interpret_response
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import (
    ORG_ID,
    TECHNICAL_ACCOUNT_EMAIL,
    TECHNICAL_ACCOUNT_ID,
    build_settings,
    request_error,
    request_for,
)

PROD = "https://ims-na1.adobelogin.com"


class LookupInputs(PluginInputs):
    lookup = True

    def __init__(self):
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def test_no_credentials_at_all_lists_the_ways_to_give_them():
    error = request_error(None, CredentialsError)
    assert error.msg == (
        "no credentials were given: set service_credentials_file (a credentials file), service_credentials (inline JSON or a dict), or the "
        "single fields client_id and client_secret with scopes (OAuth Server-to-Server) or with org_id, technical_account_id and "
        "private_key_file (JWT), as task arguments or AEM_IMS_* environment variables. In AWX or Ansible Automation Platform, attach the "
        "collection's AEM IMS credential to the job template: it sets the AEM_IMS_* variables"
    )
    with pytest.raises(CredentialsError) as info:
        build_token_request(build_settings(), inputs=LookupInputs())
    assert info.value.msg.startswith(
        "no credentials were given: set a term or service_credentials_file (a credentials file), service_credentials (inline JSON or a dict)"
    )
    assert "as keywords, aem_ims_* variables or AEM_IMS_* environment variables" in info.value.msg


def test_a_missing_value_names_every_source_the_lookup_reads():
    with pytest.raises(CredentialsError) as info:
        build_token_request(build_settings(client_id="x"), inputs=LookupInputs())
    assert info.value.msg == (
        "client_secret is missing: looked in the client_secret keyword, variable aem_ims_client_secret or environment variable AEM_IMS_CLIENT_SECRET"
    )
    with pytest.raises(CredentialsError) as info:
        build_token_request(build_settings(client_id="x", client_secret="y"), inputs=LookupInputs())
    # A non-secret option may also come from ansible.cfg.
    assert info.value.msg.startswith(
        "scopes are missing for OAuth Server-to-Server: looked in the scopes keyword, variable aem_ims_scopes, environment variable "
        "AEM_IMS_SCOPES or scopes in the [aem_ims] section of ansible.cfg."
    )


def test_a_project_json_with_a_jwt_credential_and_no_key_asks_for_private_key_file(creds):
    error = request_error(creds.console(creds.console_jwt()), CredentialsError)
    assert error.msg == (
        "the service_credentials holds a JWT credential, and a Developer Console project JSON never carries the private key of a JWT "
        "credential: set private_key_file to the private.key file downloaded (or generated) with the credential, looked for in "
        "the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE"
    )
    assert error.field == "private_key_file"


def test_a_project_json_with_a_jwt_credential_and_its_key_is_fine(creds, keys):
    request = request_for(creds.console(creds.console_jwt()), private_key=keys.pkcs1)
    assert request.auth_method == "jwt"


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"org_id": "0123456789ABCDEF01234567"},
            "org_id from the org_id option must be an IMS organization ID of the form <ID>@AdobeOrg, got '0123456789ABCDEF01234567': "
            "copy it from the credentials (org in AEM service credentials, ims_org_id in the project JSON)",
        ),
        (
            {"technical_account_id": "89ABCDEF0123456789ABCDEF"},
            "technical_account_id from the technical_account_id option must be a technical account ID of the form <ID>@techacct.adobe.com, "
            "got '89ABCDEF0123456789ABCDEF': copy it from the credentials (id in AEM service credentials, technical_account_id in the project JSON)",
        ),
        (
            {"technical_account_id": TECHNICAL_ACCOUNT_EMAIL},
            "technical_account_id from the technical_account_id option is the technical account's email (integration.email in the "
            "service_credentials), not its ID: use the other ...@techacct.adobe.com value of the credentials (id in AEM service "
            "credentials, technical_account_id in the project JSON)",
        ),
    ],
    ids=["org-without-AdobeOrg", "id-without-techacct", "email-as-id"],
)
def test_jwt_identity_forms_are_refused_before_any_request(creds, options, message):
    error = request_error(creds.aem(), CredentialsError, **options)
    assert error.msg == message


def test_a_wrong_org_id_in_the_document_is_named_by_its_path(creds):
    error = request_error(creds.aem(org="0123456789ABCDEF01234567"), CredentialsError)
    assert error.msg.startswith("org_id from integration.org in the service_credentials must be an IMS organization ID of the form <ID>@AdobeOrg")


def test_a_uuid_shaped_technical_account_id_is_only_warned_about(creds):
    inputs = LookupInputs()
    settings = build_settings(service_credentials=creds.aem(email="someone@example.com"), technical_account_id=TECHNICAL_ACCOUNT_EMAIL)
    request = build_token_request(settings, inputs=inputs)
    assert request.technical_account_id == TECHNICAL_ACCOUNT_EMAIL
    assert len(inputs.warnings) == 1 and "looks like a technical account's email" in inputs.warnings[0]


def test_the_published_forms_pass_without_a_warning(creds):
    inputs = LookupInputs()
    request = build_token_request(build_settings(service_credentials=creds.aem()), inputs=inputs)
    assert (request.org_id, request.technical_account_id, inputs.warnings) == (ORG_ID, TECHNICAL_ACCOUNT_ID, [])
    assert request.identity_sources == []


def test_the_binding_hint_names_the_issuer_and_subject_set_by_options(creds):
    request = request_for(creds.aem(), org_id=ORG_ID, technical_account_id=TECHNICAL_ACCOUNT_ID)
    assert request.identity_sources == ["org_id (from the org_id option)", "technical_account_id (from the technical_account_id option)"]
    body = b'{"error": "invalid_token", "error_description": "Could not match JWT signature to any of the bindings"}'
    with pytest.raises(ImsResponseError) as info:
        interpret_response(400, {}, body, "JWT exchange", PROD, [], identity_sources=request.identity_sources)
    assert info.value.msg == (
        "IMS rejected the JWT exchange: HTTP 400 invalid_token: Could not match JWT signature to any of the bindings. Hint: org_id (from the "
        "org_id option) and technical_account_id (from the technical_account_id option) set over the credentials may not be this "
        "integration's; or the private key does not belong to it, or its certificate expired or was revoked in the AEM Developer Console"
    )
    with pytest.raises(ImsResponseError) as info:
        interpret_response(400, {}, body, "JWT exchange", PROD, [])
    assert info.value.msg.endswith(
        "Hint: the private key does not belong to this integration, or its certificate expired or was revoked in the AEM Developer Console; "
        "download the service credentials again"
    )


def test_a_key_escaped_twice_is_said_to_be(keys):
    twice = keys.pkcs1.replace("\n", "\\\\n")
    with pytest.raises(KeyMaterialError) as info:
        normalize_private_key(twice, "environment variable AEM_IMS_PRIVATE_KEY")
    assert info.value.msg == (
        "the private key from environment variable AEM_IMS_PRIVATE_KEY holds literal backslashes, as when its line breaks are escaped "
        "twice: give the key with real line breaks, or escaped once"
    )
    # Escaped once is a form found in the wild, and fine.
    assert normalize_private_key(keys.pkcs1.replace("\n", "\\n"), "x") == keys.pkcs1


def test_each_retry_is_told_to_the_progress_callback_with_its_reason_and_wait(monkeypatch):
    from ansible_collections.aemops.ims.tests.unit.plugins.module_utils import test_ims_client as client_tests

    told = []
    busy = client_tests._Response(503, body=b"busy")
    client, waits = client_tests.client_with(busy, client_tests.ok_response(), retries=2, progress=told.append)
    answer, _date = client.post("/ims/exchange/jwt", client_tests._Fields(), "JWT exchange")
    assert answer["access_token"] == "tok" and len(waits) == 1
    assert len(told) == 1
    assert re.fullmatch(
        r"the JWT exchange to IMS at %s failed \(attempt 1 of 3, after [0-9]+\.[0-9] s\): IMS answered the JWT exchange with HTTP 503 and a "
        r"non-JSON body \(no content type\): 'busy'\. Hint: IMS had a server error; try again later; retrying in %.1f s"
        % (re.escape(client_tests.ORIGIN), waits[0]),
        told[0],
    ), told[0]


def test_an_encrypted_key_without_a_passphrase_names_where_the_lookup_reads_it(creds):
    from ansible_collections.aemops.ims.plugins.module_utils import _signing

    document = creds.aio_jwt()
    document.pop("passphrase", None)
    request = build_token_request(build_settings(service_credentials=document), inputs=LookupInputs())
    with pytest.raises(KeyMaterialError) as info:
        _signing.load_private_key(request)
    assert info.value.msg.endswith(
        "is encrypted: set private_key_passphrase (or variable aem_ims_private_key_passphrase or environment variable AEM_IMS_PRIVATE_KEY_PASSPHRASE)"
    )
