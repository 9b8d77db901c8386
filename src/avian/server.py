"""Run an ASGI app under uvicorn: binding, workers, reload and graceful shutdown.

``serve()`` is what ``App.listen()`` and ``avian run`` call.  avian binds the listening
socket itself and hands it to uvicorn, which is what makes port auto-retry (SRV-10),
unix sockets (SRV-04) and ``reuse_port`` (SRV-05) behave the same in one process, with
workers and with reload.  Shutdown (SRV-09, LIFE-04, LIFE-08): the first SIGTERM/SIGINT
stops accepting, lets in-flight requests finish for ``graceful_shutdown_timeout``
seconds, runs the app's shutdown hooks (ASGI lifespan) and returns; a second signal of
either kind exits at once with status 1.

uvicorn is imported only when serving, so ``import avian`` stays fast.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import functools
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import stat
import sys
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for_sentinels
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

from .errors import AvianError, ConfigurationError

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.synchronize import Event as ProcessEvent

    import uvicorn

__all__ = [
    "DEFAULT_PORT",
    "AppLoadError",
    "BindError",
    "ServeOptions",
    "ServerConfig",
    "import_app",
    "infer_import_string",
    "resolve_port",
    "serve",
]

logger = logging.getLogger("avian.server")

DEFAULT_PORT = 3000
"""Port used when neither ``port=`` nor the ``PORT`` environment variable is set."""

_STARTUP_FAILURE = 3  # uvicorn's exit status when lifespan startup fails
_FORCED_EXIT = 1  # exit status after a second signal cut the graceful wait short
_FORCE_EXIT_GRACE = 2.0  # seconds a forced shutdown may take before the process is killed
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


class BindError(AvianError, OSError):
    """The listening socket could not be created (port in use, permission, bad path).

    ``errno`` is the cause (e.g. ``EADDRINUSE``); the message says what was tried.
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


class AppLoadError(ConfigurationError):
    """An app given as ``"module:attr"`` could not be imported."""


# --------------------------------------------------------------------------- options


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


# ------------------------------------------------------------------ app import strings


def import_app(spec: str) -> Any:
    """Import ``"module:attr"`` (``attr`` defaults to ``app``; dotted attributes allowed)."""
    module_name, _, attrs = spec.partition(":")
    attrs = attrs or "app"
    if not module_name or not all(part.isidentifier() for part in attrs.split(".")):
        raise AppLoadError(f"app must look like 'module:attribute', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise AppLoadError(
                f"could not import module {module_name!r} (not found on sys.path)"
            ) from exc
        raise AppLoadError(
            f"error while importing {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise AppLoadError(
            f"error while importing {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attrs.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attrs!r}") from None
    return obj


def infer_import_string(app: object) -> str:
    """Find ``"module:attr"`` naming ``app`` so worker and reload processes can import it.

    A regular module holding the object is preferred; an app that lives only in a script
    run as ``python script.py`` is named after the script, whose directory is put on
    ``sys.path`` and ``PYTHONPATH`` so child processes can import it.
    """
    for name in sorted(sys.modules):
        if name in ("__main__", "__mp_main__") or name == "avian" or name.startswith("avian."):
            continue
        attr = _attribute_holding(sys.modules[name], app)
        if attr is not None:
            return f"{name}:{attr}"
    main = sys.modules.get("__main__")
    attr = _attribute_holding(main, app) if main is not None else None
    if main is None or attr is None:
        raise ConfigurationError(
            "cannot find a module attribute holding the app; workers and reload need it as an "
            "import string: pass 'module:attr' instead of the app object"
        )
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":  # run as python -m pkg.mod
        return f"{spec.name}:{attr}"
    script = getattr(main, "__file__", None)
    if not script:
        raise ConfigurationError(
            "cannot name an app defined interactively; pass 'module:attr' instead"
        )
    path = Path(script).resolve()
    if not path.stem.isidentifier():
        raise ConfigurationError(
            f"cannot import script {path.name!r} as a module (not a Python identifier); "
            "rename it or pass 'module:attr'"
        )
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    python_path = os.environ.get("PYTHONPATH", "")
    if directory not in python_path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (directory, python_path) if p)
    return f"{path.stem}:{attr}"


