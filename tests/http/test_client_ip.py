"""Which address is the client's: ``trust_proxy`` and :class:`ProxyConfig`
(IP-01, IP-02, IP-03)."""

from __future__ import annotations

from typing import Any

import pytest

from avian import App, ConfigurationError, Context, ProxyConfig
from avian.testing import TestClient

LOOPBACK = ("127.0.0.1", 5000)


def client_ip(
    headers: Any = None, *, peer: tuple[str, int] = LOOPBACK, **options: Any
) -> str | None:
    """``ctx.ip`` for one request from ``peer`` with ``headers`` to ``App(**options)``."""
    app = App(**options)

    @app.get("/ip")
    async def ip(ctx: Context) -> dict[str, Any]:
        assert ctx.ip == ctx.request.ip == app.request_ip(ctx) == app.request_ip(ctx.request)
        return {"ip": ctx.ip}

    with TestClient(app, client=peer) as client:
        return client.get("/ip", headers=headers).json()["ip"]  # type: ignore[no-any-return]


def test_forwarding_headers_are_ignored_by_default() -> None:
    headers = {"x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8", "cf-connecting-ip": "9.9.9.9"}

    assert client_ip(headers) == "127.0.0.1"


def test_without_headers_the_peer_is_the_client() -> None:
    assert client_ip(trust_proxy=True) == "127.0.0.1"
    assert client_ip(peer=("203.0.113.7", 1)) == "203.0.113.7"


def test_trusted_peer_forwarded_for_is_believed() -> None:
    assert client_ip({"x-forwarded-for": "1.2.3.4"}, trust_proxy=True) == "1.2.3.4"


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        # Read right to left: the first hop that is not one of our proxies is the client;
        # whatever a client prepended on the left cannot win.
        ("9.9.9.9, 1.2.3.4", "1.2.3.4"),
        ("9.9.9.9, 1.2.3.4, 127.0.0.1", "1.2.3.4"),
        ("9.9.9.9,1.2.3.4,::1,127.0.0.1", "1.2.3.4"),
        # every hop is ours: the leftmost is the client
        ("127.0.0.1, ::1", "127.0.0.1"),
        # garbage left of the client is never reached; garbage on the right stops the walk
        ("not-an-ip, 1.2.3.4", "1.2.3.4"),
        ("1.2.3.4, not-an-ip", "127.0.0.1"),
        ("1.2.3.4, 999.1.1.1", "127.0.0.1"),
        (" , ,", "127.0.0.1"),
        # ports and brackets are stripped, IPv6 kept, IPv4-mapped IPv6 unwrapped
        ("1.2.3.4:5678", "1.2.3.4"),
        ("2001:db8::7", "2001:db8::7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("2001:DB8::0:7", "2001:db8::7"),
    ],
)
def test_forwarded_for_chains(chain: str, expected: str) -> None:
    assert client_ip({"x-forwarded-for": chain}, trust_proxy=True) == expected


def test_several_forwarded_for_headers_form_one_chain() -> None:
    headers = [("x-forwarded-for", "9.9.9.9"), ("x-forwarded-for", "1.2.3.4, 127.0.0.1")]

    assert client_ip(headers, trust_proxy=True) == "1.2.3.4"


def test_chain_at_max_length_is_used_and_longer_is_ignored() -> None:
    config = ProxyConfig(max_chain_length=3)
    at_limit = "9.9.9.9, 8.8.8.8, 1.2.3.4"
    over = "7.7.7.7, " + at_limit

    assert client_ip({"x-forwarded-for": at_limit}, trust_proxy=config) == "1.2.3.4"
    assert client_ip({"x-forwarded-for": over}, trust_proxy=config) == "127.0.0.1"
    assert client_ip({"x-forwarded-for": over, "x-real-ip": "5.6.7.8"}, trust_proxy=config) == (
        "5.6.7.8"
    )


def test_default_max_chain_length_is_ten() -> None:
    ten = ", ".join(["1.2.3.4"] * 10)

    assert client_ip({"x-forwarded-for": ten}, trust_proxy=True) == "1.2.3.4"
    assert client_ip({"x-forwarded-for": ten + ", 1.2.3.4"}, trust_proxy=True) == "127.0.0.1"


