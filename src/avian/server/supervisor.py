"""Supervised serving: worker processes sharing one socket, and the reloader.

With ``workers > 1`` the main process binds the socket, spawns the workers and supervises
them (:class:`WorkerPool`); with ``reload`` uvicorn's ``ChangeReload`` restarts a single
serving process when sources change (:func:`run_reloader`).  Either way the supervisor
serves nothing itself: it relays the first SIGINT/SIGTERM to its children as a graceful
shutdown and kills them on a second one, exiting with :data:`FORCED_EXIT`.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for_sentinels
from types import FrameType
from typing import TYPE_CHECKING

from .uvicorn_server import FORCED_EXIT, ServingPlan, server_class

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.synchronize import Event as ProcessEvent

    import uvicorn

__all__ = ["WorkerPool", "run_reloader"]

logger = logging.getLogger("avian.server")  # one logger for the whole server package

_STARTUP_FAILURE = 3  # uvicorn's exit status when lifespan startup fails


def _child_main(
    config: uvicorn.Config,
    plan: ServingPlan,
    ready: ProcessEvent | None,
    sockets: list[socket.socket],
) -> None:
    """Entry point of a worker or reload child process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config.configure_logging()
    server = server_class()(config, plan, on_started=ready.set if ready is not None else None)
    server.run(sockets=sockets)
    server.finish()


def run_reloader(config: uvicorn.Config, plan: ServingPlan, sock: socket.socket) -> int:
    """Serve in a child process restarted on source changes; the exit status to use."""
    from uvicorn.supervisors import ChangeReload

    class Reloader(ChangeReload):  # type: ignore[misc,valid-type]
        forced = False

        def signal_handler(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit.is_set():
                self.should_exit.set()  # the child gets SIGTERM and shuts down gracefully
                return
            self.forced = True
            process: SpawnProcess | None = getattr(self, "process", None)
            if process is not None and process.exitcode is None:
                process.kill()

    target = functools.partial(_child_main, config, plan, None)
    reloader = Reloader(config, target=target, sockets=[sock])
    reloader.run()
    return FORCED_EXIT if reloader.forced else 0


@dataclass(slots=True)
class _Worker:
    process: SpawnProcess
    ready: ProcessEvent


class WorkerPool:
    """Supervises worker processes that share one listening socket.

    The first SIGINT/SIGTERM closes the parent's copy of the socket (so new connections
    are refused once the workers close theirs) and sends SIGTERM to every worker, which
    shuts down gracefully; a second signal kills them.  A worker that dies after it
    started is replaced; one that dies before it started stops the pool (exit status 3).
    """

    def __init__(
        self, config: uvicorn.Config, plan: ServingPlan, sock: socket.socket, count: int
    ) -> None:
        self._config = config
        self._plan = plan
        self._sock = sock
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._signals = 0

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._signals += 1

    def _spawn(self) -> _Worker:
        ready = self._context.Event()
        process = self._context.Process(
            target=_child_main,
            args=(self._config, self._plan, ready, [self._sock]),
            name="avian-worker",
        )
        process.start()
        return _Worker(process, ready)

    def run(self, on_ready: Callable[[], None]) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        workers: list[_Worker] = []
        try:
            workers = [self._spawn() for _ in range(self._count)]
            status = self._supervise(workers, on_ready)
            return self._stop(workers) or status
        finally:
            for worker in workers:  # only left alive if the supervisor itself failed
                if worker.process.exitcode is None:
                    worker.process.kill()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _supervise(self, workers: list[_Worker], on_ready: Callable[[], None]) -> int:
        announced = False
        while not self._signals:
            wait_for_sentinels([w.process.sentinel for w in workers], timeout=0.1)
            for index, worker in enumerate(workers):
                code = worker.process.exitcode
                if code is None or self._signals:
                    continue
                if not worker.ready.is_set():
                    logger.error(
                        "worker %s failed to start (exit status %s)", worker.process.pid, code
                    )
                    return _STARTUP_FAILURE
                logger.warning(
                    "worker %s exited (status %s); starting a new one", worker.process.pid, code
                )
                workers[index] = self._spawn()
            if not announced and all(w.ready.is_set() for w in workers):
                announced = True
                on_ready()
        return 0

    def _stop(self, workers: list[_Worker]) -> int:
        self._sock.close()
        for worker in workers:
            if worker.process.exitcode is None:
                worker.process.terminate()
        forced = False
        while any(w.process.exitcode is None for w in workers):
            wait_for_sentinels([w.process.sentinel for w in workers], timeout=0.1)
            if not forced and self._signals >= 2:
                forced = True
                logger.warning("second signal received: killing workers")
                for worker in workers:
                    if worker.process.exitcode is None:
                        worker.process.kill()
        return FORCED_EXIT if forced else 0
