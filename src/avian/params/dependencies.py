"""Dependency providers: how each kind is called, and how generator providers are closed.

A provider is called once per request (or once per use with ``use_cache=False``) in
dependency order, sub-dependencies first.  Generator providers (sync or async) run up to
their ``yield``; the yielded value is injected, and the rest of the generator (the
teardown) runs after the response has been produced, last started first.  When the
handler, a later provider or the response conversion raised, that exception is thrown into
each generator at its ``yield`` so it can roll back; a generator cannot swallow it (the
error still reaches the client), but it may replace it by raising another.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .signatures import call_target, is_async_callable

__all__ = [
    "ASYNC",
    "ASYNC_GEN",
    "GENERATOR_MODES",
    "SYNC",
    "SYNC_GEN",
    "THREAD",
    "THREAD_GEN",
    "Step",
    "close_generators",
    "provider_mode",
    "start_generator",
]

ASYNC = 0
"""``async def``: awaited inline."""
SYNC = 1
"""Plain function (or class): called inline on the event loop."""
THREAD = 2
"""Sync function declared ``blocking=True``: called in the thread pool."""
ASYNC_GEN = 3
SYNC_GEN = 4
THREAD_GEN = 5
"""Sync generator declared ``blocking=True``: setup and teardown in the thread pool."""
GENERATOR_MODES = frozenset({ASYNC_GEN, SYNC_GEN, THREAD_GEN})


def provider_mode(fn: Callable[..., Any], blocking: bool) -> int:
    """How to call ``fn`` (one of the mode constants)."""
    target = call_target(fn)  # an instance's (possibly inherited) ``__call__``
    if inspect.isasyncgenfunction(target):
        return ASYNC_GEN
    if inspect.isgeneratorfunction(target):
        return THREAD_GEN if blocking else SYNC_GEN
    if is_async_callable(fn):
        return ASYNC
    return THREAD if blocking else SYNC


class Step:
    """One provider call in a route's dependency order."""

    __slots__ = ("call", "keywords", "mode", "name", "positional", "slot")

    def __init__(
        self,
        slot: int,
        call: Callable[..., Any],
        mode: int,
        positional: tuple[int, ...],
        keywords: tuple[tuple[str, int], ...],
        name: str,
    ) -> None:
        self.slot = slot
        self.call = call
        self.mode = mode
        self.positional = positional
        self.keywords = keywords
        self.name = name


_FINISHED: Any = object()


def _next_or_finished(gen: Any) -> Any:
    # StopIteration cannot travel through a future: report it as a value.
    try:
        return next(gen)
    except StopIteration:
        return _FINISHED


async def start_generator(gen: Any, mode: int, name: str) -> Any:
    """Run a generator provider to its ``yield`` and return the yielded value."""
    try:
        if mode == ASYNC_GEN:
            return await gen.__anext__()
        if mode == SYNC_GEN:
            return next(gen)
    except (StopIteration, StopAsyncIteration):
        raise RuntimeError(f"dependency {name} did not yield a value") from None
    import asyncio  # PERF: not needed by `import avian`

    value = await asyncio.to_thread(_next_or_finished, gen)
    if value is _FINISHED:
        raise RuntimeError(f"dependency {name} did not yield a value")
    return value


def _advance_sync(gen: Any, error: BaseException | None) -> bool:
    """Resume a sync generator; True when it finished (as it should)."""
    try:
        if error is None:
            next(gen)
        else:
            gen.throw(error)
    except StopIteration:
        return True
    return False


async def close_generators(stack: list[tuple[Any, int, str]], error: BaseException | None) -> None:
    """Finish started generator providers, last started first, then raise the outcome.

    ``error`` (the exception that ended the request, if any) is thrown into each generator;
    an exception raised by a teardown replaces it for the generators still to close.
    """
    while stack:
        gen, mode, name = stack.pop()
        try:
            if mode == ASYNC_GEN:
                if error is None:
                    await gen.__anext__()
                else:
                    await gen.athrow(error)
            elif mode == SYNC_GEN:
                finished = _advance_sync(gen, error)
            else:
                import asyncio  # PERF: not needed by `import avian`

                finished = await asyncio.to_thread(_advance_sync, gen, error)
            if mode != ASYNC_GEN and finished:
                continue
        except StopAsyncIteration:
            continue
        except BaseException as exc:
            error = exc
            continue
        error = RuntimeError(f"dependency {name} yielded more than once")
    if error is not None:
        raise error
