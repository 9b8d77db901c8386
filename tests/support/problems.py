"""Reading the RFC 9457 problem documents avian answers invalid input with."""

from __future__ import annotations

from typing import Any


def validation_issues(response: Any) -> list[dict[str, Any]]:
    """The ``details.issues`` of a 422 validation problem, after checking that it is one."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    found: list[dict[str, Any]] = body["details"]["issues"]
    return found


def issue_locs(response: Any) -> list[list[Any]]:
    """Where each issue of a 422 validation problem is (``["query", "limit"]``)."""
    return [issue["loc"] for issue in validation_issues(response)]
