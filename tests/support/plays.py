# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Play builders the integration suites share: one way to write a module task, a lookup task, a
timestamp and a fault injection, instead of a copy in each suite.

Import as ``ansible_collections.aemops.ims.tests.support.plays`` (the suites run inside the
collection layout). Reading results back is the integration conftest's ``save`` fixture.
"""

from __future__ import annotations

import json

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
"""


def module_task(name, options, register=None, failing=False, keywords=""):
    """A task of aemops.ims.aem_ims_token. options: {option: YAML value as written}; register
    defaults to the name with '_' for spaces; failing adds ignore_errors; keywords are more task
    keyword lines (each starting with a newline and six spaces)."""
    lines = "".join("\n        %s: %s" % (key, value) for key, value in options.items())
    return """
    - name: {name}
      aemops.ims.aem_ims_token:{lines}
      register: {register}{ignore}{keywords}
""".format(name=name, lines=lines, register=register or name.replace(" ", "_"), ignore="\n      ignore_errors: true" if failing else "", keywords=keywords)


def lookup_task(name, terms, register, failing=True, result=None, no_log=True):
    """A set_fact of `register` from the lookup with these terms and keywords (Jinja, as written
    in the call); its task result is registered as `result` (default `<register>_result`).
    no_log=False shows a failure's message (the token of a success would be shown too)."""
    return """
    - name: {name}
      ansible.builtin.set_fact:
        {register}: "{{{{ lookup('aemops.ims.aem_ims_token', {terms}) }}}}"
      register: {result}{no_log}{ignore}
""".format(
        name=name,
        terms=terms,
        register=register,
        result=result or register + "_result",
        no_log="\n      no_log: true" if no_log else "",
        ignore="\n      ignore_errors: true" if failing else "",
    )


def stamp_task(name):
    """A fact `name` holding the controller's time (epoch seconds) when the task ran."""
    return """
    - name: Timestamp {name}
      ansible.builtin.set_fact:
        {name}: "{{{{ now(utc=true).timestamp() }}}}"
""".format(name=name)


def inject_task(faults):
    """A task that queues faults in the emulator right before the task that must consume them
    (needs the emulator_origin and ca_path variables)."""
    return """
    - name: Queue {count} fault(s) in the emulator
      ansible.builtin.uri:
        url: "{{{{ emulator_origin }}}}/_emulator/faults"
        method: POST
        body_format: json
        body: {body}
        ca_path: "{{{{ ca_path }}}}"
      delegate_to: localhost
""".format(count=len(faults), body=json.dumps({"faults": faults}))
