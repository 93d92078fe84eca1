# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make integration-targets: every integration suite is an ansible-test target, and nothing else is.

usage: check_integration_targets.py [--root CHECKOUT]

A suite is a directory directly under tests/integration/ with a ``test_*.py`` file somewhere
below it; its target is tests/integration/targets/<suite>/ (setup_pytest_suite/run_suite.sh
derives the suite from the target's name). For each suite and target this checks that:

- the suite has a target and the target a suite (support targets, named ``setup_*`` or
  ``prepare_*`` as ansible-test hides them, excepted);
- the target's ``runme.sh`` is the two lines every target shares, and executable (without a
  runme.sh ansible-test does not see a target at all);
- its ``aliases`` give ``context/controller`` (2.16 and 2.21 refuse a script target whose
  context they cannot tell), ``needs/target/setup_pytest_suite`` (else the runner is not
  copied in), a CI group ``shippable/posix/groupN``, and nothing that makes ansible-test skip
  it (``disabled``, ``unsupported``, ``unstable``, ``skip/...``).

Prints what it compared; exits 1 listing every problem. It reads files only: `make test`
runs the suites with pytest directly, and this keeps the ansible-test targets the hosted CI
runs (.github/workflows/ansible-test.yml) in step with them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

INTEGRATION = os.path.join("tests", "integration")
TARGETS = os.path.join(INTEGRATION, "targets")
RUNNER_TARGET = "setup_pytest_suite"
RUNNER = "run_suite.sh"
RUNME = '#!/usr/bin/env bash\nexec ../%s/%s "$@"\n' % (RUNNER_TARGET, RUNNER)
REQUIRED_ALIASES = ("context/controller", "needs/target/%s" % RUNNER_TARGET)
CI_GROUP = re.compile(r"shippable/posix/group\d+")
SKIPPING_ALIASES = re.compile(r"(disabled|unsupported|unstable|skip/.*)")
SUPPORT_PREFIXES = ("setup_", "prepare_")


def suites(root: str) -> list[str]:
    """The suite directories: those under tests/integration/ (targets/ aside) holding a test_*.py."""
    base = os.path.join(root, INTEGRATION)
    found = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if name == "targets" or name.startswith((".", "_")) or not os.path.isdir(path):
            continue
        if any(file.startswith("test_") and file.endswith(".py") for _dir, _subdirs, files in os.walk(path) for file in files):
            found.append(name)
    return found


def targets(root: str) -> list[str]:
    """The target directories ansible-test would run (support targets aside)."""
    base = os.path.join(root, TARGETS)
    if not os.path.isdir(base):
        return []
    return sorted(name for name in os.listdir(base) if os.path.isdir(os.path.join(base, name)) and not name.startswith(SUPPORT_PREFIXES))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def target_problems(root: str, name: str) -> list[str]:
    """What is wrong with the target directory of one suite."""
    problems = []
    directory = os.path.join(root, TARGETS, name)
    runme = os.path.join(directory, "runme.sh")
    text = _read(runme)
    if text is None:
        problems.append("target %s has no runme.sh (ansible-test does not see it)" % name)
    else:
        if text != RUNME:
            problems.append("target %s: runme.sh is not the two lines every target shares:\n%s" % (name, RUNME))
        if not os.access(runme, os.X_OK):
            problems.append("target %s: runme.sh is not executable" % name)
    aliases_text = _read(os.path.join(directory, "aliases"))
    if aliases_text is None:
        return problems + ["target %s has no aliases file" % name]
    aliases = [line.split("#", 1)[0].strip() for line in aliases_text.splitlines()]
    aliases = [alias for alias in aliases if alias]
    for required in REQUIRED_ALIASES:
        if required not in aliases:
            problems.append("target %s: aliases lack %s" % (name, required))
    if not any(CI_GROUP.fullmatch(alias) for alias in aliases):
        problems.append("target %s: aliases name no CI group (shippable/posix/groupN)" % name)
    for alias in aliases:
        if SKIPPING_ALIASES.fullmatch(alias):
            problems.append("target %s: alias %s makes ansible-test skip the suite" % (name, alias))
    return problems


def problems(root: str) -> list[str]:
    """Every disagreement between the suites and the targets, in a stable order."""
    found = []
    runner = os.path.join(root, TARGETS, RUNNER_TARGET, RUNNER)
    if not os.access(runner, os.X_OK):
        found.append("%s is missing or not executable" % os.path.relpath(runner, root))
    suite_names = suites(root)
    target_names = targets(root)
    for name in suite_names:
        if name in target_names:
            found.extend(target_problems(root, name))
        else:
            found.append("suite tests/integration/%s/ has no target: add %s/%s/ (runme.sh and aliases as the others have them)" % (name, TARGETS, name))
    for name in target_names:
        if name not in suite_names:
            found.append("target %s/%s/ has no suite: tests/integration/%s/ holds no test_*.py" % (TARGETS, name, name))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.getcwd(), help="the checkout (default: the current directory)")
    root = parser.parse_args(argv).root
    found = problems(root)
    print("integration-targets: suites %s; targets %s" % (" ".join(suites(root)) or "(none)", " ".join(targets(root)) or "(none)"))
    if found:
        print("integration-targets: %d problem(s):" % len(found), file=sys.stderr)
        for problem in found:
            print("  - " + problem, file=sys.stderr)
        return 1
    print("integration-targets: every suite is an ansible-test target, and every target a suite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
