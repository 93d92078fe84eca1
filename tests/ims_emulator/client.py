# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive the IMS emulator's admin API.

Standard library only, so test suites and demo scripts can import it without
any third-party package.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ims_emulator.py")

__all__ = [
    "EmulatorClient",
    "EmulatorError",
    "SERVER_SCRIPT",
    "start_emulator",
    "stop_emulator",
    "write_credentials",
    "write_private_key",
]


class EmulatorError(RuntimeError):
    """The admin API answered with an error."""

    def __init__(self, status: int, body):
        description = body.get("error_description") if isinstance(body, dict) else body
        super().__init__(f"emulator answered {status}: {description}")
        self.status = status
        self.body = body


class EmulatorClient:
    """Talks to a running emulator over HTTPS, trusting only its own CA."""

    def __init__(self, origin: str, ca_path: str, endpoint: str | None = None, timeout: float = 30.0):
        self.origin = origin.rstrip("/")
        self.endpoint = endpoint or urllib.parse.urlsplit(self.origin).netloc
        self.ca_path = ca_path
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_path)

    @classmethod
    def from_state_dir(cls, state_dir: str, timeout: float = 30.0) -> EmulatorClient:
        with open(os.path.join(state_dir, "emulator.json"), encoding="utf-8") as handle:
            info = json.load(handle)
        return cls(info["origin"], info["ca_path"], info.get("endpoint"), timeout)

    def url(self, path: str) -> str:
        return self.origin + path

    def _open(self, request: urllib.request.Request):
        # Straight to the emulator: no proxy from the caller's environment (HTTPS_PROXY...).
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._context))
        return opener.open(request, timeout=self.timeout)

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url(path), data=data, headers=headers, method=method)
        try:
            with self._open(request) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise EmulatorError(exc.code, parsed) from None

    def health(self) -> dict:
        return self._call("GET", "/_emulator/health")

    def create_integration(self, **options) -> dict:
        """Register an integration; options as documented for POST /_emulator/integrations."""
        return self._call("POST", "/_emulator/integrations", options)

    def add_certificate(self, client_id: str, **options) -> dict:
        """Bind a new key and certificate to an integration (rotation); older ones stay valid."""
        return self._call("POST", f"/_emulator/integrations/{urllib.parse.quote(client_id, safe='')}/certificates", options)

    def revoke(self, client_id: str, certificate_pem: str | None = None, all: bool = False) -> dict:  # pylint: disable=redefined-builtin
        """Revoke one binding (by its certificate PEM) or all of them."""
        body: dict = {"all": True} if all else {"certificate_pem": certificate_pem}
        return self._call("POST", f"/_emulator/integrations/{urllib.parse.quote(client_id, safe='')}/revoke", body)

    def stats(self) -> dict:
        return self._call("GET", "/_emulator/stats")

    def reset(self) -> dict:
        """Zero the stats and the request log and drop queued faults; integrations stay."""
        return self._call("POST", "/_emulator/reset", {})

    def inject_faults(self, faults: list) -> dict:
        """Queue faults; each token-endpoint request consumes one, first in first out."""
        return self._call("POST", "/_emulator/faults", {"faults": list(faults)})

    def invalidate_token(self, client_id: str, client_secret: str, token: str) -> None:
        """Invalidate a token the way a client of IMS does (POST /ims/invalidate_token/v2)."""
        form = urllib.parse.urlencode({"token_type": "access_token", "token": token, "client_id": client_id, "client_secret": client_secret})
        request = urllib.request.Request(self.url("/ims/invalidate_token/v2"), data=form.encode("ascii"), method="POST")
        with self._open(request) as response:
            response.read()

    def set_outage(self, fault: dict | None) -> dict:
        """Answer every token request with this fault (after any queued ones) until set_outage(None)."""
        return self._call("POST", "/_emulator/outage", {"fault": fault})

    def set_clock_offset(self, seconds: float) -> dict:
        return self._call("POST", "/_emulator/clock", {"offset": seconds})

    def requests_log(self) -> list:
        return self._call("GET", "/_emulator/requests")

    def token_owner(self, token: str) -> str | None:
        """The client id the emulator issued this still-valid token to, else None (counted nowhere)."""
        return self._call("POST", "/_emulator/owner", {"token": token})["client_id"]

    def jwts(self, client_id: str | None = None) -> list:
        """The header and claims of each JWT the exchange received (oldest first), for one client or all."""
        received = self._call("GET", "/_emulator/jwts")
        return [entry for entry in received if client_id is None or entry["client_id"] == client_id]


def _reader(stream, lines: queue.Queue) -> None:
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
    except (OSError, ValueError):
        # stop_emulator closed the pipe while this thread was still reading.
        pass
    lines.put(None)


def start_emulator(
    state_dir: str,
    python: str = sys.executable,
    timeout: float = 30,
    log_path: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    exit_with_parent: bool = True,
) -> tuple[subprocess.Popen, EmulatorClient]:
    """Launch the emulator script and wait until it is serving.

    Its stderr log goes to ``log_path`` (default ``state_dir/emulator.log``)
    so that a full pipe can never block the server. With ``exit_with_parent``
    the emulator stops by itself once this Python process is gone, so a killed
    test run leaves no server behind; pass False to keep it running longer.
    """
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    log_path = log_path or os.path.join(state_dir, "emulator.log")
    command = [python, SERVER_SCRIPT, "serve", "--state-dir", state_dir, "--host", host, "--port", str(port)]
    if exit_with_parent:
        command += ["--parent-pid", str(os.getpid())]
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file)  # pylint: disable=consider-using-with
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            line = None
            remaining = 0
        if line:
            try:
                info = json.loads(line)
            except ValueError:
                continue
            return proc, EmulatorClient(info["origin"], info["ca_path"], info["endpoint"])
        if line is None or remaining <= 0:
            stop_emulator(proc)
            raise RuntimeError(f"IMS emulator did not start within {timeout} s (exit code {proc.returncode}); see {log_path}")


def stop_emulator(proc: subprocess.Popen, timeout: float = 10) -> int | None:
    """Stop the emulator with SIGTERM (then SIGKILL) and return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


def _write_private(path: str, text: str) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        # The file may have existed with a wider mode; O_CREAT's mode does not apply then.
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
    return path


def write_credentials(path: str, integration: dict, fmt: str = "aem_service_credentials") -> str:
    """Write one credential shape of an integration to a JSON file readable by the owner only."""
    try:
        data = integration["formats"][fmt]
    except KeyError:
        raise ValueError(f"this integration has no {fmt!r} format; it has {sorted(integration.get('formats', {}))}") from None
    return _write_private(path, json.dumps(data, indent=2) + "\n")


def write_private_key(path: str, integration: dict) -> str:
    """Write the integration's private key PEM (as the Developer Console ships private.key) with mode 0600."""
    if not integration.get("private_key_pem"):
        raise ValueError("this integration has no private key")
    return _write_private(path, integration["private_key_pem"])
