"""MongoDB connections (``app.with_mongo``) over HTTP against the real MongoDB-wire server:
CRUD, unique indexes and duplicate keys, transactions, options, named connections."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from avian import App, ConfigurationError, Context, HTTPError
from avian.testing import TestClient


def people_app(mongo_url: str, database: str, **options: Any) -> App:
    app = App()
    app.with_mongo(uri=mongo_url, **options)

    def people(ctx: Context) -> Any:
        return ctx.db.mongo[database]["people"]

    def object_id(raw: str) -> ObjectId:
        try:
            return ObjectId(raw)
        except InvalidId:
            raise HTTPError(400, f"{raw!r} is not an id", code="BAD_ID") from None

    @app.on_ready
    async def indexes(app: App) -> None:
        await app.db.mongo[database]["people"].create_index("email", unique=True)

    @app.post("/people")
    async def create(ctx: Context) -> Any:
        data = await ctx.payload()
        try:
            result = await people(ctx).insert_one({"email": data["email"], "name": data["name"]})
        except DuplicateKeyError:
            raise HTTPError(409, f"{data['email']} is taken", code="EMAIL_TAKEN") from None
        return ctx.json({"id": str(result.inserted_id), **data}, 201)

    @app.get("/people/{id}")
    async def read(ctx: Context, id: str) -> Any:
        doc = await people(ctx).find_one({"_id": object_id(id)})
        if doc is None:
            ctx.not_found(f"no person {id}")
        return {"id": str(doc["_id"]), "email": doc["email"], "name": doc["name"]}

    @app.patch("/people/{id}")
    async def update(ctx: Context, id: str) -> Any:
        data = await ctx.payload()
        result = await people(ctx).update_one(
            {"_id": object_id(id)}, {"$set": {"name": data["name"]}}
        )
        if result.matched_count == 0:
            ctx.not_found(f"no person {id}")
        return {"updated": result.modified_count}

    @app.delete("/people/{id}")
    async def delete(ctx: Context, id: str) -> Any:
        result = await people(ctx).delete_one({"_id": object_id(id)})
        if result.deleted_count == 0:
            ctx.not_found(f"no person {id}")
        return ctx.fire()

    @app.get("/people")
    async def list_people(ctx: Context) -> Any:
        docs = await people(ctx).find({}, {"_id": 0}).sort("email").to_list()
        return docs

    @app.post("/people/batch")
    async def batch(ctx: Context) -> Any:
        """All or nothing, in a multi-document transaction."""
        data = await ctx.payload()
        client = ctx.db.mongo
        try:
            async with client.start_session() as session, await session.start_transaction():
                for item in data["people"]:
                    await people(ctx).insert_one(dict(item), session=session)
        except DuplicateKeyError:
            raise HTTPError(409, "someone in the batch exists", code="EMAIL_TAKEN") from None
        return ctx.json({"created": len(data["people"])}, 201)

    return app


def test_crud_over_http(mongo_url: str, mongo_db: str) -> None:
    with TestClient(people_app(mongo_url, mongo_db)) as client:
        created = client.post("/people", json={"email": "ada@x.io", "name": "Ada"})
        assert created.status_code == 201
        pid = created.json()["id"]

        assert client.get(f"/people/{pid}").json() == {
            "id": pid,
            "email": "ada@x.io",
            "name": "Ada",
        }
        assert client.patch(f"/people/{pid}", json={"name": "Ada L."}).json() == {"updated": 1}
        assert client.get("/people").json() == [{"email": "ada@x.io", "name": "Ada L."}]
        assert client.delete(f"/people/{pid}").status_code == 204
        assert client.get(f"/people/{pid}").status_code == 404
        assert client.get("/people/not-an-id").json()["code"] == "BAD_ID"


def test_unique_index_and_duplicate_key(mongo_url: str, mongo_db: str) -> None:
    with TestClient(people_app(mongo_url, mongo_db)) as client:
        assert client.post("/people", json={"email": "a@x.io", "name": "A"}).status_code == 201
        duplicate = client.post("/people", json={"email": "a@x.io", "name": "B"})
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"].startswith("application/problem+json")
        assert duplicate.json()["code"] == "EMAIL_TAKEN"
        assert client.get("/people").json() == [{"email": "a@x.io", "name": "A"}]


def test_transaction_commits_or_rolls_back(mongo_url: str, mongo_db: str) -> None:
    # SecantusDB presents itself as a one-member replica set, which is what MongoDB needs for
    # multi-document transactions; a standalone server would refuse start_transaction().
    with TestClient(people_app(mongo_url, mongo_db)) as client:
        assert client.post("/people", json={"email": "taken@x.io", "name": "T"}).status_code == 201
        batch = [
            {"email": "one@x.io", "name": "1"},
            {"email": "two@x.io", "name": "2"},
            {"email": "taken@x.io", "name": "again"},
        ]
        assert client.post("/people/batch", json={"people": batch}).status_code == 409
        assert [p["email"] for p in client.get("/people").json()] == ["taken@x.io"]

        assert client.post("/people/batch", json={"people": batch[:2]}).status_code == 201
        emails = [p["email"] for p in client.get("/people").json()]
        assert emails == ["one@x.io", "taken@x.io", "two@x.io"]


def test_snake_case_options_reach_pymongo(mongo_url: str, mongo_db: str) -> None:
    app = App()
    app.with_mongo(
        uri=mongo_url,
        options={"max_pool_size": 7, "server_selection_timeout_ms": 4000, "socketTimeoutMS": 45000},
        app_name="avian-tests",
    )

    @app.get("/options")
    async def options(ctx: Context) -> Any:
        client = ctx.db.mongo
        pool = client.options.pool_options
        return {
            "max_pool_size": pool.max_pool_size,
            "server_selection_timeout": client.options.server_selection_timeout,
            "socket_timeout": pool.socket_timeout,
            "app_name": pool.metadata["application"]["name"],
        }

    with TestClient(app) as client:
        assert client.get("/options").json() == {
            "max_pool_size": 7,
            "server_selection_timeout": 4.0,
            "socket_timeout": 45.0,
            "app_name": "avian-tests",
        }
        config = app.db.active_connections()["mongo"].config
        assert config["options"]["max_pool_size"] == 7


def test_named_connections(mongo_url: str, mongo_db: str) -> None:
    app = App()
    app.with_mongo(uri=mongo_url)
    app.with_mongo(name="analytics", uri=mongo_url, options={"max_pool_size": 2})

    @app.post("/events")
    async def record(ctx: Context) -> Any:
        await ctx.db["analytics"][mongo_db]["events"].insert_one({"kind": "signup"})
        main = ctx.db.mongo[mongo_db]["events"]
        other = ctx.db.get_connection("analytics")[mongo_db]["events"]
        return {
            "same_data": await main.count_documents({}) == await other.count_documents({}),
            "distinct_clients": ctx.db.mongo is not ctx.db.analytics,
        }

    with TestClient(app) as client:
        assert client.post("/events").json() == {"same_data": True, "distinct_clients": True}
        assert {c.kind for c in app.db.active_connections().values()} == {"mongo"}


def test_uri_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, mongo_url: str, mongo_db: str
) -> None:
    monkeypatch.setenv("MONGO_URL", mongo_url)
    with TestClient(people_app(mongo_url, mongo_db)) as client:
        assert client.post("/people", json={"email": "e@x.io", "name": "E"}).status_code == 201
    app = App()
    app.with_mongo()
    assert app.db.spec("mongo").target == mongo_url


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"uri": "http://db.example"}, "must start with mongodb://"),
        ({"uri": "mongodb://h/?maxPoolSize=many"}, "invalid MongoDB uri"),
        ({"options": {"max_pool_size": -1}}, "invalid MongoDB option 'max_pool_size'"),
        ({"options": {"max_pool_sise": 5}}, "unknown MongoDB option 'max_pool_sise'"),
        ({"options": {"maxPoolSize": 1, "max_pool_size": 2}}, "given twice"),
        ({"options": ["max_pool_size"]}, "must be a mapping"),
        ({"startup_timeout": -1}, "positive number of seconds"),
    ],
)
def test_bad_options_fail_at_registration(options: dict[str, Any], message: str) -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=message):
        app.with_mongo(**options)
    assert "mongo" not in app.db


def test_password_is_hidden_in_the_description() -> None:
    app = App()
    app.with_mongo(uri="mongodb://app:s3cret@db.example:27017/prod?authSource=admin")
    description = app.db.spec("mongo").describe()
    assert "s3cret" not in repr(description)
    assert description["uri"] == "mongodb://app:***@db.example:27017/prod?authSource=admin"


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb+srv://app:secret@cluster0.example.net/shop?retryWrites=true",
        "mongodb://h1:27017,h2:27017,h3:27017/shop?replicaSet=rs0",
    ],
)
def test_atlas_and_replica_set_uris_are_accepted_without_io(uri: str) -> None:
    app = App()
    app.with_mongo(uri=uri, options={"server_selection_timeout_ms": 1000})
    assert app.db.spec("mongo").kind == "mongo"
    assert app.db.has_connection("mongo") == {"exists": False, "initializing": False}
