# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When IMS fails, a run fails once and fast: one failure per credential per run, as one exchange.

Real plays over many local hosts and forks against the emulator, which counts the requests:
an outage (HTTP 503 for everything), a wrong secret (401 invalid_client), and an IMS that
recovers during the run. Each host's result is read back from a hidden file, so that the
failure messages can be checked on every ansible-core line whatever its way of showing them.
"""

from __future__ import annotations

import time

HOSTS = 50
FORKS = 10
REPEAT = "(the same error as an earlier task of this run; not retried"


def _lookups(count, options="", pause=None):
    tasks = []
    for index in range(1, count + 1):
        if pause and index == pause[0]:
            tasks.append(
                """
    - name: Wait for the transient window to pass
      ansible.builtin.pause:
        seconds: {seconds}
""".format(seconds=pause[1])
            )
        tasks.append(
            """
    - name: Lookup {index}
      ansible.builtin.set_fact:
        token_{index}: "{{{{ lookup('aemops.ims.aem_ims_token', creds_file{options}) }}}}"
      register: lookup_{index}
      ignore_errors: true
      no_log: true
""".format(index=index, options=options)
        )
    return "".join(tasks)


def _module_task(options=""):
    return """
    - name: Module on every host
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{{{ creds_file }}}}"{options}
      register: module_1
      ignore_errors: true
""".format(options=options)


def _play(tasks, save, names):
    results = " + ".join("(groups['all'] | map('extract', hostvars, '%s') | list)" % name for name in names)
    return "\n- hosts: all\n  gather_facts: false\n  tasks:" + tasks + save(results)


def _messages(run, lookup_message, lookups=True):
    results = run.result_file()
    assert results and all(result.get("failed") for result in results), "every host and task should have failed"
    return [lookup_message(result["msg"]) if lookups else result["msg"] for result in results]


def _variables(credentials, emulator, origin, **options):
    # ims_endpoint set explicitly: a secret given as an option is sent only to an endpoint the play names.
    variables = {"creds_file": str(credentials.write()), "aem_ims_ca_path": emulator.ca_path, "aem_ims_ims_endpoint": origin}
    variables.update(("aem_ims_%s" % name, value) for name, value in options.items())
    return variables


def test_an_outage_costs_one_retry_cycle_per_window_not_one_per_fork(ansible, credentials, fresh_emulator, origin, save, requests_for, lookup_message):
    emulator = fresh_emulator
    emulator.set_outage({"status": 503})
    started = time.monotonic()  # only to allow one more retry cycle per window the run spanned
    run = ansible.run(
        _play(_lookups(3), save, ["lookup_1", "lookup_2", "lookup_3"]),
        hosts=HOSTS,
        forks=FORKS,
        extra_vars=_variables(credentials, emulator, origin, retries=3),
    )
    elapsed = time.monotonic() - started
    run.assert_ok()
    run.assert_no_secrets(*credentials.secrets)
    messages = _messages(run, lookup_message)
    assert len(messages) == 3 * HOSTS
    first = [message for message in messages if REPEAT not in message]
    assert len(first) == 1 and "HTTP 503" in first[0] and "gave up after 4 attempts" in first[0], first
    assert all(message.startswith(first[0]) for message in messages)
    # timeout (30 s) x retries (3): one window of 90 s, within which one fork asks IMS (4 attempts) and every other one fails at once.
    window = 90
    # Before, the forks failed one after another, each after its own retries: 4 requests per host.
    # Counted, not timed: one first failure (above) and at most one retry cycle per window, however
    # long a loaded machine takes (PLAYBOOK_TIMEOUT is the hang guard).
    assert requests_for(credentials.client_id) <= 4 * (1 + int(elapsed // window))
    assert requests_for(credentials.client_id) < 4 * HOSTS


def test_a_wrong_secret_is_sent_to_ims_once_per_run(ansible, credentials, fresh_emulator, origin, save, requests_for, lookup_message):
    emulator = fresh_emulator
    wrong = "p8e-wrong-" + credentials.client_id[-8:] + "x" * 16
    run = ansible.run(
        _play(_lookups(3), save, ["lookup_1", "lookup_2", "lookup_3"]),
        hosts=HOSTS,
        forks=FORKS,
        extra_vars=_variables(credentials, emulator, origin),
        secret_vars={"aem_ims_client_secret": wrong},
    )
    run.assert_ok()
    run.assert_no_secrets(wrong, *credentials.secrets)
    messages = _messages(run, lookup_message)
    assert len(messages) == 3 * HOSTS
    assert all("HTTP 401 invalid_client" in message for message in messages)
    assert sum(REPEAT not in message for message in messages) == 1
    assert requests_for(credentials.client_id) == 1


def test_after_the_window_a_later_task_gets_the_token_of_a_recovered_ims(ansible, credentials, fresh_emulator, origin, save, requests_for, issued_for):
    emulator = fresh_emulator
    # retries 1: two attempts fail, then IMS answers again; timeout 2 x retries 1: a window of 2 s.
    emulator.inject_faults([{"status": 503}, {"status": 503}])
    tasks = _lookups(3, pause=(2, 3))
    run = ansible.run(
        _play(tasks, save, ["lookup_1", "lookup_2", "lookup_3"]),
        hosts=10,
        forks=FORKS,
        extra_vars=_variables(credentials, emulator, origin, retries=1, timeout=2),
    )
    run.assert_ok()
    run.assert_no_secrets(*credentials.secrets)
    results = run.result_file()
    assert [bool(result.get("failed")) for result in results] == [True] * 10 + [False] * 20
    assert requests_for(credentials.client_id) == 3
    assert issued_for(credentials.client_id) == 1


def test_the_module_without_run_once_makes_the_same_counts(ansible, credentials, fresh_emulator, origin, save, requests_for):
    emulator = fresh_emulator
    emulator.set_outage({"status": 503})
    hosts = 20
    variables = _variables(credentials, emulator, origin)
    options = '\n        ca_path: "{{ aem_ims_ca_path }}"\n        ims_endpoint: "{{ aem_ims_ims_endpoint }}"\n        retries: 3'
    started = time.monotonic()
    run = ansible.run(_play(_module_task(options), save, ["module_1"]), hosts=hosts, forks=FORKS, extra_vars=variables)
    elapsed = time.monotonic() - started
    run.assert_ok()
    run.assert_no_secrets(*credentials.secrets)
    messages = _messages(run, None, lookups=False)
    assert len(messages) == hosts and sum(REPEAT not in message for message in messages) == 1
    during_the_outage = requests_for(credentials.client_id)
    assert during_the_outage <= 4 * (1 + int(elapsed // 90))

    emulator.set_outage(None)
    wrong = "p8e-wrong-module-" + "y" * 16
    options += '\n        client_secret: "{{ wrong_secret }}"'
    run = ansible.run(_play(_module_task(options), save, ["module_1"]), hosts=hosts, forks=FORKS, extra_vars=variables, secret_vars={"wrong_secret": wrong})
    run.assert_ok()
    run.assert_no_secrets(wrong, *credentials.secrets)
    messages = _messages(run, None, lookups=False)
    assert all("HTTP 401 invalid_client" in message for message in messages)
    assert requests_for(credentials.client_id) == during_the_outage + 1
