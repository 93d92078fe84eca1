# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark of the token cache and the module, against the bundled IMS emulator.

usage: bench.py [--hosts 200] [--forks 10] [--repeat 7] [--markdown FILE]

Prints a table of IMS exchanges (counted by the emulator) and wall times:
  1. a playbook over N local hosts, 3 tasks templating the lookup per host, cache=run vs cache=off;
     the call is the one-term form of the README, its options in AEM_IMS_* environment variables,
     and once more with the options as keyword arguments;
  2. the same playbook with a literal token instead of the lookup (the floor), and with a no-op
     collection lookup, and the ratios;
  3. the module vs a hand-written ansible.builtin.uri POST of the same JWT exchange (median of --repeat runs);
  4. two runs with cache=persistent: the second should make 0 exchanges.
Wall times are medians (after one warm-up round that is not counted); ratios matter more than
absolute numbers, which depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


emulator_client = _load("aemops_ims_emulator_client", os.path.join(ROOT, "tests", "ims_emulator", "client.py"))

# The play templates `header` in three tasks per host. {expression} is what it holds.
TEMPLATING_PLAY = """
- hosts: all
  gather_facts: false
  vars:
    header: "Bearer {{{{ {expression} }}}}"
  tasks:
    - name: Task 1 templates the token
      ansible.builtin.set_fact:
        first: "{{{{ header | length }}}}"
      no_log: true
    - name: Task 2 templates the token
      ansible.builtin.set_fact:
        second: "{{{{ header | length }}}}"
      no_log: true
    - name: Task 3 templates the token
      ansible.builtin.set_fact:
        third: "{{{{ header | length }}}}"
      no_log: true
"""

# The call as the README writes it; the options the emulator needs (its CA) and the cache mode come
# from AEM_IMS_* environment variables, as AWX and CI jobs set them (see Bench.environment).
LOOKUP_TASKS = TEMPLATING_PLAY.format(expression="lookup('aemops.ims.aem_ims_token', creds_file)")
# The same with options as keyword arguments: Ansible templates each argument in every worker too.
KEYWORD_LOOKUP_TASKS = TEMPLATING_PLAY.format(expression="lookup('aemops.ims.aem_ims_token', service_credentials_file=creds_file, ca_path=ca_path)")
LITERAL_TASKS = TEMPLATING_PLAY.format(expression="literal_token")
NOOP_TASKS = TEMPLATING_PLAY.format(expression="lookup('benchfloor.noop.noop', creds_file)")

# What any collection lookup costs, whatever it does: Ansible loads it in every forked worker.
NOOP_LOOKUP = '''
from __future__ import annotations

DOCUMENTATION = """
name: noop
short_description: Returns a constant.
description: Returns a constant.
"""

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return ["x" * 1200]
'''

MODULE_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Exchange with the module
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
        ca_path: "{{ ca_path }}"
        cache: "off"
      register: token
"""

URI_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Exchange by hand with ansible.builtin.uri
      ansible.builtin.uri:
        url: "{{ origin }}/ims/exchange/jwt"
        method: POST
        body_format: form-urlencoded
        body:
          client_id: "{{ client_id }}"
          client_secret: "{{ client_secret }}"
          jwt_token: "{{ jwt_token }}"
        ca_path: "{{ ca_path }}"
      register: token
      no_log: true
"""


class Bench:
    def __init__(self, workspace, emulator, collections_path, environment):
        self.workspace = workspace
        self.emulator = emulator
        self.collections_path = collections_path
        # AEM_IMS_* variables every play gets (the lookup's options); cache= overrides AEM_IMS_CACHE.
        self.environment = environment

    def inventory(self, hosts):
        path = os.path.join(self.workspace, "inventory-%d.ini" % hosts)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[aem]\n")
            for index in range(hosts):
                handle.write("host%03d ansible_connection=local ansible_python_interpreter=%s\n" % (index, sys.executable))
        return path

    def play(self, text, hosts, forks, variables, secret_variables=None, cache="run"):
        playbook = os.path.join(self.workspace, "bench-%d.yml" % abs(hash(text)))
        with open(playbook, "w", encoding="utf-8") as handle:
            handle.write(text)
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory(hosts), "-f", str(forks), playbook]
        command += ["-e", json.dumps(variables)]
        if secret_variables:
            secrets = os.path.join(self.workspace, "secret-vars.json")
            with open(secrets, "w", encoding="utf-8") as handle:
                json.dump(secret_variables, handle)
            os.chmod(secrets, 0o600)
            command += ["-e", "@" + secrets]
        environment = {name: value for name, value in os.environ.items() if not name.startswith(("AEM_IMS_", "ANSIBLE_"))}
        environment.update(self.environment, AEM_IMS_CACHE=cache)
        environment.update(ANSIBLE_COLLECTIONS_PATH=self.collections_path, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
        started = time.monotonic()
        completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if completed.returncode != 0:
            sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-2000:])
            raise SystemExit("bench: a playbook failed (rc=%d)" % completed.returncode)
        return elapsed

    def requests(self, client_id):
        return self.emulator.stats()["by_client"].get(client_id, {}).get("requests", 0)

    def measured(self, client_id, text, hosts, forks, variables, secret_variables=None, cache="run"):
        before = self.requests(client_id)
        elapsed = self.play(text, hosts, forks, variables, secret_variables, cache)
        return elapsed, self.requests(client_id) - before


