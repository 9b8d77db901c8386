"""Schemathesis against the sample app: no server errors, no response breaking its schema.

Bounded: a few examples per operation, no example database, no deadline (CI machines are
slow; the time bound is pytest's timeout)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from tests.openapi.apps import sample

from avian import App, JSONResponse

CHECKS = [not_a_server_error, response_schema_conformance]
BOUNDED = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def failures(app: Any) -> dict[str, str]:
    """Run every operation; the failure message of each one that broke a check."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @BOUNDED
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            found[operation.label] = _describe(exc)
    return found


def test_the_sample_app_passes_schemathesis() -> None:
    assert failures(sample.app) == {}


def _describe(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for inner in getattr(exc, "exceptions", ()):
        parts.append(_describe(inner))
    return "\n".join(parts)


class Pet(msgspec.Struct):
    name: str
    age: int


def test_the_checks_do_catch_a_response_that_breaks_its_schema() -> None:
    app = App(log_exceptions=False)

    @app.get("/pet", responses={200: {"model": Pet}})
    async def pet() -> JSONResponse:
        return JSONResponse({"name": 42})

    @app.get("/boom")
    async def boom() -> dict[str, int]:
        raise RuntimeError("crash")

    found = failures(app)
    assert set(found) == {"GET /pet", "GET /boom"}
    assert "Response violates schema" in found["GET /pet"]
    assert "ServerError" in found["GET /boom"]


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_schemathesis_loads_the_served_document(path: str) -> None:
    schema = schemathesis.openapi.from_asgi(path, sample.app)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert "POST /items" in labels
    assert "GET /internal" not in labels
