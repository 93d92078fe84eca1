# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bad-input catalogue: malformed inputs, each with the EXACT one-line message it must produce.

`build_catalogue()` is the data table. Each entry: a name, the plugin arguments (non-secret
values only: they are visible as the loop item), the secret arguments (passed through a 0600
extra-vars file, never shown), and the expected message. The whole table goes through the
module in ONE playbook (a loop with ignore_errors) and through the lookup in ONE playbook
(a loop of set_fact with ignore_errors); the lookup's message is wrapped by ansible-core, so
its core must be contained in it and equal the module's.

Every input is refused before anything goes over the network: the emulator must count no
token request at all.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets as random

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
"""
# Every option of the module (plugins/module_utils/_option_specs.py), fact_name included, plus one unknown option.
MODULE_OPTIONS = (
    "service_credentials_file",
    "service_credentials",
    "credential_name",
    "credential_id",
    "auth_method",
    "client_id",
    "client_secret",
    "org_id",
    "technical_account_id",
    "private_key",
    "private_key_file",
    "private_key_passphrase",
    "metascopes",
    "scopes",
    "ims_endpoint",
    "jwt_lifetime",
    "validate_certs",
    "ca_path",
    "proxy_url",
    "timeout",
    "retries",
    "cache",
    "cache_dir",
    "refresh_margin",
    "force_refresh",
    "validate",
    "fact_name",
    "state",
    "access_token",
    "colour",
)
LOOKUP_SUPPORTED = sorted(set(MODULE_OPTIONS) - {"fact_name", "state", "access_token", "colour"})
MODULE_SUPPORTED = sorted(set(MODULE_OPTIONS) - {"colour"})
ENDPOINT_EXAMPLE = "a host such as ims-na1.adobelogin.com or an origin such as https://ims-na1.adobelogin.com"


def lookup_sources(name, ini=True):
    """Every place the lookup reads an option from, as its "is missing" messages name them (issue 21)."""
    places = "the %s keyword, variable aem_ims_%s" % (name, name)
    if not ini:
        return "%s or environment variable AEM_IMS_%s" % (places, name.upper())
    return "%s, environment variable AEM_IMS_%s or %s in the [aem_ims] section of ansible.cfg" % (places, name.upper(), name)


def _json_error(text):
    try:
        json.loads(text)
    except ValueError as error:
        return "%s (line %d, column %d)" % (error.msg, error.lineno, error.colno)
    raise AssertionError("valid JSON")


def _write(path, content, mode=0o600):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    path.chmod(mode)
    return path


def build_catalogue(good, encrypted, emulator, directory):
    """[(name, args, secret_args, expected message, lookup message or None, module_only, lookup_only)], and the extra secrets to check."""
    aem = good.integration["formats"]["aem_service_credentials"]
    good_file = good.write()
    good_text = good_file.read_text(encoding="utf-8")
    shipped_key = aem["integration"]["privateKey"]

    def aem_variant(name, change):
        document = json.loads(json.dumps(aem))
        change(document["integration"], document)
        return _write(directory / name, document)

    def label(path):
        return "service credentials file %s" % path

    files = {}
    files["no_integration"] = _write(directory / "no-integration.json", {"ok": True, "statusCode": 200})
    files["integration_string"] = _write(directory / "integration-string.json", {"ok": True, "integration": "cm-p1-e2", "statusCode": 200})
    files["ta_list"] = aem_variant("ta-list.json", lambda i, d: i.update(technicalAccount=["clientId"]))
    files["ta_string"] = aem_variant("ta-string.json", lambda i, d: i.update(technicalAccount="cm-p1-e2-integration"))
    files["client_id_number"] = aem_variant("client-id-number.json", lambda i, d: i["technicalAccount"].update(clientId=12345))
    files["client_id_missing"] = aem_variant("client-id-missing.json", lambda i, d: i["technicalAccount"].pop("clientId"))
    files["client_secret_empty"] = aem_variant("client-secret-empty.json", lambda i, d: i["technicalAccount"].update(clientSecret=""))
    files["org_missing"] = aem_variant("org-missing.json", lambda i, d: i.pop("org"))
    files["id_missing"] = aem_variant("id-missing.json", lambda i, d: i.pop("id"))
    files["metascopes_number"] = aem_variant("metascopes-number.json", lambda i, d: i.update(metascopes=42))
    files["error_answer"] = aem_variant("error-answer.json", lambda i, d: d.update(ok=False, statusCode=403))
    files["public_key_garbage"] = aem_variant("public-key-garbage.json", lambda i, d: i.update(publicKey="not a certificate"))
    files["expiration_garbage"] = aem_variant("expiration-garbage.json", lambda i, d: i.update(certificateExpirationDate="next year"))
    files["private_key_blank"] = aem_variant("private-key-blank.json", lambda i, d: i.update(privateKey=""))

    key_lines = shipped_key.split("\r\n")
    assert key_lines[-1] == "" and key_lines[-2] == "-----END RSA PRIVATE KEY-----"
    files["truncated_pem"] = aem_variant("truncated-pem.json", lambda i, d: i.update(privateKey="\r\n".join(key_lines[:-8])))
    damaged = key_lines[:5] + key_lines[12:]
    files["damaged_pem"] = aem_variant("damaged-pem.json", lambda i, d: i.update(privateKey="\r\n".join(damaged)))

    truncated_json = good_text[: len(good_text) // 2]
    files["truncated_json"] = _write(directory / "truncated.json", truncated_json)
    files["json_array"] = _write(directory / "array.json", "[1, 2]\n")
    files["empty"] = _write(directory / "empty.json", "")
    files["not_utf8"] = _write(directory / "not-utf8.json", b"\xff\xfe\x00{\x00}")
    files["huge"] = _write(directory / "huge.json", "{" + " " * (1024 * 1024) + "}")
    files["unknown_shape"] = _write(directory / "unknown-shape.json", {"foo": "bar", "api_key": "x"})
    files["console_no_usable"] = _write(
        directory / "console-no-usable.json",
        {
            "project": {
                "org": {"ims_org_id": good.integration["org_id"]},
                "workspace": {"details": {"credentials": [{"id": "1", "name": "web-app", "integration_type": "oauthweb", "oauth2": {"client_id": "x"}}]}},
            }
        },
    )
    files["console_single"] = good.write("developer_console_project")
    console_name = json.loads(files["console_single"].read_text())["project"]["workspace"]["details"]["credentials"][0]["name"]

    # Key material that is not a usable private key.
    certificate = _write(directory / "certificate.pem", good.integration["certificate_pem"])
    loaded = serialization.load_pem_private_key(good.integration["private_key_pem"].encode("ascii"), password=None)
    public = _write(directory / "public.pem", loaded.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    openssh_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    openssh = _write(directory / "id_rsa", openssh_pem)
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ec_key = _write(directory / "ec.pem", ec_pem)
    encrypted_key = encrypted.write_private_key("encrypted.key")

    def without_key(integration, document):
        integration.pop("privateKey")

    encrypted_doc = json.loads(json.dumps(encrypted.integration["formats"]["aem_service_credentials"]))
    without_key(encrypted_doc["integration"], encrypted_doc)
    encrypted_file = _write(directory / "encrypted-without-key.json", encrypted_doc)

    # Paths that cannot be read.
    missing = directory / "no-such-dir" / "credentials.json"
    regular = _write(directory / "regular-file", "x")
    under_a_file = regular / "credentials.json"
    a_directory = directory / "a-directory"
    a_directory.mkdir()
    world_writable = directory / "world-writable"
    world_writable.mkdir()
    world_writable.chmod(0o777)
    unreadable = _write(directory / "unreadable.json", good_text, mode=0o000)

    fifo = directory / "fifo.json"
    os.mkfifo(fifo, 0o600)
    good_key = good.write_private_key("good.key")
    socks_password = "S0cks-" + random.token_urlsafe(12)
    vaulted_secret = good.integration["client_secrets"][0]

    wrong_passphrase = "wrong-" + random.token_urlsafe(12)
    a_token = "eyJ-not-a-token-" + random.token_urlsafe(16)
    broken_inline = json.dumps(aem)[:-40]
    endpoint = emulator.endpoint
    net = {"ims_endpoint": endpoint}

    def cred(name):
        return {"service_credentials_file": str(files[name])}

    good_args = {"service_credentials_file": str(good_file)}
    cases = [
        # --- the AEM JSON, field by field ---
        (
            "integration_missing",
            cred("no_integration"),
            {},
            "%s has an unknown shape (top-level keys: ok, statusCode): expected AEM service credentials "
            "(an 'integration' object), an Adobe Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context"
            % label(files["no_integration"]),
        ),
        (
            "integration_not_object",
            cred("integration_string"),
            {},
            "%s has an unknown shape (top-level keys: ok, integration, statusCode): expected AEM service "
            "credentials (an 'integration' object), an Adobe Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context"
            % label(files["integration_string"]),
        ),
        ("technical_account_a_list", cred("ta_list"), {}, "integration.technicalAccount in %s must be an object, got a list" % label(files["ta_list"])),
        # JSON words, as for every other type (_kind() in _credentials.py): "a string", not Python's "a str".
        ("technical_account_a_string", cred("ta_string"), {}, "integration.technicalAccount in %s must be an object, got a string" % label(files["ta_string"])),
        (
            "client_id_a_number",
            cred("client_id_number"),
            {},
            "integration.technicalAccount.clientId in %s must be a string, got a number" % label(files["client_id_number"]),
        ),
        (
            "client_id_missing",
            cred("client_id_missing"),
            {},
            "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID and "
            "integration.technicalAccount.clientId in the %s" % label(files["client_id_missing"]),
            "client_id is missing: looked in %s and integration.technicalAccount.clientId in the %s"
            % (lookup_sources("client_id"), label(files["client_id_missing"])),
        ),
        (
            "client_secret_empty",
            cred("client_secret_empty"),
            {},
            "client_secret is missing: looked in the client_secret option or AEM_IMS_CLIENT_SECRET and "
            "integration.technicalAccount.clientSecret in the %s" % label(files["client_secret_empty"]),
            "client_secret is missing: looked in %s and integration.technicalAccount.clientSecret in the %s"
            % (lookup_sources("client_secret", ini=False), label(files["client_secret_empty"])),
        ),
        (
            "org_missing",
            cred("org_missing"),
            {},
            "org_id (the JWT issuer, ...@AdobeOrg) is missing: looked in the org_id option or AEM_IMS_ORG_ID and "
            "integration.org in the %s" % label(files["org_missing"]),
            "org_id (the JWT issuer, ...@AdobeOrg) is missing: looked in %s and integration.org in the %s"
            % (lookup_sources("org_id"), label(files["org_missing"])),
        ),
        (
            "id_missing",
            cred("id_missing"),
            {},
            "technical_account_id (the JWT subject, ...@techacct.adobe.com) is missing: looked in the technical_account_id "
            "option or AEM_IMS_TECHNICAL_ACCOUNT_ID and integration.id in the %s" % label(files["id_missing"]),
            "technical_account_id (the JWT subject, ...@techacct.adobe.com) is missing: looked in %s and integration.id in the %s"
            % (lookup_sources("technical_account_id"), label(files["id_missing"])),
        ),
        (
            "metascopes_a_number",
            cred("metascopes_number"),
            {},
            "integration.metascopes in %s must be a list or a comma-separated string, got a number" % label(files["metascopes_number"]),
        ),
        # JSON's false, not Python's False.
        (
            "console_error_answer",
            cred("error_answer"),
            {},
            "%s is an error answer from the AEM Developer Console (ok=false, statusCode=403), not service "
            "credentials: download them again" % label(files["error_answer"]),
        ),
        ("public_key_not_pem", cred("public_key_garbage"), {}, "publicKey in %s is not a PEM certificate" % label(files["public_key_garbage"])),
        (
            "expiration_date_not_iso",
            cred("expiration_garbage"),
            {},
            "certificateExpirationDate in %s is not an ISO-8601 date" % label(files["expiration_garbage"]),
        ),
        # AEM service credentials are JWT only: a blank privateKey must be reported as a missing key, not as missing OAuth scopes.
        (
            "private_key_blank",
            cred("private_key_blank"),
            {},
            "auth_method is jwt but no private key was found: looked in the private_key option or "
            "AEM_IMS_PRIVATE_KEY, the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE and the %s" % label(files["private_key_blank"]),
            "auth_method is jwt but no private key was found: looked in %s, %s and the %s"
            % (lookup_sources("private_key", ini=False), lookup_sources("private_key_file"), label(files["private_key_blank"])),
        ),
        (
            "unknown_shape",
            cred("unknown_shape"),
            {},
            "%s has an unknown shape (top-level keys: foo, api_key): expected AEM service credentials (an "
            "'integration' object), an Adobe Developer Console project JSON, an OAuth Server-to-Server JSON or an aio-lib-ims context"
            % label(files["unknown_shape"]),
        ),
        # --- files that are not JSON objects ---
        ("json_truncated", cred("truncated_json"), {}, "%s is not valid JSON: %s" % (label(files["truncated_json"]), _json_error(truncated_json))),
        ("json_array", cred("json_array"), {}, "%s must hold a JSON object, got a list" % label(files["json_array"])),
        ("json_empty_file", cred("empty"), {}, "%s is empty" % label(files["empty"])),
        ("json_not_utf8", cred("not_utf8"), {}, "%s is not UTF-8 text" % label(files["not_utf8"])),
        (
            "file_huge",
            cred("huge"),
            {},
            "%s is too large (%d bytes; credentials are a few KiB, the limit is 1048576 bytes)" % (label(files["huge"]), os.path.getsize(files["huge"])),
        ),
        (
            "file_missing",
            {"service_credentials_file": str(missing)},
            {},
            "service credentials file %s (from the task argument service_credentials_file) does not exist" % missing,
        ),
        (
            "file_under_a_file",
            {"service_credentials_file": str(under_a_file)},
            {},
            "service credentials file %s (from the task argument service_credentials_file) does not exist" % under_a_file,
        ),
        ("file_is_a_directory", {"service_credentials_file": str(a_directory)}, {}, "service credentials file %s is a directory, not a file" % a_directory),
        (
            "private_key_file_missing",
            dict(good_args, private_key_file=str(missing)),
            {},
            "private_key_file %s (from the task argument private_key_file) does not exist" % missing,
        ),
        # --- private keys ---
        (
            "pem_truncated",
            cred("truncated_pem"),
            {},
            "the private key from integration.privateKey in the %s is truncated: its '-----END RSA PRIVATE KEY-----' "
            "line is missing" % label(files["truncated_pem"]),
        ),
        (
            "pem_damaged_body",
            cred("damaged_pem"),
            {},
            "the private key from integration.privateKey in the %s could not be loaded: the PEM body is damaged or "
            "not a supported key" % label(files["damaged_pem"]),
        ),
        (
            "passphrase_wrong",
            {"service_credentials_file": str(encrypted_file), "private_key_file": str(encrypted_key), **net},
            {"private_key_passphrase": wrong_passphrase},
            "private_key_passphrase is wrong or the PEM is damaged: the private key from private_key_file %s could not be decrypted" % encrypted_key,
        ),
        (
            "passphrase_missing",
            {"service_credentials_file": str(encrypted_file), "private_key_file": str(encrypted_key), **net},
            {},
            "the private key from private_key_file %s is encrypted: set private_key_passphrase (or AEM_IMS_PRIVATE_KEY_PASSPHRASE)" % encrypted_key,
            # The lookup names every place it reads the passphrase from (issue 21).
            "the private key from private_key_file %s is encrypted: set private_key_passphrase (or variable aem_ims_private_key_passphrase "
            "or environment variable AEM_IMS_PRIVATE_KEY_PASSPHRASE)" % encrypted_key,
        ),
        (
            "key_is_a_certificate",
            dict(good_args, private_key_file=str(certificate)),
            {},
            "the private key from private_key_file %s is a certificate, not a private key" % certificate,
        ),
        (
            "key_is_a_public_key",
            dict(good_args, private_key_file=str(public)),
            {},
            "the private key from private_key_file %s is a public key, not a private key" % public,
        ),
        (
            "key_is_openssh",
            dict(good_args, private_key_file=str(openssh)),
            {},
            "the private key from private_key_file %s is in OpenSSH format; IMS needs a PEM RSA key (PKCS#1 or PKCS#8)" % openssh,
        ),
        (
            "key_is_ec",
            dict(good_args, private_key_file=str(ec_key), **net),
            {},
            "the private key from private_key_file %s is an EC key: IMS signs with RS256 and needs an RSA key" % ec_key,
        ),
        (
            "key_inline_not_pem",
            dict(good_args),
            {"private_key": "this is not a key at all"},
            "the private key from the task argument private_key is not a PEM private key: no '-----BEGIN ... PRIVATE KEY-----' line",
        ),
        # --- options ---
        (
            "option_unknown",
            dict(good_args, colour="blue"),
            {},
            "Unsupported option(s) for aemops.ims.aem_ims_token: colour. Supported options: %s" % ", ".join(MODULE_SUPPORTED),
            "Unsupported option(s) for aemops.ims.aem_ims_token: colour. Supported options: %s" % ", ".join(LOOKUP_SUPPORTED),
        ),
        (
            "endpoint_with_path",
            dict(good_args, ims_endpoint="ims-na1.adobelogin.com/ims/exchange"),
            {},
            "ims_endpoint must be %s, without a path, query or user (got 'ims-na1.adobelogin.com/ims/exchange')" % ENDPOINT_EXAMPLE,
        ),
        (
            "endpoint_with_query",
            dict(good_args, ims_endpoint="https://ims-na1.adobelogin.com?env=stage"),
            {},
            "ims_endpoint must be %s, without a path, query or user (got 'https://ims-na1.adobelogin.com?env=stage')" % ENDPOINT_EXAMPLE,
        ),
        (
            "endpoint_with_user",
            dict(good_args, ims_endpoint="admin@ims-na1.adobelogin.com"),
            {},
            "ims_endpoint must be %s, without a path, query or user (got 'admin@ims-na1.adobelogin.com')" % ENDPOINT_EXAMPLE,
        ),
        (
            "endpoint_ftp",
            dict(good_args, ims_endpoint="ftp://ims-na1.adobelogin.com"),
            {},
            "ims_endpoint must be %s, not a ftp:// URL (got 'ftp://ims-na1.adobelogin.com')" % ENDPOINT_EXAMPLE,
        ),
        (
            "endpoint_plain_http",
            dict(good_args, ims_endpoint="http://ims-na1.adobelogin.com"),
            {},
            "ims_endpoint uses http:// for ims-na1.adobelogin.com: IMS must be reached over https:// (plain http is allowed only for a loopback test server)",
        ),
        (
            "endpoint_bad_port",
            dict(good_args, ims_endpoint="ims-na1.adobelogin.com:99999"),
            {},
            "ims_endpoint has an invalid port (got 'ims-na1.adobelogin.com:99999')",
        ),
        (
            "endpoint_port_not_a_number",
            dict(good_args, ims_endpoint="ims-na1.adobelogin.com:https"),
            {},
            "ims_endpoint has an invalid port (got 'ims-na1.adobelogin.com:https')",
        ),
        ("timeout_negative", dict(good_args, timeout=-5), {}, "timeout must be between 1 and 600, got -5.0"),
        ("jwt_lifetime_5", dict(good_args, jwt_lifetime=5), {}, "jwt_lifetime must be between 10 and 86400, got 5"),
        ("retries_11", dict(good_args, retries=11), {}, "retries must be between 0 and 10, got 11"),
        ("refresh_margin_negative", dict(good_args, refresh_margin=-1), {}, "refresh_margin must be between 0 and 86400, got -1"),
        ("cache_sometimes", dict(good_args, cache="sometimes"), {}, "cache must be one of run, persistent, off, got 'sometimes'"),
        ("auth_method_unknown", dict(good_args, auth_method="saml"), {}, "auth_method must be one of auto, jwt, oauth_server_to_server, got 'saml'"),
        (
            "cache_dir_world_writable",
            dict(good_args, cache="persistent", cache_dir=str(world_writable)),
            {},
            "cache_dir %s is writable by other users (mode 0777): refusing to keep tokens there; run chmod 700 on it or choose another cache_dir"
            % world_writable,
        ),
        ("cache_dir_is_a_file", dict(good_args, cache="persistent", cache_dir=str(regular)), {}, "cache_dir %s is not a directory" % regular),
        ("ca_path_missing", dict(good_args, ca_path=str(missing)), {}, "ca_path %s does not exist: it must be a PEM file of CA certificates" % missing),
        (
            "ca_path_a_directory",
            dict(good_args, ca_path=str(a_directory)),
            {},
            "ca_path %s is not a file: it must be a PEM file of CA certificates" % a_directory,
        ),
        ("proxy_url_without_scheme", dict(good_args), {"proxy_url": "proxy.example.com:3128"}, "proxy_url must look like http://[user:password@]host:port"),
        ("metascopes_a_dict", dict(good_args, metascopes={"ent_aem_cloud_api": True}), {}, "metascopes must be a list of strings, got a dict"),
        ("client_id_a_list", dict(good_args, client_id=["cm-p1-e2-integration"]), {}, "client_id must be a string, got a list"),
        # Ansible's words for an integer, whichever plugin reads it (not a Python class name such as _AnsibleTaggedInt).
        ("service_credentials_an_integer", {"service_credentials": 42}, {}, "service_credentials must be a dict or a JSON string, got an int"),
        (
            "service_credentials_a_path",
            {"service_credentials": "/etc/aem/service-credentials.json"},
            {},
            "service_credentials holds a file name, not JSON: use service_credentials_file for a path",
        ),
        (
            "service_credentials_broken_json",
            {},
            {"service_credentials": broken_inline},
            "service_credentials is not valid JSON: %s" % _json_error(broken_inline),
        ),
        (
            "both_credentials_and_file",
            dict(good_args),
            {"service_credentials": aem},
            "service_credentials (from the task argument service_credentials) and service_credentials_file (from the task argument service_credentials_file) "
            "are both set: set only one",
        ),
        (
            "both_private_key_and_file",
            dict(good_args, private_key_file=str(encrypted_key)),
            {"private_key": good.integration["private_key_pem"]},
            "private_key (from the task argument private_key) and private_key_file (from the task argument private_key_file) are both set: set only one",
        ),
        ("fact_name_invalid", dict(good_args, fact_name="1-token"), {}, "fact_name must be a valid variable name, got '1-token'", None, True),
        # --- the token's lifecycle ---
        ("validate_maybe", dict(good_args, validate="maybe"), {}, "validate must be a boolean (true or false), got 'maybe'"),
        ("state_gone", dict(good_args, state="gone"), {}, "state must be one of present, absent, got 'gone'", None, True),
        (
            "access_token_without_state_absent",
            good_args,
            {"access_token": a_token},
            "access_token is the token to revoke with state=absent; state is present",
            None,
            True,
        ),
        # A lookup returns a token: it has nothing to revoke.
        (
            "state_absent_in_the_lookup",
            dict(good_args, state="absent"),
            {},
            None,
            "Unsupported option(s) for aemops.ims.aem_ims_token: state. Supported options: %s" % ", ".join(LOOKUP_SUPPORTED),
            False,
            True,
        ),
        # --- Adobe Developer Console projects ---
        (
            "console_no_usable_credential",
            dict(cred("console_no_usable"), **net),
            {},
            "%s holds no JWT or OAuth Server-to-Server credential (credentials: web-app)" % label(files["console_no_usable"]),
        ),
        (
            "console_unknown_credential_name",
            dict(cred("console_single"), credential_name="nope", **net),
            {},
            "credential_name 'nope' matches no credential in %s (credentials: %s)" % (label(files["console_single"]), console_name),
        ),
    ]
    # --- issue 11: refused before any request ---
    refused_endpoint = (
        "integration.imsEndpoint in the %s names the IMS endpoint https://%s, which is not an Adobe IMS host (*.adobelogin.com), and %s, "
        "not from that document: refusing to use it there. Set ims_endpoint explicitly to use that endpoint"
    )
    cases += [
        (
            "endpoint_from_the_file_secret_from_an_option",
            dict(good_args),
            {"client_secret": vaulted_secret},
            refused_endpoint % (label(good_file), endpoint, "the client_secret comes from the task argument client_secret"),
        ),
        (
            "endpoint_from_the_file_key_from_an_option",
            dict(good_args, private_key_file=str(good_key)),
            {},
            refused_endpoint % (label(good_file), endpoint, "the private key comes from the task argument private_key_file"),
        ),
        ("file_is_a_fifo", {"service_credentials_file": str(fifo)}, {}, "service credentials file %s is not a regular file" % fifo),
    ]
    cases += first_hour_cases(good, files, label, good_args, net)
    if importlib.util.find_spec("socks") is None:
        # requests speaks SOCKS only with PySocks, which the collection does not require.
        cases.append(
            (
                "proxy_url_socks5h_without_pysocks",
                dict(good_args),
                {"proxy_url": "socks5h://socksuser:%s@127.0.0.1:1080" % socks_password},
                "proxy_url is a socks5h:// proxy, which needs the Python package PySocks on the Ansible controller: pip install 'requests[socks]', "
                "or use an http:// proxy",
            )
        )
    if os.geteuid() == 0:
        # Only root can give a symbolic link to another user.
        private = directory / "private-cache"
        private.mkdir(mode=0o700)
        foreign_link = directory / "foreign-cache-link"
        foreign_link.symlink_to(private)
        os.lchown(foreign_link, 65534, 65534)
        cases.append(
            (
                "cache_dir_another_users_symlink",
                dict(good_args, cache="persistent", cache_dir=str(foreign_link)),
                {},
                "cache_dir %s is a symbolic link owned by uid 65534, neither you (uid 0) nor root: its owner could re-point it; refusing to keep "
                "tokens there; choose another cache_dir" % foreign_link,
            )
        )
    if os.geteuid() != 0:
        # root reads a 0000 file anyway, so this case exists only for other users.
        cases.append(
            (
                "file_unreadable",
                {"service_credentials_file": str(unreadable)},
                {},
                "service credentials file %s is not readable: permission denied" % unreadable,
            )
        )
    normalised = []
    for case in cases:
        name, args, secret_args, message = case[:4]
        if name in CHECKED_OPTION:
            # The strict pass ends its message with where the value came from.
            message += " (from the task argument %s)" % CHECKED_OPTION[name]
        # The same message from the lookup, but for the word for where a value came from.
        lookup_message = case[4] if len(case) > 4 and case[4] else (message and message.replace("the task argument ", "the keyword "))
        module_only = len(case) > 5 and case[5]
        lookup_only = len(case) > 6 and case[6]
        normalised.append((name, args, secret_args, message, lookup_message, module_only, lookup_only))
    extra_secrets = [wrong_passphrase, broken_inline, encrypted.integration["passphrase"], a_token, socks_password]
    for pem in (openssh_pem.decode("ascii"), ec_pem.decode("ascii")):
        extra_secrets.append(pem)
    return normalised, extra_secrets


# The inputs the strict pass refuses (plugins/module_utils/_settings.py), and the option each one names.
CHECKED_OPTION = {
    "access_token_without_state_absent": "access_token",
    "auth_method_unknown": "auth_method",
    "ca_path_a_directory": "ca_path",
    "ca_path_missing": "ca_path",
    "cache_sometimes": "cache",
    "client_id_a_list": "client_id",
    "endpoint_bad_port": "ims_endpoint",
    "endpoint_ftp": "ims_endpoint",
    "endpoint_plain_http": "ims_endpoint",
    "endpoint_port_not_a_number": "ims_endpoint",
    "endpoint_with_path": "ims_endpoint",
    "endpoint_with_query": "ims_endpoint",
    "endpoint_with_user": "ims_endpoint",
    "fact_name_invalid": "fact_name",
    "jwt_lifetime_5": "jwt_lifetime",
    "metascopes_a_dict": "metascopes",
    "proxy_url_without_scheme": "proxy_url",
    "refresh_margin_negative": "refresh_margin",
    "retries_11": "retries",
    "service_credentials_an_integer": "service_credentials",
    "state_gone": "state",
    "timeout_negative": "timeout",
    "validate_maybe": "validate",
}


def first_hour_cases(good, files, label, good_args, net):
    """Issue 21: the mistakes of a new user's first hour, each with its own diagnosis, refused before any request."""
    integration = good.integration["formats"]["aem_service_credentials"]["integration"]
    identity_help = "copy it from the credentials (org in AEM service credentials, ims_org_id in the project JSON)"
    account_help = "copy it from the credentials (id in AEM service credentials, technical_account_id in the project JSON)"
    twice_escaped = good.integration["private_key_pem"].strip().replace("\n", "\\\\n")
    no_credentials = (
        "no credentials were given: set %s, or the single fields client_id and client_secret with scopes (OAuth Server-to-Server) or with "
        "org_id, technical_account_id and private_key_file (JWT), %s. In AWX or Ansible Automation Platform, attach the collection's AEM IMS "
        "credential to the job template: it sets the AEM_IMS_* variables"
    )
    console_without_key = (
        "the %s holds a JWT credential, and a Developer Console project JSON never carries the private key of a JWT credential: set "
        "private_key_file to the private.key file downloaded (or generated) with the credential, looked for in %s"
    )
    return [
        (
            "no_credentials_at_all",
            {},
            {},
            no_credentials
            % (
                "service_credentials_file (a credentials file), service_credentials (inline JSON or a dict)",
                "as task arguments or AEM_IMS_* environment variables",
            ),
            no_credentials
            % (
                "a term or service_credentials_file (a credentials file), service_credentials (inline JSON or a dict)",
                "as keywords, aem_ims_* variables or AEM_IMS_* environment variables",
            ),
        ),
        (
            "console_jwt_without_a_key",
            dict({"service_credentials_file": str(files["console_single"])}, **net),
            {},
            console_without_key % (label(files["console_single"]), "the private_key_file option or AEM_IMS_PRIVATE_KEY_FILE"),
            console_without_key % (label(files["console_single"]), lookup_sources("private_key_file")),
        ),
        (
            "org_id_without_adobeorg",
            dict(good_args, org_id="0123456789ABCDEF01234567"),
            {},
            "org_id from the task argument org_id must be an IMS organization ID of the form <ID>@AdobeOrg, got '0123456789ABCDEF01234567': " + identity_help,
        ),
        (
            "technical_account_id_not_techacct",
            dict(good_args, technical_account_id="89ABCDEF0123456789ABCDEF@example.com"),
            {},
            "technical_account_id from the task argument technical_account_id must be a technical account ID of the form <ID>@techacct.adobe.com, "
            "got '89ABCDEF0123456789ABCDEF@example.com': " + account_help,
        ),
        (
            "technical_account_email_as_id",
            dict(good_args, technical_account_id=integration["email"]),
            {},
            "technical_account_id from the task argument technical_account_id is the technical account's email (integration.email in the %s), not "
            "its ID: use the other ...@techacct.adobe.com value of the credentials (id in AEM service credentials, technical_account_id in "
            "the project JSON)" % label(good_args["service_credentials_file"]),
        ),
        (
            "private_key_escaped_twice",
            dict(good_args),
            {"private_key": twice_escaped},
            "the private key from the task argument private_key holds literal backslashes, as when its line breaks are escaped twice: give the "
            "key with real line breaks, or escaped once",
        ),
    ]


