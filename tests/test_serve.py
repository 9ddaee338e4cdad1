"""`gridflow serve`: one process, or several workers sharing a listener on which asyncio
turns Nagle's algorithm off (else every keep-alive response waits for a delayed ACK)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
import uvicorn.supervisors

from engine.settings import get_settings
from web.cli import main, serve


async def test_connections_on_the_workers_listener_skip_nagles_algorithm():
    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    sock = serve.listener("127.0.0.1", 0)
    server = await loop.create_server(Probe, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        assert await asyncio.wait_for(nodelay, 10) != 0
        writer.close()
    finally:
        server.close()


def test_several_workers_share_that_listener_and_one_runs_alone(monkeypatch):
    monkeypatch.setenv("GRIDFLOW_SECRET_KEY", "test-secret")  # loopback: any key will do
    get_settings.cache_clear()
    runs: list[tuple[str, object]] = []

    class FakeSupervisor:
        def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
            runs.append(("workers", (config.workers, sockets[0].proto)))
            sockets[0].close()

        def run(self) -> None:
            pass

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            runs.append(("single", config.workers))

        def run(self) -> None:
            pass

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    assert main(["serve", "--port", "0", "--workers", "2"]) == 0
    assert main(["serve", "--port", "0"]) == 0
    assert runs == [("workers", (2, socket.IPPROTO_TCP)), ("single", 1)]
    get_settings.cache_clear()


async def test_a_running_server_keeps_what_it_built_at_start_out_of_full_collections(ctx):
    """The app's lifespan freezes the objects start-up made (the collector's full passes no
    longer walk them: at a million cases one took 150 ms of a request) and unfreezes them at
    shutdown, so an app that stops, as in a test, leaves nothing pinned."""
    import gc

    from web.app import create_app

    app = create_app(context=ctx)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # modules, the city, the ORM, the routes
    assert gc.get_freeze_count() == 0
