"""`gridflow serve`: run the API and pages with uvicorn, in one or several worker processes."""

from __future__ import annotations

import argparse
import socket
import sys

from sqlalchemy.engine import make_url

from engine.settings import get_settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    backend = make_url(get_settings().database_url).get_backend_name()
    if args.workers > 1 and backend == "sqlite":
        print(
            "gridflow: several workers share one SQLite file through its single writer; "
            "use PostgreSQL (GRIDFLOW_DATABASE_URL) when one process is not enough",
            file=sys.stderr,
        )
    config = uvicorn.Config(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    try:
        if args.workers > 1:
            Multiprocess(config, sockets=[listener(args.host, args.port)]).run()
        else:
            uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    return 0


def listener(host: str, port: int) -> socket.socket:
    """The socket the workers share, bound as uvicorn binds it but with the TCP protocol
    named: accepted connections inherit it, and asyncio turns Nagle's algorithm off only on
    sockets that say TCP. Without it every keep-alive response waited about 40 ms for the
    client's delayed ACK (uvicorn issue 3149, measured: 44 ms a request with two workers
    against 2 ms with one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"gridflow: cannot listen on {host}:{port}: {exc}") from exc
    sock.set_inheritable(True)
    return sock


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes; each sweeps timers and delivers webhooks (claims never overlap)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="reverse proxies whose X-Forwarded-* headers are trusted",
    )
    serve.set_defaults(func=cmd_serve)
