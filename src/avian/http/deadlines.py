"""Body-read deadlines with one timer per event loop instead of one per request.

``asyncio.timeout()`` schedules (and cancels) a timer handle for every body read; under load
the loop's timer heap fills with cancelled handles and each read pays ~10 µs.  Here a read
registers its deadline in a dict, and one watcher task per loop wakes every ``tick`` seconds
and cancels the tasks that overran.  A read therefore times out between ``timeout`` and
``timeout + tick`` seconds, where ``tick`` is at most 0.5 s (shorter for short timeouts).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["Deadline", "start_deadline"]

_MAX_TICK = 0.5
_MIN_TICK = 0.01


class Deadline:
    """One registered read; ``expired`` is set just before its task is cancelled."""

    __slots__ = ("at", "expired", "task", "watch")

    def __init__(self, watch: _Watch, at: float, task: asyncio.Task[Any]) -> None:
        self.watch = watch
        self.at = at
        self.task = task
        self.expired = False

    def finish(self) -> None:
        """Unregister (always call this, in a ``finally``)."""
        self.watch.entries.pop(id(self), None)


class _Watch:
    __slots__ = ("entries", "loop", "runner", "tick")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.entries: dict[int, Deadline] = {}
        self.runner: asyncio.Task[None] | None = None
        self.tick = _MAX_TICK

    async def run(self) -> None:
        try:
            while self.entries:
                await asyncio.sleep(self.tick)
                now = self.loop.time()
                for key, entry in list(self.entries.items()):
                    if entry.at <= now:
                        del self.entries[key]
                        entry.expired = True
                        entry.task.cancel()
        finally:
            self.runner = None
            if _watches.get(self.loop) is self and not self.entries:
                del _watches[self.loop]


_watches: dict[asyncio.AbstractEventLoop, _Watch] = {}


def start_deadline(timeout: float) -> Deadline:
    """Register the current task to be cancelled ``timeout`` seconds from now."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    if task is None:
        raise RuntimeError("start_deadline() must be called from a task")
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = _Watch(loop)
    tick = min(_MAX_TICK, max(_MIN_TICK, timeout / 5))
    if tick < watch.tick:
        watch.tick = tick
    entry = Deadline(watch, loop.time() + timeout, task)
    watch.entries[id(entry)] = entry
    if watch.runner is None:
        watch.runner = loop.create_task(watch.run(), name="avian-body-deadlines")
    return entry