def test_default_header_preference_order() -> None:
    everything = {
        "x-forwarded-for": "1.1.1.1",
        "x-real-ip": "2.2.2.2",
        "cf-connecting-ip": "3.3.3.3",
        "x-client-ip": "4.4.4.4",
        "true-client-ip": "5.5.5.5",
    }
    order = list(everything)

    for i, name in enumerate(order):
        headers = {n: everything[n] for n in order[i:]}
        assert client_ip(headers, trust_proxy=True) == everything[name]


def test_custom_header_preference() -> None:
    config = ProxyConfig(header_preference=["CF-Connecting-IP", "X-Forwarded-For"])
    headers = {"x-forwarded-for": "1.1.1.1", "cf-connecting-ip": "3.3.3.3"}

    assert client_ip(headers, trust_proxy=config) == "3.3.3.3"
    assert client_ip({"x-forwarded-for": "1.1.1.1"}, trust_proxy=config) == "1.1.1.1"
    # headers not in the list are never read
    assert client_ip({"x-real-ip": "2.2.2.2"}, trust_proxy=config) == "127.0.0.1"


def test_invalid_single_address_header_falls_through() -> None:
    headers = {"x-real-ip": "not-an-ip", "cf-connecting-ip": "3.3.3.3"}

    assert client_ip(headers, trust_proxy=True) == "3.3.3.3"


@pytest.mark.parametrize(
    "peer", [("203.0.113.7", 1), ("10.0.0.2", 1), ("::2", 1), ("testclient", 50000)]
)
def test_untrusted_peer_headers_are_ignored(peer: tuple[str, int]) -> None:
    headers = {"x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8"}

    assert client_ip(headers, peer=peer, trust_proxy=True) == peer[0]


@pytest.mark.parametrize("peer", [("::1", 1), ("::ffff:127.0.0.1", 1)])
def test_ipv6_loopback_peers_are_trusted_by_default(peer: tuple[str, int]) -> None:
    assert client_ip({"x-forwarded-for": "1.2.3.4"}, peer=peer, trust_proxy=True) == "1.2.3.4"


def test_trusted_networks() -> None:
    config = ProxyConfig(trusted_proxies=["10.0.0.0/8", "2001:db8::/32"])
    headers = {"x-forwarded-for": "1.2.3.4, 10.9.9.9, 2001:db8::1"}

    assert client_ip(headers, peer=("10.0.0.5", 1), trust_proxy=config) == "1.2.3.4"
    assert client_ip(headers, peer=("2001:db8::9", 1), trust_proxy=config) == "1.2.3.4"
    # loopback is not trusted unless listed
    assert client_ip(headers, peer=LOOPBACK, trust_proxy=config) == "127.0.0.1"


def test_star_trusts_every_peer() -> None:
    config = ProxyConfig(trusted_proxies=["*"])

    got = client_ip({"x-forwarded-for": "1.2.3.4"}, peer=("203.0.113.7", 1), trust_proxy=config)

    assert got == "1.2.3.4"


@pytest.mark.parametrize(
    "private", ["10.0.0.1", "192.168.1.2", "172.16.0.1", "fd00::1", "169.254.1.1"]
)
def test_allow_private_ips_false_refuses_private_forwarded_addresses(private: str) -> None:
    config = ProxyConfig(allow_private_ips=False)

    assert client_ip({"x-forwarded-for": private}, trust_proxy=config) == "127.0.0.1"
    assert client_ip({"x-real-ip": private}, trust_proxy=config) == "127.0.0.1"
    fallback = {"x-forwarded-for": private, "x-real-ip": "1.2.3.4"}
    assert client_ip(fallback, trust_proxy=config) == "1.2.3.4"
    assert client_ip({"x-forwarded-for": "8.8.4.4"}, trust_proxy=config) == "8.8.4.4"


def test_private_forwarded_addresses_are_allowed_by_default() -> None:
    assert client_ip({"x-forwarded-for": "10.0.0.1"}, trust_proxy=True) == "10.0.0.1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusted_proxies": "127.0.0.1"}, "trusted_proxies"),
        ({"trusted_proxies": ["127.0.0.1", "not-a-network"]}, "invalid trusted proxy"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "invalid trusted proxy"),
        ({"max_chain_length": 0}, "max_chain_length"),
        ({"header_preference": "x-real-ip"}, "header_preference"),
    ],
)
def test_proxy_config_validation(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProxyConfig(**options)


def test_trust_proxy_must_be_a_bool_or_a_proxy_config() -> None:
    with pytest.raises(ConfigurationError, match="trust_proxy"):
        App(trust_proxy="yes")  # type: ignore[arg-type]