# Before 2.19, ansible-core templates "{{ case_args.x }}" in module arguments to text: the module
# receives "42" (JSON text holding a number) where 2.19+ hands it the integer. The lookup gets its
# keywords as they are on every line.
MODULE_MESSAGES_BEFORE_2_19 = {"service_credentials_an_integer": "service_credentials must hold a JSON object, got a number"}


def _module_playbook():
    lines = "".join('\n        %s: "{{ case_args.%s | default(omit) }}"' % (name, name) for name in MODULE_OPTIONS)
    return (
        PLAY
        + """
    - name: module - bad input
      aemops.ims.aem_ims_token:{lines}
      vars:
        case_args: "{{{{ item.args | combine(case_secrets[item.name] | default({{}})) }}}}"
      loop: "{{{{ cases }}}}"
      loop_control:
        label: "{{{{ item.name }}}}"
      register: module_results
      ignore_errors: true

    - name: Keep the results for the test (hidden)
      ansible.builtin.copy:
        content: "{{{{ module_results.results | to_json }}}}"
        dest: "{{{{ workspace }}}}/module.json"
        mode: "0600"
      no_log: true
""".format(lines=lines)
    )


def _lookup_playbook(count):
    """One task per case rather than a loop: before 2.19, ansible-core ends a whole loop at the
    first item whose arguments fail to template (a failing lookup does), with no per-item results."""
    playbook = PLAY
    for index in range(count):
        playbook += """
    - name: lookup - bad input {index}
      ansible.builtin.set_fact:
        looked_up: "{{{{ lookup('aemops.ims.aem_ims_token', **case_args) }}}}"
      vars:
        case: "{{{{ cases[{index}] }}}}"
        case_args: "{{{{ case.args | combine(case_secrets[case.name] | default({{}})) }}}}"
      register: lookup_{index}
      ignore_errors: true
""".format(index=index)
    results = ", ".join("lookup_%d | combine({'item': cases[%d]})" % (index, index) for index in range(count))
    return (
        playbook
        + """
    - name: Keep the results for the test (hidden)
      ansible.builtin.copy:
        content: "{{{{ [{results}] | to_json }}}}"
        dest: "{{{{ workspace }}}}/lookup.json"
        mode: "0600"
      no_log: true
""".format(results=results)
    )


