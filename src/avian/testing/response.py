"""The response type the test clients return: an ``httpx.Response`` with Harpia aliases."""

from __future__ import annotations

import httpx

__all__ = ["TestResponse"]


class TestResponse(httpx.Response):
    """An :class:`httpx.Response` that also answers to the Harpia names.

    ``response.status`` is ``response.status_code`` and ``response.blob()`` is
    ``response.content``; everything else is plain httpx.
    """

    __test__ = False  # not a pytest test class, despite the name

    @property
    def status(self) -> int:
        """The HTTP status code (alias of ``status_code``)."""
        return self.status_code

    def blob(self) -> bytes:
        """The response body as bytes (alias of ``content``)."""
        return self.content
