"""The options of :func:`avian.server.serve`: their validated form and their uvicorn form.

:class:`ServerConfig` checks every option once, before anything binds, so a mistake is a
:class:`~avian.ConfigurationError` rather than a failure inside uvicorn or a worker
process; :class:`ServeOptions` is the same set of options as keyword arguments for type
checkers, :func:`resolve_port` decides the TCP port (argument, ``$PORT``, default), and
:func:`uvicorn_config` translates the options avian does not handle itself into a
``uvicorn.Config``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from ..errors import ConfigurationError

if TYPE_CHECKING:
    import uvicorn

__all__ = ["DEFAULT_PORT", "ServeOptions", "ServerConfig", "resolve_port", "uvicorn_config"]

DEFAULT_PORT = 3000
"""Port used when neither ``port=`` nor the ``PORT`` environment variable is set."""

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_MANAGED_UVICORN_OPTIONS = frozenset(
    {
        "app", "host", "port", "uds", "fd", "reload", "reload_dirs", "workers", "log_level",
        "access_log", "ssl_certfile", "ssl_keyfile", "ssl_keyfile_password",
        "timeout_keep_alive", "timeout_graceful_shutdown", "limit_concurrency",
        "limit_max_requests", "backlog", "proxy_headers", "forwarded_allow_ips",
        "ws_max_size", "ws_ping_interval", "ws_ping_timeout", "h11_max_incomplete_event_size",
        "server_header",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Every option of :func:`serve`, validated once; see ``docs/server.md``."""

    host: str = "127.0.0.1"
    """Interface to bind: ``"0.0.0.0"`` / ``"::"`` expose the server to the network."""
    port: int | None = None
    """TCP port; ``None`` reads ``PORT`` from the environment, else 3000; 0 picks a free one."""
    uds: str | None = None
    """Unix domain socket path; wins over ``port`` when both are given."""
    uds_permissions: int = 0o660
    """File mode of the unix socket (owner and group may connect)."""
    ssl_certfile: str | None = None
    """PEM certificate chain; serves HTTPS and WSS when set."""
    ssl_keyfile: str | None = None
    """PEM private key (may be omitted when the certificate file also holds the key)."""
    ssl_keyfile_password: str | None = None
    """Password of an encrypted private key."""
    reuse_port: bool = False
    """Set ``SO_REUSEPORT`` so several processes can listen on the same port."""
    workers: int = 1
    """Worker processes sharing the listening socket."""
    reload: bool = False
    """Restart the server when source files change (development)."""
    reload_dirs: Sequence[str] | None = None
    """Directories watched by ``reload`` (default: the current directory)."""
    development: bool = False
    """Reload when possible, debug logging and ``app.debug = True``."""
    keep_alive_timeout: float = 5.0
    """Seconds an idle keep-alive connection is kept open."""
    header_timeout: float | None = 30.0
    """Seconds a connection may take to send a complete request head (408 and close beyond)."""
    graceful_shutdown_timeout: float | None = 25.0
    """Seconds in-flight requests may take to finish at shutdown (``None``: no limit)."""
    auto_graceful_shutdown: bool = True
    """Handle SIGTERM/SIGINT; ``False`` leaves signals to the caller."""
    max_port_attempts: int = 5
    """Ports tried (``port``, ``port + 1``, ...) while the previous one is in use."""
    limit_concurrency: int | None = None
    """Most concurrent connections/tasks before answering 503."""
    limit_max_requests: int | None = None
    """Requests a worker serves before it exits (and is replaced when supervised)."""
    backlog: int = 2048
    """Pending connections the kernel queues."""
    log_level: str | None = None
    """uvicorn log level (``"info"`` by default, ``"debug"`` in development)."""
    access_log: bool = True
    """Log one line per request."""
    proxy_headers: bool = False
    """Trust ``X-Forwarded-For``/``-Proto`` from ``forwarded_allow_ips`` (uvicorn level)."""
    forwarded_allow_ips: str | Sequence[str] | None = None
    """Proxy addresses trusted by ``proxy_headers`` (uvicorn default: 127.0.0.1)."""
    server_header: bool = False
    """Send ``Server: uvicorn``; off so the stack is not advertised."""
    ws_max_size: int = 16 * 1024 * 1024
    """Largest websocket message accepted, in bytes."""
    ws_ping_interval: float | None = 20.0
    """Seconds between websocket pings (``None``: no pings)."""
    ws_ping_timeout: float | None = 20.0
    """Seconds to wait for a pong before closing the websocket."""
    h11_max_incomplete_event_size: int | None = None
    """Largest request head (request line + headers) the h11 parser buffers, in bytes."""
    on_listening: Callable[[str], object] | None = None
    """Called with the URL once the server accepts connections."""
    uvicorn_options: Mapping[str, Any] = field(default_factory=dict)
    """Further ``uvicorn.Config`` keyword arguments, passed as they are."""

    def __post_init__(self) -> None:
        def positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number, got {value!r}")

        if self.port is not None and (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 0 <= self.port <= 65535
        ):
            raise ConfigurationError(f"port must be an integer in 0..65535, got {self.port!r}")
        for name in ("workers", "max_port_attempts", "backlog", "ws_max_size"):
            positive(name, getattr(self, name))
            if not isinstance(getattr(self, name), int):
                raise ConfigurationError(f"{name} must be an integer")
        positive("keep_alive_timeout", self.keep_alive_timeout)
        for name in ("limit_concurrency", "limit_max_requests", "h11_max_incomplete_event_size"):
            positive(name, getattr(self, name), allow_none=True)
        for name in ("ws_ping_interval", "ws_ping_timeout", "header_timeout"):
            positive(name, getattr(self, name), allow_none=True)
        timeout = self.graceful_shutdown_timeout
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
        ):
            raise ConfigurationError(
                f"graceful_shutdown_timeout must be >= 0 or None, got {timeout!r}"
            )
        if not self.host:
            raise ConfigurationError("host must not be empty")
        if self.log_level is not None and self.log_level.lower() not in _LOG_LEVELS:
            raise ConfigurationError(
                f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}"
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ConfigurationError("ssl_keyfile needs ssl_certfile")
        for name in ("ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise ConfigurationError(f"{name} {path!r} does not exist")
        if self.uds is not None:
            if not hasattr(socket, "AF_UNIX"):
                raise ConfigurationError("unix sockets are not available on this platform")
            if self.reuse_port:
                raise ConfigurationError("reuse_port applies to TCP ports, not unix sockets")
        if self.reuse_port and not hasattr(socket, "SO_REUSEPORT"):
            raise ConfigurationError("reuse_port is not supported on this platform")
        if self.on_listening is not None and not callable(self.on_listening):
            raise ConfigurationError("on_listening must be callable")
        clash = _MANAGED_UVICORN_OPTIONS & set(self.uvicorn_options)
        if clash:
            raise ConfigurationError(
                f"uvicorn_options may not set {', '.join(sorted(clash))}: use serve()'s own options"
            )


class ServeOptions(TypedDict, total=False):
    """Keyword arguments of :func:`serve` / ``App.listen()`` (see :class:`ServerConfig`)."""

    host: str
    port: int | None
    uds: str | None
    uds_permissions: int
    ssl_certfile: str | None
    ssl_keyfile: str | None
    ssl_keyfile_password: str | None
    reuse_port: bool
    workers: int
    reload: bool
    reload_dirs: Sequence[str] | None
    development: bool
    keep_alive_timeout: float
    header_timeout: float | None
    graceful_shutdown_timeout: float | None
    auto_graceful_shutdown: bool
    max_port_attempts: int
    limit_concurrency: int | None
    limit_max_requests: int | None
    backlog: int
    log_level: str | None
    access_log: bool
    proxy_headers: bool
    forwarded_allow_ips: str | Sequence[str] | None
    server_header: bool
    ws_max_size: int
    ws_ping_interval: float | None
    ws_ping_timeout: float | None
    h11_max_incomplete_event_size: int | None
    on_listening: Callable[[str], object] | None
    uvicorn_options: Mapping[str, Any]


def resolve_port(port: int | None) -> int:
    """The port to bind: the explicit one, else ``$PORT``, else :data:`DEFAULT_PORT`."""
    if port is not None:
        return port
    raw = os.environ.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"PORT environment variable must be a port number, got {raw!r}"
        ) from None
    if not 0 <= value <= 65535:
        raise ConfigurationError(f"PORT environment variable must be in 0..65535, got {value}")
    return value


