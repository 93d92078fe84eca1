# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark of the lookup, the module and the token cache, against the bundled IMS emulator.

usage: bench.py [--aem-hosts 40] [--hosts 200] [--forks 10] [--rounds 9] [--only SECTIONS] [--markdown FILE]
       bench.py --smoke          (a few hosts, one round: proves the bench runs, judges nothing)

What it runs, each play a real ansible-playbook over local hosts:

1. the AEM-shaped play (the headline): every host makes 2 ansible.builtin.uri calls to the
   emulator's mock AEM API with the token in the Authorization header, the token coming
   from the lookup, from a literal (the floor), from the module once (run_once + register), or
   from a lookup of this collection that returns the literal (what any of its lookups costs);
2. the controller-only play: 200 hosts x 3 set_fact tasks that template the lookup, against
   the same play with a lookup of this collection that returns a constant (its floor: what
   Ansible charges any lookup of this collection, meta/runtime.yml included), and, in the same
   rounds, against a copy of the collection whose lookup does not call
   _register_option_definitions() (issue 17 item 3: the registration stays only if it saves
   at least 5%);
3. the module against a hand-written ansible.builtin.uri POST of the same JWT exchange;
4. exchange counts: 200 x 3 lookups with cache=run, and two runs with cache=persistent;
5. failures: the same 200 x 3 lookups against an IMS that answers 503 to everything (an outage)
   and with a wrong client secret (401 invalid_client): IMS requests and wall time.

--only picks sections (aem, controller, module, persistent, failures); --collections-path can
point at another build of the collection, to measure it before a change.

Method. The plays of one comparison run interleaved, in an order that rotates each round,
after one round that is not counted (the first plays of a session run on cold caches). The
figure is the CPU time of the whole play: ansible-playbook and every process it started
(getrusage of the children), which is steadier than wall time on a shared machine; wall
time is printed too. Each figure is given as its median over the rounds with its spread
(min-max and interquartile range). A ratio is taken per round, between the plays of that
round, so that a slow round slows both sides; its median and spread are reported, and the
targets are judged on the median of the per-round ratios, from 7 counted rounds up (fewer
rounds print the figures without a verdict).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# Targets are judged only on this many counted rounds or more (issue 17).
MIN_ROUNDS = 7
# The registration of the lookup's option definitions stays only if it saves this much CPU.
REGISTRATION_SAVING = 0.05
ROOT = os.path.dirname(os.path.dirname(HERE))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


emulator_client = _load("aemops_ims_emulator_client", os.path.join(ROOT, "tests", "ims_emulator", "client.py"))

# --- 1. the AEM-shaped play --------------------------------------------------------------------

AEM_PLAY = """
- hosts: all
  gather_facts: false
  tasks:{get_token}
    - name: Ask AEM who the token belongs to
      ansible.builtin.uri:
        url: "{{{{ aem_url }}}}/libs/granite/security/currentuser.json"
        headers:
          Authorization: "Bearer {{{{ {token} }}}}"
        ca_path: "{{{{ ca_path }}}}"
      no_log: true
    - name: Read a page
      ansible.builtin.uri:
        url: "{{{{ aem_url }}}}/aem/content/site/en.json"
        headers:
          Authorization: "Bearer {{{{ {token} }}}}"
        ca_path: "{{{{ ca_path }}}}"
      no_log: true
"""
MODULE_ONCE = """
    - name: Get the token once for every host
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
      register: aem_token
      run_once: true"""
AEM_PLAYS = {
    "lookup": AEM_PLAY.format(get_token="", token="lookup('aemops.ims.aem_ims_token', creds_file)"),
    "literal": AEM_PLAY.format(get_token="", token="literal_token"),
    "module, run_once": AEM_PLAY.format(get_token=MODULE_ONCE, token="aem_token.access_token"),
    # What any lookup of this collection costs here: the part of the target no lookup can avoid.
    "constant lookup": AEM_PLAY.format(get_token="", token="lookup('aemops.ims.bench_constant', creds_file, token=literal_token)"),
}

# --- 2. the controller-only play ---------------------------------------------------------------

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
# The controller-only play when every lookup fails: each host goes on to its next task.
FAILING_PLAY = TEMPLATING_PLAY.replace("      no_log: true", "      no_log: true\n      ignore_errors: true").format(
    expression="lookup('aemops.ims.aem_ims_token', creds_file)"
)
CONTROLLER_PLAYS = {
    "lookup": TEMPLATING_PLAY.format(expression="lookup('aemops.ims.aem_ims_token', creds_file)"),
    "constant lookup": TEMPLATING_PLAY.format(expression="lookup('aemops.ims.bench_constant', creds_file)"),
}

