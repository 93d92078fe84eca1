# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_ci_matrix.py passes on the checkout and names every kind of disagreement (make ci-matrix)."""

from __future__ import annotations

import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
_SPEC = importlib.util.spec_from_file_location("check_ci_matrix", os.path.join(HERE, "check_ci_matrix.py"))
assert _SPEC is not None and _SPEC.loader is not None
check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check)


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(name="files")
def fixture_files():
    return {"readme": read(check.README), "workflow": read(check.WORKFLOW), "makefile": read(check.MAKEFILE), "runtime": read(check.RUNTIME)}


def replaced(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_checkout_agrees(files):
    assert check.disagreements(**files) == []
    assert check.main(["--root", ROOT]) == 0


def test_the_readme_table_is_read_row_by_row(files):
    table = check.readme_lines(files["readme"])
    assert list(table) == ["2.16", "2.17", "2.18", "2.19", "2.20", "2.21"]
    assert table["2.16"] == ["3.10", "3.11", "3.12"]
    assert table["2.21"] == ["3.12", "3.13", "3.14"]


def test_a_python_the_readme_drops_is_one_the_workflow_has_too_many(files):
    files["readme"] = replaced(files["readme"], "| 2.16 | 3.10, 3.11, 3.12 |", "| 2.16 | 3.11, 3.12 |")
    problems = check.disagreements(**files)
    assert "the units job has, but the README does not name: ('stable-2.16', '3.10')" in problems
    assert "the integration job has, but the README does not name: ('stable-2.16', '3.10')" in problems


def test_a_pair_the_workflow_drops_is_missed(files):
    files["workflow"] = replaced(files["workflow"], "          - {ansible: stable-2.21, python: '3.14'}\n", "")
    assert check.disagreements(**files) == ["the units job misses: ('stable-2.21', '3.14')"]


def test_a_repeated_pair_is_named(files):
    entry = "          - {ansible: stable-2.18, python: '3.13'}\n"
    files["workflow"] = replaced(files["workflow"], entry, entry * 2)
    assert check.disagreements(**files) == ["the units job repeats: ('stable-2.18', '3.13')"]


def test_a_line_missing_from_sanity_is_named(files):
    files["workflow"] = replaced(files["workflow"], "          - stable-2.19\n", "")
    assert check.disagreements(**files) == ["the sanity job misses: stable-2.19"]


def test_a_new_readme_line_needs_every_job_and_the_makefile(files):
    files["readme"] = replaced(files["readme"], "| 2.21 | 3.12, 3.13, 3.14 |", "| 2.21 | 3.12, 3.13, 3.14 | | |\n| 2.22 | 3.13, 3.14 |")
    problems = check.disagreements(**files)
    assert "the sanity job misses: stable-2.22" in problems
    assert "the units job misses: ('stable-2.22', '3.13'), ('stable-2.22', '3.14')" in problems
    assert "the integration job misses: ('stable-2.22', '3.13'), ('stable-2.22', '3.14')" in problems
    assert any(problem.startswith("the Makefile's LINES (make test-matrix) are 2.16 2.17 2.18 2.19 2.20 2.21") for problem in problems)


def test_the_milestone_job_is_required(files):
    files["workflow"] = replaced(files["workflow"], "ansible-core-version: milestone", "ansible-core-version: devel")
    assert check.disagreements(**files) == ["the sanity-milestone job runs on ['devel'], not on milestone"]


def test_requires_ansible_must_start_at_the_oldest_line(files):
    files["runtime"] = replaced(files["runtime"], 'requires_ansible: ">=2.16.0"', 'requires_ansible: ">=2.17.0"')
    assert check.disagreements(**files) == ["meta/runtime.yml requires ansible-core >= 2.17, the README's oldest line is 2.16"]


def test_a_readme_without_the_table_cannot_be_compared(files):
    files["readme"] = replaced(files["readme"], check.TABLE_HEADING, "## Versions")
    with pytest.raises(ValueError, match="no '## Tested with Ansible' section"):
        check.disagreements(**files)
