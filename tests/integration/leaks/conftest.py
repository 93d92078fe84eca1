# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The leak suite's ledger: which paths each leak-checked run covered, summed up at the end."""

from __future__ import annotations

import pytest

# --- the ledger of leak-checked paths -------------------------------------------------------

LEDGER = []


@pytest.fixture
def ledger(request):
    """ledger(run_label, paths): record which paths one leak-checked run covered (summarised at the end)."""

    def record(label, paths):
        LEDGER.append({"test": request.node.name, "run": label, "paths": list(paths)})

    return record


def pytest_terminal_summary(terminalreporter):
    if not LEDGER:
        return
    runs = len(LEDGER)
    checks = sum(len(entry["paths"]) for entry in LEDGER)
    distinct = len({path for entry in LEDGER for path in entry["paths"]})
    terminalreporter.write_sep("-", "aemops.ims leak suite")
    terminalreporter.write_line("%d ansible-playbook runs leak-checked; %d path checks (%d distinct paths x output configurations)" % (runs, checks, distinct))
