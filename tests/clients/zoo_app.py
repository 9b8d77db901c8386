"""The sample API the client tests generate clients for and call: users, pets and files.

Written the way users write avian apps (typed handlers, groups with tags, models), so its
OpenAPI document comes from :func:`avian.openapi.build_openapi`.  Served by a real uvicorn
in ``test_client_e2e.py`` (``uvicorn tests.clients.zoo_app:app``).
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Annotated, Literal

import msgspec

from avian import App, Context
from avian.errors import HTTPError
from avian.http.uploads import UploadFile
from avian.params import Cookie, File, Form, Header, Query

app = App(title="Zoo API", version="1.2.0", description="Users and their pets.")
users = app.group("/users", tags=["users"])
pets = app.group("/pets", tags=["pets"])
files = app.group("/files", tags=["files"])

Status = Literal["active", "suspended"]
SLOW_LIMIT = 10.0  # seconds /slow waits at most
NOT_FOUND = {404: "Not found"}


class Health(msgspec.Struct):
    status: str
    version: str


class Geo(msgspec.Struct):
    lat: float
    lng: float


class Address(msgspec.Struct, omit_defaults=True):
    city: str
    street: str | None = None
    geo: Geo | None = None


class NewUser(msgspec.Struct, omit_defaults=True):
    """What it takes to create a user."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    email: str
    age: Annotated[int, msgspec.Meta(ge=0)]
    nickname: str | None = None
    address: Address | None = None
    tags: list[str] | None = None


class User(msgspec.Struct, omit_defaults=True):
    id: int
    name: str
    email: str
    age: int
    status: Status
    created_at: datetime.datetime = msgspec.field(name="createdAt")
    last_seen: datetime.datetime | None = msgspec.field(name="lastSeen")
    nickname: str | None = None
    address: Address | None = None
    tags: list[str] | None = None


class UserPatch(msgspec.Struct, omit_defaults=True):
    name: str | None = None
    status: Status | None = None
    nickname: str | None = None


class Cat(msgspec.Struct, tag_field="kind", tag="cat", omit_defaults=True):
    name: str
    id: uuid.UUID | None = None
    indoor: bool | None = None


class Dog(msgspec.Struct, tag_field="kind", tag="dog", omit_defaults=True):
    name: str
    id: uuid.UUID | None = None
    good_boy: bool | None = None


Pet = Cat | Dog


class Echo(msgspec.Struct):
    """What arrived: the parameters and two headers the clients set per call or client."""

    trace: str
    session: str | None
    flag: bool | None
    extra: str | None
    authorization: str | None


class Login(msgspec.Struct):
    username: str
    remember: bool


class Upload(msgspec.Struct):
    filename: str
    size: int
    note: str | None


class Stored(msgspec.Struct):
    name: str
    size: int
    type: str | None


USERS: dict[int, User] = {}
PETS: dict[uuid.UUID, Pet] = {}
FILES: dict[str, bytes] = {}


@app.get("/health")
async def health() -> Health:
    """Is the service up?"""
    return Health("ok", "1.2.0")


@app.get("/echo")
async def echo_inputs(
    ctx: Context,
    x_trace_id: Annotated[str, Header()],
    session: Annotated[str | None, Cookie()] = None,
    flag: bool | None = None,
) -> Echo:
    """Echo the header, cookie and query parameters and chosen request headers."""
    headers = ctx.request.headers
    return Echo(x_trace_id, session, flag, headers.get("x-extra"), headers.get("authorization"))


@app.get("/slow")
async def slow(seconds: Annotated[float, Query(ge=0, le=SLOW_LIMIT)]) -> str:
    """Answers after ``seconds``: used to test cancellation."""
    await asyncio.sleep(seconds)
    return "done"


@app.post("/login")
async def login(
    username: Annotated[str, Form(min_length=1)],
    password: Annotated[str, Form()],
    remember: Annotated[bool, Form()] = False,
) -> Login:
    """Sign in with a form."""
    return Login(username, remember)


@users.get("")
async def users_list(
    limit: Annotated[int, Query(ge=1)] = 20,
    status: Status | None = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> list[User]:
    """List users."""
    wanted = set(tag or ())
    found = [
        user
        for user in sorted(USERS.values(), key=lambda u: u.id)
        if (status is None or user.status == status) and wanted.issubset(user.tags or [])
    ]
    return found[:limit]


@users.post("", status=201)
async def users_create(body: NewUser, x_request_id: Annotated[str | None, Header()] = None) -> User:
    """Create a user."""
    user = User(
        id=len(USERS) + 1,
        name=body.name,
        email=body.email,
        age=body.age,
        status="active",
        created_at=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        last_seen=None,
        nickname=body.nickname,
        address=body.address,
        tags=body.tags,
    )
    if x_request_id:
        user.tags = [*(user.tags or []), f"request:{x_request_id}"]
    USERS[user.id] = user
    return user


@users.get("/{user_id:int}", responses=NOT_FOUND)
async def users_get(user_id: int) -> User:
    """Get one user."""
    user = USERS.get(user_id)
    if user is None:
        raise HTTPError(404, f"no user {user_id}")
    return user


@users.patch("/{user_id:int}", responses=NOT_FOUND)
async def users_update(user_id: int, body: UserPatch) -> User:
    """Change some fields of a user."""
    user = USERS.get(user_id)
    if user is None:
        raise HTTPError(404, f"no user {user_id}")
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    updated = msgspec.structs.replace(user, **changes)
    USERS[user_id] = updated
    return updated


@users.delete("/{user_id:int}", deprecated=True)
async def users_delete(user_id: int) -> None:
    """Delete a user."""
    USERS.pop(user_id, None)


@pets.post("", status=201)
async def pets_create(body: Pet) -> Pet:
    """Register a pet (a cat or a dog)."""
    pet = msgspec.structs.replace(body, id=uuid.uuid4())
    assert pet.id is not None
    PETS[pet.id] = pet
    return pet


@pets.get("/{pet_id:uuid}", responses=NOT_FOUND)
async def pets_get(pet_id: uuid.UUID) -> Pet:
    pet = PETS.get(pet_id)
    if pet is None:
        raise HTTPError(404, f"no pet {pet_id}")
    return pet


@files.post("")
async def files_upload(
    file: Annotated[UploadFile, File()], note: Annotated[str | None, Form()] = None
) -> Upload:
    """Upload a file with a note."""
    return Upload(file.filename, file.size, note)


RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@files.put("/{name}", openapi_extra=RAW_BODY)
async def files_put(ctx: Context, name: str) -> Stored:
    """Store raw bytes."""
    data = await ctx.request.body()
    FILES[name] = data
    return Stored(name, len(data), ctx.request.headers.get("content-type"))


@files.get("/{name}", responses=NOT_FOUND)
async def files_get(name: str) -> bytes:
    """Read stored bytes."""
    data = FILES.get(name)
    if data is None:
        raise HTTPError(404, f"no file {name}")
    return data
