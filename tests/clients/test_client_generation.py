"""Generated clients are valid, strictly typed, formatted and deterministic.

The Python clients go through ``mypy --strict``, ``ruff check`` and ``ruff format --check``;
the TypeScript clients through ``tsc --strict`` (with ``exactOptionalPropertyTypes`` and the
unused-code checks).  Both the sample API and a document full of awkward cases are used.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import msgspec
import pytest
from client_tools import (
    check_python_tools,
    compile_typescript,
    import_client,
    load_spec,
    write_client,
)
from edge_spec import EDGE_SPEC

from avian.clients import (
    InvalidSpec,
    generate_client,
    generate_python_client,
    generate_typescript_client,
    read_openapi,
)
from avian.clients.api_model import (
    AnyType,
    ArrayOf,
    LiteralOf,
    MapOf,
    ModelAlias,
    ObjectModel,
    Primitive,
    Reference,
    UnionOf,
)


def _reversed(value: Any, key: str | None = None) -> Any:
    """The same document with its objects' keys in the opposite order.

    A schema's ``properties`` keep their order: it is the order of the model's fields.
    """
    if isinstance(value, dict):
        order = list(value) if key == "properties" else list(reversed(list(value)))
        return {k: _reversed(value[k], None if key == "properties" else k) for k in order}
    if isinstance(value, list):
        return [_reversed(item) for item in value]
    return value


# -- the tools accept the output ----------------------------------------------------------


def _documents() -> dict[str, dict[str, Any]]:
    """The hand-written sample, the awkward cases, avian's document of the sample app, and
    an API with nothing in it."""
    from tests.clients.zoo_app import app

    from avian.openapi import build_openapi

    empty = {"openapi": "3.1.0", "info": {"title": "Nothing", "version": "0"}, "paths": {}}
    return {"sample": load_spec(), "edge": EDGE_SPEC, "app": build_openapi(app), "empty": empty}


def test_python_clients_pass_mypy_strict_and_ruff(tmp_path: Path) -> None:
    for name, spec in _documents().items():
        check_python_tools(write_client(tmp_path, "python", spec, f"{name}_client.py"))


def test_typescript_clients_compile_with_tsc_strict(tmp_path: Path) -> None:
    names = []
    for name, spec in _documents().items():
        names.append(write_client(tmp_path, "typescript", spec, f"{name}.ts").name)
    compile_typescript(tmp_path, names, emit=False)


def test_typescript_types_fit_the_way_users_call_the_client(tmp_path: Path) -> None:
    """Object literals for inputs and models, narrowing on the error classes."""
    write_client(tmp_path, "typescript", load_spec(), "zoo.ts")
    (tmp_path / "usage.ts").write_text(
        """
import { ApiError, ValidationError, createClient, type NewUser, type Pet, type User } from "./zoo.js";

