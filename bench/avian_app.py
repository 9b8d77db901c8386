"""avian: the benchmark contract (see ../shared/bench/README.md) written the avian way.

Decorated handlers on one App; ``{id}`` becomes an int because the handler says ``id: int``;
the POST body is a msgspec Struct, validated by avian (422 for a wrong shape, 400 for
malformed JSON); return values are converted to responses (``str`` -> text, dict/Struct ->
JSON).
"""

import msgspec

from avian import App

NAME = "avian"
DIST = "avian"

app = App()


class User(msgspec.Struct):
    name: str
    age: int


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id}")
async def user(id: int) -> dict[str, int]:
    return {"id": id}


def make_res(i: int):  # type: ignore[no-untyped-def]
    async def res(id: int) -> dict[str, int]:
        return {"res": i, "id": id}

    res.__name__ = f"res{i}"
    return res


for _i in range(100):
    app.get(f"/api/v1/res{_i}/{{id}}")(make_res(_i))


@app.post("/echo")
async def echo(body: User) -> User:
    return body
