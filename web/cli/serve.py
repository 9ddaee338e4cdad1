"""`gridflow serve`: run the API and pages with uvicorn."""

from __future__ import annotations

import argparse


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("web.app:create_app", factory=True, host=args.host, port=args.port)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
