"""Flash messages: one-time notices carried in the session to the next page.

::

    @app.post("/items")
    async def create(ctx):
        ...
        await flash(ctx, "Item saved", "success")
        return ctx.redirect("/items")

    @app.get("/items")
    async def items(ctx):
        notices = await get_flashed_messages(ctx, with_categories=True)

Messages live in the session under the reserved key ``"_flashes"`` and are removed by the
first :func:`get_flashed_messages` of a request; every later call in that request sees the
same messages, so a template may show them in several places.  Both functions need the
session middleware; :func:`get_flashed_messages` answers ``[]`` without it.  Template engines
call ``await get_flashed_messages(ctx)`` only when a template asks for messages, so pages
that show none do not load the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, overload

from .context import Context
from .sessions import SessionData, session_of

__all__ = ["FLASH_KEY", "flash", "get_flashed_messages"]

FLASH_KEY = "_flashes"
"""The session key that holds pending messages as ``[[category, message], ...]``."""

_CACHE = "_avian_flashes"


async def flash(ctx: Context, message: str, category: str = "info") -> None:
    """Queue ``message`` for the next request that reads flashed messages."""
    if not isinstance(message, str) or not isinstance(category, str):
        raise TypeError("flash() takes a message and a category that are strings")
    session = await session_of(ctx).load()
    pending = session.get(FLASH_KEY)
    queued = list(pending) if isinstance(pending, list) else []
    queued.append([category, message])
    session[FLASH_KEY] = queued


@overload
async def get_flashed_messages(
    ctx: Context,
    with_categories: Literal[False] = False,
    category_filter: Iterable[str] | str = (),
) -> list[str]: ...
@overload
async def get_flashed_messages(
    ctx: Context,
    with_categories: Literal[True],
    category_filter: Iterable[str] | str = (),
) -> list[tuple[str, str]]: ...
async def get_flashed_messages(
    ctx: Context,
    with_categories: bool = False,
    category_filter: Iterable[str] | str = (),
) -> list[str] | list[tuple[str, str]]:
    """The messages flashed for this user, removed from the session (consumed).

    ``with_categories=True`` gives ``(category, message)`` pairs; ``category_filter``
    keeps only those categories (all messages are consumed either way).
    """
    messages: list[tuple[str, str]] | None = ctx.__dict__.get(_CACHE)
    if messages is None:
        messages = await _take(ctx)
        ctx.__dict__[_CACHE] = messages
    if category_filter:
        wanted = {category_filter} if isinstance(category_filter, str) else set(category_filter)
        selected = [item for item in messages if item[0] in wanted]
    else:
        selected = list(messages)
    if with_categories:
        return selected
    return [message for _, message in selected]


async def _take(ctx: Context) -> list[tuple[str, str]]:
    session = ctx.__dict__.get("session")
    if not isinstance(session, SessionData):
        return []
    await session.load()
    if FLASH_KEY not in session:
        return []  # nothing to consume: the session stays unmodified
    raw = session.pop(FLASH_KEY)
    if not isinstance(raw, list):
        return []
    return [
        (item[0], item[1])
        for item in raw
        if isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    ]
