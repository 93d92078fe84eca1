# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of this lookup is in aem_ims_token.yml beside this file, and its code in
# plugin_utils/_aem_ims_token_lookup.py (the cache-hit path) and _aem_ims_token_lookup_full.py.
#
# Why this file is so small: Ansible forks a fresh worker for every host and task, and each
# worker that templates the lookup loads it anew. ansible-core's collection loader compiles
# collection code from source every time (it never uses .pyc files), and in a freshly forked
# worker compiling costs about 0.2 ms per kilobyte, more than a whole cache hit. So this file
# is all that is compiled: it runs the hit path from a copy compiled once per run into the
# run's private temporary directory (see plugin_utils/_lookup_code_cache.py, whose
# install_hit_path() comes with the copy), and imports it the ordinary way, writing that
# copy, when the copy is absent, stale or not this user's.

from __future__ import annotations

import marshal
import os
import types

from ansible import constants as C

try:
    with open(os.open(os.path.join(C.DEFAULT_LOCAL_TMP, "aemops_ims_code", "lookup-hit-path.marshal"), os.O_RDONLY | os.O_NOFOLLOW), "rb") as _copy:
        if os.fstat(_copy.fileno()).st_uid != os.geteuid():
            raise PermissionError(_copy.name)
        _installer, _contents = marshal.loads(_copy.read())
    LookupModule = types.FunctionType(_installer, globals())(_contents)
except Exception:  # pylint: disable=broad-exception-caught
    # pylint: disable-next=ungrouped-imports
    from ansible_collections.aemops.ims.plugins.plugin_utils._lookup_code_cache import load_lookup_class

    LookupModule = load_lookup_class()
