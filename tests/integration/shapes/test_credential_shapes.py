# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every credential shape, JWT and OAuth Server-to-Server, through the module AND the lookup.

Each playbook batches many cases; every case is run with `cache: off` so that each plugin
call is a real exchange that the emulator counts. Tokens are read back from files that
the playbook writes under no_log and checked with the emulator (valid, issued to the
right client); nothing secret may reach stdout, stderr or the Ansible log.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as random
from pathlib import Path

from ansible_collections.aemops.ims.tests.support.plays import PLAY, lookup_task, module_task


def assert_no_traceback(run):
    assert "Traceback" not in run.output, "a traceback reached the output"
    assert "unexpected internal error" not in run.output, "an unexpected internal error reached the output"


# What the emulator gives every OAuth integration (tests/ims_emulator/ims_emulator.py DEFAULT_SCOPES).
DEFAULT_SCOPES = ["openid", "AdobeID", "read_organizations", "additional_info.projectedProductContext", "aem.document"]


def _options(args):
    """Options whose values are variables, with ca_path and cache off."""
    written = {option: '"{{ %s }}"' % variable for option, variable in args.items()}
    written.update(ca_path='"{{ ca_path }}"', cache='"off"')
    return written


def _terms(args):
    return "".join("%s=%s, " % (option, variable) for option, variable in args.items()) + "ca_path=ca_path, cache='off'"


def _module_task(name, args):
    return module_task("module - " + name, _options(args), register="m_" + name, failing=True)


def _lookup_task(name, args):
    # ignore_errors so that one broken case does not hide the others; lr_ keeps a failure's message.
    return lookup_task("lookup - " + name, _terms(args), "l_" + name, result="lr_" + name)


def _looked_up(name):
    """Jinja: the lookup's token, or its failure message."""
    return "'l_{0}': l_{0} | default(None), 'lr_{0}': lr_{0}.msg | default(None)".format(name)


def _failing_module_task(name, args):
    return module_task("module fails - " + name, _options(args), register="m_" + name, failing=True)


def _failing_lookup_task(name, args):
    # Not no_log: the failure's message is what is checked, in the output too.
    return lookup_task("lookup fails - " + name, _terms(args), "l_" + name, result="lr_" + name, no_log=False)


def _certificate_date(credentials):
    return credentials.integration["certificate_expiration_date"].replace(".000Z", "Z")


