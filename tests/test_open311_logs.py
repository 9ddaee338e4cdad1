"""An Open311 client's api_key never reaches a log line: `gridflow serve` with its access log,
a client that puts the key in the query string, and the log read back."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from servers import free_port

from web.log_redaction import RedactSecrets, install, redact

ROOT = Path(__file__).resolve().parents[1]
SECRET = "gf_secret-open311-key-0123456789"


def test_redact_hides_the_key_in_any_spelling():
    assert redact(f"GET /x?a=1&api_key={SECRET}&b=2") == "GET /x?a=1&api_key=[redacted]&b=2"
    assert SECRET not in redact(f"/x?API_KEY={SECRET}") and SECRET not in redact(
        f"/x?api%5Fkey={SECRET}"
    )
    assert redact("/open311/v2/tokens/abc.xml") == "/open311/v2/tokens/abc.xml"


def test_the_filter_rewrites_uvicorns_access_record():
    install()
    install()  # once per logger, however many apps a process makes
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, RedactSecrets) for f in access.filters) == 1
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/open311/v2/requests.xml?api_key={SECRET}", "1.1", 200),
        None,
    )  # fmt: skip
    assert access.filter(record)
    assert SECRET not in record.getMessage() and "api_key=[redacted]" in record.getMessage()


def test_gridflow_serve_never_logs_the_api_key(db_url, tmp_path):
    port = free_port()
    env = os.environ | {
        "GRIDFLOW_DATABASE_URL": db_url,
        "GRIDFLOW_SECRET_KEY": "test-secret",  # loopback only
        "GRIDFLOW_INSTANCE_DIR": str(tmp_path / "instance"),
        "GRIDFLOW_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "GRIDFLOW_INTAKE_RATE_PER_SECOND": "0",
    }
    log_path = tmp_path / "server.log"
    gridflow = Path(sys.executable).with_name("gridflow")  # the console script, as installed
    command = [str(gridflow), "serve", "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # readiness poll
                assert server.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            base = f"{url}/open311/v2"
            assert httpx.get(f"{base}/requests.xml?api_key={SECRET}").status_code == 200
            refused = httpx.post(f"{base}/requests.xml?api_key={SECRET}", data={"lat": "x"})
            assert refused.status_code == 403  # the key is checked, and still not logged
            missing = httpx.get(f"{base}/services/99999.json?api_key={SECRET}")
            assert missing.status_code == 404
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    text = log_path.read_text(encoding="utf-8")
    assert "/open311/v2/requests.xml?api_key=[redacted]" in text, text  # the access log ran
    assert SECRET not in text
