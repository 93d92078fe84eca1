# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of aemops.ims.aem_ims_token: the whole module runs here, on the controller.

A module cannot hide its own result (ansible-core drops ``_ansible_no_log`` from module results); an action
plugin's flag is honoured, so ``register:`` gets the token while every callback sees the censored result. Managed
hosts need no Python packages, and the module and the lookup share one token cache.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.aemops.ims.plugins.module_utils._cache_reader import input_fingerprint
from ansible_collections.aemops.ims.plugins.module_utils._errors import AemImsError
from ansible_collections.aemops.ims.plugins.module_utils._options import SECRET_OPTIONS
from ansible_collections.aemops.ims.plugins.module_utils._settings import module_option_values, settings_from_options
from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService
from ansible_collections.aemops.ims.plugins.plugin_utils._controller import obtain_tokens, public_message, retry_progress, run_cache_dir, warn
from ansible_collections.aemops.ims.plugins.plugin_utils._files import ControllerFiles


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    # The status of an async job replaces this plugin's result, censoring flag included.
    _supports_async = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        # Task argument > AEM_IMS_* environment variable > default, then the lookup's strict pass.
        values, origins = module_option_values(self._task.args)
        if values.get("fact_name"):
            # Shown, not returned: before 2.19 ansible-core drops the deprecations of a censored result.
            self._display.deprecated(
                "The fact_name option of aemops.ims.aem_ims_token puts the token into fact caches;"
                " use register (and ansible.builtin.set_fact where a later play needs it)",
                version="1.0.0",
                collection_name="aemops.ims",
            )
        secrets = [values.get(name) for name in SECRET_OPTIONS]
        try:
            settings = settings_from_options(values, origins)
            secrets += settings.secret_values()
            # Relative paths as copy: src= finds them (the role's and playbook's files/); vault files decrypted in memory.
            files = ControllerFiles(self._loader, self._task.get_search_path(), warn=warn, progress=retry_progress)
            files.resolve_settings(settings)
            if settings.state == "absent":
                # Revoking changes IMS and the caches: check mode only says what it would do.
                result.update(TokenService(settings, run_cache_dir(), reader=files).revoke(check_mode=bool(self._task.check_mode)))
                result["_ansible_no_log"] = True
                return result
            # Getting a token changes nothing anywhere, so check mode gets a real token too.
            (token,) = obtain_tokens(settings, files, [(None, None, input_fingerprint(values, origins, None))])
        except Exception as error:  # pylint: disable=broad-exception-caught
            if not isinstance(error, AemImsError):
                self._display.vvv("aemops.ims.aem_ims_token: unexpected %s" % type(error).__name__)
            result.update(failed=True, changed=False, msg=public_message(error, [value for value in secrets if isinstance(value, str)]))
            return result

        result.update(token)
        result["changed"] = False
        if settings.fact_name:
            result["ansible_facts"] = {settings.fact_name: dict(token)}
        # Success only: a failure message is secret-free by construction and must stay readable.
        result["_ansible_no_log"] = True
        # Before 2.19 the result of a whole loop does not inherit its items' flag, and the minimal
        # and oneline callbacks print it: ansible-core censors it when the task says no_log.
        self._task.no_log = True
        return result
