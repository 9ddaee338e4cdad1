"""The framework's ceiling for bench_intake: the intake route with nothing behind it.

FastAPI parses and validates the same ``HotlineTicket`` body as ``POST
/api/v1/intake/hotline`` and answers a small JSON object, with no database, no auth and no
engine. What a client reaches against it is the most any engine could reach through this
stack (uvicorn, FastAPI, the httpx client) on this machine.
"""

from __future__ import annotations

from fastapi import FastAPI

from adapters.hotline import HotlineTicket

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/intake/hotline", status_code=201)
def hotline_ticket(ticket: HotlineTicket) -> dict[str, object]:
    return {"id": 1, "external_id": ticket.ticket_no, "state": "registered"}
