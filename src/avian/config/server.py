"""``server``: how the app is served (``app.listen()`` / ``avian run``) and which proxies
it trusts for the client's address."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock
from .field_types import ByteSize, Port, PositiveInt, PositiveSize, Seconds
from .secret import Secret

if TYPE_CHECKING:
    from ..http.client_ip import ProxyConfig
    from ..server import ServeOptions
    from .checks import SettingsChecks

__all__ = ["ServerSettings"]

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


class ServerSettings(SettingsBlock, frozen=True, kw_only=True):
    """Every option of :func:`avian.server.serve` (see ``docs/server.md``), ``root_path``,
    and the trusted-proxy rules of ``App(trust_proxy=...)``."""

    host: str = "127.0.0.1"
    port: Port | None = None
    uds: str | None = None
    uds_permissions: int = 0o660
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_keyfile_password: Secret | None = None
    reuse_port: bool = False
    workers: PositiveInt = 1
    reload: bool = False
    reload_dirs: tuple[str, ...] = ()
    development: bool = False
    keep_alive_timeout: Seconds = 5.0
    header_timeout: Seconds | None = 30.0
    graceful_shutdown_timeout: Seconds | None = 25.0
    auto_graceful_shutdown: bool = True
    max_port_attempts: PositiveInt = 5
    limit_concurrency: PositiveInt | None = None
    limit_max_requests: PositiveInt | None = None
    backlog: PositiveInt = 2048
    log_level: LogLevel | None = None
    access_log: bool = True
    proxy_headers: bool = False
    forwarded_allow_ips: tuple[str, ...] = ()
    server_header: bool = False
    ws_max_size: PositiveSize = 16 * 1024 * 1024
    ws_ping_interval: Seconds | None = 20.0
    ws_ping_timeout: Seconds | None = 20.0
    h11_max_incomplete_event_size: ByteSize | None = None
    root_path: str = ""
    trust_proxy: bool = False
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    proxy_header_preference: tuple[str, ...] = (
        "x-forwarded-for",
        "x-real-ip",
        "cf-connecting-ip",
        "x-client-ip",
        "true-client-ip",
    )
    proxy_max_chain_length: PositiveInt = 10
    proxy_allow_private_ips: bool = True

    def serve_options(self) -> ServeOptions:
        """Keyword arguments for ``app.listen(...)`` / :func:`avian.server.serve`."""
        options: ServeOptions = {
            "host": self.host,
            "port": self.port,
            "uds": self.uds,
            "uds_permissions": self.uds_permissions,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
            "ssl_keyfile_password": (
                self.ssl_keyfile_password.reveal() if self.ssl_keyfile_password else None
            ),
            "reuse_port": self.reuse_port,
            "workers": self.workers,
            "reload": self.reload,
            "reload_dirs": list(self.reload_dirs) or None,
            "development": self.development,
            "keep_alive_timeout": self.keep_alive_timeout,
            "header_timeout": self.header_timeout,
            "graceful_shutdown_timeout": self.graceful_shutdown_timeout,
            "auto_graceful_shutdown": self.auto_graceful_shutdown,
            "max_port_attempts": self.max_port_attempts,
            "limit_concurrency": self.limit_concurrency,
            "limit_max_requests": self.limit_max_requests,
            "backlog": self.backlog,
            "log_level": self.log_level,
            "access_log": self.access_log,
            "proxy_headers": self.proxy_headers,
            "forwarded_allow_ips": list(self.forwarded_allow_ips) or None,
            "server_header": self.server_header,
            "ws_max_size": self.ws_max_size,
            "ws_ping_interval": self.ws_ping_interval,
            "ws_ping_timeout": self.ws_ping_timeout,
            "h11_max_incomplete_event_size": self.h11_max_incomplete_event_size,
        }
        if self.root_path:
            options["uvicorn_options"] = {"root_path": self.root_path}
        return options

    def proxy_config(self) -> ProxyConfig | None:
        """The ``trust_proxy`` rules for ``App``, or ``None`` when no proxy is trusted."""
        if not self.trust_proxy:
            return None
        from ..http.client_ip import ProxyConfig

        return ProxyConfig(
            trusted_proxies=self.trusted_proxies,
            header_preference=self.proxy_header_preference,
            max_chain_length=self.proxy_max_chain_length,
            allow_private_ips=self.proxy_allow_private_ips,
        )

    def app_options(self) -> dict[str, Any]:
        proxy = self.proxy_config()
        return {"trust_proxy": proxy if proxy is not None else False}

    def check(self, checks: SettingsChecks) -> None:
        from ..server import ServerConfig

        checks.attempt(lambda: ServerConfig(**self.serve_options()), guess_from=self)
        checks.attempt(self.proxy_config, guess_from=self)
        if self.root_path and (not self.root_path.startswith("/") or self.root_path.endswith("/")):
            checks.error("root_path", "must start with '/' and not end with one, e.g. '/api'")
        if self.trust_proxy and "*" in self.trusted_proxies:
            checks.warn(
                "trusted_proxies",
                "'*' believes forwarding headers from any peer: only safe when every request "
                "passes a proxy that overwrites them",
            )
        if self.proxy_headers and "*" in self.forwarded_allow_ips:
            checks.warn(
                "forwarded_allow_ips",
                "'*' lets any client choose its address and scheme through uvicorn's proxy headers",
            )
