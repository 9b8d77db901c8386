"""The server each serving process runs: uvicorn's, with avian's signals and shutdown.

:func:`server_class` builds (once, so ``import avian`` never imports uvicorn) a
``uvicorn.Server`` subclass that follows a picklable :class:`ServingPlan`: it tells the
app where it listens and how to stop the server, installs the request-head timeout,
reports readiness, and owns shutdown (SRV-09, LIFE-04, LIFE-08): the first SIGTERM/SIGINT
shuts down gracefully and a second forces the exit with status :data:`FORCED_EXIT`.  In a
supervised worker the supervisor relays signals, and the worker stops if it is orphaned.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from .app_import import import_app
from .header_timeout import with_header_timeout

if TYPE_CHECKING:
    import uvicorn

__all__ = ["FORCED_EXIT", "ServingPlan", "SignalMode", "server_class"]

logger = logging.getLogger("avian.server")  # one logger for the whole server package

FORCED_EXIT = 1
"""Exit status after a second signal cut the graceful wait short."""
_FORCE_EXIT_GRACE = 2.0  # seconds a forced shutdown may take before the process is killed


SignalMode = Literal["all", "supervised", "none"]
"""Who handles SIGTERM/SIGINT: the process (``all``), its supervisor, or the caller (``none``)."""


@dataclass(frozen=True, slots=True)
class ServingPlan:
    """What a serving process must do around uvicorn; picklable for worker processes."""

    app: Any  # the app object in-process, or its import string in child processes
    address: tuple[str, int] | str
    development: bool
    signals: SignalMode
    header_timeout: float | None
    parent_pid: int | None = None  # supervised: request_shutdown() signals the supervisor


def _prepare_app(app: object, plan: ServingPlan, request_exit: Callable[[], None]) -> None:
    """Tell the app where it listens and how to stop the server (the App contract)."""
    values: dict[str, object] = {"server_address": plan.address, "_shutdown_callback": request_exit}
    if plan.development:
        values["debug"] = True
    for name, value in values.items():
        try:
            setattr(app, name, value)
        except (AttributeError, TypeError):
            pass  # a plain function or a slotted object: nothing to tell it


@functools.cache
def server_class() -> type[Any]:
    """avian's ``uvicorn.Server`` subclass, built on first use so uvicorn is imported late."""
    import uvicorn

    class AvianServer(uvicorn.Server):
        """uvicorn's server with avian's signal handling and a readiness callback."""

        def __init__(
            self, config: uvicorn.Config, plan: ServingPlan, on_started: Callable[[], None] | None
        ) -> None:
            super().__init__(config)
            self.plan = plan
            self.on_started = on_started
            self.exit_deadline: threading.Timer | None = None

        async def serve(self, sockets: list[socket.socket] | None = None) -> None:
            if not self.config.loaded:
                self.config.load()
            if self.plan.header_timeout is not None:
                protocol: Any = self.config.http_protocol_class
                self.config.http_protocol_class = with_header_timeout(
                    protocol, self.plan.header_timeout
                )
            app = import_app(self.plan.app) if isinstance(self.plan.app, str) else self.plan.app
            _prepare_app(app, self.plan, self.request_exit)
            await super().serve(sockets)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit and self.on_started is not None:
                self.on_started()

        def request_exit(self) -> None:
            """Graceful shutdown asked for by the app (``app.request_shutdown()``)."""
            if self.plan.parent_pid is not None:
                os.kill(self.plan.parent_pid, signal.SIGTERM)  # the supervisor stops everyone
            else:
                self.should_exit = True

        @contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            # Unlike uvicorn, never re-raise the signal afterwards: a graceful stop exits 0.
            if (
                self.plan.signals == "none"
                or threading.current_thread() is not threading.main_thread()
            ):
                yield
                return
            handlers: dict[int, Any] = {signal.SIGTERM: self.handle_exit}
            # A supervised worker ignores Ctrl+C (the terminal sends it to the whole group);
            # its supervisor relays the shutdown as SIGTERM.
            handlers[signal.SIGINT] = (
                signal.SIG_IGN if self.plan.signals == "supervised" else self.handle_exit
            )
            previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit or self.plan.signals == "supervised":
                self.should_exit = True
                return
            logger.warning("second signal received: exiting without waiting for requests")
            self.force_exit = True
            # Whatever still blocks (a handler stuck in a thread, say) must not keep us alive.
            self.exit_deadline = threading.Timer(_FORCE_EXIT_GRACE, os._exit, (FORCED_EXIT,))
            self.exit_deadline.daemon = True
            self.exit_deadline.start()

        async def on_tick(self, counter: int) -> bool:
            if (
                counter % 10 == 0
                and self.plan.parent_pid is not None
                and os.getppid() != self.plan.parent_pid
            ):
                logger.warning("supervisor process is gone: shutting down")
                self.should_exit = True
            return await super().on_tick(counter)

        def finish(self) -> None:
            """After ``run()``: exit with status 1 if a second signal forced the shutdown."""
            if self.force_exit:
                if self.exit_deadline is not None:
                    self.exit_deadline.cancel()
                raise SystemExit(FORCED_EXIT)

    return AvianServer
