"""Generated clients against a running app: ``tests/clients/zoo_app.py`` under a real
uvicorn, its clients generated from the document :func:`avian.openapi.build_openapi` makes
for it, called through the Python client (sync and async) and the TypeScript client
(compiled with tsc, run with node).

Every operation is called; errors come back typed (404 -> ``ApiError``, 422 ->
``ValidationError`` with the issues), per-call headers reach the server, and a slow call
can be abandoned (timeout or task cancellation in Python, ``AbortSignal`` in TypeScript).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from client_tools import compile_typescript, import_client, serve_zoo, write_client
from tests.clients.zoo_app import app as zoo_app

from avian.openapi import build_openapi

pytestmark = pytest.mark.e2e

NODE_TIMEOUT = 60.0
SLOW_SECONDS = 5  # what /slow is asked to wait; the clients give up long before


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_zoo(tmp_path_factory.mktemp("zoo") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi(zoo_app)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory, document: dict[str, Any]) -> ModuleType:
    directory = tmp_path_factory.mktemp("python-client")
    return import_client(write_client(directory, "python", document, "zoo_client.py"))


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- Python, synchronous ------------------------------------------------------------------


def test_python_sync_client_calls_every_operation(zoo: ModuleType, base_url: str) -> None:
    tag = _unique("sync")
    with zoo.Client(base_url, headers={"Authorization": "Bearer s3cret"}) as client:
        health = client.health()
        assert isinstance(health, zoo.Health)
        assert health.status == "ok"

        address = zoo.Address(city="Lyon", geo=zoo.Geo(lat=45.7, lng=4.8))
        draft = zoo.NewUser(name="Ada", email="ada@example.com", age=36, tags=[tag])
        draft.address = address
        user = client.users.create(body=draft, x_request_id="req-1")
        assert isinstance(user, zoo.User)
        assert (user.name, user.status, user.last_seen) == ("Ada", "active", None)
        assert str(user.created_at).startswith("2024-01-02")
        assert user.address == address
        assert user.tags == [tag, "request:req-1"]  # the header parameter arrived

        assert client.users.get(user.id) == user
        listed = client.users.list(limit=10, status="active", tag=[tag])
        assert [u.id for u in listed] == [user.id]

        updated = client.users.update(user.id, body=zoo.UserPatch(nickname="Countess"))
        assert updated.nickname == "Countess"
        assert updated.name == "Ada"

        assert client.users.delete(user.id) is None
        with pytest.raises(zoo.ApiError) as missing:
            client.users.get(user.id)
        assert not isinstance(missing.value, zoo.ValidationError)
        assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")
        assert missing.value.problem.detail == f"no user {user.id}"

        with pytest.raises(zoo.ValidationError) as invalid:
            client.users.create(body=zoo.NewUser(name="", email="x@example.com", age=1))
        assert invalid.value.status == 422
        assert invalid.value.code == "VALIDATION_ERROR"
        assert [issue.loc for issue in invalid.value.issues] == [["body", "name"]]
        assert "length >= 1" in invalid.value.issues[0].msg

        with pytest.raises(zoo.ValidationError) as bad_query:
            client.users.list(limit=0)
        assert bad_query.value.issues[0].loc == ["query", "limit"]

        cat = client.pets.create(body=zoo.Cat(name="Tom", indoor=True))
        assert isinstance(cat, zoo.Cat)
        assert cat.id is not None
        dog = client.pets.create(body=zoo.Dog(name="Rex", good_boy=True))
        assert isinstance(dog, zoo.Dog)
        assert client.pets.get(cat.id) == cat  # the tagged union decodes to the right class
        assert client.pets.get(dog.id) == dog

        echoed = client.echo_inputs(
            x_trace_id="trace-1", session="cookie-1", flag=True, headers={"X-Extra": "per-call"}
        )
        assert echoed == zoo.Echo(
            trace="trace-1",
            session="cookie-1",
            flag=True,
            extra="per-call",
            authorization="Bearer s3cret",
        )
        # per-call headers win over the client's
        echoed = client.echo_inputs(x_trace_id="t", headers={"Authorization": "Bearer other"})
        assert echoed.authorization == "Bearer other"

        login = client.login(body={"username": "ada", "password": "pw", "remember": True})
        assert (login.username, login.remember) == ("ada", True)
        login = client.login(body={"username": "bob", "password": "pw"})
        assert (login.username, login.remember) == ("bob", False)

        upload = client.files.upload(body={"file": ("notes.txt", b"hello"), "note": "n"})
        assert (upload.filename, upload.size, upload.note) == ("notes.txt", 5, "n")
        name = _unique("blob")
        stored = client.files.put(name, body=b"\x00\x01\x02")
        assert (stored.size, stored.type) == (3, "application/octet-stream")
        assert client.files.get(name) == b"\x00\x01\x02"


def test_python_sync_call_gives_up_at_its_timeout(zoo: ModuleType, base_url: str) -> None:
    with zoo.Client(base_url) as client:
        with pytest.raises(httpx.TimeoutException):
            client.slow(seconds=SLOW_SECONDS, timeout=0.2)
        assert client.slow(seconds=0) == "done"
    with zoo.Client(base_url, timeout=0.2) as client:  # the client-wide default
        with pytest.raises(httpx.TimeoutException):
            client.slow(seconds=SLOW_SECONDS)
        assert client.slow(seconds=0, timeout=None) == "done"


def test_python_client_closes_its_connections(zoo: ModuleType, base_url: str) -> None:
    with zoo.Client(base_url) as client:
        client.health()
    with pytest.raises(RuntimeError):
        client.health()  # httpx refuses calls on a closed client
    own = httpx.Client()
    try:
        with zoo.Client(base_url, http_client=own) as borrowed:
            assert borrowed.health().status == "ok"
        assert not own.is_closed  # a client it was given stays open for its owner
    finally:
        own.close()


# -- Python, asynchronous -----------------------------------------------------------------


def test_python_async_client_calls_operations_and_cancels(zoo: ModuleType, base_url: str) -> None:
    async def scenario() -> None:
        tag = _unique("async")
        async with zoo.AsyncClient(base_url, headers={"Authorization": "Bearer a"}) as client:
            assert (await client.health()).status == "ok"
            draft = zoo.NewUser(name="Grace", email="grace@example.com", age=45, tags=[tag])
            user = await client.users.create(body=draft)
            assert (await client.users.get(user.id)).email == "grace@example.com"
            assert [u.id for u in await client.users.list(tag=[tag])] == [user.id]
            patched = await client.users.update(user.id, body=zoo.UserPatch(status="suspended"))
            assert patched.status == "suspended"
            await client.users.delete(user.id)
            with pytest.raises(zoo.ApiError) as missing:
                await client.users.get(user.id)
            assert missing.value.status == 404
            with pytest.raises(zoo.ValidationError) as invalid:
                await client.users.create(body=zoo.NewUser(name="G", email="g", age=-1))
            assert [i.loc for i in invalid.value.issues] == [["body", "age"]]
            dog = await client.pets.create(body=zoo.Dog(name="Rex"))
            assert await client.pets.get(dog.id) == dog
            echoed = await client.echo_inputs(x_trace_id="t-async", headers={"X-Extra": "a"})
            assert (echoed.trace, echoed.extra) == ("t-async", "a")
            assert echoed.authorization == "Bearer a"

            # cancelling the task abandons the call ...
            task = asyncio.create_task(client.slow(seconds=SLOW_SECONDS))
            await asyncio.wait({task}, timeout=0.3)  # the request is on its way
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # ... and so does asyncio's own timeout, or the per-call one
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.slow(seconds=SLOW_SECONDS), 0.2)
            with pytest.raises(httpx.TimeoutException):
                await client.slow(seconds=SLOW_SECONDS, timeout=0.2)
            assert await client.slow(seconds=0) == "done"  # the client is still usable

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_python_async_client_in_process_through_asgi(zoo: ModuleType) -> None:
    """No server: httpx's ASGI transport hands requests to the app directly (server-side
    rendering, tests)."""
    from tests.clients.zoo_app import app

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with zoo.AsyncClient("http://zoo.test", transport=transport) as client:
            assert (await client.health()).version == "1.2.0"
            user = await client.users.create(body=zoo.NewUser(name="In", email="i@x", age=1))
            assert (await client.users.get(user.id)).name == "In"
            with pytest.raises(zoo.ValidationError):
                await client.users.list(limit=0)

    asyncio.run(asyncio.wait_for(scenario(), 30))


# -- TypeScript under node -----------------------------------------------------------------

SCENARIO_TS = r"""
import { ApiError, ValidationError, createClient, type User } from "./client.js";

