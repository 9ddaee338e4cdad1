"""`gridflow serve`: run the API and pages with uvicorn, in one or several worker processes."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url

from engine.settings import get_settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    backend = make_url(get_settings().database_url).get_backend_name()
    if args.workers > 1 and backend == "sqlite":
        print(
            "gridflow: several workers share one SQLite file through its single writer; "
            "use PostgreSQL (GRIDFLOW_DATABASE_URL) when one process is not enough",
            file=sys.stderr,
        )
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


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
