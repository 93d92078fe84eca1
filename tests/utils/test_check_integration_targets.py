# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_integration_targets.py passes on the checkout and names every kind of drift (make integration-targets)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
_SPEC = importlib.util.spec_from_file_location("check_integration_targets", os.path.join(HERE, "check_integration_targets.py"))
assert _SPEC is not None and _SPEC.loader is not None
check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check)


@pytest.fixture(name="root")
def fixture_root(tmp_path):
    """A copy of the checkout's tests/integration/, to break in one way per test."""
    shutil.copytree(os.path.join(ROOT, check.INTEGRATION), str(tmp_path / check.INTEGRATION), ignore=shutil.ignore_patterns("__pycache__"))
    return str(tmp_path)


def path(root, *parts):
    return os.path.join(root, check.INTEGRATION, *parts)


def add_suite(root, name):
    os.makedirs(path(root, name, "sub"))
    with open(path(root, name, "sub", "test_new.py"), "w", encoding="utf-8") as handle:
        handle.write("def test_nothing():\n    pass\n")


def add_target(root, name, source="awx"):
    shutil.copytree(path(root, "targets", source), path(root, "targets", name))


def test_the_checkout_agrees(capsys):
    assert check.problems(ROOT) == []
    assert check.main(["--root", ROOT]) == 0
    assert "every suite is an ansible-test target" in capsys.readouterr().out


def test_suites_and_targets_are_read_from_the_tree(root):
    assert "leaks" in check.suites(root)
    assert "plugins" in check.suites(root)  # its tests are two levels down
    assert "targets" not in check.suites(root)
    assert check.suites(root) == check.targets(root)
    assert check.RUNNER_TARGET not in check.targets(root)


def test_a_new_suite_needs_only_a_copy_of_a_target(root):
    add_suite(root, "new_suite")
    missing = "suite tests/integration/new_suite/ has no target: add tests/integration/targets/new_suite/"
    assert check.problems(root) == [missing + " (runme.sh and aliases as the others have them)"]
    add_target(root, "new_suite")
    assert check.problems(root) == []


def test_a_directory_without_tests_is_no_suite(root):
    os.makedirs(path(root, "helpers"))
    with open(path(root, "helpers", "conftest.py"), "w", encoding="utf-8") as handle:
        handle.write("")
    assert check.problems(root) == []


def test_a_target_without_its_suite_is_named(root):
    shutil.rmtree(path(root, "awx"))
    assert check.problems(root) == ["target tests/integration/targets/awx/ has no suite: tests/integration/awx/ holds no test_*.py"]


def test_a_runme_that_differs_or_cannot_run_is_named(root):
    runme = path(root, "targets", "leaks", "runme.sh")
    with open(runme, "a", encoding="utf-8") as handle:
        handle.write("echo more\n")
    os.chmod(runme, 0o644)
    problems = check.problems(root)
    assert len(problems) == 2
    assert problems[0].startswith("target leaks: runme.sh is not the two lines every target shares")
    assert problems[1] == "target leaks: runme.sh is not executable"


def test_a_target_without_runme_is_invisible_to_ansible_test(root):
    os.unlink(path(root, "targets", "shapes", "runme.sh"))
    assert check.problems(root) == ["target shapes has no runme.sh (ansible-test does not see it)"]


def test_the_aliases_ansible_test_needs(root):
    with open(path(root, "targets", "security", "aliases"), "w", encoding="utf-8") as handle:
        handle.write("# comment\nunsupported\ncontext/target\n")
    assert check.problems(root) == [
        "target security: aliases lack context/controller",
        "target security: aliases lack needs/target/setup_pytest_suite",
        "target security: aliases name no CI group (shippable/posix/groupN)",
        "target security: alias unsupported makes ansible-test skip the suite",
    ]
    os.unlink(path(root, "targets", "security", "aliases"))
    assert check.problems(root) == ["target security has no aliases file"]


def test_the_shared_runner_must_be_there(root, capsys):
    os.chmod(path(root, "targets", check.RUNNER_TARGET, check.RUNNER), 0o644)
    assert check.problems(root) == ["tests/integration/targets/setup_pytest_suite/run_suite.sh is missing or not executable"]
    assert check.main(["--root", root]) == 1
    assert "1 problem(s)" in capsys.readouterr().err