declare const process: { argv: string[]; exit(code: number): never };  // no @types/node needed

const baseUrl = process.argv[2] ?? "";
const tag = process.argv[3] ?? "";
const api = createClient({ baseUrl, headers: async () => ({ Authorization: "Bearer ts" }) });

async function failure(call: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call();
    return { failed: false };
  } catch (error) {
    if (error instanceof ValidationError) {
      return { kind: "ValidationError", status: error.status, code: error.code, issues: error.issues };
    }
    if (error instanceof ApiError) {
      return { kind: "ApiError", status: error.status, code: error.code, detail: error.problem.detail };
    }
    return { kind: (error as Error).name };
  }
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  out.health = await api.health();
  const user: User = await api.users.create({
    body: { name: "Linus", email: "l@example.com", age: 54, tags: [tag] },
    xRequestId: "ts-1",
  });
  out.created = user;
  out.fetched = await api.users.get({ userId: user.id });
  out.listed = (await api.users.list({ tag: [tag], status: "active", limit: 5 })).map((u) => u.id);
  out.updated = await api.users.update({ userId: user.id, body: { nickname: "L" } });
  out.deleted = (await api.users.delete({ userId: user.id })) ?? null;
  out.missing = await failure(() => api.users.get({ userId: user.id }));
  out.invalid = await failure(() => api.users.create({ body: { name: "", email: "e", age: 1 } }));
  out.badQuery = await failure(() => api.users.list({ limit: 0 }));
  const pet = await api.pets.create({ body: { kind: "dog", name: "Rex", good_boy: true } });
  out.pet = pet;
  out.petFetched = await api.pets.get({ petId: pet.id ?? "" });
  out.echo = await api.echoInputs(
    { xTraceId: "trace-ts", session: "s-ts", flag: false },
    { headers: { "X-Extra": "per-call" } },
  );
  const controller = new AbortController();
  const slow = api.slow({ seconds: SLOW_SECONDS_ }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  out.aborted = await failure(() => slow);
  out.timedOut = await failure(() => api.slow({ seconds: SLOW_SECONDS_ }, { signal: AbortSignal.timeout(200) }));
  out.afterAbort = await api.slow({ seconds: 0 });
  out.login = await api.login({ body: { username: "ts", password: "pw", remember: true } });
  const form = new FormData();
  form.append("file", new Blob(["hello ts"]), "ts.txt");
  form.append("note", "from ts");
  out.upload = await api.files.upload({ body: form });
  out.put = await api.files.put({ name: `${tag}.bin`, body: new Uint8Array([7, 8, 9]) });
  out.got = Array.from(new Uint8Array(await (await api.files.get({ name: `${tag}.bin` })).arrayBuffer()));
  console.log(JSON.stringify(out));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
""".replace("SLOW_SECONDS_", str(SLOW_SECONDS))


def test_typescript_client_calls_every_operation_under_node(
    base_url: str, document: dict[str, Any], tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed to run the TypeScript client"
    write_client(tmp_path, "typescript", document, "client.ts")
    (tmp_path / "scenario.ts").write_text(SCENARIO_TS)
    compile_typescript(tmp_path, ["client.ts", "scenario.ts"], emit=True)
    tag = _unique("ts")
    done = subprocess.run(
        [node, "scenario.js", base_url, tag],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)

    assert out["health"] == {"status": "ok", "version": "1.2.0"}
    user = out["created"]
    assert user["name"] == "Linus"
    assert user["createdAt"] == "2024-01-02T03:04:05Z"
    assert user["tags"] == [tag, "request:ts-1"]
    assert out["fetched"] == user
    assert out["listed"] == [user["id"]]
    assert out["updated"]["nickname"] == "L"
    assert out["deleted"] is None
    assert out["missing"] == {
        "kind": "ApiError",
        "status": 404,
        "code": "NOT_FOUND",
        "detail": f"no user {user['id']}",
    }
    assert out["invalid"]["kind"] == "ValidationError"
    assert out["invalid"]["code"] == "VALIDATION_ERROR"
    assert [i["loc"] for i in out["invalid"]["issues"]] == [["body", "name"]]
    assert out["badQuery"]["issues"][0]["loc"] == ["query", "limit"]
    assert out["pet"]["kind"] == "dog"
    assert out["petFetched"] == out["pet"]
    assert out["echo"] == {
        "trace": "trace-ts",
        "session": "s-ts",
        "flag": False,
        "extra": "per-call",
        "authorization": "Bearer ts",
    }
    assert out["aborted"] == {"kind": "AbortError"}
    assert out["timedOut"] == {"kind": "TimeoutError"}
    assert out["afterAbort"] == "done"
    assert out["login"] == {"username": "ts", "remember": True}
    assert out["upload"] == {"filename": "ts.txt", "size": 8, "note": "from ts"}
    assert out["put"]["size"] == 3
    assert out["got"] == [7, 8, 9]
