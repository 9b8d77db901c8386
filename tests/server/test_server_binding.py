"""`avian run` binds where it is told: free ports, PORT, port retry, unix sockets, TLS."""

from __future__ import annotations

import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest
import trustme
from server_helpers import APPS, Spawn, refuses_connections
from tests.support.processes import free_port
from websockets.sync.client import connect

pytestmark = pytest.mark.e2e


def run_args(*extra: str) -> list[str]:
    return ["run", "basic:app", "--app-dir", str(APPS), "--no-access-log", *extra]


def test_port_zero_picks_a_free_port_and_reports_it(spawn: Spawn) -> None:
    server = spawn(*run_args("--port", "0"))
    url = server.wait_listening()
    assert url.startswith("http://127.0.0.1:")
    response = httpx.get(url + "/", timeout=5)
    assert response.status_code == 200
    assert response.text.startswith("hello from")
    server.signal()
    assert server.wait_exit() == 0


def test_port_environment_variable_is_used_when_no_port_is_given(spawn: Spawn) -> None:
    port = free_port()
    server = spawn(*run_args(), env={"PORT": str(port)})
    assert server.wait_listening() == f"http://127.0.0.1:{port}"
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200


def test_explicit_port_beats_the_environment(spawn: Spawn) -> None:
    server = spawn(*run_args("--port", "0"), env={"PORT": "1"})
    assert server.port() != 1


def occupy_two_ports() -> tuple[socket.socket, socket.socket]:
    """Listening sockets on two consecutive ports, leaving the next one probably free."""
    for _ in range(50):
        first = socket.socket()
        first.bind(("127.0.0.1", 0))
        port = first.getsockname()[1]
        if port > 65000:
            first.close()
            continue
        second = socket.socket()
        try:
            second.bind(("127.0.0.1", port + 1))
        except OSError:
            first.close()
            second.close()
            continue
        first.listen()
        second.listen()
        return first, second
    raise AssertionError("could not find two consecutive free ports")


def test_port_in_use_retries_the_next_ports(spawn: Spawn) -> None:
    first, second = occupy_two_ports()
    with first, second:
        port = first.getsockname()[1]
        server = spawn(*run_args("--port", str(port), "--max-port-attempts", "3"))
        assert server.port() == port + 2
        assert httpx.get(server.wait_listening() + "/", timeout=5).status_code == 200
        assert f"port {port} is in use, trying {port + 1}" in server.output


def test_port_in_use_without_retries_fails_with_a_clear_message(spawn: Spawn) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = spawn(*run_args("--port", str(port), "--max-port-attempts", "1"))
        assert server.wait_exit() == 1
    last_line = server.output.strip().splitlines()[-1]
    assert last_line == (
        f"avian: error: cannot listen on 127.0.0.1: port(s) {port} already in use (max_port_attempts=1)"
    )


def test_unix_socket_wins_over_port_and_replaces_a_stale_socket_file(
    spawn: Spawn, tmp_path: Path
) -> None:
    path = tmp_path / "avian.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # a socket file nobody listens on, as a crashed server leaves
    stale.close()
    port = free_port()
    server = spawn(*run_args("--uds", str(path), "--port", str(port)))
    assert server.wait_listening() == f"unix:{path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), timeout=5) as client:
        response = client.get("http://localhost/")
    assert response.status_code == 200
    assert refuses_connections(port)
    server.signal()
    assert server.wait_exit() == 0
    assert not path.exists()


def test_unix_socket_in_use_is_not_stolen(spawn: Spawn, tmp_path: Path) -> None:
    path = tmp_path / "busy.sock"
    with socket.socket(socket.AF_UNIX) as busy:
        busy.bind(str(path))
        busy.listen()
        server = spawn(*run_args("--uds", str(path)))
        assert server.wait_exit() == 1
    assert f"unix socket {path} is in use" in server.output


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    cert.private_key_pem.write_to_path(str(keyfile))
    with certfile.open("wb") as f:
        for blob in cert.cert_chain_pems:
            f.write(blob.bytes())
    return ca, certfile, keyfile


def test_tls_serves_https_and_wss(spawn: Spawn, tls_files: tuple[trustme.CA, Path, Path]) -> None:
    ca, certfile, keyfile = tls_files
    server = spawn(
        *run_args("--port", "0", "--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile))
    )
    url = server.wait_listening()
    assert url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    response = httpx.get(url + "/", verify=context, timeout=5)
    assert response.status_code == 200
    assert response.text.endswith("via https")
    with connect(url.replace("https://", "wss://") + "/ws", ssl=context, open_timeout=5) as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo:hi"
    with pytest.raises(httpx.ConnectError):  # the certificate is checked
        httpx.get(url + "/", timeout=5)
