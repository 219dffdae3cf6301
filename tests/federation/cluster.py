"""Real ``zhulian serve`` processes on loopback ports, each with its own data folder, for federation tests."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.store import Store
from zhulian.store.store import content_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen | None = None, timeout: float = 60,
                  name: str | None = None) -> None:
    """Until the node at ``url`` answers (as the node ``name``, when given: not some other server on the port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            reply = httpx.get(f"{url}/api/v1/node", timeout=2)
            if reply.status_code == 200 and (name is None or reply.json().get("node") == name):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


@dataclass(eq=False)
class Node:
    name: str
    folder: Path
    adcode: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    started: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "ZHULIAN_DATA_DIR": str(self.folder), "ZHULIAN_NODE_NAME": self.name,
               "ZHULIAN_RATE_PER_KEY": "0", "ZHULIAN_RATE_PER_ADDRESS": "0", **self.extra_env}
        env.pop("ZHULIAN_DATABASE_URL", None)
        env.pop("ZHULIAN_NODE", None)
        if self.adcode:
            env["ZHULIAN_NODE"] = self.adcode
        return env

    def settings(self, **overrides: Any) -> Settings:
        return Settings(data_dir=self.folder, node=self.adcode, node_name=self.name, **overrides)

    def store(self) -> Store:
        return Store.from_settings(self.settings())

    def start(self) -> None:
        """Serve; a node started for the first time takes a port free at that moment. A port is only reserved
        while bound, so on a busy machine another process may take it between choosing and binding: then the
        first start tries another; a restart keeps its port (hubs know it) and retries it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store().close()  # migrate before serving, so the test's own connections see every table
        first = not self.started
        for attempt in range(5):
            if first:
                self.port = free_port()
            log_path = self.folder / "serve.log"
            seen = log_path.stat().st_size if log_path.exists() else 0
            log = open(log_path, "ab")  # noqa: SIM115 - the process owns it until it ends
            self.process = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(self.port)],
                                            env=self.env, stdout=log, stderr=log)
            try:
                wait_until_up(self.url, self.process, name=self.name)
                self.started = True
                return
            except RuntimeError:
                taken = b"address already in use" in log_path.read_bytes()[seen:]
                if not taken or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def key(self, role: str) -> str:
        store = self.store()
        try:
            return create_key(store, role, node=self.adcode if role == "publisher" else None, name=f"test {role}")[1]
        finally:
            store.close()

    def cli(self, *args: str, check: bool = True, env_columns: int | None = None) -> subprocess.CompletedProcess:
        env = self.env if env_columns is None else {**self.env, "COLUMNS": str(env_columns)}
        done = subprocess.run([sys.executable, "-m", "zhulian.cli", *args], env=env, capture_output=True,
                              text=True, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"zhulian {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def live(self) -> dict[str, dict[str, Any]]:
        """Every live record's content (what its publisher wrote), by id."""
        store = self.store()
        try:
            return {r["id"]: content_of(r) for r in store.iterate() if not r.get("deleted")}
        finally:
            store.close()

    def publish(self, key: str, collection: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        body = json.dumps(records, ensure_ascii=False).encode()
        reply = httpx.post(f"{self.url}/api/v1/import/{collection}", headers={"Authorization": f"Bearer {key}"},
                           files={"file": ("records.json", body, "application/json")}, timeout=120)
        assert reply.status_code == 200, reply.text
        return reply.json()


class FeedGate:
    """A proxy in front of a node that forwards its first ``pages`` change-feed pages and holds every later one
    until ``open()``: a harvest through it stops mid-way at a known point, however fast or loaded the machine."""

    def __init__(self, upstream: str, pages: int) -> None:
        self.upstream, self.pages = upstream, pages
        self.served, self.holding = 0, False
        self._opened = threading.Event()
        gate = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                if self.path.startswith("/api/v1/changes"):
                    gate.served += 1
                    if gate.served > gate.pages:
                        gate.holding = True
                        gate._opened.wait()
                reply = httpx.get(gate.upstream + self.path, headers={"Authorization": self.headers["Authorization"]},
                                  timeout=30)
                self.send_response(reply.status_code)
                self.send_header("Content-Type", reply.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def open(self) -> None:
        self._opened.set()

    def close(self) -> None:
        self.open()
        self._server.shutdown()
        self._server.server_close()
