"""Real server processes for tests: uvicorn on a free loopback port, and a webhook receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``gridflow``'s app under uvicorn in its own process, ready when constructed."""

    def __init__(self, db_url: str, workdir: Path, **env: str) -> None:
        self.port = free_port()
        variables = os.environ | {
            "GRIDFLOW_DATABASE_URL": db_url,
            "GRIDFLOW_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "GRIDFLOW_INTAKE_RATE_PER_SECOND": "0",
            "GRIDFLOW_INSTANCE_DIR": str(workdir / "instance"),
            "GRIDFLOW_SECRET_KEY": "test-secret",  # loopback only
        }
        cmd = [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=variables | env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # readiness poll, not synchronisation by sleeping
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


class Receiver:
    """A webhook receiver on loopback that records each message id it is sent."""

    def __init__(self) -> None:
        received: list[str] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the delivery client expects

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                json.loads(self.rfile.read(length) or b"{}")
                with lock:
                    received.append(self.headers.get("X-Gridflow-Message-Id", ""))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # quiet
                pass

        self.received, self.lock = received, lock

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a sender killed mid-request resets its connection: expected here

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        with self.lock:
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
