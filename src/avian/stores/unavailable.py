"""``StoreUnavailable``: a store outage answered as 503, never as a 500.

A network store (Redis) raises it once its own bounded retries are spent.  Because it is an
:class:`~avian.errors.HTTPError`, every feature built on a store (sessions, CSRF tokens, the
``Cache`` service) turns an outage into a ``503`` problem response with ``Retry-After``
without any code of its own; features that can do without the store (the response cache)
catch it and degrade instead.
"""

from __future__ import annotations

from ..errors import HTTPError

__all__ = ["DEFAULT_RETRY_AFTER", "StoreUnavailable"]

DEFAULT_RETRY_AFTER = 5
"""Seconds a client is told to wait (``Retry-After``) before trying again."""


class StoreUnavailable(HTTPError):
    """503 ``STORE_UNAVAILABLE``: the data store could not be reached, try again shortly.

    The detail names no host, port or credential: the store that raises it has already
    logged the cause (one warning, not an "unhandled error" traceback), and the error
    handler does not log ``HTTPError``\\ s again.  ``retry_after`` (whole seconds, at least
    1) becomes the ``Retry-After`` header and ``details["retry_after"]``.
    """

    def __init__(self, retry_after: int = DEFAULT_RETRY_AFTER) -> None:
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 1:
            raise ValueError(f"retry_after must be an int >= 1, got {retry_after!r}")
        super().__init__(
            503,
            "The data store is temporarily unavailable; try again shortly.",
            code="STORE_UNAVAILABLE",
            details={"retry_after": retry_after},
            headers={"retry-after": str(retry_after)},
        )
        self.retry_after = retry_after
