# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option names (what the lookup's cache-hit path loads) and the option specs agree."""

from __future__ import annotations

from ansible_collections.aemops.ims.plugins.module_utils import _option_specs
from ansible_collections.aemops.ims.plugins.module_utils._option_names import OPTION_ENVIRONMENT_VARIABLES, PLUGIN_NAME


def test_every_named_option_has_a_spec_and_no_spec_is_unnamed():
    # Same names, same order (the order of the docs).
    assert list(_option_specs._ARGUMENT_SPECS) == list(OPTION_ENVIRONMENT_VARIABLES)
    assert list(_option_specs.OPTION_SPECS) == list(OPTION_ENVIRONMENT_VARIABLES)
    assert {name: env for name, (_spec, env) in _option_specs.OPTION_SPECS.items()} == OPTION_ENVIRONMENT_VARIABLES


def test_environment_variables_are_ours_and_distinct():
    values = list(OPTION_ENVIRONMENT_VARIABLES.values())
    assert len(set(values)) == len(values)
    assert all(value.startswith("AEM_IMS_") and value == value.upper() for value in values)
    assert _option_specs.PLUGIN_NAME == PLUGIN_NAME == "aemops.ims.aem_ims_token"
