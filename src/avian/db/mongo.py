"""A MongoDB connection of the manager (``app.with_mongo()``, DB-02): PyMongo's
``AsyncMongoClient``.

Options may be spelled the Python way (``max_pool_size``, ``server_selection_timeout_ms``)
or PyMongo's way (``maxPoolSize``); both are checked against PyMongo's own validators when
the connection is registered.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from .connection import DEFAULT_STARTUP_TIMEOUT, ConnectionSpec
from .errors import missing_driver
from .events import ConnectionReporter
from .redaction import redact_options, redact_url

__all__ = ["DEFAULT_MONGO_URI", "MongoConnection", "pymongo_options"]

DEFAULT_MONGO_URI = "mongodb://localhost:27017"
"""Used when neither ``uri=`` nor ``MONGO_URL``/``MONGODB_URI`` is set."""

_SCHEMES = ("mongodb://", "mongodb+srv://")


def _import_pymongo() -> Any:
    try:
        import pymongo
    except ImportError:
        raise missing_driver("pymongo", "mongo", "MongoDB support") from None
    return pymongo


def pymongo_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Client options under PyMongo's names, each value checked by PyMongo's validator.

    ``max_pool_size``, ``maxPoolSize`` and ``maxpoolsize`` all mean the same option; an
    unknown name or a bad value is a :class:`ConfigurationError`.
    """
    _import_pymongo()
    from pymongo.common import VALIDATORS, validate
    from pymongo.errors import ConfigurationError as PyMongoConfigurationError

    mapped: dict[str, Any] = {}
    for key, value in options.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"MongoDB option names must be strings, got {key!r}")
        lowered = key.lower()
        squeezed = lowered.replace("_", "")
        name = lowered if lowered in VALIDATORS else squeezed
        if name not in VALIDATORS:
            raise ConfigurationError(
                f"unknown MongoDB option {key!r} (see PyMongo's MongoClient options; "
                "snake_case names like max_pool_size are accepted)"
            )
        try:
            validate(name, value)
        except (PyMongoConfigurationError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"invalid MongoDB option {key!r}: {exc}") from None
        if name in mapped:
            raise ConfigurationError(f"MongoDB option {key!r} is given twice")
        mapped[name] = value
    return mapped


def _check_uri(uri: str) -> None:
    if not isinstance(uri, str) or not uri.startswith(_SCHEMES):
        raise ConfigurationError(
            f"MongoDB uri must start with mongodb:// or mongodb+srv://, got {redact_url(str(uri))!r}"
        )
    if uri.startswith("mongodb+srv://"):
        return  # checking it means a DNS lookup: the startup ping does that
    from pymongo.errors import ConfigurationError as PyMongoConfigurationError
    from pymongo.errors import InvalidURI
    from pymongo.uri_parser import parse_uri

    try:
        parse_uri(uri)
    except (InvalidURI, PyMongoConfigurationError, ValueError) as exc:
        raise ConfigurationError(f"invalid MongoDB uri {redact_url(uri)!r}: {exc}") from None


class MongoConnection(ConnectionSpec):
    """``uri`` (``mongodb://``, ``mongodb+srv://``, replica-set URIs) and client ``options``."""

    kind = "mongo"

    def __init__(
        self,
        name: str,
        *,
        uri: str | None = None,
        options: Mapping[str, Any] | None = None,
        required: bool = True,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        **client_options: Any,
    ) -> None:
        super().__init__(name, required=required, startup_timeout=startup_timeout)
        _import_pymongo()
        if uri is None:
            uri = os.environ.get("MONGO_URL") or os.environ.get("MONGODB_URI") or DEFAULT_MONGO_URI
        _check_uri(uri)
        if options is not None and not isinstance(options, Mapping):
            raise ConfigurationError(f"MongoDB options must be a mapping, got {options!r}")
        given = {**(options or {}), **client_options}
        self.uri = uri
        self.given_options = given
        self.client_options = pymongo_options(given)

    @property
    def target(self) -> str:
        return redact_url(self.uri)

    def describe(self) -> dict[str, Any]:
        return {"uri": redact_url(self.uri), "options": redact_options(self.given_options)}

    def build(self, reporter: ConnectionReporter) -> Any:
        from pymongo import AsyncMongoClient

        options = dict(self.client_options)
        listeners = list(options.pop("event_listeners", None) or ())
        listeners.append(_server_listener(reporter))
        return AsyncMongoClient(self.uri, event_listeners=listeners, **options)

    async def ping(self, client: Any) -> None:
        await client.admin.command("ping")

    async def close(self, client: Any) -> None:
        await client.close()


def _server_listener(reporter: ConnectionReporter) -> Any:
    """A PyMongo server monitor that reports servers becoming reachable or unreachable."""
    from pymongo.monitoring import (
        ServerClosedEvent,
        ServerDescriptionChangedEvent,
        ServerListener,
        ServerOpeningEvent,
    )
    from pymongo.server_type import SERVER_TYPE

    class ReportingServerListener(ServerListener):
        def opened(self, event: ServerOpeningEvent) -> None:
            pass  # the monitor starts; nothing is known about the server yet

        def description_changed(self, event: ServerDescriptionChangedEvent) -> None:
            before = event.previous_description.server_type
            after = event.new_description.server_type
            host, port = event.server_address
            where = f"{host}:{port}"
            if before == SERVER_TYPE.Unknown and after != SERVER_TYPE.Unknown:
                reporter.connected(where)
            elif after == SERVER_TYPE.Unknown and before != SERVER_TYPE.Unknown:
                error = event.new_description.error
                reporter.failed(error or ConnectionError("server became unreachable"), where)
            elif after == SERVER_TYPE.Unknown and event.new_description.error is not None:
                reporter.failed(event.new_description.error, where)

        def closed(self, event: ServerClosedEvent) -> None:
            pass  # the manager reports the close of the whole client

    return ReportingServerListener()
