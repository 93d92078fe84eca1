# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Harness for the integration tests: real ansible-playbook runs against the real IMS emulator.

Every run happens at -vvvv with ANSIBLE_LOG_PATH set, so that each test can assert that
no secret reached stdout, stderr or the log. Secrets never appear in playbook source:
ansible-core 2.19+ quotes playbook lines in errors and warnings, which would report a
leak that is not one. They reach playbooks through files, environment variables or an
extra-vars file.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

HERE = Path(__file__).resolve().parent
COLLECTION_ROOT = HERE.parent.parent
EMULATOR_DIR = COLLECTION_ROOT / "tests" / "ims_emulator"
PLAYBOOK_TIMEOUT = 600
# Variables of the caller's machine that would change how a playbook reaches IMS (a proxy, a CA
# bundle, netrc credentials): never inherited, as the unit conftest strips them. Matched without
# regard to case (requests reads https_proxy and HTTPS_PROXY alike). A test that needs one passes
# it in env= explicitly.
MACHINE_VARIABLES = frozenset(
    (
        "https_proxy",
        "http_proxy",
        "all_proxy",
        "no_proxy",
        "requests_ca_bundle",
        "curl_ca_bundle",
        "ssl_cert_file",
        "ssl_cert_dir",
        "netrc",
    )
)


# The emulator's random x-debug-id, in IMS error messages.
DEBUG_ID = r"\(x-debug-id [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)"

# What differs by ansible-core line is how a failure is shown, never what the message says
# nor what must stay out of the output. 2.19 reworked error display: a failed task also
# prints "[ERROR]: Task failed: [Action failed: ]<msg>", and an error raised by a lookup
# reaches the task as "The lookup plugin '<name>' failed: <msg>". 2.16-2.18 print only the
# "fatal: [host]: FAILED! => {...}" result, whose msg is the lookup's message as raised.
CORE_LINE = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split(".")[:2])
ERROR_LINES = CORE_LINE >= (2, 19)
LOOKUP_FAILED = "The lookup plugin 'aemops.ims.aem_ims_token' failed: "


def lookup_error(message):
    """The lookup's own message, from the msg of a task it failed (see CORE_LINE)."""
    if not ERROR_LINES:
        return message
    assert LOOKUP_FAILED in message, "not a failure of the lookup: %s" % message
    return message.split(LOOKUP_FAILED, 1)[1]


def failed_results(stdout):
    """[(task name, result)] for each failed result that -vvvv printed ("fatal: [host]: FAILED! => {...}")."""
    found = []
    task = None
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        banner = re.match(r"^TASK \[(.*)\] \*+$", line)
        if banner:
            task = banner.group(1)
            continue
        head = re.match(r"^(?:fatal: \[[^]]+\]: FAILED!|failed: \[[^]]+\] \(item=.*\)) => (\{.*)$", line)
        if not head:
            continue
        text = head.group(1)
        if text == "{":  # -vvvv indents the result: it ends at the first unindented "}"
            end = next(i for i in range(index + 1, len(lines)) if lines[i] == "}")
            text = "\n".join(lines[index : end + 1])[len(line) - 1 :]
        found.append((task, json.loads(text)))
    return found


def first_failure_by_task(run):
    """{task name: the first failure shown under that task}: the '[ERROR]: Task failed: ...' line
    on 2.19+, the msg of the failed result on older lines (see CORE_LINE)."""
    found = {}
    if ERROR_LINES:
        current = None
        for line in run.stdout.splitlines():
            banner = re.match(r"^TASK \[(.*)\] \*+$", line)
            if banner:
                current = banner.group(1)
            elif line.startswith("[ERROR]: Task failed: ") and current is not None and current not in found:
                found[current] = line
        return found
    for task, result in failed_results(run.stdout):
        if task is not None and task not in found and isinstance(result.get("msg"), str):
            found[task] = result["msg"]
    return found


def module_error(failure):
    """The module's message in an entry of first_failure_by_task()."""
    if not ERROR_LINES:
        return failure
    prefix = "[ERROR]: Task failed: Action failed: "
    assert failure.startswith(prefix), failure
    return failure[len(prefix) :]


