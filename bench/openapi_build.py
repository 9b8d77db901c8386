"""How long building the OpenAPI document of a 500-route app takes.

Run: ``python bench/openapi_build.py [--routes 500] [--repeat 5]``.  Each round builds a
fresh app (100 resource groups x 5 operations: typed path/query parameters, msgspec and
dataclass bodies, response models), compiles it (as startup does), then times
``build_openapi`` alone: the cost paid once, on the first request for ``/openapi.json``.
The target is well under one second.
"""

import argparse
import dataclasses
import statistics
import time
from typing import Annotated

import msgspec

from avian import App, Router
from avian.openapi import build_openapi
from avian.params import Query


def resource(index: int) -> Router:
    """One group of five operations, with model classes of its own."""
    item = msgspec.defstruct(f"Item{index}", [("id", int), ("name", str), ("tags", list[str])])
    new_item = dataclasses.make_dataclass(f"NewItem{index}", [("name", str)])
    router = Router(f"/r{index}", name=f"resource{index}")

    async def get_one(item_id: int, verbose: bool = False) -> item:  # type: ignore[valid-type]
        """Fetch one."""
        return item(item_id, "x", [])

    async def listing(
        limit: Annotated[int, Query(ge=1, le=100)] = 10, q: str | None = None
    ) -> list[item]:  # type: ignore[valid-type]
        return []

    async def create(body: new_item) -> item:  # type: ignore[valid-type]
        return item(1, "x", [])

    async def replace(item_id: int, body: new_item) -> item:  # type: ignore[valid-type]
        return item(item_id, "x", [])

    async def remove(item_id: int) -> None:
        return None

    router.get("/{item_id}")(get_one)
    router.get("/")(listing)
    router.post("/", status=201)(create)
    router.put("/{item_id}")(replace)
    router.delete("/{item_id}")(remove)
    return router


def make_app(routes: int) -> App:
    app = App(title="bench")
    for index in range(routes // 5):
        app.include(resource(index))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compile_times: list[float] = []
    build_times: list[float] = []
    for _ in range(args.repeat):
        app = make_app(args.routes)
        started = time.perf_counter()
        app._freeze()  # what startup does: routes compile, docs routes are added
        compile_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        document = build_openapi(app)
        build_times.append(time.perf_counter() - started)
        operations = sum(len(item) for item in document["paths"].values())
        assert operations == args.routes, operations
    print(f"routes: {args.routes}, rounds: {args.repeat}")
    print(
        f"startup compile: median {statistics.median(compile_times) * 1000:.1f} ms "
        "(the document is not built here)"
    )
    print(
        f"build_openapi:   median {statistics.median(build_times) * 1000:.1f} ms, "
        f"max {max(build_times) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
