"""Choosing a store: memory on one machine, Redis when a URL is configured.

:func:`default_store` builds the app's store (``app.store``).  :class:`FeatureStore` is
how a stateful feature (sessions, CSRF, the cache) picks its store: the one it was given,
otherwise its app's.  Features are built before they know their app, so they learn it
from the first request they serve; that is what lets one setting,
``App(redis_url=...)``, move every feature to Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..errors import ConfigurationError
from .base import Store
from .memory import MemoryStore

__all__ = ["FeatureStore", "default_store"]


def default_store(redis_url: str | None) -> Store:
    """The store stateful features share when none is given explicitly."""
    if redis_url:
        from .redis import RedisStore

        return RedisStore(url=redis_url)
    return MemoryStore()


class _HasStore(Protocol):
    @property
    def store(self) -> Store: ...


class FeatureStore:
    """The store one feature uses: the given one, else its app's, else a private one.

    ``given`` is what the user passed as ``store=`` (``None``: follow the app).  Once
    :meth:`bind` has seen the app, the app's ``store`` is used (read on every call, so
    ``app.store = ...`` set later still counts).  Used before any app is known (Harpia's
    API called from a script), the feature keeps its data in a private store made by
    ``private``.
    """

    __slots__ = ("_app", "_given", "_make_private", "_private")

    def __init__(
        self,
        given: Store | None,
        owner: str,
        private: Callable[[], Store] = MemoryStore,
    ) -> None:
        if given is not None and not isinstance(given, Store):
            raise ConfigurationError(
                f"{owner} store must implement the Store protocol, got {given!r}"
            )
        self._given = given
        self._app: _HasStore | None = None
        self._private: Store | None = None
        self._make_private = private

    @property
    def given(self) -> Store | None:
        """The store passed explicitly, if any."""
        return self._given

    def bind(self, app: Any) -> None:
        """Follow ``app``'s store from now on (the first app wins; cheap to call per request)."""
        if self._app is None and self._given is None:
            self._app = app

    def use(self, store: Store) -> None:
        """Use ``store`` from now on, whatever the app says."""
        if not isinstance(store, Store):
            raise ConfigurationError(f"store must implement the Store protocol, got {store!r}")
        self._given = store

    def get(self) -> Store:
        """The store to use for this operation."""
        store = self._given
        if store is not None:
            return store
        app = self._app
        if app is not None:
            return app.store
        private = self._private
        if private is None:
            private = self._private = self._make_private()
        return private