def _load_by_path(name, path):
    # Loaded by file path: these helpers are scripts too, not packages of the collection.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


emulator_client = _load_by_path("aemops_ims_emulator_client", EMULATOR_DIR / "client.py")
# The one leak check of every suite (tests/support/leak_check.py).
leak_check = _load_by_path("aemops_ims_leak_check", COLLECTION_ROOT / "tests" / "support" / "leak_check.py")
JWT_PATTERN = leak_check.JWT_PATTERN


def collections_path():
    """The ansible_collections/ layout the tests run from (made by `make collection`)."""
    configured = os.environ.get("AEMOPS_IMS_COLLECTIONS_PATH")
    if configured:
        return configured
    # COLLECTION_ROOT is .../ansible_collections/aemops/ims
    return str(COLLECTION_ROOT.parent.parent.parent)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One HTTPS IMS emulator for the session; tests isolate themselves by integration (client id)."""
    state_dir = tmp_path_factory.mktemp("ims-emulator")
    process, client = emulator_client.start_emulator(str(state_dir), python=sys.executable, log_path=str(state_dir / "emulator.log"))
    try:
        yield client
    finally:
        emulator_client.stop_emulator(process)


def pem_body_lines(pem):
    """The base64 lines of a PEM block (kept for suites that list them; the leak check derives its own)."""
    lines = []
    for line in (pem or "").replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line and not line.startswith("-----") and ":" not in line and len(line) >= 16:
            lines.append(line)
    return lines


@dataclass
class Credentials:
    """An integration created in the emulator, with its files written in a private directory."""

    integration: dict
    directory: Path
    files: dict = field(default_factory=dict)

    @property
    def client_id(self):
        return self.integration["client_id"]

    @property
    def secrets(self):
        """Every secret of this integration: client secrets, passphrase, the private key (PEM).

        The leak check derives every form of the key from the PEM (decrypted with the passphrase
        when it is encrypted): each line, PKCS#1 and PKCS#8, PEM and DER base64.
        """
        values = list(self.integration["client_secrets"])
        if self.integration.get("passphrase"):
            values.append(self.integration["passphrase"])
        if self.integration.get("private_key_pem"):
            values.append(self.integration["private_key_pem"])
        return values

    def write(self, fmt="aem_service_credentials", name=None, transform=None):
        """Write one credentials shape as a 0600 JSON file; transform(dict) may alter it first."""
        document = json.loads(json.dumps(self.integration["formats"][fmt]))
        if transform is not None:
            document = transform(document) or document
        path = self.directory / (name or "%s.json" % fmt)
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
        path.chmod(0o600)
        self.files[fmt] = path
        return path

    def write_private_key(self, name="private.key"):
        path = self.directory / name
        path.write_text(self.integration["private_key_pem"], encoding="utf-8")
        path.chmod(0o600)
        return path


@pytest.fixture
def make_credentials(emulator, tmp_path):
    """Factory: make_credentials(**emulator options) -> Credentials (a fresh integration)."""
    counter = [0]

    def factory(**options):
        counter[0] += 1
        integration = emulator.create_integration(**options)
        if options.get("passphrase"):
            integration["passphrase"] = options["passphrase"]
        directory = tmp_path / ("credentials-%d" % counter[0])
        directory.mkdir(mode=0o700)
        return Credentials(integration=integration, directory=directory)

    return factory


@pytest.fixture
def credentials(make_credentials):
    """A fresh AEM CS JWT integration, its service credentials written to a file."""
    created = make_credentials()
    created.write()
    return created


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    log: str
    workspace: Path

    @property
    def output(self):
        return "\n".join((self.stdout, self.stderr, self.log))

    def result_file(self, name="result.json"):
        """A JSON file the playbook wrote into its workspace (tests use it to read tokens back)."""
        return json.loads((self.workspace / name).read_text(encoding="utf-8"))

    def assert_ok(self):
        assert self.rc == 0, "ansible-playbook failed (rc=%d):\n%s" % (self.rc, self.tail())

    def assert_failed(self):
        assert self.rc != 0, "ansible-playbook succeeded unexpectedly:\n%s" % self.tail()

    def tail(self, lines=60):
        return "\n".join(self.stdout.splitlines()[-lines:] + ["--- stderr ---"] + self.stderr.splitlines()[-20:])

    def assert_no_secrets(self, *secrets, allow_jwt_shaped=False):
        """No form of any secret in stdout, stderr or the log (tests/support/leak_check.py).

        Searched with all whitespace removed, raw, URL-encoded and JSON-escaped; a private key
        also decrypted, as PKCS#1 and PKCS#8, PEM and DER base64; any PEM private-key block at all.
        Unless allow_jwt_shaped, also nothing shaped like a JWT or IMS token at all: the
        signed JWT is never returned anywhere, so this is how its absence is checked.
        """
        leak_check.assert_no_leaks(self.output, *secrets, allow_jwt_shaped=allow_jwt_shaped)

    def failure_messages(self):
        """The `msg` of each failed task, from the -vvvv JSON output."""
        return re.findall(r'"msg": "((?:[^"\\]|\\.)*)"', self.stdout)


def inherited_environment():
    """What a playbook run takes from the caller's environment: neither AEM_IMS_* nor ANSIBLE_*
    variables, nor any of MACHINE_VARIABLES."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("AEM_IMS_", "ANSIBLE_")) and name.lower() not in MACHINE_VARIABLES}