export async function usage(): Promise<string> {
  const api = createClient({ baseUrl: "http://localhost", credentials: "include" });
  const draft: NewUser = { name: "Ada", email: "ada@example.com", age: 36, nickname: null };
  const user: User = await api.users.create({ body: draft, xRequestId: "r1" });
  const pet: Pet = await api.pets.create({ body: { kind: "cat", name: "Tom" } });
  const kind: "cat" | "dog" = pet.kind;
  const found: User[] = await api.users.list({ limit: 5, status: "active", tag: ["a"] });
  const none: void = await api.users.delete({ userId: user.id });
  const text: string = await api.slow({ seconds: 0 }, { signal: AbortSignal.timeout(1000) });
  const blob: Blob = await api.files.get({ name: "x" });
  try {
    await api.users.get({ userId: 1 }, { headers: { "X-Extra": "1" } });
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => i.loc.join(".")).join();
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
  }
  return `${kind} ${found.length} ${String(none)} ${text} ${blob.size}`;
}
"""
    )
    compile_typescript(tmp_path, ["usage.ts"], emit=False)


# -- determinism --------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["python", "typescript"])
@pytest.mark.parametrize("spec", [load_spec(), EDGE_SPEC], ids=["zoo", "edge"])
def test_same_document_gives_the_same_bytes(language: str, spec: dict[str, Any]) -> None:
    first = generate_client(spec, language)
    assert generate_client(copy.deepcopy(spec), language) == first
    assert generate_client(_reversed(spec), language) == first  # key order does not matter


def test_language_aliases_and_unknown_language() -> None:
    spec = load_spec()
    assert generate_client(spec, "py") == generate_python_client(spec)
    assert generate_client(spec, "TS") == generate_typescript_client(spec)
    with pytest.raises(ValueError, match="unknown client language 'go'"):
        generate_client(spec, "go")


# -- what the reader makes of the document ------------------------------------------------


def test_reader_models_cover_refs_allof_nullable_inline_objects_and_unions() -> None:
    api = read_openapi(load_spec(), reserved={"Problem", "Issue"})
    models = {m.name: m for m in api.models}
    assert [m.name for m in api.models] == sorted(models)

    user = models["User"]
    assert isinstance(user, ObjectModel)
    fields = {f.wire_name: f for f in user.fields}
    # allOf merged NewUser's properties with User's own; required sets merged too
    assert {"name", "email", "age", "nickname", "id", "createdAt", "lastSeen"} <= set(fields)
    assert fields["name"].required
    assert fields["id"].required
    assert not fields["nickname"].required
    assert fields["nickname"].type == UnionOf((Primitive("string"), Primitive("null")))
    assert fields["lastSeen"].type == UnionOf((Primitive("string", "date-time"), Primitive("null")))
    assert fields["status"].type == Reference("Status")
    assert fields["createdAt"].description == "When the user signed up."

    assert models["Status"] == ModelAlias(
        "Status", LiteralOf(("active", "suspended")), "Whether a user may sign in."
    )
    # an inline object is hoisted into a model named after where it appeared
    address = models["Address"]
    assert isinstance(address, ObjectModel)
    assert {f.wire_name: f.type for f in address.fields}["geo"] == Reference("AddressGeo")
    pet = models["Pet"]
    assert isinstance(pet, ModelAlias)
    assert isinstance(pet.type, UnionOf)
    assert pet.type.discriminator is not None
    assert pet.type.discriminator.mapping == (("cat", "Cat"), ("dog", "Dog"))
    # reserved names are not taken by schemas
    assert "ProblemModel" in models
    assert "IssueModel" in models
    assert "Problem" not in models


def test_reader_operations_params_bodies_and_responses() -> None:
    api = read_openapi(load_spec())
    ops = {op.operation_id: op for op in api.operations}
    assert [(o.tag or "", o.operation_id) for o in api.operations] == sorted(
        (o.tag or "", o.operation_id) for o in api.operations
    )
    get = ops["users_get"]
    assert (get.method, get.path, get.tag) == ("GET", "/users/{user_id}", "users")
    # path-level parameters are merged into each operation
    assert [(p.wire_name, p.location, p.required) for p in get.parameters] == [
        ("user_id", "path", True)
    ]
    echo = ops["echoInputs"]
    assert [(p.location, p.wire_name) for p in echo.parameters] == [
        ("query", "flag"),
        ("header", "X-Trace-Id"),
        ("cookie", "session"),
    ]
    listing = ops["users_list"]
    assert {p.wire_name: p.type for p in listing.parameters}["tag"] == ArrayOf(Primitive("string"))
    create = ops["users_create"]
    assert create.body is not None
    assert create.body.kind == "json"
    assert create.body.type == Reference("NewUser")
    assert [(r.status, r.kind) for r in create.responses] == [(201, "json")]
    assert [(r.status, r.kind) for r in ops["users_delete"].responses] == [(204, "empty")]
    assert ops["users_delete"].deprecated
    assert ops["slow"].responses[0].kind == "text"
    assert ops["files_get"].responses[0].kind == "binary"
    assert ops["login"].body is not None
    assert ops["login"].body.kind == "form"
    assert ops["files_upload"].body is not None
    assert ops["files_upload"].body.kind == "multipart"
    assert ops["files_put"].body is not None
    assert ops["files_put"].body.kind == "raw"
    echo_out = echo.responses[0].type
    assert echo_out == MapOf(UnionOf((Primitive("string"), Primitive("null"))))


def test_reader_names_operations_without_ids_and_accepts_openapi_30_nullable() -> None:
    api = read_openapi(EDGE_SPEC)
    assert "get /things/{thing-id}" in {op.operation_id for op in api.operations}
    spec30 = {
        "openapi": "3.0.3",
        "info": {"title": "Old", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"note": {"type": "string", "nullable": True}, "any": {}},
                }
            }
        },
    }
    (thing,) = read_openapi(spec30).models
    assert isinstance(thing, ObjectModel)
    types = {f.wire_name: f.type for f in thing.fields}
    assert types == {
        "note": UnionOf((Primitive("string"), Primitive("null"))),
        "any": AnyType(),
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"swagger": "2.0"}, "expected an OpenAPI 3.x document"),
        ({"openapi": "3.1.0", "paths": []}, "'paths' must be an object"),
        (
            {
                "openapi": "3.1.0",
                "paths": {"/x": {"get": {"responses": {"200": {"$ref": "other.json#/a"}}}}},
            },
            "only local references are supported",
        ),
        (
            {
                "openapi": "3.1.0",
                "paths": {
                    "/x": {"get": {"responses": {"200": {"$ref": "#/components/responses/No"}}}}
                },
            },
            "unresolvable reference '#/components/responses/No'",
        ),
        (
            {
                "openapi": "3.1.0",
                "paths": {},
                "components": {"schemas": {"A": {"$ref": "#/components/schemas/Missing"}}},
            },
            "unresolvable reference",
        ),
        (
            {
                "openapi": "3.1.0",
                "paths": {"/x": {"$ref": "#/paths/~1y"}, "/y": {"$ref": "#/paths/~1x"}},
            },
            "reference loop",
        ),
    ],
)
def test_documents_a_client_cannot_come_from_are_refused(document: Any, message: str) -> None:
    with pytest.raises(InvalidSpec, match=message):
        generate_python_client(document)


# -- awkward names and types, checked by importing the generated module ------------------


def test_python_names_dodge_keywords_and_clashes_and_keep_wire_names(tmp_path: Path) -> None:
    module = import_client(write_client(tmp_path, "python", EDGE_SPEC, "edge_client.py"))
    # a schema called "Client" cannot replace the client class
    assert module.Client.__name__ == "Client"
    assert hasattr(module, "ClientModel")
    assert hasattr(module, "ValidationErrorModel")
    assert issubclass(module.ValidationError, module.ApiError)
    item = module.ClientModel(class_="c", from_=1, first_name="Ada", datetime_=None, tree=3)
    encoded = msgspec.json.decode(msgspec.json.encode(item))
    assert encoded == {"class": "c", "from": 1, "first-name": "Ada", "Tree": 3}
    assert msgspec.json.decode(b'{"class":"x","from":2,"flag":true}', type=module.ClientModel).flag
    # a recursive model decodes to any depth
    tree = msgspec.json.decode(
        b'{"value":1,"children":[{"value":2,"children":[{"value":3}]}]}', type=module.Tree
    )
    assert tree.children[0].children[0].value == 3
    # a union msgspec cannot tell apart is widened, not broken
    assert msgspec.json.decode(b'{"side":2}', type=module.Shape) == {"side": 2}
    assert msgspec.json.decode(b"[1, 2]", type=module.Mixed) == [1, 2]
    # the tag named "class" lives at client.class_; the top-level op "close" does not
    # replace Client.close
    client = module.Client("http://127.0.0.1:9")
    try:
        assert hasattr(client, "class_")
        assert hasattr(client, "admin_tools")
        assert callable(client.close2)
        assert client.close.__doc__.startswith("Close the")
        assert callable(client.import_)
    finally:
        client.close()


def test_typescript_keeps_wire_names_and_allows_keyword_members(tmp_path: Path) -> None:
    source = generate_typescript_client(EDGE_SPEC)
    assert '"first-name"?: string;' in source
    assert "readonly class: ClassApi;" in source
    assert "export type Json = string | number | boolean | null | Json[] | {" in source
    assert "*\\/" in source
    assert "Edge */ API" not in source
    write_client(tmp_path, "typescript", EDGE_SPEC, "edge.ts")
    compile_typescript(tmp_path, ["edge.ts"], emit=False)
