"""`gridflow serve`: run the API and pages with uvicorn, in one or several worker processes."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from sqlalchemy.engine import make_url

from engine.settings import MissingSecretKey, get_settings, require_secret_key

MIN_KEY_LENGTH = 32
# Keys that appear in this repository (an old default, the tests'): public, so worthless.
KNOWN_KEYS = frozenset(
    {
        "insecure-development-key-set-GRIDFLOW_SECRET_KEY",
        "test-secret",
        "browser-test-secret",
        "hotline-secret",
        "gridflow-demo",
    }
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def key_problem(key: str) -> str | None:
    """Why this key may not sign sessions on a server others can reach, or None."""
    if key in KNOWN_KEYS:
        return "it is published in gridflow's source"
    if len(key) < MIN_KEY_LENGTH:
        return f"it is shorter than {MIN_KEY_LENGTH} characters"
    return None


def check_secret_key(host: str) -> str | None:
    """The reason the server must not start with the configured key, or None."""
    try:
        key = require_secret_key(get_settings())
    except MissingSecretKey as exc:
        return str(exc)
    problem = key_problem(key)
    if problem is not None and not is_loopback(host):
        return (
            f"refusing to serve on {host} with this secret key: {problem}; "
            "unset GRIDFLOW_SECRET_KEY to use the key `gridflow init` generates, "
            "or set it to a long random value"
        )
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    refusal = check_secret_key(args.host)
    if refusal is not None:
        print(f"gridflow: {refusal}", file=sys.stderr)
        return 2
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
        # The app believes X-Forwarded-* itself, from GRIDFLOW_TRUSTED_PROXIES (web.proxies).
        proxy_headers=False,
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
    serve.set_defaults(func=cmd_serve)