# A lookup of this collection that only returns a constant: what Ansible charges any lookup of
# the collection in every forked worker (finding and loading it, meta/runtime.yml included).
CONSTANT_LOOKUP = '''
from __future__ import annotations

DOCUMENTATION = """
name: bench_constant
short_description: Returns a constant, for the benchmark.
description: Returns a constant, for the benchmark.
"""

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [kwargs.get("token", "x" * 1200)]
'''

# --- 3. the module against a hand-written exchange ---------------------------------------------

MODULE_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Exchange with the module
      aemops.ims.aem_ims_token:
        service_credentials_file: "{{ creds_file }}"
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


class Run:
    """One ansible-playbook run: CPU seconds of every process, wall seconds, IMS requests."""

    def __init__(self, cpu, wall, requests):
        self.cpu, self.wall, self.requests = cpu, wall, requests


class Bench:
    def __init__(self, workspace, emulator, collections_path, client_id, environment):
        self.workspace = workspace
        self.emulator = emulator
        self.collections_path = collections_path
        self.client_id = client_id
        # AEM_IMS_* variables every play gets, as AWX and CI jobs set them.
        self.environment = environment

    def inventory(self, hosts):
        path = os.path.join(self.workspace, "inventory-%d.ini" % hosts)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("[aem]\n")
            for index in range(hosts):
                handle.write("host%03d ansible_connection=local ansible_python_interpreter=%s\n" % (index, sys.executable))
        return path

    def requests(self):
        return self.emulator.stats()["by_client"].get(self.client_id, {}).get("requests", 0)

    def run(self, text, hosts, forks, variables, secret_variables=None, cache="run", collections_path=None):
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
        environment.update(ANSIBLE_COLLECTIONS_PATH=collections_path or self.collections_path, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
        before_requests = self.requests()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if completed.returncode != 0:
            sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-2000:])
            raise SystemExit("bench: a playbook failed (rc=%d)" % completed.returncode)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return Run(cpu, wall, self.requests() - before_requests)

    def compare(self, plays, hosts, forks, variables, rounds, secret_variables=None, paths=None):
        """Run the plays interleaved, rotating their order each round, after one uncounted round.

        paths maps a play's label to the collections path it runs with (default: the bench's).
        """
        paths = paths or {}
        runs = {label: [] for label in plays}
        labels = list(plays)
        for label in labels:
            self.run(plays[label], hosts, forks, variables, secret_variables, collections_path=paths.get(label))
        for round_number in range(rounds):
            shift = round_number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                runs[label].append(self.run(plays[label], hosts, forks, variables, secret_variables, collections_path=paths.get(label)))
        return runs


def spread(values):
    """Median, min-max and interquartile range of a figure, as the table shows them."""
    values = sorted(values)
    if len(values) > 1:
        first, _median, third = statistics.quantiles(values, n=4, method="inclusive")
    else:
        first = third = values[0]
    return statistics.median(values), values[0], values[-1], third - first


def median_interval(values, confidence=0.95):
    """A distribution-free confidence interval of the median (order statistics, binomial); None for too few values.

    It tells whether the rounds decide a target: a median on the right side of it, with an interval
    that spans it, may be noise.
    """
    values, count = sorted(values), len(values)
    # The largest k with P(Binomial(count, 1/2) < k) <= (1 - confidence) / 2: the interval is the k-th value from each end.
    tail, k = 0.0, 0
    while tail + math.comb(count, k) / 2**count <= (1 - confidence) / 2:
        tail += math.comb(count, k) / 2**count
        k += 1
    return None if k == 0 else (values[k - 1], values[count - k])


def interval_shown(values):
    interval = median_interval(values)
    return "%.3f-%.3f" % interval if interval else "too few rounds"


def shown(values, digits=2):
    middle, low, high, iqr = spread(values)
    return "%.*f" % (digits, middle), "%.*f-%.*f" % (digits, low, digits, high), "%.*f" % (digits, iqr)


def per_round(runs, floor_runs):
    """The ratio of each counted round: a run against the floor's run of the same round."""
    return [run.cpu / floor.cpu for run, floor in zip(runs, floor_runs, strict=True)]


def median(runs, attribute):
    return statistics.median(getattr(run, attribute) for run in runs)