def _sign_jwt(integration, origin, lifetime=600):
    # What a user would have to write by hand before ansible.builtin.uri can post it.
    import jwt  # pylint: disable=import-outside-toplevel

    now = int(time.time())
    claims = {
        "iss": integration["org_id"],
        "sub": integration["technical_account_id"],
        "aud": "%s/c/%s" % (origin, integration["client_id"]),
        "iat": now,
        "exp": now + lifetime,
    }
    for metascope in integration["metascopes"]:
        claims["%s/s/%s" % (origin, metascope)] = True
    return jwt.encode(claims, integration["private_key_pem"], algorithm="RS256")


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ansible_version = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible"), "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    return "%s, %d CPUs, Python %s, %s" % (cpu, os.cpu_count() or 0, platform.python_version(), ansible_version)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (the median is reported)")
    parser.add_argument("--collections-path", default=os.environ.get("AEMOPS_IMS_COLLECTIONS_PATH"))
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    options = parser.parse_args()
    if not options.collections_path:
        raise SystemExit("bench: set --collections-path or AEMOPS_IMS_COLLECTIONS_PATH (make bench does)")

    workspace = tempfile.mkdtemp(prefix="aemops-ims-bench-")
    process, emulator = emulator_client.start_emulator(os.path.join(workspace, "emulator"), python=sys.executable)
    try:
        noop = os.path.join(workspace, "floor", "ansible_collections", "benchfloor", "noop", "plugins", "lookup")
        os.makedirs(noop)
        with open(os.path.join(noop, "noop.py"), "w", encoding="utf-8") as handle:
            handle.write(NOOP_LOOKUP)
        cache_dir = os.path.join(workspace, "persistent-cache")
        bench = Bench(
            workspace,
            emulator,
            options.collections_path + os.pathsep + os.path.join(workspace, "floor"),
            {"AEM_IMS_CA_PATH": emulator.ca_path, "AEM_IMS_CACHE_DIR": cache_dir},
        )
        integration = emulator.create_integration()
        creds_file = emulator_client.write_credentials(os.path.join(workspace, "service-credentials.json"), integration)
        client_id = integration["client_id"]
        base = {"creds_file": creds_file, "ca_path": emulator.ca_path, "cache_dir": cache_dir, "literal_token": "x" * 1200}
        hosts, forks, repeat = options.hosts, options.forks, options.repeat
        rows = []

        def median_of(text, variables, secret_variables=None, runs=repeat, play_hosts=hosts):
            times, exchanges = [], []
            for _run in range(runs):
                elapsed, count = bench.measured(client_id, text, play_hosts, forks, variables, secret_variables)
                times.append(elapsed)
                exchanges.append(count)
            return statistics.median(times), exchanges

        # Interleaved, so that the machine's drift over the minutes affects all alike, and in an
        # order that rotates each round, so that no play always follows the same one. One round
        # before is not counted: the first playbooks of a session run on cold disk and CPU caches.
        plays = (("lookup", LOOKUP_TASKS), ("keywords", KEYWORD_LOOKUP_TASKS), ("literal", LITERAL_TASKS), ("noop", NOOP_TASKS))
        samples = {label: [] for label, _text in plays}
        run_exchanges = []
        for _label, text in plays:
            bench.measured(client_id, text, hosts, forks, base)
        for round_number in range(repeat):
            shift = round_number % len(plays)
            for label, text in plays[shift:] + plays[:shift]:
                elapsed, count = bench.measured(client_id, text, hosts, forks, base)
                samples[label].append(elapsed)
                if label in ("lookup", "keywords"):
                    run_exchanges.append(count)
        lookup_run, keywords, literal, noop = (statistics.median(samples[label]) for label, _text in plays)
        off_elapsed, off_exchanges = bench.measured(client_id, LOOKUP_TASKS, hosts, forks, base, cache="off")
        rows.append(("lookup, cache=run: %d hosts x 3 tasks, forks %d" % (hosts, forks), "%d per run" % max(run_exchanges), "%.1f s" % lookup_run, ""))
        rows.append(("lookup, cache=off: same playbook (1 run)", "%d" % off_exchanges, "%.1f s" % off_elapsed, ""))
        rows.append(("lookup with options as keywords, cache=run", "%d per run" % max(run_exchanges), "%.1f s" % keywords, ""))
        rows.append(("literal token instead of the lookup (floor)", "0", "%.1f s" % literal, ""))
        rows.append(("a no-op collection lookup instead (what any lookup costs)", "0", "%.1f s" % noop, ""))
        rows.append(("overhead lookup (cache=run) / literal", "", "", "%.2fx" % (lookup_run / literal)))
        rows.append(("overhead lookup with keywords / literal", "", "", "%.2fx" % (keywords / literal)))
        rows.append(("overhead no-op lookup / literal", "", "", "%.2fx" % (noop / literal)))
        rows.append(("lookup cache=off / cache=run", "", "", "%.2fx" % (off_elapsed / lookup_run)))
        samples_line = "; ".join("%s %s" % (label, " ".join("%.2f" % value for value in samples[label])) for label, _text in plays)

        module_time, _exchanges = median_of(MODULE_PLAY, base, play_hosts=1)
        uri_times = []
        for _run in range(repeat):
            variables = dict(base, origin=emulator.origin, client_id=client_id, jwt_token=_sign_jwt(integration, emulator.origin))
            elapsed, _count = bench.measured(client_id, URI_PLAY, 1, forks, variables, {"client_secret": integration["client_secrets"][0]})
            uri_times.append(elapsed)
        uri_time = statistics.median(uri_times)
        rows.append(("module (cache=off), one exchange, 1 host", "1", "%.2f s" % module_time, ""))
        rows.append(("ansible.builtin.uri posting a pre-signed JWT, 1 host", "1", "%.2f s" % uri_time, ""))
        rows.append(("module / uri (median of %d)" % repeat, "", "", "%.2fx" % (module_time / uri_time)))

        first_persistent, first_count = bench.measured(client_id, LOOKUP_TASKS, hosts, forks, base, cache="persistent")
        second_persistent, second_count = bench.measured(client_id, LOOKUP_TASKS, hosts, forks, base, cache="persistent")
        rows.append(("cache=persistent, first run", "%d" % first_count, "%.1f s" % first_persistent, ""))
        rows.append(("cache=persistent, second run", "%d" % second_count, "%.1f s" % second_persistent, ""))
    finally:
        emulator_client.stop_emulator(process)

    header = ("scenario", "IMS exchanges", "wall time (median)", "ratio")
    widths = [max(len(str(row[index])) for row in rows + [header]) for index in range(4)]
    lines = ["| " + " | ".join(str(cell).ljust(widths[index]) for index, cell in enumerate(row)) + " |" for row in [header]]
    lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    lines += ["| " + " | ".join(str(cell).ljust(widths[index]) for index, cell in enumerate(row)) + " |" for row in rows]
    table = "\n".join(lines)
    description = machine_description()
    samples_line = "Wall times of the interleaved runs (s): %s\nTarget: lookup (cache=run) / literal within 1.10x: %s (%.2fx)" % (
        samples_line,
        "met" if lookup_run / literal <= 1.10 else "NOT met",
        lookup_run / literal,
    )
    print("Machine: " + description)
    print(table)
    print(samples_line)
    if options.markdown:
        with open(options.markdown, "w", encoding="utf-8") as handle:
            handle.write("Machine: %s\n\n%s\n\n%s\n" % (description, table, samples_line))
    failures = []
    if max(run_exchanges) != 1:
        failures.append("cache=run made %s exchanges per run, expected 1" % run_exchanges)
    if second_count != 0:
        failures.append("the second cache=persistent run made %d exchanges, expected 0" % second_count)
    if failures:
        raise SystemExit("bench: " + "; ".join(failures))


if __name__ == "__main__":
    main()
