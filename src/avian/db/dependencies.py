"""A dependency provider for handlers that want a SQL session injected.

``session: AsyncSession = Depends(sql_session())`` gives each request its own
``AsyncSession`` inside a transaction: committed when the handler (and every later step)
succeeded, rolled back when something raised.  The commit happens before the response is
sent, so a failed commit is the request's error, not a silent loss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from ..context import Context

__all__ = ["sql_session"]


def sql_session(name: str = "sql") -> Callable[[Context], AsyncIterator[Any]]:
    """A ``Depends()`` provider of one transactional session of the connection ``name``."""

    async def provide_sql_session(ctx: Context) -> AsyncIterator[Any]:
        async with ctx.db.session(name) as session:
            yield session

    provide_sql_session.__qualname__ = f"sql_session({name!r})"
    return provide_sql_session