def _attribute_holding(module: ModuleType | None, obj: object) -> str | None:
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return None
    if namespace.get("app") is obj:
        return "app"
    for key, value in list(namespace.items()):
        if value is obj and isinstance(key, str) and key.isidentifier():
            return key
    return None


# ------------------------------------------------------------------- listening sockets


@dataclass(frozen=True, slots=True)
class _Listener:
    sock: socket.socket
    url: str
    address: tuple[str, int] | str
    inode: int | None = None  # of the unix socket file, to remove only our own


def _bind(config: ServerConfig) -> _Listener:
    if config.uds is not None:
        return _bind_unix(config.uds, config.uds_permissions, config.backlog)
    return _bind_tcp(config, resolve_port(config.port))


def _bind_tcp(config: ServerConfig, port: int) -> _Listener:
    host = config.host
    candidates = (
        [0] if port == 0 else list(range(port, min(port + config.max_port_attempts, 65536)))
    )
    in_use: list[int] = []
    for candidate in candidates:
        try:
            family, _, _, _, sockaddr = socket.getaddrinfo(
                host, candidate, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
        except socket.gaierror as exc:
            raise BindError(f"cannot resolve host {host!r}: {exc.strerror}") from None
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if config.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(sockaddr)
            sock.listen(config.backlog)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and port != 0:
                in_use.append(candidate)
                if candidate != candidates[-1]:
                    logger.warning("port %d is in use, trying %d", candidate, candidate + 1)
                continue
            raise BindError(
                exc.errno, f"cannot listen on {host}:{candidate}: {exc.strerror}"
            ) from None
        bound_port = sock.getsockname()[1]
        scheme = "https" if config.ssl_certfile else "http"
        shown = f"[{host}]" if ":" in host else host
        return _Listener(sock, f"{scheme}://{shown}:{bound_port}", (host, bound_port))
    tried = ", ".join(map(str, in_use))
    raise BindError(
        errno.EADDRINUSE,
        f"cannot listen on {host}: port(s) {tried} already in use "
        f"(max_port_attempts={config.max_port_attempts})",
    )


def _bind_unix(path: str, permissions: int, backlog: int) -> _Listener:
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, permissions)  # before listen(), so nobody connects with looser rights
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise BindError(exc.errno, f"cannot listen on unix socket {path}: {exc.strerror}") from None
    return _Listener(sock, f"unix:{path}", path, os.stat(path).st_ino)