def row(scenario, requests, runs, ratios=None, target=""):
    cpu, cpu_range, cpu_iqr = shown([run.cpu for run in runs])
    ratio = (*shown(ratios, 3), interval_shown(ratios)) if ratios else ("", "", "", "")
    return (scenario, requests, cpu, cpu_range, cpu_iqr, "%.2f" % median(runs, "wall")) + ratio + (target,)


def sign_jwt(integration, origin, lifetime=600):
    # What a user would have to write by hand before ansible.builtin.uri can post it.
    import jwt  # pylint: disable=import-outside-toplevel

    now = int(time.time())
    claims = {"iss": integration["org_id"], "sub": integration["technical_account_id"], "aud": "%s/c/%s" % (origin, integration["client_id"])}
    claims.update(iat=now, exp=now + lifetime)
    for metascope in integration["metascopes"]:
        claims["%s/s/%s" % (origin, metascope)] = True
    return jwt.encode(claims, integration["private_key_pem"], algorithm="RS256")


def collection_copy(collections_path, workspace, name):
    """A copy of the built collection in a collections path of its own, under workspace/name."""
    source = os.path.join(collections_path, "ansible_collections", "aemops", "ims")
    target_root = os.path.join(workspace, name)
    target = os.path.join(target_root, "ansible_collections", "aemops", "ims")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git", "tests", "build", "__pycache__"))
    return target_root, target


def collection_with_constant_lookup(collections_path, workspace):
    """A copy of the collection with the constant lookup added."""
    target_root, target = collection_copy(collections_path, workspace, "collections")
    with open(os.path.join(target, "plugins", "lookup", "bench_constant.py"), "w", encoding="utf-8") as handle:
        handle.write(CONSTANT_LOOKUP)
    return target_root


# The lookup's call at import that hands ansible-core its option definitions (issue 17 item 3).
REGISTRATION_CALL = re.compile(r"^_register_option_definitions\(\)[ \t]*$", re.MULTILINE)


def collection_without_registration(collections_path, workspace):
    """A copy of the collection whose lookup does not call _register_option_definitions(), or None if it never does."""
    target_root, target = collection_copy(collections_path, workspace, "collections-unregistered")
    path = os.path.join(target, "plugins", "lookup", "aem_ims_token.py")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    text, calls = REGISTRATION_CALL.subn("pass  # bench: the registration left out", text)
    if calls != 1:
        shutil.rmtree(target_root)
        return None
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target_root


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    ansible = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "--version"], capture_output=True, text=True, check=False)
    return "%s, %d CPUs, Python %s, %s" % (cpu, os.cpu_count() or 0, platform.python_version(), ansible.stdout.splitlines()[0])