def uvicorn_config(app: Any, config: ServerConfig, log_level: str | None) -> uvicorn.Config:
    """The ``uvicorn.Config`` for ``app``: the options uvicorn applies, plus ``uvicorn_options``."""
    import uvicorn

    options: dict[str, Any] = {
        "host": config.host,
        "log_level": log_level,
        "access_log": config.access_log,
        "ssl_certfile": config.ssl_certfile,
        "ssl_keyfile": config.ssl_keyfile,
        "ssl_keyfile_password": config.ssl_keyfile_password,
        "timeout_keep_alive": config.keep_alive_timeout,
        "timeout_graceful_shutdown": config.graceful_shutdown_timeout,
        "limit_concurrency": config.limit_concurrency,
        "limit_max_requests": config.limit_max_requests,
        "backlog": config.backlog,
        "proxy_headers": config.proxy_headers,
        "forwarded_allow_ips": config.forwarded_allow_ips,
        "server_header": config.server_header,
        "ws_max_size": config.ws_max_size,
        "ws_ping_interval": config.ws_ping_interval,
        "ws_ping_timeout": config.ws_ping_timeout,
        "h11_max_incomplete_event_size": config.h11_max_incomplete_event_size,
        **config.uvicorn_options,
    }
    if config.reload:
        options["reload"] = True
        dirs = config.reload_dirs
        options["reload_dirs"] = [dirs] if isinstance(dirs, str) else list(dirs) if dirs else None
    if isinstance(options["forwarded_allow_ips"], list | tuple):
        options["forwarded_allow_ips"] = list(options["forwarded_allow_ips"])
    return uvicorn.Config(app, **options)
