# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the aem_ims_token action plugin: hidden results, one-line failures, no secret in them."""

from __future__ import annotations

import importlib
import types
import json
import os
import re
from unittest.mock import MagicMock

import pytest

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import action_loader

from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, ImsResponseError
from ansible_collections.aemops.ims.plugins.module_utils._options import OPTIONS
from ansible_collections.aemops.ims.plugins.plugin_utils import _controller
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_ID, CLIENT_SECRET, CLIENT_SECRET_2, ORG_ID

ACTION = "aemops.ims.aem_ims_token"
ENVIRONMENT_VARIABLES = [option.env for option in OPTIONS.values() if option.env]
PLUGIN_MODULE = "ansible_collections.aemops.ims.plugins.action.aem_ims_token"
TOKEN = {
    "auth_method": "jwt",
    "client_id": CLIENT_ID,
    "ims_endpoint": "https://ims-na1.adobelogin.com",
    "credentials_format": "aem_service_credentials",
    "metascopes": ["ent_aem_cloud_api"],
    "access_token": "eyJ.access.token",
    "token_type": "bearer",
    "expires_in": 86399,
    "expires_at": "2026-01-02T00:00:00Z",
    "cached": False,
    "headers": {"Authorization": "Bearer eyJ.access.token", "x-api-key": CLIENT_ID},
}
UNEXPECTED = (
    r"^unexpected internal error in aemops\.ims\.aem_ims_token \(%s at test_aem_ims_token\.py:\d+\); "
    r"please report it at https://github\.com/aemops/ims/issues$"
)


class Obtained:
    """TokenService.obtain stand-in: records its calls, returns TOKEN or raises what it is told."""

    def __init__(self):
        self.calls = []
        self.failure = None

    def __call__(self, settings, **kwargs):
        self.calls.append((settings, kwargs))
        if self.failure is not None:
            raise self.failure
        return dict(TOKEN)


class Service:
    """What the action plugin builds in place of TokenService(settings, run_dir, warn): each step goes to its stand-in."""

    def __init__(self, obtained, revoked=None):
        self.obtained, self.revoked = obtained, revoked

    def __call__(self, settings, run_dir=None, warn=None, now=None, reader=None):
        built = {"run_cache_dir": run_dir} if warn is None else {"run_cache_dir": run_dir, "warn": warn}
        if reader is not None:
            built["reader"] = reader
        return types.SimpleNamespace(
            obtain=lambda credentials_file=None, **kwargs: self.obtained(settings, **built, **kwargs),
            revoke=lambda **kwargs: self.revoked(settings, **built, **kwargs),
        )


@pytest.fixture
def obtained(monkeypatch, tmp_path):
    fake = Obtained()
    plugin_module = importlib.import_module(PLUGIN_MODULE)
    fake.service = Service(fake)
    # Getting a token goes through plugin_utils._controller.obtain_tokens; revoking is the action's own.
    for module in (plugin_module, _controller):
        monkeypatch.setattr(module, "TokenService", fake.service)
        monkeypatch.setattr(module, "run_cache_dir", lambda: str(tmp_path))
    return fake


def make_action(args, async_val=0, check_mode=False):
    task = MagicMock(Task)
    task.args = dict(args)
    task.async_val = async_val
    task.check_mode = check_mode
    task.action = ACTION
    # Where relative paths are looked for (plugin_utils._files): these tests give absolute ones.
    task.get_search_path.return_value = []
    return action_loader.get(ACTION, task=task, connection=MagicMock(), play_context=PlayContext(), loader=None, templar=None, shared_loader_obj=None)


def run(args, **kwargs):
    return make_action(args, **kwargs).run(task_vars={})


def assert_failure(result):
    assert result["failed"] is True
    assert result["changed"] is False
    assert "_ansible_no_log" not in result
    assert "\n" not in result["msg"] and len(result["msg"]) <= 600
    assert "access_token" not in result


def test_the_action_plugin_is_found_and_declares_its_capabilities():
    action = make_action({})
    assert type(action).__module__ == PLUGIN_MODULE
    assert action._supports_async is False
    assert action._supports_check_mode is True
    assert action.TRANSFERS_FILES is False


