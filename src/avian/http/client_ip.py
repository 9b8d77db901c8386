"""Which address is the client's: the socket peer, or a forwarded address from a trusted proxy.

Forwarding headers are only believed when the request arrives *from* a trusted proxy
(``trust_proxy`` is off by default).  ``X-Forwarded-For`` is read right to left, skipping our
own proxies, so a client cannot spoof its address by prepending values; chains longer than
``max_chain_length`` are treated as spoofing and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import ConfigurationError

__all__ = ["DEFAULT_HEADER_PREFERENCE", "ProxyConfig", "resolve_client_ip"]

if TYPE_CHECKING:
    import ipaddress

    IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
    IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_HEADER_PREFERENCE = (
    "x-forwarded-for",
    "x-real-ip",
    "cf-connecting-ip",
    "x-client-ip",
    "true-client-ip",
)


@lru_cache(maxsize=1024)
def _parse_ip(value: str) -> IPAddress | None:
    import ipaddress  # PERF: loaded when a proxy is trusted, not by `import avian`

    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1 and "." in value:  # "1.2.3.4:5678"
        value = value.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@dataclass(frozen=True)
class ProxyConfig:
    """How far to trust forwarding headers (YinzerFlow ``ipSecurity``, Harpia ``trustProxy``).

    ``trusted_proxies`` holds addresses or networks (``"10.0.0.0/8"``); ``"*"`` trusts every
    peer (only behind a proxy that strips client-sent forwarding headers).
    """

    trusted_proxies: Sequence[str] = ("127.0.0.1", "::1")
    header_preference: Sequence[str] = DEFAULT_HEADER_PREFERENCE
    max_chain_length: int = 10
    allow_private_ips: bool = True
    """When False, a private/loopback forwarded address is not accepted as the client's."""
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, default=())
    _trust_all: bool = field(init=False, repr=False, default=False)

    def __post_init__(self) -> None:
        if isinstance(self.trusted_proxies, str):
            raise ConfigurationError("trusted_proxies must be a list of addresses or networks")
        if isinstance(self.header_preference, str):
            raise ConfigurationError("header_preference must be a list of header names")
        if self.max_chain_length < 1:
            raise ConfigurationError("max_chain_length must be at least 1")
        import ipaddress

        nets: list[IPNetwork] = []
        trust_all = False
        for item in self.trusted_proxies:
            if item == "*":
                trust_all = True
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigurationError(f"invalid trusted proxy {item!r}") from None
        object.__setattr__(self, "_networks", tuple(nets))
        object.__setattr__(self, "_trust_all", trust_all)
        object.__setattr__(
            self, "header_preference", tuple(h.lower() for h in self.header_preference)
        )

    def is_trusted(self, addr: IPAddress | None) -> bool:
        if addr is None:
            return False
        if self._trust_all:
            return True
        return any(addr in net for net in self._networks)

    def acceptable(self, addr: IPAddress) -> bool:
        return self.allow_private_ips or addr.is_global


def _forwarded_chain(values: Iterable[str]) -> list[str]:
    chain: list[str] = []
    for value in values:
        chain.extend(part.strip() for part in value.split(",") if part.strip())
    return chain


def resolve_client_ip(
    peer: str | None, headers: dict[str, list[str]] | None, config: ProxyConfig | None
) -> str | None:
    """The client address for a request from ``peer`` with forwarding ``headers``.

    ``headers`` maps lower-case names to all their values (only the ones in
    ``config.header_preference`` are looked at).
    """
    if config is None or not headers:
        return peer
    peer_addr = _parse_ip(peer) if peer else None
    if not config.is_trusted(peer_addr):
        return peer
    for name in config.header_preference:
        values = headers.get(name)
        if not values:
            continue
        if name == "x-forwarded-for":
            chain = _forwarded_chain(values)
            if not chain or len(chain) > config.max_chain_length:
                continue
            last: IPAddress | None = None
            for hop in reversed(chain):
                addr = _parse_ip(hop)
                if addr is None:
                    break  # garbage in the chain: do not guess further left
                last = addr
                if config.is_trusted(addr):
                    continue
                if config.acceptable(addr):
                    return str(addr)
                break
            else:  # every hop is one of our proxies: the leftmost is the client
                if last is not None:
                    return str(last)
            continue
        addr = _parse_ip(values[0])
        if addr is not None and config.acceptable(addr):
            return str(addr)
    return peer