def table(rows):
    header = (
        "scenario",
        "IMS requests",
        "CPU s median",
        "CPU min-max",
        "CPU IQR",
        "wall s median",
        "ratio median",
        "ratio min-max",
        "ratio IQR",
        "ratio median 95% CI",
        "target",
    )
    widths = [max(len(str(row[index])) for row in rows + [header]) for index in range(len(header))]
    lines = ["| " + " | ".join(str(cell).ljust(widths[index]) for index, cell in enumerate(header)) + " |"]
    lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    lines += ["| " + " | ".join(str(cell).ljust(widths[index]) for index, cell in enumerate(row)) + " |" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aem-hosts", type=int, default=40, help="hosts of the AEM-shaped play")
    parser.add_argument("--hosts", type=int, default=200, help="hosts of the controller-only play")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9, help="counted rounds per comparison; targets are judged from %d up" % MIN_ROUNDS)
    parser.add_argument("--collections-path", default=os.environ.get("AEMOPS_IMS_COLLECTIONS_PATH"))
    parser.add_argument("--markdown", help="also write the results as Markdown to this file")
    parser.add_argument("--only", default="aem,controller,module,persistent,failures", help="comma-separated sections to run")
    parser.add_argument("--smoke", action="store_true", help="a few hosts and one round: shows that the bench runs, judges nothing")
    options = parser.parse_args()
    if options.smoke:
        options.hosts, options.aem_hosts, options.forks, options.rounds = min(options.hosts, 4), min(options.aem_hosts, 2), min(options.forks, 2), 1
    sections = set(options.only.split(","))
    if not options.collections_path:
        raise SystemExit("bench: set --collections-path or AEMOPS_IMS_COLLECTIONS_PATH (make bench does)")

    workspace = tempfile.mkdtemp(prefix="aemops-ims-bench-")
    process, emulator = emulator_client.start_emulator(os.path.join(workspace, "emulator"), python=sys.executable)
    rows, failures, samples, notes = [], [], [], []
    try:
        integration = emulator.create_integration()
        client_id = integration["client_id"]
        creds_file = emulator_client.write_credentials(os.path.join(workspace, "service-credentials.json"), integration)
        bench = Bench(
            workspace,
            emulator,
            collection_with_constant_lookup(options.collections_path, workspace),
            client_id,
            {"AEM_IMS_CA_PATH": emulator.ca_path, "AEM_IMS_CACHE_DIR": os.path.join(workspace, "persistent-cache")},
        )
        base = {"creds_file": creds_file, "ca_path": emulator.ca_path, "aem_url": emulator.origin}
        forks, rounds = options.forks, options.rounds

        def verdict(ratios, limit):
            ratio = statistics.median(ratios)
            if rounds < MIN_ROUNDS:
                return "<= %.2f: not judged (%d rounds < %d)" % (limit, rounds, MIN_ROUNDS)
            met = ratio <= limit
            if not met:
                failures.append("%.3fx > %.2fx" % (ratio, limit))
            interval = median_interval(ratios)
            # The median decides; an interval that spans the target says the rounds did not settle it.
            unsettled = " (the median's 95%% CI %.3f-%.3f spans it)" % interval if interval and interval[0] <= limit < interval[1] else ""
            return "<= %.2f: %s%s" % (limit, "met" if met else "NOT met", unsettled)

        def record(title, runs):
            samples.append("%s: CPU %s" % (title, " ".join("%.2f" % run.cpu for run in runs)))

        def report(title, comparison, floor_label, limit, judged="lookup"):
            """One row per play of a comparison: its per-round ratios to the floor, and the judged play's against its target."""
            for label, runs in comparison.items():
                record("%s, %s" % (title, label), runs)
                ratios = per_round(runs, comparison[floor_label])
                requests = "%d per run" % max(run.requests for run in runs)
                rows.append(row("%s, %s" % (title, label), requests, runs, ratios, verdict(ratios, limit) if label == judged else ""))

        if "aem" in sections:
            # 1. The AEM-shaped play. The literal is a real token, obtained once, as a user would paste it.
            literal_token = _token_from_emulator(emulator, integration)
            aem = bench.compare(AEM_PLAYS, options.aem_hosts, forks, base, rounds, {"literal_token": literal_token})
            report("AEM-shaped: %d hosts x 2 uri calls, forks %d, token from" % (options.aem_hosts, forks), aem, "literal", 1.03)
        if "controller" in sections:
            # 2. The controller-only play against a constant lookup of this collection and, in the
            # same rounds, against the lookup without the registration of its option definitions.
            plays, paths = dict(CONTROLLER_PLAYS), {}
            unregistered = collection_without_registration(options.collections_path, workspace)
            if unregistered is not None:
                plays["lookup without registration"] = CONTROLLER_PLAYS["lookup"]
                paths["lookup without registration"] = unregistered
            controller = bench.compare(plays, options.hosts, forks, base, rounds, paths=paths)
            report("controller-only: %d hosts x 3 set_fact, forks %d" % (options.hosts, forks), controller, "constant lookup", 1.20)
            if max(run.requests for run in controller["lookup"]) != 1:
                failures.append("cache=run made %s requests per run, expected 1" % [run.requests for run in controller["lookup"]])
            if unregistered is None:
                notes.append("registration: the lookup does not call _register_option_definitions(); nothing to compare")
            else:
                registration(controller, rounds, rows, notes)
        if "module" in sections:
            module_against_uri(bench, integration, base, forks, rounds, rows, record, verdict)
        if "persistent" in sections:
            # 4. Exchange counts across runs.
            first = bench.run(CONTROLLER_PLAYS["lookup"], options.hosts, forks, base, cache="persistent")
            second = bench.run(CONTROLLER_PLAYS["lookup"], options.hosts, forks, base, cache="persistent")
            rows.append(row("cache=persistent, first run (%d x 3 lookups)" % options.hosts, str(first.requests), [first]))
            rows.append(row("cache=persistent, second run", str(second.requests), [second]))
            if second.requests != 0:
                failures.append("the second cache=persistent run made %d requests, expected 0" % second.requests)
        if "failures" in sections:
            # 5. Failures: every lookup of the play fails; what does IMS see, and how long until the play ends?
            failing = dict(base, aem_ims_ims_endpoint=emulator.endpoint)
            emulator.set_outage({"status": 503})
            outage = bench.run(FAILING_PLAY, options.hosts, forks, failing)
            emulator.set_outage(None)
            rows.append(row("failures: %d x 3 lookups, IMS answers 503 to everything" % options.hosts, str(outage.requests), [outage]))
            wrong = bench.run(FAILING_PLAY, options.hosts, forks, failing, {"aem_ims_client_secret": "p8e-a-wrong-secret-for-the-bench"})
            rows.append(row("failures: %d x 3 lookups, a wrong client secret (401 invalid_client)" % options.hosts, str(wrong.requests), [wrong]))
    finally:
        emulator_client.stop_emulator(process)
        shutil.rmtree(workspace, ignore_errors=True)

    description = machine_description()
    text = "Machine: %s\nCounted rounds: %d (after one uncounted round), interleaved, order rotated each round\n\n%s\n\n" % (
        description,
        options.rounds,
        table(rows),
    )
    text += "".join(note + "\n" for note in notes)
    text += "\nCPU seconds of each counted run:\n%s\n" % "\n".join("- " + line for line in samples)
    print(text)
    if options.markdown:
        with open(options.markdown, "w", encoding="utf-8") as handle:
            handle.write(text)
    if failures:
        raise SystemExit("bench: " + "; ".join(failures))


