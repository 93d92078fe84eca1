# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small threaded HTTP CONNECT proxy for tests (standard library only).

It listens on 127.0.0.1, accepts only ``CONNECT host:port`` requests that carry
``Proxy-Authorization: Basic base64(user:password)`` with the configured credentials, and
then relays bytes both ways (TLS passes through untouched). Without the header, or with
wrong credentials, it answers ``407 Proxy Authentication Required``; any other method gets
``405``. It counts what it did, per target, so tests can prove a client went through it.

It never logs or stores the credentials it receives.

Python API::

    proxy = ConnectProxy("user", "password").start()
    proxy.port, proxy.url                 # http://127.0.0.1:PORT (no credentials in it)
    proxy.tunnels, proxy.tunnels_to("127.0.0.1:8443"), proxy.rejected
    proxy.stop()

Command line (prints one JSON line {"host", "port"} when ready; SIGTERM/SIGINT stop it)::

    python tests/utils/connect_proxy.py --user USER --password PASSWORD [--port 0]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hmac
import json
import select
import signal
import socket
import sys
import threading

MAX_HEADER_BYTES = 16 * 1024
CONNECT_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0

__all__ = ["ConnectProxy"]


class ConnectProxy:
    """An authenticating CONNECT proxy bound to 127.0.0.1 (port 0 picks a free one)."""

    def __init__(self, user, password, host="127.0.0.1", port=0):
        self._expected = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8"))
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._connections = set()
        self.tunnel_targets = []  # "host:port" of every tunnel opened, in order
        self.rejected = 0  # 407 answers (no or wrong credentials)
        self.refused = 0  # other refusals: not CONNECT, unreachable target, bad request
        self.port = None

    # -- public API ------------------------------------------------------------

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def tunnels(self):
        with self._lock:
            return len(self.tunnel_targets)

    def tunnels_to(self, target):
        with self._lock:
            return sum(1 for item in self.tunnel_targets if item == target)

    def reset(self):
        with self._lock:
            self.tunnel_targets = []
            self.rejected = 0
            self.refused = 0

    def start(self):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self._requested_port))
        server.listen(64)
        server.settimeout(0.2)
        self._server = server
        self.port = server.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="connect-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _close(connection)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- internals -------------------------------------------------------------

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                client, _address = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="connect-proxy-client", daemon=True).start()

    def _track(self, *connections):
        with self._lock:
            self._connections.update(connections)

    def _untrack(self, *connections):
        with self._lock:
            self._connections.difference_update(connections)

    def _serve(self, client):
        upstream = None
        self._track(client)
        try:
            client.settimeout(CONNECT_TIMEOUT)
            head, rest = _read_head(client)
            if head is None:
                self._refuse(client, 400, "Bad Request")
                return
            lines = head.split("\r\n")
            parts = lines[0].split()
            if len(parts) != 3 or parts[0].upper() != "CONNECT":
                self._refuse(client, 405, "Method Not Allowed")
                return
            target = parts[1]
            headers = {}
            for line in lines[1:]:
                name, _sep, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if not self._authorized(headers.get("proxy-authorization", "")):
                with self._lock:
                    self.rejected += 1
                _send(
                    client,
                    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\n'
                    "Content-Length: 0\r\nConnection: close\r\n\r\n",
                )
                return
            host, _sep, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT)
            except (OSError, ValueError):
                self._refuse(client, 502, "Bad Gateway")
                return
            self._track(upstream)
            with self._lock:
                self.tunnel_targets.append(target)
            _send(client, "HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _relay(client, upstream, self._stopping)
        except OSError:
            pass
        finally:
            self._untrack(client)
            _close(client)
            if upstream is not None:
                self._untrack(upstream)
                _close(upstream)

    def _authorized(self, value):
        scheme, _sep, credentials = value.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64encode(base64.b64decode(credentials.strip(), validate=True))
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._expected)

    def _refuse(self, client, status, reason):
        with self._lock:
            self.refused += 1
        _send(client, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % (status, reason))


def _read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > MAX_HEADER_BYTES:
            return None, b""
    head, _sep, rest = data.partition(b"\r\n\r\n")
    try:
        return head.decode("latin-1"), rest
    except UnicodeDecodeError:
        return None, b""


def _send(sock, text):
    with contextlib.suppress(OSError):
        sock.sendall(text.encode("latin-1"))


def _relay(left, right, stopping):
    left.settimeout(None)
    right.settimeout(None)
    sockets = [left, right]
    while not stopping.is_set():
        readable, _writable, broken = select.select(sockets, [], sockets, 0.25)
        if broken:
            return
        if not readable:
            continue
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            other = right if sock is left else left
            try:
                other.sendall(data)
            except OSError:
                return


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Authenticating HTTP CONNECT proxy for tests (127.0.0.1 only)")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    proxy = ConnectProxy(args.user, args.password, port=args.port).start()
    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write(json.dumps({"host": proxy.host, "port": proxy.port}) + "\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    sys.stderr.write("connect-proxy: %d tunnel(s), %d rejected (407), %d refused\n" % (proxy.tunnels, proxy.rejected, proxy.refused))
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
