# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module file only carries the documentation and the argument spec; run on its own, it explains itself."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.aemops.ims.plugins.module_utils._options import OPTIONS
from ansible_collections.aemops.ims.plugins.modules import aem_ims_token


def test_running_the_module_file_fails_with_an_explanation(capsys):
    with patch_module_args({"client_id": "x", "client_secret": "Module-Secret-Value-9"}), pytest.raises(SystemExit) as info:
        aem_ims_token.main()
    assert info.value.code == 1
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert result["msg"] == (
        "aemops.ims.aem_ims_token runs on the controller through its action plugin; call it by its full name "
        "aemops.ims.aem_ims_token from a playbook of the installed collection"
    )
    assert "Module-Secret-Value-9" not in json.dumps(result)


def test_the_module_validates_its_arguments_like_the_action(capsys):
    with patch_module_args({"bogus": 1}), pytest.raises(SystemExit):
        aem_ims_token.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert "bogus" in result["msg"]
    assert sorted(OPTIONS) == sorted(result["msg"].split("Supported parameters include: ")[1].rstrip(".").split(", "))


def test_the_module_reads_no_environment_variable(capsys, monkeypatch):
    # The action plugin reads AEM_IMS_* (module_option_values); the argument spec has no fallbacks.
    monkeypatch.setenv("AEM_IMS_JWT_LIFETIME", "not a number")
    with patch_module_args({}), pytest.raises(SystemExit):
        aem_ims_token.main()
    result = json.loads(capsys.readouterr().out)
    assert result["msg"].startswith("aemops.ims.aem_ims_token runs on the controller through its action plugin")