def registration(controller, rounds, rows, notes):
    """Issue 17 item 3: what the lookup's registration of its option definitions saves, per round, in the same run."""
    savings = [1 - ratio for ratio in per_round(controller["lookup"], controller["lookup without registration"])]
    saving, low, high, iqr = spread(savings)
    if rounds < MIN_ROUNDS:
        decision = "not judged (%d rounds < %d)" % (rounds, MIN_ROUNDS)
    else:
        # Issue 17 asked for the registration only as a speed-up; it is also what hands ansible-core's values over as
        # written (the lookup's docstring), so a saving below the bar is reported, not acted on, here.
        decision = "it pays for itself" if saving >= REGISTRATION_SAVING else "no speed-up worth keeping it for"
    notes.append(
        "registration: the lookup with _register_option_definitions() costs %.1f%% less CPU than without (per round: median %.1f%%, "
        "min-max %.1f%% to %.1f%%, IQR %.1f points); >= %.0f%% would justify it as a speed-up: %s"
        % (100 * saving, 100 * saving, 100 * low, 100 * high, 100 * iqr, 100 * REGISTRATION_SAVING, decision)
    )


def module_against_uri(bench, integration, base, forks, rounds, rows, record, verdict):
    """3. The module against a hand-written exchange (a JWT signed anew for each run)."""
    emulator = bench.emulator
    module_runs, uri_runs = [], []
    for round_number in range(rounds + 1):
        variables = dict(base, origin=emulator.origin, client_id=integration["client_id"], jwt_token=sign_jwt(integration, emulator.origin))
        plays = [
            lambda: module_runs.append(bench.run(MODULE_PLAY, 1, forks, base)),
            lambda variables=variables: uri_runs.append(bench.run(URI_PLAY, 1, forks, variables, {"client_secret": integration["client_secrets"][0]})),
        ]
        # Interleaved, the order swapped each round, as in Bench.compare.
        for play in plays if round_number % 2 == 0 else plays[::-1]:
            play()
    module_runs, uri_runs = module_runs[1:], uri_runs[1:]
    record("module", module_runs)
    record("uri", uri_runs)
    ratios = per_round(module_runs, uri_runs)
    rows.append(row("module (cache=off), one exchange, 1 host", "1", module_runs, ratios, verdict(ratios, 1.0)))
    rows.append(row("ansible.builtin.uri posting a pre-signed JWT, 1 host", "1", uri_runs, per_round(uri_runs, uri_runs), ""))


def _token_from_emulator(emulator, integration):
    """A real token for the literal play, obtained the way a user would before pasting it."""
    form = {"client_id": integration["client_id"], "client_secret": integration["client_secrets"][0], "jwt_token": sign_jwt(integration, emulator.origin)}
    request = urllib.request.Request(emulator.url("/ims/exchange/jwt"), data=urllib.parse.urlencode(form).encode("ascii"), method="POST")
    with urllib.request.urlopen(request, timeout=30, context=ssl.create_default_context(cafile=emulator.ca_path)) as response:
        return json.loads(response.read())["access_token"]


if __name__ == "__main__":
    main()