def test_every_shape_through_module_and_lookup(ansible, make_credentials, emulator, origin, save, requests_for, issued_for, token_owner, claims, check_jwts):
    passphrase = "pp-" + random.token_urlsafe(12)
    aem = make_credentials()
    console_jwt = make_credentials(key_format="pkcs8")
    console_oauth = make_credentials(kind="oauth")
    multi_jwt = make_credentials()
    multi_oauth = make_credentials(kind="oauth")
    flat = make_credentials(kind="oauth")
    aio_jwt = make_credentials(key_format="pkcs8", passphrase=passphrase)
    aio_oauth = make_credentials(kind="oauth", client_secrets=2)
    metascoped = make_credentials(metascopes=["ent_aem_cloud_api", "ent_cloudmgr_sdk"])

    shipped = aem.integration["formats"]["aem_service_credentials"]["integration"]["privateKey"]
    assert "\r\n" in shipped and shipped.startswith("-----BEGIN RSA PRIVATE KEY-----")

    def escaped_newlines(document):
        # The key as text with literal backslash-n sequences, as pasted into variables and CI settings.
        document["integration"]["privateKey"] = shipped.replace("\r\n", "\\n")

    def base64_pem(document):
        document["integration"]["privateKey"] = base64.b64encode(shipped.encode("ascii")).decode("ascii")

    def several_credentials(document):
        credentials = document["project"]["workspace"]["details"]["credentials"]
        oauth_credential = multi_oauth.integration["formats"]["developer_console_project"]["project"]["workspace"]["details"]["credentials"][0]
        credentials.append(json.loads(json.dumps(oauth_credential)))
        credentials[0]["id"], credentials[1]["id"] = "100001", "100002"

    def mixed_metascopes(document):
        document["integration"]["metascopes"] = "/s/ent_cloudmgr_sdk, https://%s/s/ent_aem_cloud_api,ent_cloudmgr_sdk,/s/ent_aem_cloud_api" % emulator.endpoint

    multi_file = multi_jwt.write("developer_console_project", name="several.json", transform=several_credentials)
    multi_names = [item["name"] for item in json.loads(multi_file.read_text())["project"]["workspace"]["details"]["credentials"]]

    extra_vars = {
        "ca_path": emulator.ca_path,
        "ims_endpoint": emulator.endpoint,
        "aem_shipped": str(aem.write()),
        "aem_escaped": str(aem.write(name="escaped.json", transform=escaped_newlines)),
        "aem_base64": str(aem.write(name="base64.json", transform=base64_pem)),
        "console_jwt_file": str(console_jwt.write("developer_console_project")),
        "console_jwt_key": str(console_jwt.write_private_key()),
        "console_oauth_file": str(console_oauth.write("developer_console_project")),
        "multi_file": str(multi_file),
        "multi_jwt_key": str(multi_jwt.write_private_key()),
        "multi_oauth_name": multi_names[1],
        "multi_jwt_id": "100001",
        "flat_file": str(flat.write("oauth_s2s_flat")),
        "aio_jwt_file": str(aio_jwt.write("aio_context")),
        "aio_oauth_file": str(aio_oauth.write("aio_context")),
        "metascoped_file": str(metascoped.write()),
        "metascoped_mixed_file": str(metascoped.write(name="mixed-metascopes.json", transform=mixed_metascopes)),
        "metascopes_mixed": [
            "ent_aem_cloud_api",
            "/s/ent_cloudmgr_sdk",
            "https://%s/s/ent_aem_cloud_api" % emulator.endpoint,
            "https://ims-na1.adobelogin.com/s/ent_cloudmgr_sdk",
            "ent_aem_cloud_api",
        ],
    }
    # name: (integration, plugin arguments -> variable, credentials_format, auth_method, metascopes or scopes, email)
    cases = {
        "aem_shipped": (aem, {"service_credentials_file": "aem_shipped"}, "aem_service_credentials", "jwt", ["ent_aem_cloud_api"]),
        "aem_escaped": (aem, {"service_credentials_file": "aem_escaped"}, "aem_service_credentials", "jwt", ["ent_aem_cloud_api"]),
        "aem_base64": (aem, {"service_credentials_file": "aem_base64"}, "aem_service_credentials", "jwt", ["ent_aem_cloud_api"]),
        "console_jwt": (
            console_jwt,
            {"service_credentials_file": "console_jwt_file", "private_key_file": "console_jwt_key", "ims_endpoint": "ims_endpoint"},
            "developer_console_project",
            "jwt",
            ["ent_aem_cloud_api"],
        ),
        "console_oauth": (
            console_oauth,
            {"service_credentials_file": "console_oauth_file", "ims_endpoint": "ims_endpoint"},
            "developer_console_project",
            "oauth_server_to_server",
            DEFAULT_SCOPES,
        ),
        "console_by_name": (
            multi_oauth,
            {"service_credentials_file": "multi_file", "credential_name": "multi_oauth_name", "ims_endpoint": "ims_endpoint"},
            "developer_console_project",
            "oauth_server_to_server",
            DEFAULT_SCOPES,
        ),
        "console_by_id": (
            multi_jwt,
            {"service_credentials_file": "multi_file", "credential_id": "multi_jwt_id", "private_key_file": "multi_jwt_key", "ims_endpoint": "ims_endpoint"},
            "developer_console_project",
            "jwt",
            ["ent_aem_cloud_api"],
        ),
        "flat_s2s": (
            flat,
            {"service_credentials_file": "flat_file", "ims_endpoint": "ims_endpoint"},
            "oauth_s2s_flat",
            "oauth_server_to_server",
            DEFAULT_SCOPES,
        ),
        "aio_jwt": (aio_jwt, {"service_credentials_file": "aio_jwt_file", "ims_endpoint": "ims_endpoint"}, "aio_context", "jwt", ["ent_aem_cloud_api"]),
        "aio_oauth": (
            aio_oauth,
            {"service_credentials_file": "aio_oauth_file", "ims_endpoint": "ims_endpoint"},
            "aio_context",
            "oauth_server_to_server",
            DEFAULT_SCOPES,
        ),
        "metascopes_option": (
            metascoped,
            {"service_credentials_file": "metascoped_file", "metascopes": "metascopes_mixed"},
            "aem_service_credentials",
            "jwt",
            ["ent_aem_cloud_api", "ent_cloudmgr_sdk"],
        ),
        "metascopes_file": (
            metascoped,
            {"service_credentials_file": "metascoped_mixed_file"},
            "aem_service_credentials",
            "jwt",
            ["ent_cloudmgr_sdk", "ent_aem_cloud_api"],
        ),
    }
    # The emulator made the shapes that are being tested.
    written = {name: json.loads(Path(extra_vars[name]).read_text(encoding="utf-8")) for name in ("aio_jwt_file", "aio_oauth_file", "aem_escaped")}
    assert "passphrase" in written["aio_jwt_file"]
    assert "BEGIN ENCRYPTED PRIVATE KEY" in aio_jwt.integration["private_key_pem"]
    assert len(written["aio_oauth_file"]["client_secrets"]) == 2
    assert "\\n" in written["aem_escaped"]["integration"]["privateKey"] and "\r" not in written["aem_escaped"]["integration"]["privateKey"]

    playbook = PLAY
    for name, (_integration, args, _fmt, _method, _scopes) in cases.items():
        playbook += _module_task(name, args) + _lookup_task(name, args)
    playbook += save("{%s}" % ", ".join("'m_%s': m_%s, %s" % (name, name, _looked_up(name)) for name in cases))
    run = ansible.run(playbook, extra_vars=extra_vars)
    run.assert_ok()
    assert_no_traceback(run)
    result = run.result_file()

    tokens, problems = [], []
    org_of = {name: (multi_jwt if case[1].get("service_credentials_file") == "multi_file" else case[0]).integration["org_id"] for name, case in cases.items()}
    for name, (integration, _args, fmt, method, scopes) in cases.items():
        module, looked_up = result["m_" + name], result["l_" + name]
        if module.get("failed") or looked_up is None:
            problems.append("%s: failed: module: %s; lookup: %s" % (name, module.get("msg"), result["lr_" + name]))
            continue
        token = module.get("access_token")
        tokens.extend([token, looked_up])
        expected = {
            "client_id": integration.client_id,
            "credentials_format": fmt,
            "auth_method": method,
            "ims_endpoint": origin,
            "email": integration.integration["email"],
            "token_type": "bearer",
            "cached": False,
            "changed": False,
            # The org header is the document's: the several-credentials project is multi_jwt's, whatever credential is picked.
            "headers": {"Authorization": "Bearer %s" % token, "x-api-key": integration.client_id, "x-gw-ims-org-id": org_of[name]},
            ("metascopes" if method == "jwt" else "scopes"): scopes,
        }
        got = {key: module.get(key) for key in expected}
        if got != expected:
            problems.append("%s: module result differs:\n  expected %s\n  got      %s" % (name, expected, got))
        absent = "scopes" if method == "jwt" else "metascopes"
        if absent in module:
            problems.append("%s: the module result has %s for auth_method %s" % (name, absent, method))
        # JWT exchange answers milliseconds, /ims/token/v3 seconds: both must come out as ~86399 seconds.
        if not (isinstance(module.get("expires_in"), int) and 86390 <= module["expires_in"] <= 86400):
            problems.append("%s: expires_in %r is not about 86399 seconds" % (name, module.get("expires_in")))
        if token_owner(token) != integration.client_id:
            problems.append("%s: the module's token is not a valid token of %s" % (name, integration.client_id))
        if token_owner(looked_up) != integration.client_id:
            problems.append("%s: the lookup's token is not a valid token of %s" % (name, integration.client_id))
        if token == looked_up:
            problems.append("%s: module and lookup returned the same token although cache is off" % name)
        granted = set(claims(token)["scope"].split(","))
        if granted != set(scopes):
            problems.append("%s: the token was granted %s, expected %s" % (name, sorted(granted), sorted(scopes)))
        if fmt == "aem_service_credentials" and module.get("certificate_expires_at") != _certificate_date(integration):
            problems.append("%s: certificate_expires_at %r" % (name, module.get("certificate_expires_at")))

    # One exchange per plugin call, no more: cache is off and nothing is retried.
    per_integration = {}
    for name, (integration, *_rest) in cases.items():
        per_integration.setdefault(integration.client_id, [0, []])
        per_integration[integration.client_id][0] += 2
        per_integration[integration.client_id][1].append(name)
    for client_id, (count, names) in per_integration.items():
        if (requests_for(client_id), issued_for(client_id)) != (count, count):
            problems.append(
                "%s: the emulator counted %d requests and %d tokens, expected %d" % ("/".join(names), requests_for(client_id), issued_for(client_id), count)
            )
    if len(set(tokens)) != len(tokens):
        problems.append("some plugin calls returned the same token although cache is off")

    secrets = []
    for integration in (aem, console_jwt, console_oauth, multi_jwt, multi_oauth, flat, aio_jwt, aio_oauth, metascoped):
        secrets.extend(integration.secrets)
    run.assert_no_secrets(*[token for token in tokens if token], *secrets)
    assert not problems, "\n".join(problems)
    # Every shape signs the same claims: the default lifetime, aud/iss/sub, the binding's metascopes.
    for integration in (aem, console_jwt, multi_jwt, aio_jwt, metascoped):
        check_jwts(integration, count=per_integration[integration.client_id][0])


