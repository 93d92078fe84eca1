# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make ci-matrix: the hosted CI tests what the README says is supported, no more, no less.

usage: check_ci_matrix.py [--root CHECKOUT]

Compares the README's "Tested with Ansible" table (one row per ansible-core line, with the
controller Pythons of that line) with:

- .github/workflows/ansible-test.yml: the sanity job runs on ``stable-X.Y`` of every line, the
  sanity-milestone job on ``milestone``; the units and the integration jobs run on every
  (``stable-X.Y``, Python) pair of the table, and on nothing else;
- the Makefile's ``LINES`` (what ``make test-matrix`` runs);
- meta/runtime.yml's ``requires_ansible``, whose lower bound must be the oldest line.

Prints what it compared; exits 1 listing every disagreement. The workflow cannot run here
(no Docker, no GitHub), so this and actionlint are what keep it honest.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import yaml

WORKFLOW = os.path.join(".github", "workflows", "ansible-test.yml")
README = "README.md"
MAKEFILE = "Makefile"
RUNTIME = os.path.join("meta", "runtime.yml")
TABLE_HEADING = "## Tested with Ansible"
MILESTONE = "milestone"


def readme_lines(text: str) -> dict[str, list[str]]:
    """{ansible-core line: [controller Pythons]} from the first table under TABLE_HEADING."""
    lines = text.splitlines()
    try:
        start = lines.index(TABLE_HEADING)
    except ValueError:
        raise ValueError("README.md has no %r section" % TABLE_HEADING) from None
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break  # the end of the first table
    if len(rows) < 3:
        raise ValueError("README.md: no table under %r" % TABLE_HEADING)
    header = [cell.lower() for cell in rows[0]]
    if "ansible-core" not in header[0] or not any("controller python" in cell for cell in header):
        raise ValueError("README.md: the table under %r must start with the columns ansible-core and Controller Python, got %s" % (TABLE_HEADING, rows[0]))
    python_column = next(index for index, cell in enumerate(header) if "controller python" in cell)
    table: dict[str, list[str]] = {}
    for row in rows[2:]:  # rows[1] is the |---| separator
        match = re.match(r"(\d+\.\d+)\b", row[0])
        if not match:
            raise ValueError("README.md: %r is not an ansible-core line such as 2.16" % row[0])
        pythons = re.findall(r"\b3\.\d+\b", row[python_column]) if python_column < len(row) else []
        if not pythons:
            raise ValueError("README.md: the row of ansible-core %s names no controller Python" % match.group(1))
        table[match.group(1)] = pythons
    return table


def _branches(job: dict) -> list[str]:
    """The ansible-core branches of a job: its matrix's ansible list, or its step's ansible-core-version."""
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    if "ansible" in matrix:
        return [str(branch) for branch in matrix["ansible"]]
    return [str(step["with"]["ansible-core-version"]) for step in job.get("steps", []) if "ansible-core-version" in (step.get("with") or {})]


def _pairs(job: dict) -> list[tuple[str, str]]:
    """The (branch, Python) pairs of a job whose matrix is a list of includes."""
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    extra = sorted(set(matrix) - {"include"})
    if extra:
        raise ValueError("the matrix must list (ansible, python) pairs under include only, it also has %s" % ", ".join(extra))
    return [(str(entry["ansible"]), str(entry["python"])) for entry in matrix.get("include", [])]


def _testing_type(job: dict) -> str | None:
    for step in job.get("steps", []):
        if "ansible-test-gh-action" in str(step.get("uses", "")):
            return (step.get("with") or {}).get("testing-type")
    return None


def workflow_jobs(text: str) -> dict[str, dict]:
    jobs = (yaml.safe_load(text) or {}).get("jobs") or {}
    if not isinstance(jobs, dict):
        raise ValueError("%s has no jobs" % WORKFLOW)
    return jobs


def makefile_lines(text: str) -> list[str]:
    match = re.search(r"^LINES\s*:?=\s*(.+)$", text, re.M)
    if not match:
        raise ValueError("Makefile has no LINES := ... line")
    return match.group(1).split()


