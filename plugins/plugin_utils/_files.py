# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The files the options name, found and read as Ansible reads files on the controller.

One rule for a relative path, in the action plugin and the lookup: the task's search path and its
files/ subdirectories, as ``lookup('file')`` and ``copy: src=`` find a file
(``DataLoader.path_dwim_relative_stack``); never the current directory. A vault-encrypted file is
decrypted in memory with the play's vault secrets, as ``include_vars`` does, never written to disk.

Private to the aemops.ims collection: it may change at any time. Python versions supported: same as for controller-environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ansible.errors import AnsibleError, AnsibleFileNotFound
from ansible.parsing.vault import is_encrypted

from ansible_collections.aemops.ims.plugins.module_utils._credentials import PluginInputs, decode_text, read_checked_bytes
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError, one_line

# The options that name a file, and how messages name each.
FILE_OPTIONS = {"service_credentials_file": "service credentials file", "private_key_file": "private_key_file"}


class ControllerFiles(PluginInputs):
    """PluginInputs of the action plugin and the lookup: paths found on the task's search path, vault files decrypted in memory."""

    def __init__(
        self,
        loader,
        search_path: Sequence[str],
        lookup: bool = False,
        is_role: bool = False,
        warn: Callable[[str], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ):
        self.loader = loader
        self.search_path = [str(path) for path in search_path if path]
        self.lookup = lookup
        self.is_role = is_role
        self._warn = warn
        self.progress = progress

    def warn(self, message: str) -> None:
        if self._warn is not None:
            self._warn(message)

    def find(self, path: str, what: str, origin: str) -> str:
        """The absolute path of the file a path names, or one line naming the option, or variable, and every path tried."""
        given = os.path.expanduser(str(path))
        if os.path.isabs(given):
            if not os.path.lexists(given):
                raise CredentialsError("%s %s (from %s) does not exist" % (what, given, origin), field=what)
            return given
        try:
            found = self.loader.path_dwim_relative_stack(self.search_path, "files", given, is_role=self.is_role)
        except AnsibleFileNotFound as error:
            # The playbook's directory comes twice when it is also the loader's base directory.
            tried = list(dict.fromkeys(str(candidate) for candidate in getattr(error, "paths", None) or ()))
            raise CredentialsError(
                "%s %s (from %s) does not exist: a relative path is looked for in the playbook's (or role's) files/ directory and "
                "its own directory, as lookup('file') does; tried %s" % (what, given, origin, ", ".join(tried) or "no search path"),
                field=what,
            ) from None
        return os.path.abspath(str(found))

    def resolve_settings(self, settings) -> None:
        """Make the paths of settings absolute, found by the one rule; messages name where each came from."""
        for name, what in FILE_OPTIONS.items():
            value = getattr(settings, name)
            if value is not None:
                setattr(settings, name, self.find(value, what, settings.where(name)))

    def read(self, path: str, what: str) -> str:
        """The text of a file, checked by the core first (a FIFO or a huge file is refused before anything waits on it).

        Only a vault-encrypted file is read again, by the loader, which holds the play's vault secrets.
        """
        data = read_checked_bytes(path, what)
        label = "%s %s" % (what, path)
        if not is_encrypted(data):
            return decode_text(data, label, what)
        try:
            text = _vault_text(self.loader, path)
        except AnsibleError as error:
            # ansible-core's own words ("Decryption failed (no vault secrets were found that could decrypt)").
            message = getattr(error, "message", None) or str(error)
            option = "service_credentials_file" if what == FILE_OPTIONS["service_credentials_file"] else what
            raise CredentialsError(
                "%s %s is vault-encrypted and could not be decrypted: %s. Give ansible-playbook its vault password "
                "(--vault-password-file, --vault-id or --ask-vault-pass)" % (option, path, one_line(message, 300).rstrip(". ")),
                field=what,
            ) from None
        # A plain str: 2.19+ hands over a tagged one (SourceWasEncrypted), whose tags are no use to the core.
        return decode_text(text.encode("utf-8", "surrogateescape"), label, what)


def _vault_text(loader, path: str) -> str:
    """The decrypted text of a vault-encrypted file, read by ansible-core's data loader.

    2.19 made DataLoader.get_text_file_contents() public for this. Before it, the one way to decrypt
    without writing the plaintext to a temporary file (get_real_file() does) is the private
    _get_file_contents(), which include_vars and lookup('file') use: the one place the collection calls it.
    """
    get_text = getattr(loader, "get_text_file_contents", None)
    if get_text is not None:
        return str(get_text(path))
    data, _show_content = loader._get_file_contents(path)  # pylint: disable=protected-access
    return data.decode("utf-8", "surrogateescape")
