"""Choosing a store: memory on one machine, Redis when a URL is configured.

:func:`default_store` builds the app's store (``app.store``).  :class:`FeatureStore` is
how a stateful feature (sessions, CSRF, the cache) picks its store: the one it was given;
else the app's, when the app's store is meant to be shared (Redis mode, or ``app.store``
assigned by the user); else a private memory store of its own, so in memory mode a busy
cache can never evict sessions.  Features are built before they know their app, so they
learn it from the first request they serve; that is what lets one setting,
``App(redis_url=...)``, move every feature to Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..errors import ConfigurationError
from .base import Store
from .memory import MemoryStore

__all__ = ["FeatureStore", "UsesFeatureStore", "default_store", "shares_app_store"]


def default_store(redis_url: str | None) -> Store:
    """The store stateful features share when none is given explicitly."""
    if redis_url:
        from .redis import RedisStore

        return RedisStore(url=redis_url)
    return MemoryStore()


def shares_app_store(app: Any) -> bool:
    """True when features without a ``store=`` of their own should use ``app.store``.

    That is Redis mode (``app.redis_url``: the point is that every worker shares the
    state) or an ``app.store`` the user assigned.  In plain memory mode each feature keeps
    a private memory store instead, so one feature's keys never evict another's.
    """
    return bool(getattr(app, "redis_url", None)) or getattr(app, "_store_assigned", False) is True


class _HasStore(Protocol):
    @property
    def store(self) -> Store: ...


class FeatureStore:
    """The store one feature uses: the given one, else its app's shared one, else a private one.

    ``given`` is what the user passed as ``store=`` (``None``: follow the app).  Once
    :meth:`bind` has seen the app, the app's ``store`` is used when
    :func:`shares_app_store` says so (checked on every call, so ``app.store = ...`` set
    later still counts); the feature's own key prefix keeps it apart from the others
    there.  Otherwise (memory mode, or no app known yet: Harpia's API called from a
    script) the feature keeps its data in a private store made by ``private``.
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
        if app is not None and shares_app_store(app):
            return app.store
        private = self._private
        if private is None:
            private = self._private = self._make_private()
        return private


class UsesFeatureStore:
    """The ``store`` property and ``bind_app`` of a feature that keeps its data in the
    :class:`FeatureStore` it sets as ``self._store`` (sessions, CSRF, the cache)."""

    __slots__ = ()

    _store: FeatureStore

    @property
    def store(self) -> Store:
        """Where the feature keeps its data: the ``store=`` given, else the app's shared
        store once a request has been served, else a private memory store."""
        return self._store.get()

    @store.setter
    def store(self, value: Store) -> None:
        self._store.use(value)

    def bind_app(self, app: Any) -> None:
        """Follow ``app.store`` when it is shared, unless a store was given (the first app
        wins; the feature's middleware calls this on every request)."""
        self._store.bind(app)