def test_secret_rotation_first_secret_wrong_then_only_secret_wrong(
    ansible, make_credentials, fresh_emulator, origin, save, requests_for, issued_for, token_owner, expect_failure, lookup_message
):
    emulator = fresh_emulator
    rotated = make_credentials(kind="oauth", client_secrets=2)
    single = make_credentials(kind="oauth")
    bogus = "p8e-" + random.token_urlsafe(24)

    def first_secret_bogus(document):
        assert len(document["CLIENT_SECRETS"]) == 2
        document["CLIENT_SECRETS"][0] = bogus

    def only_secret_bogus(document):
        document["CLIENT_SECRETS"] = [bogus]

    args = {"service_credentials_file": "rotated_file", "ims_endpoint": "ims_endpoint"}
    wrong = {"service_credentials_file": "single_file", "ims_endpoint": "ims_endpoint"}
    run = ansible.run(
        PLAY
        + _module_task("rotated", args)
        + _lookup_task("rotated", args)
        + _failing_module_task("wrong", wrong)
        + _failing_lookup_task("wrong", wrong)
        + save("{'module': m_rotated, 'lookup': l_rotated | default(lr_rotated.msg), 'wrong': m_wrong.msg, 'wrong_lookup': lr_wrong.msg}"),
        extra_vars={
            "ca_path": emulator.ca_path,
            "ims_endpoint": emulator.endpoint,
            "rotated_file": str(rotated.write("oauth_s2s_flat", transform=first_secret_bogus)),
            "single_file": str(single.write("oauth_s2s_flat", transform=only_secret_bogus)),
        },
    )
    run.assert_ok()
    assert_no_traceback(run)
    result = run.result_file()
    assert result["module"]["auth_method"] == "oauth_server_to_server"
    assert result["module"]["credentials_format"] == "oauth_s2s_flat"
    assert token_owner(result["module"]["access_token"]) == rotated.client_id
    assert token_owner(result["lookup"]) == rotated.client_id
    # Module and lookup each: the bogus first secret (400 invalid_client), then the second one (200).
    assert requests_for(rotated.client_id) == 4
    assert issued_for(rotated.client_id) == 2
    log = [(entry["path"], entry["status"], entry["error"]) for entry in emulator.requests_log()]
    rejected = ("/ims/token/v3", 400, "invalid_client")
    accepted = ("/ims/token/v3", 200, None)
    assert log[:4] == [rejected, accepted, rejected, accepted], log
    # The only secret is wrong: one request each, no retry, and IMS's answer as one line.
    assert log[4:] == [rejected, rejected], log
    assert requests_for(single.client_id) == 2 and issued_for(single.client_id) == 0
    pattern = re.compile(
        re.escape("IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_client: invalid client_secret parameter ")
        + r"\(x-debug-id [0-9a-f-]{36}\)"
        + re.escape(". Hint: the client_secret is wrong, or was rotated out in the Developer Console")
    )
    assert pattern.fullmatch(result["wrong"]), result["wrong"]
    expect_failure(run, pattern)
    assert pattern.fullmatch(lookup_message(result["wrong_lookup"])), result["wrong_lookup"]
    run.assert_no_secrets(result["module"]["access_token"], result["lookup"], bogus, *rotated.secrets, *single.secrets)


