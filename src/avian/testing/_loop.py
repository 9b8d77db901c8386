"""One asyncio event loop running in a background thread, for the synchronous test client.

The sync client submits every coroutine (lifespan, requests, websocket steps) to this one
loop, so objects the app creates at startup stay usable by later requests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop that runs forever in a daemon thread until :meth:`close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.closed = False
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="avian-testclient-loop", daemon=True
        )
        self._thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                _cancel_all_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block the calling thread until it is done."""
        if self.closed:
            coro.close()
            raise RuntimeError("the test client's event loop is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "the synchronous TestClient cannot be used from inside the app it drives; "
                "use AsyncTestClient"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Schedule a plain callback on the loop from another thread."""
        if not self.closed:
            self.loop.call_soon_threadsafe(callback, *args)

    def close(self) -> None:
        """Stop the loop, cancel what still runs on it, close it and join the thread."""
        if self.closed:
            return
        self.closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        # A finalizer may run on the loop thread itself; it must not join itself.
        if threading.current_thread() is not self._thread:
            self._thread.join()


class LoopHolder:
    """Starts a :class:`LoopThread` on first use and closes it on demand.

    Held by the sync client's transport and by a ``weakref.finalize`` of the client, so it
    must never refer back to the client.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: LoopThread | None = None

    def get(self) -> LoopThread:
        with self._lock:
            if self._current is None or self._current.closed:
                self._current = LoopThread()
            return self._current

    @property
    def running(self) -> LoopThread | None:
        """The loop thread if one is running, without starting one."""
        current = self._current
        return None if current is None or current.closed else current

    def close(self) -> None:
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.close()


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
