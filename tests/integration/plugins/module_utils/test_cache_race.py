# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The token cache under a real race: 50 processes asking for the same token at the same instant.

Ansible forks a worker per host and task; when a play starts, every fork misses the cache at
once. Here 50 Python processes (not threads: file locks are per process) load the core, block
on a pipe, are released together by one write, and call TokenService.obtain against the emulator.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import textwrap
import time

PROCESSES = 50

CHILD = textwrap.dedent(
    """
    import json, os, sys, time

    go, ready = int(sys.argv[1]), int(sys.argv[2])
    options = json.loads(sys.argv[3])
    run_cache_dir = options.pop("_run_cache_dir")

    from ansible_collections.aemops.ims.plugins.module_utils._settings import settings_from_options
    from ansible_collections.aemops.ims.plugins.module_utils._token_service import TokenService

    settings = settings_from_options(options)
    os.write(ready, b"r")
    os.close(ready)
    os.read(go, 1)  # the barrier: every process waits here until the test writes
    released = time.time()
    result = TokenService(settings, run_cache_dir).obtain()
    print(json.dumps({"access_token": result["access_token"], "cached": result["cached"], "client_id": result["client_id"],
                      "released": released, "done": time.time()}))
    """
)


def _race(tmp_path, options, run_cache_dir, collections_path, environment, processes=PROCESSES):
    """Start `processes` children, wait until all are at the barrier, release them at once."""
    script = tmp_path / "race_child.py"
    script.write_text(CHILD, encoding="utf-8")
    # No AEM_IMS_*, ANSIBLE_*, proxy, CA bundle or netrc variable of the caller (conftest's clean_environment).
    environment = dict(environment)
    environment["PYTHONPATH"] = collections_path
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    go_read, go_write = os.pipe()
    ready_read, ready_write = os.pipe()
    payload = json.dumps(dict(options, _run_cache_dir=str(run_cache_dir)))
    children = []
    try:
        for _index in range(processes):
            child = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, str(script), str(go_read), str(ready_write), payload],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(go_read, ready_write),
                env=environment,
                text=True,
            )
            children.append(child)
        os.close(ready_write)
        ready_write = None
        # Every child says it is ready before it blocks on the pipe.
        arrived = 0
        deadline = time.monotonic() + 120
        while arrived < processes:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "only %d of %d processes reached the barrier" % (arrived, processes)
            readable, _writable, _errors = select.select([ready_read], [], [], remaining)
            if readable:
                data = os.read(ready_read, processes)
                assert data, "processes died before the barrier:\n%s" % _stderr_of_dead(children)
                arrived += len(data)
        os.write(go_write, b"g" * processes)
        results = []
        for child in children:
            stdout, stderr = child.communicate(timeout=180)
            assert child.returncode == 0, "a racing process failed:\n%s" % stderr[-2000:]
            results.append(json.loads(stdout.strip().splitlines()[-1]))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        for descriptor in (go_read, go_write, ready_read, ready_write):
            if descriptor is not None:
                os.close(descriptor)


def _stderr_of_dead(children):
    dead = [child for child in children if child.poll() is not None]
    return "\n".join(child.stderr.read()[-1000:] for child in dead[:3])


def test_50_processes_on_a_cold_run_cache_make_one_exchange(credentials, emulator, requests_for, issued_for, tmp_path, collections_root, clean_environment):
    run_cache_dir = tmp_path / "run-dir"
    run_cache_dir.mkdir(mode=0o700)
    options = {"service_credentials_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "cache": "run"}
    results = _race(tmp_path, options, run_cache_dir, collections_root, clean_environment())

    assert len(results) == PROCESSES
    tokens = {result["access_token"] for result in results}
    assert len(tokens) == 1
    assert all(result["client_id"] == credentials.client_id for result in results)
    # One process exchanged; the other 49 found its token in the cache.
    assert sorted(result["cached"] for result in results) == [False] + [True] * (PROCESSES - 1)
    assert requests_for(credentials.client_id) == 1
    assert issued_for(credentials.client_id) == 1
    # They were released together (not one after the other as they started).
    assert max(result["released"] for result in results) - min(result["released"] for result in results) < 5
    # The cache is in the run directory, private.
    cache = run_cache_dir / "aemops_ims_tokens"
    assert cache.is_dir() and (cache.stat().st_mode & 0o777) == 0o700
    for path in cache.iterdir():
        assert (path.stat().st_mode & 0o777) == 0o600, path.name
        assert credentials.integration["client_secrets"][0] not in path.read_text(encoding="utf-8", errors="replace")


# Ten are enough to show that nothing is shared with cache off; each one costs a full
# exchange (requests, PyJWT and cryptography imported, a JWT signed), which fifty paid for
# nothing more.
UNCACHED_PROCESSES = 10


def test_processes_with_cache_off_make_one_exchange_each(credentials, emulator, requests_for, issued_for, tmp_path, collections_root, clean_environment):
    run_cache_dir = tmp_path / "run-dir"
    run_cache_dir.mkdir(mode=0o700)
    options = {"service_credentials_file": str(credentials.files["aem_service_credentials"]), "ca_path": emulator.ca_path, "cache": "off"}
    results = _race(tmp_path, options, run_cache_dir, collections_root, clean_environment(), processes=UNCACHED_PROCESSES)

    assert len(results) == UNCACHED_PROCESSES
    assert len({result["access_token"] for result in results}) == UNCACHED_PROCESSES
    assert not any(result["cached"] for result in results)
    assert requests_for(credentials.client_id) == UNCACHED_PROCESSES
    assert issued_for(credentials.client_id) == UNCACHED_PROCESSES
    # Nothing is written anywhere with cache off.
    assert list(run_cache_dir.iterdir()) == []
