# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run test gates (make targets), several at a time, timing each one.

usage: run_gates.py TARGET[:DEPENDENCY,...]=LABEL...

Each gate is ``make NODEPS=1 TARGET``. A gate starts once every gate it depends on
has passed (a gate whose dependency failed is not run and counts as failed), and at
most JOBS gates (environment, default 2) run at once; gates are started in the order
given, so long poles go first. EXCLUSIVE (environment) lists groups of targets that
must not run beside each other, groups separated by ";" and targets by ",", e.g.
``sanity-2.16,sanity-2.19;sanity-2.20,sanity-2.21`` (ansible-test sanity runs on the
same Python share ~/.ansible/test/venv, where two runs could build one venv at once).

Each gate's output goes to LOG_DIR/<target>.log (environment, default build/logs/gates)
and is printed in one piece when the gate ends, followed by one timed line::

    == units + coverage (ansible-core 2.16.19/py3.11): 31s ok

Every gate runs even when another failed, so one run shows every failure. The
summary at the end repeats the timed lines; the exit code is non-zero when any
gate failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import BinaryIO


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
        self.result = ""  # "", "ok", "FAILED", "SKIPPED"

    def line(self) -> str:
        if self.result == "SKIPPED":
            return "== %s: not run, a gate it needs failed (%s) FAILED" % (self.label, ", ".join(self.deps))
        return "== %s: %ds %s" % (self.label, round(self.elapsed), self.result)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    make = os.environ.get("MAKE", "make").split()
    jobs = max(1, int(os.environ.get("JOBS", "2")))
    log_dir = os.path.abspath(os.environ.get("LOG_DIR", os.path.join("build", "logs", "gates")))
    exclusive = [{t.strip() for t in group.split(",") if t.strip()} for group in os.environ.get("EXCLUSIVE", "").split(";")]
    exclusive = [group for group in exclusive if len(group) > 1]
    os.makedirs(log_dir, exist_ok=True)

    gates = [Gate(spec) for spec in argv]
    by_target = {gate.target: gate for gate in gates}
    for gate in gates:
        unknown = [d for d in gate.deps if d not in by_target]
        if unknown:
            print("run_gates: %s depends on unknown gate(s) %s" % (gate.target, ", ".join(unknown)), file=sys.stderr)
            return 2

    # The gates' sub-makes must not inherit this make's job server or command-line variables.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.setdefault("PYTHONUNBUFFERED", "1")

    start_all = time.monotonic()
    print("run_gates: %d gates, up to %d at a time; logs in %s" % (len(gates), jobs, log_dir), flush=True)
    pending = list(gates)
    running: list[Gate] = []
    finished: list[Gate] = []

    def excluded_by(gate: Gate, other: Gate) -> bool:
        return any(gate.target in group and other.target in group for group in exclusive)

    while pending or running:
        # Gates whose dependencies failed are settled without running.
        for gate in list(pending):
            if any(by_target[d].result in ("FAILED", "SKIPPED") for d in gate.deps):
                gate.result = "SKIPPED"
                pending.remove(gate)
                finished.append(gate)
                print("\n" + gate.line(), flush=True)
        # Start what can start.
        for gate in list(pending):
            if len(running) >= jobs:
                break
            if not all(by_target[d].result == "ok" for d in gate.deps):
                continue
            if any(excluded_by(gate, other) for other in running):
                continue
            gate.log_path = os.path.join(log_dir, gate.target + ".log")
            gate.log_handle = open(gate.log_path, "wb")  # noqa: SIM115 (closed when the gate ends)
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
            if pending:  # cannot happen: every dependency is settled or running
                print("run_gates: deadlock among %s" % ", ".join(g.target for g in pending), file=sys.stderr)
                return 2
            break
        time.sleep(0.2)
        for gate in list(running):
            assert gate.process is not None
            code = gate.process.poll()
            if code is None:
                continue
            if gate.log_handle is not None:
                gate.log_handle.close()
            gate.elapsed = time.monotonic() - gate.started
            gate.result = "ok" if code == 0 else "FAILED"
            running.remove(gate)
            finished.append(gate)
            with open(gate.log_path, encoding="utf-8", errors="replace") as handle:
                output = handle.read()
            sys.stdout.write("\n=== %s: make %s (log: %s)\n" % (gate.label, gate.target, gate.log_path))
            sys.stdout.write(output if output.endswith("\n") or not output else output + "\n")
            print(gate.line() + ("" if code == 0 else " (exit code %d)" % code), flush=True)

    total = time.monotonic() - start_all
    failed = [g for g in gates if g.result != "ok"]
    print("\n=== summary (wall clock %ds, %d at a time)" % (round(total), jobs))
    for gate in gates:  # in the order given
        print(gate.line())
    print("gates: %d passed, %d failed" % (len(gates) - len(failed), len(failed)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
