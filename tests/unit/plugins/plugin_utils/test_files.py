# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of plugin_utils._files: relative paths found as lookup('file') finds them, vault files decrypted in memory only."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError
from ansible_collections.aemops.ims.plugins.plugin_utils._files import ControllerFiles
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import build_settings

PASSWORD = b"first-hour-vault-password"
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

# Every file opened for writing while `_recording` is on: an audit hook cannot be removed, so it is installed once.
_recording: list = []
_written: list = []


def _audit(event, args):
    if not _recording or event != "open":
        return
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if (isinstance(mode, str) and any(letter in mode for letter in "wax+")) or (isinstance(flags, int) and flags & WRITING):
        _written.append(path)


sys.addaudithook(_audit)


def loader_with_vault(basedir, password=PASSWORD):
    loader = DataLoader()
    loader.set_basedir(str(basedir))
    if password is not None:
        loader.set_vault_secrets([("default", VaultSecret(password))])
    return loader


def vault_encrypt(path, text, password=PASSWORD):
    path.write_bytes(VaultLib([("default", VaultSecret(password))]).encrypt(text))
    path.chmod(0o600)
    return str(path)


def test_a_vault_encrypted_credentials_file_and_key_are_decrypted_in_memory_only(creds, keys, tmp_path):
    document = creds.console(creds.console_jwt())
    credentials = vault_encrypt(tmp_path / "project.json", json.dumps(document))
    key = vault_encrypt(tmp_path / "private.key", keys.pkcs1)
    files = ControllerFiles(loader_with_vault(tmp_path), [str(tmp_path)])
    _written.clear()
    _recording.append(True)
    try:
        request = build_token_request(build_settings(service_credentials_file=credentials, private_key_file=key), inputs=files)
    finally:
        _recording.clear()
    assert (request.auth_method, request.private_key, request.source) == ("jwt", keys.pkcs1, "service credentials file %s" % credentials)
    # Nothing was opened for writing: no decrypted copy went to a temporary file (as DataLoader.get_real_file would write).
    assert _written == []
    assert sorted(os.listdir(tmp_path)) == ["private.key", "project.json"]


def test_a_vault_file_without_its_secret_fails_with_ansibles_message_and_the_option(creds, tmp_path):
    credentials = vault_encrypt(tmp_path / "aem.json", json.dumps(creds.aem()))
    for loader in (loader_with_vault(tmp_path, b"another-password"), loader_with_vault(tmp_path, None)):
        with pytest.raises(CredentialsError) as info:
            build_token_request(build_settings(service_credentials_file=credentials), inputs=ControllerFiles(loader, [str(tmp_path)]))
        message = info.value.msg
        assert message.startswith("service_credentials_file %s is vault-encrypted and could not be decrypted: " % credentials), message
        assert "vault" in message.split(": ", 1)[1].lower()
        assert message.endswith("Give ansible-playbook its vault password (--vault-password-file, --vault-id or --ask-vault-pass)")
        assert "\n" not in message


def test_plain_files_are_read_as_they_are(creds, tmp_path):
    path = tmp_path / "aem.json"
    path.write_text(json.dumps(creds.aem()))
    files = ControllerFiles(loader_with_vault(tmp_path), [str(tmp_path)])
    request = build_token_request(build_settings(service_credentials_file=str(path)), inputs=files)
    assert request.client_id == creds.aem()["integration"]["technicalAccount"]["clientId"]


def test_a_fifo_is_refused_before_the_loader_would_wait_on_it(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(CredentialsError) as info:
        ControllerFiles(loader_with_vault(tmp_path), [str(tmp_path)]).read(str(fifo), "service credentials file")
    assert info.value.msg == "service credentials file %s is not a regular file" % fifo


def test_relative_paths_come_from_files_then_the_playbook_directory(tmp_path, monkeypatch):
    playbook = tmp_path / "playbook"
    (playbook / "files").mkdir(parents=True)
    (playbook / "files" / "in-files.json").write_text("{}")
    (playbook / "beside.json").write_text("{}")
    (playbook / "files" / "both.json").write_text("{}")
    (playbook / "both.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cwd-only.json").write_text("{}")
    files = ControllerFiles(loader_with_vault(playbook), [str(playbook)])
    assert files.find("in-files.json", "service credentials file", "the service_credentials_file option") == str(playbook / "files" / "in-files.json")
    assert files.find("beside.json", "service credentials file", "x") == str(playbook / "beside.json")
    assert files.find("both.json", "service credentials file", "x") == str(playbook / "files" / "both.json")
    with pytest.raises(CredentialsError) as info:
        files.find("cwd-only.json", "private_key_file", "environment variable AEM_IMS_PRIVATE_KEY_FILE")
    assert info.value.msg == (
        "private_key_file cwd-only.json (from environment variable AEM_IMS_PRIVATE_KEY_FILE) does not exist: a relative path is looked for "
        "in the playbook's (or role's) files/ directory and its own directory, as lookup('file') does; tried %s, %s"
        % (playbook / "files" / "cwd-only.json", playbook / "cwd-only.json")
    )
    with pytest.raises(CredentialsError) as info:
        files.find(str(tmp_path / "nowhere.json"), "service credentials file", "variable aem_ims_service_credentials_file")
    assert info.value.msg == "service credentials file %s (from variable aem_ims_service_credentials_file) does not exist" % (tmp_path / "nowhere.json")


def test_resolve_settings_makes_option_paths_absolute(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "c.json").write_text("{}")
    (tmp_path / "k.pem").write_text("")
    settings = build_settings(service_credentials_file="c.json", private_key_file="k.pem")
    ControllerFiles(loader_with_vault(tmp_path), [str(tmp_path)]).resolve_settings(settings)
    assert (settings.service_credentials_file, settings.private_key_file) == (str(tmp_path / "files" / "c.json"), str(tmp_path / "k.pem"))
