"""The API bench refuses to report a broken run: against a server that stalls or answers errors it exits
non-zero and says why, instead of printing "0 req/s" as a result."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "api_bench.py"


def _bench(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), "--url", url, "--seconds", "1", "--clients", "2",
                           "--timeout", "0.5"], capture_output=True, text=True, timeout=60)


@pytest.fixture
def stalling() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def failing() -> Iterator[str]:
    """A server that answers every request with a 500."""
    class Broken(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's name is http.server's
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_stalled_server_fails_the_bench_with_the_reason(stalling: str) -> None:
    run = _bench(stalling)
    assert run.returncode != 0
    assert "BENCH FAILED" in run.stderr and "timeouts" in run.stderr and "req/s" not in run.stdout


def test_error_answers_fail_the_bench_with_the_reason(failing: str) -> None:
    run = _bench(failing)
    assert run.returncode != 0
    assert "BENCH FAILED" in run.stderr and "non-2xx" in run.stderr and "500" in run.stderr


def test_a_server_that_is_not_there_fails_the_bench() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    run = _bench(closed)
    assert run.returncode != 0 and "socket errors" in run.stderr