class Ansible:
    """Runs ansible-playbook in a private workspace with a given inventory size."""

    def __init__(self, workspace):
        self.workspace = workspace

    def inventory(self, hosts):
        lines = ["[aem]"]
        for index in range(1, hosts + 1):
            lines.append("host%03d ansible_connection=local ansible_python_interpreter=%s" % (index, sys.executable))
        path = self.workspace / ("inventory-%d.ini" % hosts)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def run(self, playbook, hosts=1, forks=5, env=None, extra_vars=None, secret_vars=None, check=False, verbosity="-vvvv", args=(), name="playbook.yml"):
        """Run a playbook given as YAML text. secret_vars go through a 0600 extra-vars file."""
        playbook_path = self.workspace / name
        playbook_path.write_text(playbook, encoding="utf-8")
        log_path = self.workspace / "ansible.log"
        if log_path.exists():
            log_path.unlink()
        command = [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            str(self.inventory(hosts)),
            "-f",
            str(forks),
            str(playbook_path),
        ]
        if verbosity:
            command.append(verbosity)
        if check:
            command.append("--check")
        variables = dict(extra_vars or {})
        variables.setdefault("workspace", str(self.workspace))
        command.extend(["-e", json.dumps(variables)])
        if secret_vars:
            secrets_path = self.workspace / "secret-vars.json"
            secrets_path.write_text(json.dumps(secret_vars), encoding="utf-8")
            secrets_path.chmod(0o600)
            command.extend(["-e", "@%s" % secrets_path])
        command.extend(args)
        environment = inherited_environment()
        environment.update(
            ANSIBLE_COLLECTIONS_PATH=collections_path(),
            ANSIBLE_LOG_PATH=str(log_path),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_HOST_KEY_CHECKING="0",
            ANSIBLE_LOCAL_TEMP=str(self.workspace / "ansible-tmp"),
            # The local connection's "remote" temp directory defaults to ~<user>/.ansible/tmp
            # from the password database, not $HOME: keep it in the workspace too.
            ANSIBLE_REMOTE_TMP=str(self.workspace / "remote-tmp"),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            XDG_CACHE_HOME=str(self.workspace / "xdg-cache"),
        )
        environment.update(env or {})
        completed = subprocess.run(command, cwd=self.workspace, env=environment, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        return PlaybookRun(completed.returncode, completed.stdout, completed.stderr, log, self.workspace)


@pytest.fixture
def clean_environment():
    """clean_environment() -> the caller's environment as every playbook run gets it (see
    inherited_environment), for tests that start other processes against the emulator."""
    return inherited_environment


@pytest.fixture
def ansible(tmp_path):
    workspace = Path(tempfile.mkdtemp(prefix="pb-", dir=tmp_path))
    return Ansible(workspace)


@pytest.fixture
def requests_for(emulator):
    """requests_for(client_id) -> how many token requests the emulator received for that client."""

    def count(client_id):
        return emulator.stats()["by_client"].get(client_id, {}).get("requests", 0)

    return count


@pytest.fixture
def issued_for(emulator):
    """issued_for(client_id) -> how many tokens the emulator issued to that client."""

    def count(client_id):
        return emulator.stats()["by_client"].get(client_id, {}).get("issued", 0)

    return count


# --- reading results back and checking failures ----------------------------------------------


def save_task(expression, name="result.json", title=None):
    """A hidden task that writes `expression` (Jinja, without braces) as JSON into the workspace.

    run_once + delegate_to localhost, so it runs once whatever the number of hosts; check_mode
    false, so that it writes in --check runs too. Tests read tokens back this way without them
    ever reaching the output.
    """
    return """
    - name: {title}
      ansible.builtin.copy:
        content: "{{{{ ({expression}) | to_json }}}}"
        dest: "{{{{ workspace }}}}/{name}"
        mode: "0600"
      no_log: true
      delegate_to: localhost
      run_once: true
      check_mode: false
      changed_when: false
""".format(title=title or "Keep %s for the test (hidden)" % name, expression=expression, name=name)


def token_claims(token):
    """The payload of an IMS access token (a JWT), unverified."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def one_line_failure(run, message):
    """Assert that `message` (a str, or a compiled regex) is the msg of a failed task in the output.

    Returns the matching message. ansible-core 2.19+ prints it twice: in the [ERROR] line and as
    the "msg" of the fatal result; older lines print the fatal result only (see CORE_LINE).
    """
    messages = run.failure_messages()
    if isinstance(message, str):
        assert message in messages, "expected failure message not found.\nexpected: %s\nfound:\n%s" % (message, "\n".join(messages))
        found = message
    else:
        matching = [item for item in messages if message.fullmatch(item)]
        assert matching, "no failure message matches %s\nfound:\n%s" % (message.pattern, "\n".join(messages))
        found = matching[0]
    assert "\n" not in found and "\\n" not in found
    if not ERROR_LINES:
        shown = [result.get("msg") for _task, result in failed_results(run.stdout)]
        assert found in shown, "no failed result with the message: %s" % found
        return found
    error_line = re.compile(r"^\[ERROR\]: Task failed: (?:Action failed: )?%s$" % re.escape(found), re.MULTILINE)
    assert error_line.search(run.stdout), "no [ERROR] line with the message: %s" % found
    return found


def uuid_free(message):
    """A message with the emulator's random x-debug-id replaced, to compare two messages."""
    return re.sub(DEBUG_ID, "(x-debug-id ...)", message)


@pytest.fixture
def no_leaks():
    """no_leaks(text, *secrets, where=..., allow_jwt_shaped=False): the leak check on any text (a cache
    file, the fact cache, the journal), as assert_no_secrets applies it to a run's output."""

    def check(text, *secrets, where="the text", allow_jwt_shaped=False):
        problems = leak_check.find_leaks(text, secrets, allow_jwt_shaped=allow_jwt_shaped)
        assert not problems, "in %s: %s" % (where, "\n".join(problems))

    return check


@pytest.fixture
def save():
    return save_task


@pytest.fixture
def core_line():
    """The (major, minor) of the ansible-core under test, for what it shows differently by line."""
    return CORE_LINE


@pytest.fixture
def lookup_message():
    """lookup_message(msg) -> the lookup's own message in the msg of a task it failed."""
    return lookup_error


@pytest.fixture
def task_failures():
    """task_failures(run) -> {task name: the first failure shown under that task}."""
    return first_failure_by_task


@pytest.fixture
def module_message():
    """module_message(failure) -> the module's message in an entry of task_failures(run)."""
    return module_error


@pytest.fixture
def expect_failure():
    return one_line_failure


@pytest.fixture
def claims():
    return token_claims


@pytest.fixture
def without_debug_id():
    return uuid_free


@pytest.fixture
def token_owner(emulator):
    """token_owner(token) -> the client id the emulator issued this still-valid token to, else None.

    A token that merely looks right is not enough: the emulator says whether it issued it (through
    its admin interface, so that the question is not counted as a client's validation; IMS
    validation itself wants the caller's client_id).
    """
    return emulator.token_owner


JWT_LIFETIME_DEFAULT = 300


def received_jwts(emulator, credentials, lifetime=JWT_LIFETIME_DEFAULT, count=None):
    """Assert the claims of every JWT the emulator received from one integration, end to end.

    What the real plugin path sent: integer iat and exp with exp - iat == jwt_lifetime in seconds
    (a client that sent milliseconds, or a float, fails here although IMS, and so the emulator,
    accept it), aud/iss/sub of the integration, exactly its metascopes (each true), nothing else.
    Returns the list of claims; `count`, when given, is how many JWTs there must be.
    """
    integration = credentials.integration
    received = [entry["claims"] for entry in emulator.jwts(integration["client_id"])]
    assert received, "the emulator received no JWT from %s" % integration["client_id"]
    if count is not None:
        assert len(received) == count, "%d JWTs received, expected %d" % (len(received), count)
    origin = emulator.origin
    metascopes = {"%s/s/%s" % (origin, name): True for name in integration["metascopes"]}
    for claims in received:
        problems = []
        for name in ("iat", "exp"):
            if not (isinstance(claims.get(name), int) and not isinstance(claims.get(name), bool)):
                problems.append("%s is not an integer: %r" % (name, claims.get(name)))
        if not problems and claims["exp"] - claims["iat"] != lifetime:
            problems.append("exp - iat is %r, not the jwt_lifetime of %d seconds" % (claims["exp"] - claims["iat"], lifetime))
        expected = {"aud": "%s/c/%s" % (origin, integration["client_id"]), "iss": integration["org_id"], "sub": integration["technical_account_id"]}
        problems.extend("%s is %r, expected %r" % (name, claims.get(name), value) for name, value in expected.items() if claims.get(name) != value)
        sent_scopes = {name: value for name, value in claims.items() if "/s/" in name}
        if sent_scopes != metascopes:
            problems.append("metascope claims %r, expected %r" % (sent_scopes, metascopes))
        extra = set(claims) - {"iat", "exp", "aud", "iss", "sub", "jti"} - set(sent_scopes)
        if extra:
            problems.append("unexpected claims: %s" % sorted(extra))
        assert not problems, "a JWT sent for %s: %s" % (integration["client_id"], "; ".join(problems))
    return received


@pytest.fixture
def check_jwts(emulator):
    """check_jwts(credentials, lifetime=300, count=None): assert every JWT sent for it (see received_jwts)."""

    def check(credentials, lifetime=JWT_LIFETIME_DEFAULT, count=None):
        return received_jwts(emulator, credentials, lifetime=lifetime, count=count)

    return check


@pytest.fixture
def origin(emulator):
    """The IMS origin the plugins report for the emulator: https://127.0.0.1:PORT."""
    return "https://" + emulator.endpoint


@pytest.fixture
def collections_root():
    """The directory that holds ansible_collections/ (for tests that import the core directly)."""
    return collections_path()


@pytest.fixture
def fresh_emulator(emulator):
    """The session emulator with zeroed stats, no queued faults and a true clock; reset again afterwards.

    Faults are a FIFO shared by the whole emulator: the suite runs serially, and each fault test
    queues exactly what its own playbook consumes.
    """
    emulator.reset()
    emulator.set_clock_offset(0)
    yield emulator
    emulator.set_clock_offset(0)
    emulator.reset()


@pytest.fixture
def connect_proxy():
    """A running authenticating CONNECT proxy (tests/utils/connect_proxy.py): (proxy, user, password)."""
    module = _load_by_path("aemops_ims_connect_proxy", COLLECTION_ROOT / "tests" / "utils" / "connect_proxy.py")
    user = "proxyuser"
    password = "pxpw-" + secrets.token_urlsafe(16)
    proxy = module.ConnectProxy(user, password).start()
    try:
        yield proxy, user, password
    finally:
        proxy.stop()
