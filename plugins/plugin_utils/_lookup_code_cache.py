# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The per-run compiled copy of the lookup's cache-hit path.

plugins/lookup/aem_ims_token.py says why it exists and loads it. This module runs when
that copy is absent or unusable (the first workers of a run): it writes the copy for the
workers after it and imports the hit path the ordinary way.

The copy is one marshal file, CODE_CACHE_SUBDIR/CODE_CACHE_FILE in the run's private
temporary directory (ansible-core's DEFAULT_LOCAL_TMP, created 0700 for this run and
removed at its end), holding the code of install_hit_path() and what it installs:
((source path, mtime_ns), ...) and ((module name, code), ...) in import order. The lookup
file only checks the copy is this user's and calls the installer, so that as little code as
possible is compiled in each worker. A source changed since it was compiled makes the
copy stale.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys

from ansible import constants as C

CODE_CACHE_SUBDIR = "aemops_ims_code"
CODE_CACHE_FILE = "lookup-hit-path.marshal"
PACKAGE = "ansible_collections.aemops.ims.plugins"
# What a cache hit executes, dependencies first.
HIT_PATH_MODULES = ("module_utils._option_names", "module_utils._cache_reader", "plugin_utils._aem_ims_token_lookup")


def load_lookup_class():
    """The LookupModule class, imported normally, after leaving the compiled copy for later workers."""
    # A copy that failed half-way may have left modules behind; the ordinary import redoes them.
    for relative in HIT_PATH_MODULES:
        module = sys.modules.get("%s.%s" % (PACKAGE, relative))
        if module is not None and module.__spec__ is None:
            del sys.modules["%s.%s" % (PACKAGE, relative)]
    # Only a speed-up: without the copy every worker compiles the modules itself.
    with contextlib.suppress(Exception):
        write_code_cache(C.DEFAULT_LOCAL_TMP)
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup import LookupModule

    return LookupModule


def install_hit_path(copy):
    """Install the hit path's modules from a copy's contents and return the LookupModule class.

    The lookup file runs this function's code from the copy (see the module docstring); it
    is not called from here. Modules already loaded are kept.
    """
    # pylint: disable=import-outside-toplevel,redefined-outer-name,reimported
    import os
    import sys
    import types

    sources, modules = copy
    for path, mtime in sources:
        if os.stat(path).st_mtime_ns != mtime:
            raise ValueError("%s changed since the copy was compiled" % path)
    for name, code in modules:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__package__ = name.rpartition(".")[0]
            sys.modules[name] = module
            try:
                exec(code, module.__dict__)  # pylint: disable=exec-used
            except BaseException:
                del sys.modules[name]
                raise
    return sys.modules[modules[-1][0]].LookupModule


def write_code_cache(run_directory):
    """Compile the hit path's modules into run_directory's code cache, atomically. Returns its path."""
    _require_private_directory(run_directory)
    store = os.path.join(run_directory, CODE_CACHE_SUBDIR)
    os.makedirs(store, mode=0o700, exist_ok=True)
    _require_private_directory(store)

    plugins = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sources, modules = [], []
    for relative in HIT_PATH_MODULES:
        source = os.path.join(plugins, *relative.split(".")) + ".py"
        # Taken before reading: a source edited meanwhile makes the copy stale, not wrong.
        mtime = os.stat(source).st_mtime_ns
        with open(source, encoding="utf-8") as handle:
            # Without docstrings (optimize=2): every byte is loaded again in each worker.
            code = compile(handle.read(), source, "exec", dont_inherit=True, optimize=2)
        sources.append((source, mtime))
        modules.append(("%s.%s" % (PACKAGE, relative), code))

    path = os.path.join(store, CODE_CACHE_FILE)
    temporary = "%s.%d.tmp" % (path, os.getpid())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(marshal.dumps((install_hit_path.__code__, (tuple(sources), tuple(modules)))))
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
    return path


def _require_private_directory(path):
    # Code is only left where no other user can replace it.
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError("%s is not a private directory of this user" % path)