def test_success_is_hidden_and_unchanged(obtained):
    result = run({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert result["_ansible_no_log"] is True
    assert result["changed"] is False
    assert "failed" not in result
    assert "ansible_facts" not in result
    for name, value in TOKEN.items():
        assert result[name] == value


def test_success_marks_the_task_no_log_so_a_loop_result_is_censored_too(obtained):
    # Before ansible-core 2.19 a loop's aggregate result is censored only by the task's no_log.
    action = make_action({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    action._task.no_log = False
    action.run(task_vars={})
    assert action._task.no_log is True


def test_a_failure_leaves_the_task_as_it_was(obtained):
    obtained.failure = CredentialsError("client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID")
    action = make_action({})
    action._task.no_log = False
    assert_failure(action.run(task_vars={}))
    assert action._task.no_log is False


def test_fact_name_sets_a_fact_with_the_same_result(obtained):
    result = run({"client_id": CLIENT_ID, "fact_name": "aem_token"})
    assert result["ansible_facts"] == {"aem_token": TOKEN}
    assert result["_ansible_no_log"] is True


def test_settings_cache_directory_and_warn_reach_obtain_token(obtained, tmp_path):
    run({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "retries": 1, "cache": "persistent", "cache_dir": str(tmp_path / "c")})
    ((settings, kwargs),) = obtained.calls
    assert (settings.client_id, settings.client_secret, settings.retries, settings.cache) == (CLIENT_ID, CLIENT_SECRET, 1, "persistent")
    assert settings.cache_dir == str(tmp_path / "c")
    assert kwargs["run_cache_dir"] == str(tmp_path)
    assert kwargs["warn"] is _controller.warn
    assert settings.where("client_id") == "the task argument client_id"
    assert settings.where("org_id") == "the org_id option or AEM_IMS_ORG_ID"


def test_environment_variables_are_read_and_named(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    monkeypatch.setenv("AEM_IMS_METASCOPES", "ent_aem_cloud_api,ent_cloudmgr_sdk")
    run({})
    settings = obtained.calls[-1][0]
    assert settings.client_id == "env-client"
    assert settings.metascopes == ("ent_aem_cloud_api", "ent_cloudmgr_sdk")
    assert settings.where("client_id") == "environment variable AEM_IMS_CLIENT_ID"
    run({"client_id": "task-client"})
    settings = obtained.calls[-1][0]
    assert (settings.client_id, settings.where("client_id")) == ("task-client", "the task argument client_id")


def test_empty_environment_variables_mean_unset(obtained, monkeypatch):
    # AWX and Automation Platform inject every field of a credential type, empty or not.
    for env in ENVIRONMENT_VARIABLES:
        monkeypatch.setenv(env, "")
    result = run({"client_id": CLIENT_ID})
    assert "failed" not in result, result.get("msg")
    settings = obtained.calls[-1][0]
    assert (settings.timeout, settings.retries, settings.jwt_lifetime, settings.refresh_margin) == (30.0, 3, 300, 600)
    assert (settings.validate_certs, settings.force_refresh, settings.cache, settings.auth_method) == (True, False, "run", "auto")
    assert (settings.service_credentials_file, settings.ca_path, settings.client_secret, settings.metascopes) == (None, None, None, ())


def test_a_task_argument_set_to_null_falls_back_to_the_environment(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    run({"client_id": None})
    settings = obtained.calls[-1][0]
    assert (settings.client_id, settings.where("client_id")) == ("env-client", "environment variable AEM_IMS_CLIENT_ID")


def test_environment_errors_name_the_option(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", "ture")
    result = run({"client_id": CLIENT_ID})
    assert_failure(result)
    assert result["msg"] == "validate_certs must be a boolean (true or false), got 'ture' (from environment variable AEM_IMS_VALIDATE_CERTS)"
    assert obtained.calls == []


def test_the_action_never_changes_the_environment(obtained, monkeypatch):
    for env in ENVIRONMENT_VARIABLES:
        monkeypatch.setenv(env, "")
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    before = dict(os.environ)
    run({})
    run({"retries": "many"})
    assert dict(os.environ) == before


def test_check_mode_gets_a_real_token(obtained):
    result = run({"client_id": CLIENT_ID}, check_mode=True)
    assert result["access_token"] == TOKEN["access_token"]
    assert len(obtained.calls) == 1


def test_async_is_refused(obtained):
    with pytest.raises(AnsibleActionFail) as info:
        run({"client_id": CLIENT_ID}, async_val=30)
    # ansible-core's own refusal; its wording changed in 2.17.
    assert "async" in str(info.value.message)
    assert obtained.calls == []


def test_option_errors_fail_with_one_line(obtained):
    result = run({"jwt_lifetime": 5})
    assert_failure(result)
    assert result["msg"] == "jwt_lifetime must be between 10 and 86400, got 5 (from the task argument jwt_lifetime)"
    assert obtained.calls == []


def test_unknown_option(obtained):
    result = run({"client_id": "x", "clientid": "y"})
    assert_failure(result)
    assert result["msg"].startswith(
        "Unsupported option(s) for aemops.ims.aem_ims_token: clientid. Supported options: access_token, auth_method, ca_path, cache, "
    )
    assert "fact_name" in result["msg"] and ", state, " in result["msg"] and ", validate, " in result["msg"]


def test_core_errors_are_shown_as_they_are(obtained):
    obtained.failure = CredentialsError("client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID")
    result = run({})
    assert_failure(result)
    assert result["msg"] == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID"


@pytest.mark.parametrize(
    "args, env, secret",
    [
        ({"client_secret": CLIENT_SECRET}, {}, CLIENT_SECRET),
        ({}, {"AEM_IMS_CLIENT_SECRET": CLIENT_SECRET}, CLIENT_SECRET),
        ({"private_key_passphrase": "Passphrase-0f-the-key"}, {}, "Passphrase-0f-the-key"),
        ({"proxy_url": "http://user:Pr0xyPassw0rd@proxy:3128"}, {}, "Pr0xyPassw0rd"),
        ({}, {"AEM_IMS_PROXY_URL": "http://user:Pr0xyPassw0rd@proxy:3128"}, "Pr0xyPassw0rd"),
    ],
)
def test_secrets_in_a_core_error_are_redacted(obtained, monkeypatch, args, env, secret):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    obtained.failure = ImsResponseError("IMS rejected the request for %s" % secret)
    result = run(dict(args, client_id=CLIENT_ID))
    assert_failure(result)
    assert result["msg"] == "IMS rejected the request for ********"


@pytest.mark.parametrize("exception", [RuntimeError, KeyError, TypeError])
def test_unexpected_errors_never_show_their_text(obtained, exception):
    obtained.failure = exception("boom with %s and %s inside" % (CLIENT_SECRET, CLIENT_SECRET_2))
    result = run({"client_secret": CLIENT_SECRET})
    assert_failure(result)
    assert re.match(UNEXPECTED % exception.__name__, result["msg"]), result["msg"]
    assert CLIENT_SECRET_2 not in result["msg"]


@pytest.fixture
def run_dir(monkeypatch, tmp_path):
    """The run's directory, where the action's real path caches tokens."""
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(tmp_path))
    return tmp_path


def test_a_whole_exchange_through_the_action(creds, fake_ims, run_dir):
    fake_ims.token(expires_in=86399999, access_token="real-flow-token")
    first = run({"service_credentials": creds.aem(), "fact_name": "aem"})
    second = run({"service_credentials": creds.aem()})
    assert (first["access_token"], first["cached"], second["cached"]) == ("real-flow-token", False, True)
    assert first["ansible_facts"]["aem"]["headers"] == {"Authorization": "Bearer real-flow-token", "x-api-key": CLIENT_ID, "x-gw-ims-org-id": ORG_ID}
    assert first["_ansible_no_log"] is True and second["_ansible_no_log"] is True
    assert len(fake_ims.calls) == 1


def test_a_failed_exchange_through_the_action(creds, fake_ims, run_dir):
    fake_ims.error(400, "invalid_token", "Could not match JWT signature to any of the bindings", headers={"x-debug-id": "dbg"})
    result = run({"service_credentials": creds.aem(), "retries": 0})
    assert_failure(result)
    assert result["msg"].startswith(
        "IMS rejected the JWT exchange: HTTP 400 invalid_token: Could not match JWT signature to any of the bindings (x-debug-id dbg)"
    )


@pytest.mark.parametrize("form", ["file", "dict", "json"])
def test_a_secret_echoed_by_ims_never_reaches_the_user(creds, fake_ims, run_dir, tmp_path, form):
    # The client secret comes from the credentials, not from an option; IMS (or a proxy) echoes it back.
    document = creds.flat_s2s(CLIENT_SECRETS=[CLIENT_SECRET])
    path = tmp_path / "oauth.json"
    path.write_text(json.dumps(document))
    args = {
        "file": {"service_credentials_file": str(path)},
        "dict": {"service_credentials": document},
        "json": {"service_credentials": json.dumps(document)},
    }[form]
    fake_ims.error(400, "invalid_client " + CLIENT_SECRET, "bad client", headers={"x-debug-id": CLIENT_SECRET})
    result = run(dict(args, retries=0))
    assert_failure(result)
    assert CLIENT_SECRET not in result["msg"]


# --- state=absent: revoking -------------------------------------------------------------------

REVOKED = {"auth_method": "jwt", "client_id": CLIENT_ID, "ims_endpoint": "https://ims-na1.adobelogin.com", "revoked": 1, "changed": True}
GIVEN_TOKEN = "eyJ.Token-To-Revoke-From-The-Task-2718.sig"


class Revoked:
    """TokenService.revoke stand-in: records its calls, returns what it is given or raises what it is told."""

    def __init__(self):
        self.calls = []
        self.failure = None
        self.result = dict(REVOKED)

    def __call__(self, settings, **kwargs):
        self.calls.append((settings, kwargs))
        if self.failure is not None:
            raise self.failure
        return dict(self.result)


@pytest.fixture
def revoked(monkeypatch, obtained):
    fake = Revoked()
    obtained.service.revoked = fake
    return fake


@pytest.mark.parametrize("check_mode", [False, True])
def test_state_absent_revokes_with_the_check_mode_of_the_task(revoked, obtained, tmp_path, check_mode):
    result = run({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "state": "absent"}, check_mode=check_mode)
    ((settings, kwargs),) = revoked.calls
    reader = kwargs.pop("reader")
    assert kwargs == {"run_cache_dir": str(tmp_path), "check_mode": check_mode}
    # The files the options name are found and read as the controller reads files (plugin_utils._files).
    assert type(reader).__name__ == "ControllerFiles" and not reader.lookup
    assert (settings.state, settings.access_token, settings.client_secret) == ("absent", None, CLIENT_SECRET)
    assert obtained.calls == []
    assert "failed" not in result
    for name, value in REVOKED.items():
        assert result[name] == value


def test_state_absent_hides_its_result_and_says_whether_it_changed_anything(revoked):
    result = run({"client_id": CLIENT_ID, "state": "absent", "access_token": GIVEN_TOKEN})
    assert (result["_ansible_no_log"], result["changed"], result["revoked"]) == (True, True, 1)
    assert revoked.calls[0][0].access_token == GIVEN_TOKEN
    assert "access_token" not in result and GIVEN_TOKEN not in json.dumps(result)
    revoked.result = dict(REVOKED, revoked=0, changed=False)
    result = run({"client_id": CLIENT_ID, "state": "absent"})
    assert (result["_ansible_no_log"], result["changed"], result["revoked"]) == (True, False, 0)


def test_state_present_is_the_default_and_obtains(revoked, obtained):
    run({"client_id": CLIENT_ID})
    run({"client_id": CLIENT_ID, "state": "present", "validate": True})
    assert revoked.calls == []
    assert [(settings.state, settings.validate) for settings, _kwargs in obtained.calls] == [("present", False), ("present", True)]


def test_validate_comes_from_aem_ims_validate(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_VALIDATE", "yes")
    run({"client_id": CLIENT_ID})
    settings = obtained.calls[-1][0]
    assert (settings.validate, settings.where("validate")) == (True, "environment variable AEM_IMS_VALIDATE")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"state": "gone"}, "state must be one of present, absent, got 'gone' (from the task argument state)"),
        ({"access_token": GIVEN_TOKEN}, "access_token is the token to revoke with state=absent; state is present (from the task argument access_token)"),
        (
            {"access_token": GIVEN_TOKEN, "state": "present"},
            "access_token is the token to revoke with state=absent; state is present (from the task argument access_token)",
        ),
        ({"access_token": [GIVEN_TOKEN], "state": "absent"}, "access_token must be a string, got a list (from the task argument access_token)"),
        ({"validate": "maybe"}, "validate must be a boolean (true or false), got 'maybe' (from the task argument validate)"),
    ],
)
def test_bad_lifecycle_arguments_fail_with_one_line(revoked, obtained, args, message):
    result = run(dict(args, client_id=CLIENT_ID))
    assert_failure(result)
    assert result["msg"] == message
    assert GIVEN_TOKEN not in result["msg"]
    assert (revoked.calls, obtained.calls) == ([], [])


def test_a_failed_revocation_is_a_readable_line_without_token_or_secret(revoked):
    revoked.failure = ImsResponseError(
        "IMS rejected the token invalidation: HTTP 400 invalid_client: invalid client_secret parameter (%s, %s)" % (GIVEN_TOKEN, CLIENT_SECRET),
        status=400,
        code="invalid_client",
    )
    action = make_action({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "state": "absent", "access_token": GIVEN_TOKEN})
    action._task.no_log = False
    result = action.run(task_vars={})
    assert_failure(result)
    assert result["msg"] == "IMS rejected the token invalidation: HTTP 400 invalid_client: invalid client_secret parameter (********, ********)"
    assert action._task.no_log is False


def test_an_unexpected_error_while_revoking_hides_its_text(revoked):
    revoked.failure = KeyError(GIVEN_TOKEN)
    result = run({"client_id": CLIENT_ID, "state": "absent", "access_token": GIVEN_TOKEN})
    assert_failure(result)
    assert re.match(UNEXPECTED % "KeyError", result["msg"]), result["msg"]


def test_a_whole_revocation_through_the_action(creds, fake_ims, run_dir, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(run_dir / "xdg"))
    args = {"service_credentials": creds.flat_s2s(), "retries": 0}
    fake_ims.token(expires_in=86399, access_token="to-be-revoked")
    assert run(args)["access_token"] == "to-be-revoked"
    # Check mode says what it would do, and does nothing.
    checked = run(dict(args, state="absent"), check_mode=True)
    assert (checked["changed"], checked["revoked"], len(fake_ims.calls)) == (True, 1, 1)
    fake_ims.answer(200)
    revoked = run(dict(args, state="absent"))
    assert (revoked["changed"], revoked["revoked"], revoked["_ansible_no_log"]) == (True, 1, True)
    assert fake_ims.calls[-1]["url"] == "https://ims-na1.adobelogin.com/ims/invalidate_token/v2"
    assert fake_ims.calls[-1]["fields"]["token"] == "to-be-revoked"
    assert "to-be-revoked" not in json.dumps(revoked)
    # Nothing left to revoke; the next token comes from IMS.
    again = run(dict(args, state="absent"))
    assert (again["changed"], again["revoked"], len(fake_ims.calls)) == (False, 0, 2)
    fake_ims.token(expires_in=86399, access_token="the-next-one")
    after = run(args)
    assert (after["access_token"], after["cached"]) == ("the-next-one", False)


def test_a_wrong_secret_when_revoking_through_the_action(creds, fake_ims, run_dir, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(run_dir / "xdg"))
    fake_ims.error(400, "invalid_client", "invalid client_secret parameter " + CLIENT_SECRET)
    result = run({"service_credentials": creds.flat_s2s(CLIENT_SECRETS=[CLIENT_SECRET]), "state": "absent", "access_token": GIVEN_TOKEN, "retries": 0})
    assert_failure(result)
    assert result["msg"] == (
        "IMS rejected the token invalidation: HTTP 400 invalid_client: invalid client_secret parameter ********. "
        "Hint: the client_secret is wrong, or was rotated out in the Developer Console"
    )


def test_validate_through_the_action(creds, fake_ims, run_dir):
    args = {"service_credentials": creds.flat_s2s(), "validate": True, "retries": 0}
    fake_ims.token(expires_in=86399, access_token="validated-by-issue")
    first = run(args)
    second = run(args)
    assert [(result["cached"], result["validated"], result["replaced_invalid"]) for result in (first, second)] == [(False, False, False), (True, True, False)]
    assert len(fake_ims.calls) == 1
