"""The listening socket: TCP binding with port auto-retry, unix sockets, and their cleanup.

avian binds the socket itself and hands it to uvicorn, which is what makes port
auto-retry (SRV-10), unix sockets (SRV-04) and ``reuse_port`` (SRV-05) behave the same in
one process, with workers and with reload: the workers and the reloader share the socket
bound here.  A unix socket file is removed at shutdown only if it is still the one bound.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
from dataclasses import dataclass

from ..errors import AvianError
from .config import ServerConfig, resolve_port

__all__ = ["BindError", "Listener", "bind", "close_listener"]

logger = logging.getLogger("avian.server")  # one logger for the whole server package


class BindError(AvianError, OSError):
    """The listening socket could not be created (port in use, permission, bad path).

    ``errno`` is the cause (e.g. ``EADDRINUSE``); the message says what was tried.
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


@dataclass(frozen=True, slots=True)
class Listener:
    """A bound, listening socket and how to describe it (URL, address for the app)."""

    sock: socket.socket
    url: str
    address: tuple[str, int] | str
    inode: int | None = None  # of the unix socket file, to remove only our own


def bind(config: ServerConfig) -> Listener:
    """Listen on ``config.uds`` if set, else on a TCP port; raises :class:`BindError`."""
    if config.uds is not None:
        return _bind_unix(config.uds, config.uds_permissions, config.backlog)
    return _bind_tcp(config, resolve_port(config.port))


def _bind_tcp(config: ServerConfig, port: int) -> Listener:
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
        return Listener(sock, f"{scheme}://{shown}:{bound_port}", (host, bound_port))
    tried = ", ".join(map(str, in_use))
    raise BindError(
        errno.EADDRINUSE,
        f"cannot listen on {host}: port(s) {tried} already in use "
        f"(max_port_attempts={config.max_port_attempts})",
    )


def _bind_unix(path: str, permissions: int, backlog: int) -> Listener:
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, permissions)  # before listen(), so nobody connects with looser rights
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise BindError(exc.errno, f"cannot listen on unix socket {path}: {exc.strerror}") from None
    return Listener(sock, f"unix:{path}", path, os.stat(path).st_ino)


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


def close_listener(listener: Listener) -> None:
    """Close the socket and remove its unix socket file if it is still ours."""
    listener.sock.close()
    if isinstance(listener.address, str):
        try:
            if os.lstat(listener.address).st_ino == listener.inode:
                os.unlink(listener.address)
        except OSError:
            pass  # already gone
