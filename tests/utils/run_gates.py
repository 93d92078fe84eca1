# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run test gates (make targets), several at a time, timing each one.

usage: run_gates.py [--rounds N --clean DIR] TARGET[:DEPENDENCY,...]=LABEL...

Each gate is ``make NODEPS=1 TARGET``. A gate starts once every gate it depends on
has passed (a gate whose dependency failed is not run and counts as failed), and at
most JOBS gates (environment, default 2) run at once; gates are started in the order
given, so long poles go first.

Every gate runs in a state of its own (see gate_environment): its own HOME, cache,
config and temporary directories under STATE_DIR/<target>/ (environment, default
build/state), so that any two gates can run side by side, in any order. No two gates
need to be kept apart.

Each gate's output goes to LOG_DIR/<target>.log (environment, default build/logs/gates)
and is printed in one piece when the gate ends, followed by one timed line with the
wall-clock and the CPU seconds of everything the gate ran::

    == units + coverage (ansible-core 2.16.19/py3.11): 31s ok (cpu 45s)

A failed gate stops only the gates that depend on it: every other gate still runs, so
one run shows every failure that can be seen. The summary at the end repeats the timed
lines, then the last lines of every failed gate's log; the exit code is non-zero
when any gate failed or was not run.

With ``--rounds N`` the whole gate set runs N times, each round from a clean DIR
(everything in it is removed first, except the directory that holds LOG_DIR), with
its logs in LOG_DIR/round-<k>; the end reports every gate that did not pass in every
round (a flake guard: ``make test-repeat N=3``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from typing import BinaryIO

# Lines of a failed gate's log repeated after the summary (print_tail).
TAIL_LINES = 40

# Variables of the caller's environment that would make gates depend on it, or share
# state through it: ANSIBLE_* (ANSIBLE_CONFIG, ANSIBLE_COLLECTIONS_PATH, ANSIBLE_HOME,
# ANSIBLE_LINT_*, ...), an activated venv (ansible-compat keeps ansible-lint's cache
# and mocks in $VIRTUAL_ENV/.ansible when it is set), PYTHONPATH, and caches that
# would otherwise not follow the gate's HOME.
DROPPED_PREFIXES = ("ANSIBLE_",)
DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_CACHE_DIR", "HYPOTHESIS_STORAGE_DIRECTORY", "TEMP", "TMP")
# The gates' sub-makes must not inherit this make's job server or command-line variables.
DROPPED_MAKE = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def gate_environment(base: dict[str, str], state_dir: str) -> dict[str, str]:
    """The environment of one gate: the caller's, minus what it must not share, plus a private HOME.

    Every tool the gates run keeps its state under HOME or an XDG directory: pip's cache,
    ansible-test's sanity venvs and get-pip cache (~/.ansible/test), ansible-lint's mocks
    and ansible-compat's collection cache (~/.ansible when offline), pylint's and mypy's
    caches, pytest's and the tools' temporary files (TMPDIR). Two gates that shared one
    of them could see each other's half-written state: galaxy-importer and ansible-lint
    once did (ansible-lint's mocks, "couldn't resolve module/action").
    """
    home = os.path.join(state_dir, "home")
    tmp = os.path.join(state_dir, "tmp")
    # Temporary files die with the gate that made them; HOME survives, so a second run
    # reuses the gate's own caches (sanity venvs, pip downloads).
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    os.makedirs(home, exist_ok=True)
    env = {name: value for name, value in base.items() if not name.startswith(DROPPED_PREFIXES) and name not in DROPPED and name not in DROPPED_MAKE}
    env.update(
        HOME=home,
        ANSIBLE_HOME=os.path.join(home, ".ansible"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        XDG_STATE_HOME=os.path.join(home, ".local", "state"),
        TMPDIR=tmp,
    )
    env.setdefault("PYTHONUNBUFFERED", "1")
    write_pip_config(os.path.join(home, ".config", "pip", "pip.conf"), base)
    return env


def write_pip_config(path: str, base: dict[str, str]) -> None:
    """Give the gate's pip a registry's patience, also where PIP_* variables do not reach.

    ansible-test runs pip with an environment of its own (HOME and PATH, no PIP_*
    variable), so the caller's PIP_DEFAULT_TIMEOUT never reaches the pip that fills its
    sanity venvs, which then gives up on a slow registry after pip's 15 s and 5 retries.
    pip reads this file in the gate and inside ansible-test alike (~/.config/pip/pip.conf
    of the gate's HOME); a PIP_* variable, where it does arrive, still wins over it.
    """
    timeout = base.get("PIP_DEFAULT_TIMEOUT") or base.get("PIP_TIMEOUT") or "60"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# written by tests/utils/run_gates.py for this gate\n[global]\ntimeout = %s\nretries = 10\n" % timeout)


class Gate:
    def __init__(self, spec: str):
        head, sep, label = spec.partition("=")
        if not sep:
            label = head
        target, _colon, deps = head.partition(":")
        self.target = target.strip()
        self.label = label.strip() or self.target
        self.deps = [d.strip() for d in deps.split(",") if d.strip()]
        self.process: subprocess.Popen | None = None
        self.log_handle: BinaryIO | None = None
        self.log_path = ""
        self.started = 0.0
        self.elapsed = 0.0
        self.cpu = 0.0
        self.result = ""  # "", "ok", "FAILED", "SKIPPED"

    def line(self) -> str:
        if self.result == "SKIPPED":
            return "== %s: not run, a gate it needs failed (%s) FAILED" % (self.label, ", ".join(self.deps))
        return "== %s: %ds %s (cpu %ds)" % (self.label, round(self.elapsed), self.result, round(self.cpu))


def run_gates(specs: list[str], make: list[str], jobs: int, log_dir: str, state_root: str) -> list[Gate]:
    """Run one gate set; returns the gates with their results (in the order given)."""
    gates = [Gate(spec) for spec in specs]
    by_target = {gate.target: gate for gate in gates}
    os.makedirs(log_dir, exist_ok=True)

    start_all = time.monotonic()
    print("run_gates: %d gates, up to %d at a time; logs in %s, gate state in %s" % (len(gates), jobs, log_dir, state_root), flush=True)
    pending = list(gates)
    running: list[Gate] = []

    while pending or running:
        # Gates whose dependencies failed are settled without running.
        for gate in list(pending):
            if any(by_target[d].result in ("FAILED", "SKIPPED") for d in gate.deps):
                gate.result = "SKIPPED"
                pending.remove(gate)
                print("\n" + gate.line(), flush=True)
        # Start what can start.
        for gate in list(pending):
            if len(running) >= jobs:
                break
            if not all(by_target[d].result == "ok" for d in gate.deps):
                continue
            gate.log_path = os.path.join(log_dir, gate.target + ".log")
            gate.log_handle = open(gate.log_path, "wb")  # noqa: SIM115 (closed when the gate ends)
            env = gate_environment(dict(os.environ), os.path.join(state_root, gate.target))
            gate.started = time.monotonic()
            gate.process = subprocess.Popen(
                [*make, "--no-print-directory", "NODEPS=1", gate.target],
                stdout=gate.log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            pending.remove(gate)
            running.append(gate)
            print("-- started %s (make %s) at +%ds" % (gate.label, gate.target, round(gate.started - start_all)), flush=True)
        if not running:
            for gate in pending:  # cannot happen: every dependency is settled or running
                print("run_gates: %s cannot start (deadlock)" % gate.target, file=sys.stderr)
                gate.result = "FAILED"
            break
        time.sleep(0.2)
        for gate in list(running):
            assert gate.process is not None
            # wait4 reports the CPU time of the gate's whole process tree (make and
            # everything it waited for), which says where the machine's time went.
            pid, status, usage = os.wait4(gate.process.pid, os.WNOHANG)
            if pid == 0:
                continue
            gate.process.returncode = code = os.waitstatus_to_exitcode(status)
            if gate.log_handle is not None:
                gate.log_handle.close()
            gate.elapsed = time.monotonic() - gate.started
            gate.cpu = usage.ru_utime + usage.ru_stime
            gate.result = "ok" if code == 0 else "FAILED"
            running.remove(gate)
            with open(gate.log_path, encoding="utf-8", errors="replace") as handle:
                output = handle.read()
            sys.stdout.write("\n=== %s: make %s (log: %s)\n" % (gate.label, gate.target, gate.log_path))
            sys.stdout.write(output if output.endswith("\n") or not output else output + "\n")
            print(gate.line() + ("" if code == 0 else " (exit code %d)" % code), flush=True)

    total = time.monotonic() - start_all
    failed = [g for g in gates if g.result != "ok"]
    print("\n=== summary (wall clock %ds, cpu %ds, %d at a time)" % (round(total), round(sum(g.cpu for g in gates)), jobs))
    for gate in gates:  # in the order given
        print(gate.line())
    for gate in failed:
        print_tail(gate)
    print("gates: %d passed, %d failed" % (len(gates) - len(failed), len(failed)), flush=True)
    return gates


def print_tail(gate: Gate) -> None:
    """Repeat the end of a failed gate's log after the summary.

    A CI page often keeps only the head and the tail of a long output; the log printed
    when the gate ended may be in the part it leaves out, and the reason with it.
    """
    if not gate.log_path or not os.path.exists(gate.log_path):
        return
    with open(gate.log_path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()[-TAIL_LINES:]
    print("\n--- %s: the last %d lines of %s" % (gate.label, len(lines), gate.log_path))
    for line in lines:
        print("  | " + line)


def clean(directory: str, keep: str) -> None:
    """Remove everything in directory except the entry that holds keep."""
    if not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if keep == path or keep.startswith(path + os.sep):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    parser.add_argument("--rounds", type=int, default=0, help="run the gate set this many times, each from a clean --clean DIR")
    parser.add_argument("--clean", metavar="DIR", help="emptied before each round (required with --rounds)")
    parser.add_argument("gates", nargs="+", metavar="TARGET[:DEPENDENCY,...]=LABEL")
    args = parser.parse_args(argv)
    if args.rounds and not args.clean:
        parser.error("--rounds needs --clean DIR")

    make = os.environ.get("MAKE", "make").split()
    jobs = max(1, int(os.environ.get("JOBS", "2")))
    log_dir = os.path.abspath(os.environ.get("LOG_DIR", os.path.join("build", "logs", "gates")))
    state_root = os.path.abspath(os.environ.get("STATE_DIR", os.path.join("build", "state")))

    known = {Gate(spec).target for spec in args.gates}
    for gate in map(Gate, args.gates):
        unknown = [d for d in gate.deps if d not in known]
        if unknown:
            print("run_gates: %s depends on unknown gate(s) %s" % (gate.target, ", ".join(unknown)), file=sys.stderr)
            return 2

    if not args.rounds:
        gates = run_gates(args.gates, make, jobs, log_dir, state_root)
        return 1 if any(g.result != "ok" for g in gates) else 0

    rounds: list[list[Gate]] = []
    for number in range(1, args.rounds + 1):
        clean(os.path.abspath(args.clean), log_dir)
        print("\n##### round %d of %d, from a clean %s" % (number, args.rounds, args.clean), flush=True)
        rounds.append(run_gates(args.gates, make, jobs, os.path.join(log_dir, "round-%d" % number), state_root))

    print("\n##### %d rounds: results per gate (wall-clock seconds)" % args.rounds)
    unsteady = []
    for index, gate in enumerate(rounds[0]):
        results = [gates[index] for gates in rounds]
        passed = sum(g.result == "ok" for g in results)
        cells = "  ".join("%s %ds" % (g.result or "?", round(g.elapsed)) for g in results)
        print("%-60s %d/%d  %s" % (gate.label, passed, args.rounds, cells))
        if passed != args.rounds:
            unsteady.append("%s (passed %d of %d)" % (gate.label, passed, args.rounds))
    if unsteady:
        print("gates that did not pass every round: " + "; ".join(unsteady))
        return 1
    print("every gate passed in all %d rounds" % args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