def _module_words(message):
    """A lookup message with the places it read an option in the module's words (issue 21: the lookup names all of its own)."""
    return re.sub(
        r"the (\w+) keyword, variable aem_ims_\w+,? (?:or )?environment variable (AEM_IMS_\w+)(?: or \w+ in the \[aem_ims\] section of ansible\.cfg)?",
        r"the \1 option or \2",
        message,
    )


def test_mismatches_fail_with_one_line_messages(ansible, make_credentials, emulator, save, requests_for, expect_failure, lookup_message):
    mismatched = make_credentials()
    other = make_credentials()
    oauth = make_credentials(kind="oauth")
    dev_token = make_credentials()
    multi_jwt = make_credentials()
    multi_oauth = make_credentials(kind="oauth")

    def foreign_key(document):
        document["integration"]["privateKey"] = other.integration["formats"]["aem_service_credentials"]["integration"]["privateKey"]

    def no_scopes(document):
        del document["SCOPES"]

    def several_credentials(document):
        credentials = document["project"]["workspace"]["details"]["credentials"]
        oauth_credential = multi_oauth.integration["formats"]["developer_console_project"]["project"]["workspace"]["details"]["credentials"][0]
        credentials.append(json.loads(json.dumps(oauth_credential)))

    files = {
        "mismatch_file": mismatched.write(name="mismatched.json", transform=foreign_key),
        "dev_token_file": dev_token.write("local_development_token"),
        "no_scopes_file": oauth.write("oauth_s2s_flat", name="no-scopes.json", transform=no_scopes),
        "flat_file": oauth.write("oauth_s2s_flat"),
        "several_file": multi_jwt.write("developer_console_project", name="several.json", transform=several_credentials),
    }
    names = [item["name"] for item in json.loads(files["several_file"].read_text())["project"]["workspace"]["details"]["credentials"]]
    development_token = dev_token.integration["formats"]["local_development_token"]["accessToken"]
    cases = {
        "mismatch": (
            {"service_credentials_file": "mismatch_file"},
            "the private key from integration.privateKey in the service credentials file {0} does not match the certificate in "
            "publicKey of the service credentials file {0}: they belong to different integrations or key rotations; download the "
            "service credentials again, or use the matching private key".format(files["mismatch_file"]),
        ),
        "dev_token": (
            {"service_credentials_file": "dev_token_file"},
            "service credentials file %s is an AEM local development token (accessToken): a developer's personal token that expires "
            "after 24 hours, not service credentials. In the AEM Developer Console open Integrations > Technical Accounts (service "
            "credentials) and download the JSON from there instead" % files["dev_token_file"],
        ),
        "no_scopes": (
            {"service_credentials_file": "no_scopes_file", "ims_endpoint": "ims_endpoint"},
            "scopes are missing for OAuth Server-to-Server: looked in the scopes option or AEM_IMS_SCOPES and the service credentials "
            "file %s. Copy them from the credential's page in the Adobe Developer Console" % files["no_scopes_file"],
        ),
        "jwt_without_key": (
            {"service_credentials_file": "flat_file", "auth_method": "jwt_method", "ims_endpoint": "ims_endpoint"},
            "auth_method is jwt but no private key was found: looked in the private_key option or AEM_IMS_PRIVATE_KEY, the "
            "private_key_file option or AEM_IMS_PRIVATE_KEY_FILE and the service credentials file %s" % files["flat_file"],
        ),
        "several_unchosen": (
            {"service_credentials_file": "several_file", "ims_endpoint": "ims_endpoint"},
            "service credentials file %s holds several credentials (%s): choose one with credential_name or credential_id"
            % (files["several_file"], ", ".join(names)),
        ),
    }
    playbook = PLAY
    for name, (args, _message) in cases.items():
        playbook += _failing_module_task(name, args) + _failing_lookup_task(name, args)
    playbook += save("{%s}" % ", ".join("'m_%s': m_%s, 'l_%s': lr_%s" % (name, name, name, name) for name in cases))
    extra_vars = {name: str(path) for name, path in files.items()}
    extra_vars.update(ca_path=emulator.ca_path, ims_endpoint=emulator.endpoint, jwt_method="jwt")
    run = ansible.run(playbook, extra_vars=extra_vars)
    run.assert_ok()
    assert_no_traceback(run)
    result = run.result_file()
    problems = []
    for name, (_args, message) in cases.items():
        module, looked_up = result["m_" + name], result["l_" + name]
        if module.get("failed") is not True or "access_token" in module:
            problems.append("%s: the module did not fail" % name)
        elif module["msg"] != message:
            problems.append("%s (module):\n  expected %s\n  got      %s" % (name, message, module["msg"]))
        else:
            try:
                expect_failure(run, message)
            except AssertionError as error:
                problems.append("%s: %s" % (name, error))
        if looked_up.get("failed") is not True:
            problems.append("%s: the lookup did not fail" % name)
        elif _module_words(lookup_message(looked_up["msg"])) != message:
            problems.append("%s (lookup):\n  expected %s\n  got      %s" % (name, message, lookup_message(looked_up["msg"])))
    assert not problems, "\n".join(problems)
    # All of them are found before anything goes over the network.
    for integration in (mismatched, other, oauth, dev_token, multi_jwt, multi_oauth):
        assert requests_for(integration.client_id) == 0
    secrets = [development_token]
    for integration in (mismatched, other, oauth, dev_token, multi_jwt, multi_oauth):
        secrets.extend(integration.secrets)
    run.assert_no_secrets(*secrets)
