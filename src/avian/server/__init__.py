"""Run an ASGI app under uvicorn: binding, workers, reload and graceful shutdown.

``serve()`` is what ``App.listen()`` and ``avian run`` call.  avian binds the listening
socket itself and hands it to uvicorn, which is what makes port auto-retry (SRV-10),
unix sockets (SRV-04) and ``reuse_port`` (SRV-05) behave the same in one process, with
workers and with reload.  Shutdown (SRV-09, LIFE-04, LIFE-08): the first SIGTERM/SIGINT
stops accepting, lets in-flight requests finish for ``graceful_shutdown_timeout``
seconds, runs the app's shutdown hooks (ASGI lifespan) and returns; a second signal of
either kind exits at once with status 1.

This package holds the public API and ``serve()``, which decides how to run: in this
process, or under a supervisor (workers or reload).  The parts live in their own modules:
``config`` (options and their validation), ``app_import`` (``"module:attr"`` strings),
``binding`` (the listening socket), ``uvicorn_server`` (the server each serving process
runs), ``supervisor`` (workers and reload) and ``header_timeout`` (the slowloris guard).

uvicorn is imported only when serving, so ``import avian`` stays fast.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, Unpack

from ..errors import ConfigurationError
from .app_import import AppLoadError, import_app, infer_import_string
from .binding import BindError, bind, close_listener
from .config import DEFAULT_PORT, ServeOptions, ServerConfig, resolve_port, uvicorn_config
from .supervisor import WorkerPool, run_reloader
from .uvicorn_server import ServingPlan, SignalMode, server_class

__all__ = [
    "DEFAULT_PORT",
    "AppLoadError",
    "BindError",
    "ServeOptions",
    "ServerConfig",
    "import_app",
    "infer_import_string",
    "resolve_port",
    "serve",
]

logger = logging.getLogger("avian.server")


def _announce(url: str, on_listening: Callable[[str], object] | None) -> None:
    print(f"avian listening on {url}", file=sys.stderr, flush=True)
    if on_listening is not None:
        try:
            on_listening(url)
        except Exception:  # a broken callback must not take the server down
            logger.exception("on_listening callback failed")


def serve(app: Any, /, **options: Unpack[ServeOptions]) -> None:
    """Serve ``app`` (an ASGI app or ``"module:attr"``) until shut down; see ``docs/server.md``.

    Returns after a graceful shutdown; raises ``SystemExit(1)`` after a forced one and
    ``SystemExit(3)`` when the app's startup hooks fail.
    """
    try:
        config = ServerConfig(**options)
    except TypeError as exc:  # an unknown keyword
        raise ConfigurationError(f"serve(): {exc}") from None
    if not isinstance(app, str) and not callable(app):
        raise ConfigurationError(f"serve() needs an ASGI app or 'module:attr', got {app!r}")

    supervised = config.workers > 1 or config.reload or config.development
    import_string: str | None = app if isinstance(app, str) else None
    if supervised and import_string is None:
        try:
            import_string = infer_import_string(app)
        except ConfigurationError:
            if config.workers > 1 or config.reload:
                raise
            logger.warning("development mode: cannot name the app as 'module:attr', so no reload")
    reload = (config.reload or config.development) and import_string is not None
    if reload and config.workers > 1:
        logger.warning("reload runs a single process: ignoring workers=%d", config.workers)
    if not config.auto_graceful_shutdown and (reload or config.workers > 1):
        raise ConfigurationError(
            "auto_graceful_shutdown=False needs a single process (no workers, no reload)"
        )
    config = dataclasses.replace(config, reload=reload, workers=1 if reload else config.workers)
    log_level = config.log_level or ("debug" if config.development else None)

    if reload or config.workers > 1:
        assert import_string is not None
        _serve_supervised(import_string, config, log_level)
    else:
        _serve_in_process(import_app(app) if isinstance(app, str) else app, config, log_level)


def _serve_in_process(app: object, config: ServerConfig, log_level: str | None) -> None:
    uv_config = uvicorn_config(app, config, log_level)
    listener = bind(config)
    try:
        signals: SignalMode = "all" if config.auto_graceful_shutdown else "none"
        plan = ServingPlan(
            app, listener.address, config.development, signals, config.header_timeout
        )
        server = server_class()(
            uv_config, plan, on_started=lambda: _announce(listener.url, config.on_listening)
        )
        server.run(sockets=[listener.sock])
    finally:
        close_listener(listener)
    server.finish()


def _serve_supervised(import_string: str, config: ServerConfig, log_level: str | None) -> None:
    uv_config = uvicorn_config(import_string, config, log_level)
    listener = bind(config)
    plan = ServingPlan(
        import_string,
        listener.address,
        config.development,
        "supervised",
        config.header_timeout,
        os.getpid(),
    )
    try:
        if config.reload:
            _announce(listener.url, config.on_listening)
            status = run_reloader(uv_config, plan, listener.sock)
        else:
            pool = WorkerPool(uv_config, plan, listener.sock, config.workers)
            status = pool.run(lambda: _announce(listener.url, config.on_listening))
    finally:
        close_listener(listener)
    if status:
        raise SystemExit(status)
