"""``avian run``: serve an app with uvicorn (see ``docs/cli.md`` and ``docs/server.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..server import import_app, serve
from .loader import add_app_arguments, resolve_app_spec

__all__ = ["add_parser", "run"]

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``avian run``; options left out keep :func:`avian.server.serve`'s defaults."""
    parser = subparsers.add_parser(
        "run",
        help="serve an app",
        description="Serve an ASGI app (an avian App or any ASGI callable) with uvicorn.",
        argument_default=argparse.SUPPRESS,
    )
    add_app_arguments(parser)
    bind = parser.add_argument_group("binding")
    bind.add_argument(
        "--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 or :: to expose)"
    )
    bind.add_argument(
        "--port", type=int, help="TCP port (default $PORT, else 3000; 0 = any free port)"
    )
    bind.add_argument("--uds", metavar="PATH", help="listen on a unix socket instead of a port")
    bind.add_argument(
        "--reuse-port", dest="reuse_port", action="store_true", help="set SO_REUSEPORT"
    )
    bind.add_argument(
        "--max-port-attempts", dest="max_port_attempts", type=int, metavar="N",
        help="ports tried while the previous one is in use (default 5)",
    )  # fmt: skip
    bind.add_argument(
        "--backlog", type=int, metavar="N", help="pending connection queue (default 2048)"
    )
    tls = parser.add_argument_group("TLS")
    tls.add_argument(
        "--ssl-certfile", dest="ssl_certfile", metavar="FILE", help="PEM certificate chain"
    )
    tls.add_argument("--ssl-keyfile", dest="ssl_keyfile", metavar="FILE", help="PEM private key")
    procs = parser.add_argument_group("processes")
    procs.add_argument("--workers", type=int, metavar="N", help="worker processes (default 1)")
    procs.add_argument("--reload", action="store_true", help="restart when source files change")
    procs.add_argument(
        "--reload-dir", dest="reload_dirs", action="append", metavar="DIR",
        help="directory to watch (repeatable; default: the current directory)",
    )  # fmt: skip
    procs.add_argument(
        "--dev", dest="development", action="store_true",
        help="development mode: reload, debug logging, app.debug = True",
    )  # fmt: skip
    limits = parser.add_argument_group("timeouts and limits")
    limits.add_argument(
        "--keep-alive", dest="keep_alive_timeout", type=float, metavar="S",
        help="seconds an idle keep-alive connection stays open (default 5)",
    )  # fmt: skip
    limits.add_argument(
        "--header-timeout",
        dest="header_timeout",
        type=float,
        metavar="S",
        help="seconds a client may take to send a request head (default 30)",
    )
    limits.add_argument(
        "--graceful-timeout", dest="graceful_shutdown_timeout", type=float, metavar="S",
        help="seconds in-flight requests may take to finish at shutdown (default 25)",
    )  # fmt: skip
    limits.add_argument(
        "--limit-concurrency", dest="limit_concurrency", type=int, metavar="N",
        help="concurrent connections before answering 503",
    )  # fmt: skip
    limits.add_argument(
        "--limit-max-requests", dest="limit_max_requests", type=int, metavar="N",
        help="requests a worker serves before it is replaced",
    )  # fmt: skip
    logs = parser.add_argument_group("logging and proxies")
    logs.add_argument(
        "--log-level", dest="log_level", choices=_LOG_LEVELS, help="uvicorn log level"
    )
    logs.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="do not log each request"
    )
    logs.add_argument(
        "--proxy-headers", dest="proxy_headers", action="store_true",
        help="trust X-Forwarded-* headers from --forwarded-allow-ips",
    )  # fmt: skip
    logs.add_argument(
        "--forwarded-allow-ips", dest="forwarded_allow_ips", metavar="IPS",
        help="comma-separated proxy addresses to trust (default 127.0.0.1)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the app and serve it; returns 0 after a graceful shutdown."""
    spec = resolve_app_spec(args.app, Path(args.app_dir))
    options: dict[str, Any] = {
        name: value
        for name, value in vars(args).items()
        if name not in {"app", "app_dir", "handler", "command"}
    }
    if not options.get("reload") and not options.get("development"):
        import_app(spec)  # fail here with a clear message rather than in a worker process
    serve(spec, **options)
    return 0
