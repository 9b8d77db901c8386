"""SQL connections (``app.with_sql``) over HTTP: CRUD through ``ctx.db.session()``, unique
constraints, transactions, named connections, engine and session options; on a SQLite file
and on the real PostgreSQL server (in a schema of the test's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from sqlalchemy import String, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from tests.db.servers import PostgresSchema

from avian import App, ConfigurationError, Context, HTTPError
from avian.db.dependencies import sql_session
from avian.params import Depends
from avian.testing import TestClient


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))


RequestSession = Annotated[AsyncSession, Depends(sql_session())]
"""One transactional session per request, injected."""


def as_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name}


def users_app(name: str = "sql", **sql_options: Any) -> App:
    """A small users API on the connection ``name``."""
    app = App()
    app.with_sql(name=name, **sql_options)

    @app.on_ready
    async def create_tables(app: App) -> None:
        async with app.db[name].begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    @app.post("/users")
    async def create(ctx: Context) -> Any:
        data = await ctx.payload()
        try:
            async with ctx.db.session(name) as session:
                user = User(email=data["email"], name=data["name"])
                session.add(user)
                await session.flush()
                created = as_dict(user)
        except IntegrityError:
            raise HTTPError(409, f"{data['email']} is taken", code="EMAIL_TAKEN") from None
        return ctx.json(created, 201)

    @app.get("/users")
    async def list_users(ctx: Context) -> Any:
        async with ctx.db.session(name) as session:
            users = (await session.scalars(select(User).order_by(User.id))).all()
            return [as_dict(u) for u in users]

    @app.get("/users/{id:int}")
    async def read(ctx: Context, id: int) -> Any:
        async with ctx.db.session(name) as session:
            user = await session.get(User, id)
            if user is None:
                ctx.not_found(f"no user {id}")
            return as_dict(user)

    @app.patch("/users/{id:int}")
    async def update(ctx: Context, id: int) -> Any:
        data = await ctx.payload()
        async with ctx.db.session(name) as session:
            user = await session.get(User, id)
            if user is None:
                ctx.not_found(f"no user {id}")
            user.name = data["name"]
            return as_dict(user)

    @app.delete("/users/{id:int}")
    async def delete(ctx: Context, id: int) -> Any:
        async with ctx.db.session(name) as session:
            user = await session.get(User, id)
            if user is None:
                ctx.not_found(f"no user {id}")
            await session.delete(user)
        return ctx.fire()

    @app.post("/users/batch")
    async def batch(ctx: Context) -> Any:
        """All users or none: a failure in the middle rolls back the ones before it."""
        data = await ctx.payload()
        try:
            async with ctx.db.session(name) as session:
                for item in data["users"]:
                    session.add(User(email=item["email"], name=item["name"]))
                    await session.flush()
        except IntegrityError:
            raise HTTPError(409, "a user in the batch exists", code="EMAIL_TAKEN") from None
        return ctx.json({"created": len(data["users"])}, 201)

    @app.get("/users/count")
    async def count(ctx: Context) -> Any:
        async with ctx.db[name].connect() as connection:
            return {"count": (await connection.execute(select(func.count(User.id)))).scalar()}

    return app


def sqlite_url(tmp_path: Path, file: str = "app.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / file}"


@pytest.fixture(params=["sqlite", "postgres"])
def sql_options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """``with_sql`` options for a fresh database of each kind."""
    if request.param == "sqlite":
        return {"url": sqlite_url(tmp_path)}
    schema: PostgresSchema = request.getfixturevalue("pg_schema")
    return {"url": schema.url, "connect_args": schema.connect_args}


def test_crud_over_http(sql_options: dict[str, Any]) -> None:
    with TestClient(users_app(**sql_options)) as client:
        created = client.post("/users", json={"email": "ada@example.com", "name": "Ada"})
        assert created.status_code == 201
        user = created.json()
        assert user == {"id": user["id"], "email": "ada@example.com", "name": "Ada"}

        assert client.get(f"/users/{user['id']}").json() == user
        renamed = client.patch(f"/users/{user['id']}", json={"name": "Ada L."})
        assert renamed.json()["name"] == "Ada L."
        assert client.get("/users").json() == [{**user, "name": "Ada L."}]

        assert client.delete(f"/users/{user['id']}").status_code == 204
        missing = client.get(f"/users/{user['id']}")
        assert missing.status_code == 404
        assert client.get("/users").json() == []


def test_unique_constraint_violation_becomes_a_409(sql_options: dict[str, Any]) -> None:
    with TestClient(users_app(**sql_options)) as client:
        assert client.post("/users", json={"email": "a@x.io", "name": "A"}).status_code == 201
        duplicate = client.post("/users", json={"email": "a@x.io", "name": "B"})
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"].startswith("application/problem+json")
        assert duplicate.json()["code"] == "EMAIL_TAKEN"
        # The failed session rolled back; the connection is usable and holds one row.
        assert client.get("/users/count").json() == {"count": 1}


def test_session_block_is_one_transaction(sql_options: dict[str, Any]) -> None:
    with TestClient(users_app(**sql_options)) as client:
        assert client.post("/users", json={"email": "taken@x.io", "name": "T"}).status_code == 201
        batch = [
            {"email": "one@x.io", "name": "1"},
            {"email": "two@x.io", "name": "2"},
            {"email": "taken@x.io", "name": "again"},
        ]
        assert client.post("/users/batch", json={"users": batch}).status_code == 409
        assert client.get("/users/count").json() == {"count": 1}  # one and two rolled back

        ok = client.post("/users/batch", json={"users": batch[:2]})
        assert ok.status_code == 201
        assert client.get("/users/count").json() == {"count": 3}


def test_postgres_explicit_transaction_with_savepoint(pg_schema: PostgresSchema) -> None:
    app = users_app(url=pg_schema.url, connect_args=pg_schema.connect_args)

    @app.post("/nested")
    async def nested(ctx: Context) -> Any:
        factory: async_sessionmaker[AsyncSession] = ctx.db.sessionmaker()
        async with factory() as session, session.begin():
            session.add(User(email="outer@x.io", name="outer"))
            try:
                async with session.begin_nested():
                    session.add(User(email="outer@x.io", name="duplicate"))
            except IntegrityError:
                pass  # only the savepoint is rolled back
            session.add(User(email="after@x.io", name="after"))
        return {"isolation": await _isolation(ctx.db.sql)}

    with TestClient(app) as client:
        assert client.post("/nested").json() == {"isolation": "read committed"}
        assert [u["email"] for u in client.get("/users").json()] == ["outer@x.io", "after@x.io"]
    # The rows are really in the test's schema on the server.
    rows = pg_schema.run("SELECT email FROM users ORDER BY id")
    assert [r["email"] for r in rows] == ["outer@x.io", "after@x.io"]


async def _isolation(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str((await connection.execute(text("SHOW transaction_isolation"))).scalar())


def test_named_connections_are_separate_databases(tmp_path: Path) -> None:
    app = users_app(url=sqlite_url(tmp_path, "main.db"))
    app.with_sql(name="archive", url=sqlite_url(tmp_path, "archive.db"))

    @app.on_ready
    async def create_archive(app: App) -> None:
        async with app.db["archive"].begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    @app.post("/archive/{id:int}")
    async def archive(ctx: Context, id: int) -> Any:
        async with ctx.db.session() as live, ctx.db.session("archive") as archived:
            user = await live.get(User, id)
            if user is None:
                ctx.not_found()
            archived.add(User(email=user.email, name=user.name))
            await live.delete(user)
        async with ctx.db.get_connection("archive").connect() as connection:
            total = (await connection.execute(select(func.count(User.id)))).scalar()
        return {"archived": total}

    with TestClient(app) as client:
        uid = client.post("/users", json={"email": "old@x.io", "name": "Old"}).json()["id"]
        assert client.post(f"/archive/{uid}").json() == {"archived": 1}
        assert client.get("/users").json() == []
        assert app.db.has_connection("archive") == {"exists": True, "initializing": False}
        assert set(app.db.active_connections()) == {"sql", "archive"}


def test_engine_and_session_options_reach_sqlalchemy(tmp_path: Path) -> None:
    app = App()
    app.with_sql(
        url=sqlite_url(tmp_path),
        pool_pre_ping=True,
        echo=False,
        session_options={"autoflush": False},
    )
    seen: dict[str, Any] = {}

    @app.get("/options")
    async def options(ctx: Context) -> Any:
        engine: AsyncEngine = ctx.db.sql
        factory = ctx.db.sessionmaker()
        seen["engine"] = engine
        return {
            "pre_ping": engine.pool._pre_ping,
            "autoflush": factory.kw["autoflush"],
            "expire_on_commit": factory.kw["expire_on_commit"],
            "dialect": engine.dialect.name,
            "driver": engine.dialect.driver,
        }

    with TestClient(app) as client:
        assert client.get("/options").json() == {
            "pre_ping": True,
            "autoflush": False,
            "expire_on_commit": False,
            "dialect": "sqlite",
            "driver": "aiosqlite",
        }
    assert isinstance(seen["engine"], AsyncEngine)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db.example/app", "postgresql+asyncpg://u@db.example/app"),
        ("postgres://u@db.example/app", "postgresql+asyncpg://u@db.example/app"),
        ("sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
    ],
)
def test_plain_urls_get_the_async_driver(url: str, expected: str) -> None:
    app = App()
    app.with_sql(url=url)
    assert app.db.spec("sql").url == expected  # type: ignore[attr-defined]


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with TestClient(users_app()) as client:
        assert client.post("/users", json={"email": "e@x.io", "name": "E"}).status_code == 201
    assert (tmp_path / "env.db").is_file()


def test_no_url_anywhere_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs url="):
        App().with_sql()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "sqlite+aiosqlite:///x.db", "pool_sise": 5}, r"Invalid argument\(s\) 'pool_sise'"),
        ({"url": "::not a url"}, "invalid SQL url"),
        ({"url": "nosuchdb+driver://h/db"}, "unknown SQL dialect"),
        ({"url": "postgresql+psycopg2://h/db"}, "psycopg2"),
        ({"url": "sqlite:///x.db", "session_options": {"expire_on_comit": True}}, "session option"),
        ({"url": "sqlite:///x.db", "session_options": "fast"}, "must be a mapping"),
        ({"url": "sqlite:///x.db", "startup_timeout": 0}, "positive number of seconds"),
        ({"url": "sqlite:///x.db", "required": "yes"}, "True or False"),
        ({"url": 42}, "must be a string"),
    ],
)
def test_bad_options_fail_at_registration(options: dict[str, Any], message: str) -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=message):
        app.with_sql(**options)
    assert "sql" not in app.db


def test_a_request_after_close_connection_fails_and_reopening_restores_it(tmp_path: Path) -> None:
    app = users_app(url=sqlite_url(tmp_path))

    @app.post("/close")
    async def close(ctx: Context) -> Any:
        await ctx.db.close_connection("sql")
        return ctx.db.has_connection("sql")

    @app.post("/open")
    async def reopen(ctx: Context) -> Any:
        await ctx.db.open_connection("sql")
        return ctx.db.has_connection("sql")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/users", json={"email": "k@x.io", "name": "K"}).status_code == 201
        assert client.post("/close").json() == {"exists": False, "initializing": False}
        assert client.get("/users").status_code == 500  # ConnectionNotOpenError, logged
        assert client.post("/open").json() == {"exists": True, "initializing": False}
        assert [u["email"] for u in client.get("/users").json()] == ["k@x.io"]


def test_session_dependency_commits_or_rolls_back(tmp_path: Path) -> None:
    app = users_app(url=sqlite_url(tmp_path))

    @app.post("/signup")
    async def signup(ctx: Context, session: RequestSession) -> Any:
        data = await ctx.payload()
        session.add(User(email=data["email"], name=data["name"]))
        if data.get("fail"):
            raise HTTPError(422, "refused after the insert")
        return ctx.json({"ok": True}, 201)

    with TestClient(app) as client:
        assert client.post("/signup", json={"email": "s@x.io", "name": "S"}).status_code == 201
        refused = client.post("/signup", json={"email": "r@x.io", "name": "R", "fail": True})
        assert refused.status_code == 422
        assert [u["email"] for u in client.get("/users").json()] == ["s@x.io"]