def _remove_stale_socket(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise BindError(errno.EEXIST, f"{path} exists and is not a unix socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)  # nobody listens: left over from a crashed server
        return
    except OSError:
        pass
    finally:
        probe.close()
    raise BindError(errno.EADDRINUSE, f"unix socket {path} is in use by another process")


def _cleanup(listener: _Listener) -> None:
    listener.sock.close()
    if isinstance(listener.address, str):
        try:
            if os.lstat(listener.address).st_ino == listener.inode:
                os.unlink(listener.address)
        except OSError:
            pass  # already gone


# ------------------------------------------------------------------------ the server


SignalMode = Literal["all", "supervised", "none"]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a serving process must do around uvicorn; picklable for worker processes."""

    app: Any  # the app object in-process, or its import string in child processes
    address: tuple[str, int] | str
    development: bool
    signals: SignalMode
    header_timeout: float | None
    parent_pid: int | None = None  # supervised: request_shutdown() signals the supervisor


def _prepare_app(app: object, plan: _Plan, request_exit: Callable[[], None]) -> None:
    """Tell the app where it listens and how to stop the server (the App contract)."""
    values: dict[str, object] = {"server_address": plan.address, "_shutdown_callback": request_exit}
    if plan.development:
        values["debug"] = True
    for name, value in values.items():
        try:
            setattr(app, name, value)
        except (AttributeError, TypeError):
            pass  # a plain function or a slotted object: nothing to tell it


@functools.cache
def _server_class() -> type[Any]:
    import uvicorn

    class AvianServer(uvicorn.Server):
        """uvicorn's server with avian's signal handling and a readiness callback."""

        def __init__(
            self, config: uvicorn.Config, plan: _Plan, on_started: Callable[[], None] | None
        ) -> None:
            super().__init__(config)
            self.plan = plan
            self.on_started = on_started
            self.exit_deadline: threading.Timer | None = None

        async def serve(self, sockets: list[socket.socket] | None = None) -> None:
            if not self.config.loaded:
                self.config.load()
            if self.plan.header_timeout is not None:
                protocol: Any = self.config.http_protocol_class
                self.config.http_protocol_class = _with_header_timeout(
                    protocol, self.plan.header_timeout
                )
            app = import_app(self.plan.app) if isinstance(self.plan.app, str) else self.plan.app
            _prepare_app(app, self.plan, self.request_exit)
            await super().serve(sockets)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit and self.on_started is not None:
                self.on_started()

        def request_exit(self) -> None:
            """Graceful shutdown asked for by the app (``app.request_shutdown()``)."""
            if self.plan.parent_pid is not None:
                os.kill(self.plan.parent_pid, signal.SIGTERM)  # the supervisor stops everyone
            else:
                self.should_exit = True

        @contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            # Unlike uvicorn, never re-raise the signal afterwards: a graceful stop exits 0.
            if (
                self.plan.signals == "none"
                or threading.current_thread() is not threading.main_thread()
            ):
                yield
                return
            handlers: dict[int, Any] = {signal.SIGTERM: self.handle_exit}
            # A supervised worker ignores Ctrl+C (the terminal sends it to the whole group);
            # its supervisor relays the shutdown as SIGTERM.
            handlers[signal.SIGINT] = (
                signal.SIG_IGN if self.plan.signals == "supervised" else self.handle_exit
            )
            previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit or self.plan.signals == "supervised":
                self.should_exit = True
                return
            logger.warning("second signal received: exiting without waiting for requests")
            self.force_exit = True
            # Whatever still blocks (a handler stuck in a thread, say) must not keep us alive.
            self.exit_deadline = threading.Timer(_FORCE_EXIT_GRACE, os._exit, (_FORCED_EXIT,))
            self.exit_deadline.daemon = True
            self.exit_deadline.start()

        async def on_tick(self, counter: int) -> bool:
            if (
                counter % 10 == 0
                and self.plan.parent_pid is not None
                and os.getppid() != self.plan.parent_pid
            ):
                logger.warning("supervisor process is gone: shutting down")
                self.should_exit = True
            return await super().on_tick(counter)

        def finish(self) -> None:
            """After ``run()``: exit with status 1 if a second signal forced the shutdown."""
            if self.force_exit:
                if self.exit_deadline is not None:
                    self.exit_deadline.cancel()
                raise SystemExit(_FORCED_EXIT)

    return AvianServer


_REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 15\r\nconnection: close\r\n\r\nRequest Timeout"
)
_TIMED_PROTOCOL_MODULES = (
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
)


@functools.cache
def _with_header_timeout(base: Any, timeout: float) -> Any:
    """``base`` (uvicorn's h11 or httptools protocol) with a deadline for each request head.

    uvicorn has no such timeout: a client that opens a connection and sends nothing, or
    trickles its headers a byte at a time, holds the connection forever (slowloris).  The
    deadline runs from the moment the connection opens, or from the first byte of a
    later request on a kept-alive connection, until the request head is parsed.
    """
    if not any(cls.__module__ in _TIMED_PROTOCOL_MODULES for cls in base.__mro__):
        logger.debug("header_timeout is not applied to %s", base.__qualname__)
        return base

    class HeaderTimeoutProtocol(base):  # type: ignore[misc]
        _head_timer: asyncio.TimerHandle | None = None
        _head_cycle: object = None
        _head_partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm_head_timer(partial=False)

        def data_received(self, data: bytes) -> None:
            if self._head_timer is not None:
                self._head_partial = True
            elif self.cycle is None or self.cycle.response_complete:  # a new request starts
                self._arm_head_timer(partial=True)
            super().data_received(data)
            if self._head_timer is not None and (
                self.cycle is not self._head_cycle or self.transport.get_protocol() is not self
            ):  # the head was parsed (or the connection became a websocket)
                self._head_timer.cancel()
                self._head_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _arm_head_timer(self, *, partial: bool) -> None:
            self._head_cycle = self.cycle
            self._head_partial = partial
            self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

        def _head_timed_out(self) -> None:
            self._head_timer = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:
                return
            if self.cycle is not self._head_cycle:
                return  # a request head arrived since the timer was armed
            if self._head_partial:
                transport.write(_REQUEST_TIMEOUT_RESPONSE)
            transport.close()

    HeaderTimeoutProtocol.__qualname__ = f"HeaderTimeout{base.__qualname__}"
    return HeaderTimeoutProtocol


def _uvicorn_config(app: Any, config: ServerConfig, log_level: str | None) -> uvicorn.Config:
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


def _announce(url: str, on_listening: Callable[[str], object] | None) -> None:
    print(f"avian listening on {url}", file=sys.stderr, flush=True)
    if on_listening is not None:
        try:
            on_listening(url)
        except Exception:  # a broken callback must not take the server down
            logger.exception("on_listening callback failed")


def serve(app: Any, /, **options: Unpack[ServeOptions]) -> None:
    """Serve ``app`` (an ASGI app or ``"module:attr"``) until shut down; see ``docs/server.md``.

    Returns after a graceful shutdown; raises ``SystemExit(1)`` after a forced one and
    ``SystemExit(3)`` when the app's startup hooks fail.
    """
    try:
        config = ServerConfig(**options)
    except TypeError as exc:  # an unknown keyword
        raise ConfigurationError(f"serve(): {exc}") from None
    if not isinstance(app, str) and not callable(app):
        raise ConfigurationError(f"serve() needs an ASGI app or 'module:attr', got {app!r}")

    supervised = config.workers > 1 or config.reload or config.development
    import_string: str | None = app if isinstance(app, str) else None
    if supervised and import_string is None:
        try:
            import_string = infer_import_string(app)
        except ConfigurationError:
            if config.workers > 1 or config.reload:
                raise
            logger.warning("development mode: cannot name the app as 'module:attr', so no reload")
    reload = (config.reload or config.development) and import_string is not None
    if reload and config.workers > 1:
        logger.warning("reload runs a single process: ignoring workers=%d", config.workers)
    if not config.auto_graceful_shutdown and (reload or config.workers > 1):
        raise ConfigurationError(
            "auto_graceful_shutdown=False needs a single process (no workers, no reload)"
        )
    config = dataclasses.replace(config, reload=reload, workers=1 if reload else config.workers)
    log_level = config.log_level or ("debug" if config.development else None)

    if reload or config.workers > 1:
        assert import_string is not None
        _serve_supervised(import_string, config, log_level)
    else:
        _serve_in_process(import_app(app) if isinstance(app, str) else app, config, log_level)


def _serve_in_process(app: object, config: ServerConfig, log_level: str | None) -> None:
    uv_config = _uvicorn_config(app, config, log_level)
    listener = _bind(config)
    try:
        signals: SignalMode = "all" if config.auto_graceful_shutdown else "none"
        plan = _Plan(app, listener.address, config.development, signals, config.header_timeout)
        server = _server_class()(
            uv_config, plan, on_started=lambda: _announce(listener.url, config.on_listening)
        )
        server.run(sockets=[listener.sock])
    finally:
        _cleanup(listener)
    server.finish()


def _serve_supervised(import_string: str, config: ServerConfig, log_level: str | None) -> None:
    uv_config = _uvicorn_config(import_string, config, log_level)
    listener = _bind(config)
    plan = _Plan(
        import_string,
        listener.address,
        config.development,
        "supervised",
        config.header_timeout,
        os.getpid(),
    )
    try:
        if config.reload:
            _announce(listener.url, config.on_listening)
            status = _run_reloader(uv_config, plan, listener.sock)
        else:
            pool = _WorkerPool(uv_config, plan, listener.sock, config.workers)
            status = pool.run(lambda: _announce(listener.url, config.on_listening))
    finally:
        _cleanup(listener)
    if status:
        raise SystemExit(status)


# --------------------------------------------------------------- supervised processes


def _child_main(
    config: uvicorn.Config, plan: _Plan, ready: ProcessEvent | None, sockets: list[socket.socket]
) -> None:
    """Entry point of a worker or reload child process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config.configure_logging()
    server = _server_class()(config, plan, on_started=ready.set if ready is not None else None)
    server.run(sockets=sockets)
    server.finish()


def _run_reloader(config: uvicorn.Config, plan: _Plan, sock: socket.socket) -> int:
    from uvicorn.supervisors import ChangeReload

    class Reloader(ChangeReload):  # type: ignore[misc,valid-type]
        forced = False

        def signal_handler(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit.is_set():
                self.should_exit.set()  # the child gets SIGTERM and shuts down gracefully
                return
            self.forced = True
            process: SpawnProcess | None = getattr(self, "process", None)
            if process is not None and process.exitcode is None:
                process.kill()

    target = functools.partial(_child_main, config, plan, None)
    reloader = Reloader(config, target=target, sockets=[sock])
    reloader.run()
    return _FORCED_EXIT if reloader.forced else 0


@dataclass(slots=True)
class _Worker:
    process: SpawnProcess
    ready: ProcessEvent


class _WorkerPool:
    """Supervises worker processes that share one listening socket.

    The first SIGINT/SIGTERM closes the parent's copy of the socket (so new connections
    are refused once the workers close theirs) and sends SIGTERM to every worker, which
    shuts down gracefully; a second signal kills them.  A worker that dies after it
    started is replaced; one that dies before it started stops the pool (exit status 3).
    """

    def __init__(
        self, config: uvicorn.Config, plan: _Plan, sock: socket.socket, count: int
    ) -> None:
        self._config = config
        self._plan = plan
        self._sock = sock
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._signals = 0

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._signals += 1

    def _spawn(self) -> _Worker:
        ready = self._context.Event()
        process = self._context.Process(
            target=_child_main,
            args=(self._config, self._plan, ready, [self._sock]),
            name="avian-worker",
        )
        process.start()
        return _Worker(process, ready)

    def run(self, on_ready: Callable[[], None]) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        workers: list[_Worker] = []
        try:
            workers = [self._spawn() for _ in range(self._count)]
            status = self._supervise(workers, on_ready)
            return self._stop(workers) or status
        finally:
            for worker in workers:  # only left alive if the supervisor itself failed
                if worker.process.exitcode is None:
                    worker.process.kill()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _supervise(self, workers: list[_Worker], on_ready: Callable[[], None]) -> int:
        announced = False
        while not self._signals:
            wait_for_sentinels([w.process.sentinel for w in workers], timeout=0.1)
            for index, worker in enumerate(workers):
                code = worker.process.exitcode
                if code is None or self._signals:
                    continue
                if not worker.ready.is_set():
                    logger.error(
                        "worker %s failed to start (exit status %s)", worker.process.pid, code
                    )
                    return _STARTUP_FAILURE
                logger.warning(
                    "worker %s exited (status %s); starting a new one", worker.process.pid, code
                )
                workers[index] = self._spawn()
            if not announced and all(w.ready.is_set() for w in workers):
                announced = True
                on_ready()
        return 0

    def _stop(self, workers: list[_Worker]) -> int:
        self._sock.close()
        for worker in workers:
            if worker.process.exitcode is None:
                worker.process.terminate()
        forced = False
        while any(w.process.exitcode is None for w in workers):
            wait_for_sentinels([w.process.sentinel for w in workers], timeout=0.1)
            if not forced and self._signals >= 2:
                forced = True
                logger.warning("second signal received: killing workers")
                for worker in workers:
                    if worker.process.exitcode is None:
                        worker.process.kill()
        return _FORCED_EXIT if forced else 0