def runtime_floor(text: str) -> str:
    requires = str((yaml.safe_load(text) or {}).get("requires_ansible", ""))
    match = re.search(r">=\s*(\d+\.\d+)", requires)
    if not match:
        raise ValueError("meta/runtime.yml: requires_ansible %r has no >= lower bound" % requires)
    return match.group(1)


def _line_key(line: str) -> tuple[int, ...]:
    return tuple(int(part) for part in line.split("."))


def disagreements(readme: str, workflow: str, makefile: str, runtime: str) -> list[str]:
    """Every way the four files disagree; empty when they agree."""
    table = readme_lines(readme)
    jobs = workflow_jobs(workflow)
    problems = []
    stable = ["stable-%s" % line for line in sorted(table, key=_line_key)]
    expected_pairs = sorted(("stable-%s" % line, python) for line, pythons in table.items() for python in pythons)

    def compare(what: str, expected: list, found: list) -> None:
        missing = [item for item in expected if item not in found]
        unexpected = [item for item in found if item not in expected]
        duplicated = sorted({item for item in found if found.count(item) > 1})
        for label, items in (("misses", missing), ("has, but the README does not name", unexpected), ("repeats", duplicated)):
            if items:
                problems.append("%s %s: %s" % (what, label, ", ".join(map(str, items))))

    for name, kind in (("sanity", "sanity"), ("sanity-milestone", "sanity"), ("units", "units"), ("integration", "integration")):
        if name not in jobs:
            problems.append("%s has no %s job" % (WORKFLOW, name))
        elif _testing_type(jobs[name]) != kind:
            problems.append("%s: the %s job does not run ansible-test-gh-action with testing-type %s" % (WORKFLOW, name, kind))
    if "sanity" in jobs:
        compare("the sanity job", stable, _branches(jobs["sanity"]))
    if "sanity-milestone" in jobs and _branches(jobs["sanity-milestone"]) != [MILESTONE]:
        problems.append("the sanity-milestone job runs on %s, not on %s" % (_branches(jobs["sanity-milestone"]), MILESTONE))
    for name in ("units", "integration"):
        if name in jobs:
            try:
                compare("the %s job" % name, expected_pairs, _pairs(jobs[name]))
            except (KeyError, TypeError, ValueError) as error:
                problems.append("the %s job: %s" % (name, error))

    lines = makefile_lines(makefile)
    if lines != sorted(table, key=_line_key):
        problems.append("the Makefile's LINES (make test-matrix) are %s, the README's lines %s" % (" ".join(lines), " ".join(sorted(table, key=_line_key))))
    floor = runtime_floor(runtime)
    oldest = min(table, key=_line_key)
    if floor != oldest:
        problems.append("meta/runtime.yml requires ansible-core >= %s, the README's oldest line is %s" % (floor, oldest))
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."), help="the collection checkout")
    args = parser.parse_args(argv)
    texts = {}
    for name in (README, WORKFLOW, MAKEFILE, RUNTIME):
        with open(os.path.join(args.root, name), encoding="utf-8") as handle:
            texts[name] = handle.read()
    try:
        table = readme_lines(texts[README])
        problems = disagreements(texts[README], texts[WORKFLOW], texts[MAKEFILE], texts[RUNTIME])
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as error:
        print("ci-matrix: cannot compare: %s" % error, file=sys.stderr)
        return 1
    pairs = sum(len(pythons) for pythons in table.values())
    print(
        "ci-matrix: README lines %s; sanity on %d branches + %s, units and integration on %d (branch, Python) pairs each"
        % (", ".join("%s (py%s)" % (line, " ".join(pythons)) for line, pythons in table.items()), len(table), MILESTONE, pairs)
    )
    if problems:
        print("ci-matrix: %s and the README's %r table disagree:" % (WORKFLOW, TABLE_HEADING), file=sys.stderr)
        for problem in problems:
            print("  - " + problem, file=sys.stderr)
        return 1
    print("ci-matrix: the workflow, the Makefile's LINES and meta/runtime.yml agree with the README")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