def test_bad_input_catalogue_module_and_lookup(ansible, make_credentials, fresh_emulator, tmp_path, record_property, lookup_message, core_line):
    emulator = fresh_emulator
    good = make_credentials()
    encrypted = make_credentials(key_format="pkcs8", passphrase="pp-" + random.token_urlsafe(12))
    directory = tmp_path / "catalogue"
    directory.mkdir(mode=0o700)
    cases, extra_secrets = build_catalogue(good, encrypted, emulator, directory)
    names = [case[0] for case in cases]
    assert len(names) == len(set(names))
    assert len(cases) >= 30

    # Safety net: a case that wrongly passed validation would fail fast instead of waiting on a network.
    def item(case):
        name, args = case[:2]
        return {"name": name, "args": dict({"timeout": 5, "retries": 0}, **args)}

    secret_vars = {"case_secrets": {case[0]: case[2] for case in cases if case[2]}}
    module_cases = [case for case in cases if not case[6]]
    module_run = ansible.run(_module_playbook(), extra_vars={"cases": [item(case) for case in module_cases]}, secret_vars=secret_vars, name="module.yml")
    module_run.assert_ok()
    module_results = {entry["item"]["name"]: entry for entry in module_run.result_file("module.json")}
    lookup_cases = [case for case in cases if not case[5]]
    lookup_run = ansible.run(
        _lookup_playbook(len(lookup_cases)), extra_vars={"cases": [item(case) for case in lookup_cases]}, secret_vars=secret_vars, name="lookup.yml"
    )
    lookup_run.assert_ok()
    lookup_results = {entry["item"]["name"]: entry for entry in lookup_run.result_file("lookup.json")}

    problems = []
    module_messages = set(module_run.failure_messages())
    for name, _args, _secret_args, message, lookup_expected, module_only, lookup_only in cases:
        if core_line < (2, 19):
            message = MODULE_MESSAGES_BEFORE_2_19.get(name, message)
        result = module_results.get(name, {}) if not lookup_only else {"failed": True, "msg": message}
        got = result.get("msg")
        if result.get("failed") is not True or "access_token" in result:
            problems.append("%s (module): did not fail" % name)
        elif got != message:
            problems.append("%s (module):\n    expected: %s\n    got:      %s" % (name, message, got))
        elif message not in module_messages and not lookup_only:
            problems.append("%s (module): the message is not in the -vvvv output" % name)
        if isinstance(got, str) and ("\n" in got or "Traceback" in got):
            problems.append("%s (module): the message is not one line" % name)
        if module_only:
            continue
        result = lookup_results[name]
        wrapped = result.get("msg") or ""
        if result.get("failed") is not True:
            problems.append("%s (lookup): did not fail" % name)
            continue
        try:
            core = lookup_message(wrapped)
        except AssertionError:
            problems.append("%s (lookup): not a failure of the lookup: %s" % (name, wrapped))
            continue
        if core != lookup_expected:
            problems.append("%s (lookup):\n    expected: %s\n    got:      %s" % (name, lookup_expected, core))
        as_keyword = message and message.replace("the task argument ", "the keyword ")
        if lookup_expected == as_keyword and isinstance(got, str) and core != got.replace("the task argument ", "the keyword "):
            problems.append("%s: module and lookup differ:\n    module: %s\n    lookup: %s" % (name, got, core))
        if "\n" in wrapped:
            problems.append("%s (lookup): the message is not one line" % name)

    record_property("catalogue_inputs", len(cases))
    print("\nbad-input catalogue: %d inputs through the module, %d through the lookup" % (len(cases), len(lookup_cases)))
    # Nothing went over the network: every input was refused locally.
    stats = emulator.stats()
    secrets = good.secrets + encrypted.secrets + extra_secrets
    for run in (module_run, lookup_run):
        assert "Traceback" not in run.output
        assert "unexpected internal error" not in run.output
        run.assert_no_secrets(*secrets)
    assert stats["token_requests"] == 0, stats
    assert not problems, "%d of %d inputs give the wrong message:\n%s" % (len(problems), len(cases), "\n".join(problems))
