# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of _controller: the run's cache directory, warnings and public messages."""

from __future__ import annotations

import re

import pytest

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleOptionsError

from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, ImsResponseError
from ansible_collections.aemops.ims.plugins.plugin_utils import _controller
from ansible_collections.aemops.ims.plugins.plugin_utils._controller import public_message, run_cache_dir

SECRET = "Controller-Secret-Value-42"


def test_run_cache_dir_is_the_local_temp_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(tmp_path))
    assert run_cache_dir() == str(tmp_path)


@pytest.mark.parametrize("value", [None, "", "/nonexistent/aemops-ims-unit-test"])
def test_run_cache_dir_without_a_usable_directory(monkeypatch, value):
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", value)
    assert run_cache_dir() is None


def test_warn_prefixes_the_plugin_name(monkeypatch):
    shown = []
    monkeypatch.setattr(_controller.display, "warning", shown.append)
    _controller.warn("the certificate expires soon")
    assert shown == ["aemops.ims.aem_ims_token: the certificate expires soon"]


def test_public_message_of_a_core_error_is_its_message_redacted():
    assert public_message(CredentialsError("client_id is missing")) == "client_id is missing"
    assert public_message(ImsResponseError("echo %s here" % SECRET), [SECRET]) == "echo ******** here"


def test_public_message_of_an_ansible_error_is_one_line_and_redacted():
    error = AnsibleError("Invalid value for\n'client_secret': %s" % SECRET)
    assert public_message(error, [SECRET]) == "Invalid value for 'client_secret': ********"


def test_public_message_of_an_ansible_options_error_from_ansible_cfg():
    # What ansible-core raises for a value of ansible.cfg it cannot convert.
    error = AnsibleOptionsError("Invalid type for configuration option setting: timeout : %s" % SECRET)
    assert public_message(error, [SECRET]) == "Invalid type for configuration option setting: timeout : ********"


def _raise(exception):
    raise exception


def test_public_message_of_an_unexpected_error_shows_only_type_and_place():
    message = None
    try:
        _raise(KeyError("contains " + SECRET))
    except KeyError as error:
        message = public_message(error, [])
    assert re.match(
        r"^unexpected internal error in aemops\.ims\.aem_ims_token \(KeyError at test_controller\.py:\d+\); "
        r"please report it at https://github\.com/aemops/ims/issues$",
        message,
    ), message
    assert SECRET not in message


def test_public_message_of_an_exception_that_was_never_raised():
    assert public_message(RuntimeError(SECRET)) == (
        "unexpected internal error in aemops.ims.aem_ims_token (RuntimeError); please report it at https://github.com/aemops/ims/issues"
    )


@pytest.mark.parametrize("scheme", ["http", "https", "socks5", "socks5h"])
def test_public_message_scrubs_the_user_and_password_of_a_proxy_url(scheme):
    proxy_url = "%s://proxy-user:S0cks%%2FPassw0rd@127.0.0.1:1080" % scheme
    message = public_message(CredentialsError("proxy proxy-user with S0cks/Passw0rd and S0cks%2FPassw0rd failed"), [proxy_url])
    assert message == "proxy ******** with ******** and ******** failed"
