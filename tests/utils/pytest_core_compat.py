# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin: ansible-core 2.19 unit-test helpers, for the older ansible-core lines.

The unit suite is written against ansible-core 2.19+, which added two helpers:

- ``ansible.module_utils.testing.patch_module_args`` (a context manager that feeds
  module arguments to ``AnsibleModule``), and
- ``ansible.template.trust_as_template`` (marks a string as a trusted template;
  before 2.19 every string was a template, so it is the identity there).

``make units-2.16`` (and every line before 2.19) loads this plugin with ``-p`` from
tests/utils/run_pytest.sh, so the same tests run unchanged on the oldest supported
line. On 2.19+ it does nothing: the real helpers are used.
"""

from __future__ import annotations

import contextlib
import json
import sys
import types
from unittest import mock


def _install_patch_module_args() -> None:
    try:
        import ansible.module_utils.testing  # noqa: F401  (2.19+)

        return
    except ImportError:
        pass

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to ``AnsibleModule`` instances created within this context (as in 2.19)."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError("The `args` arg must be a dict or None.")
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield

    module = types.ModuleType("ansible.module_utils.testing")
    module.__doc__ = "aemops.ims test shim of the ansible-core 2.19 module (tests/utils/pytest_core_compat.py)"
    module.patch_module_args = patch_module_args  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    import ansible.module_utils

    ansible.module_utils.testing = module  # type: ignore[attr-defined]


def _install_trust_as_template() -> None:
    import ansible.template

    if hasattr(ansible.template, "trust_as_template"):
        return

    def trust_as_template(value):
        """Before 2.19 every string is templated, so trusting one changes nothing."""
        if not isinstance(value, str):
            raise TypeError("Trust cannot be applied to %s, only to 'str'." % type(value).__name__)
        return value

    ansible.template.trust_as_template = trust_as_template  # type: ignore[attr-defined]


def pytest_configure(config):  # pylint: disable=unused-argument
    _install_patch_module_args()
    _install_trust_as_template()
