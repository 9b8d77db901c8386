"""Pagination helpers: page/offset/cursor readers with their limits on both sides, page
models as response models, and RFC 8288 ``Link`` headers."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from avian import App, ConfigurationError, Context
from avian.pagination import (
    CursorPage,
    CursorPagination,
    CursorParams,
    OffsetPage,
    OffsetPagination,
    OffsetParams,
    Page,
    PageParams,
    Pagination,
    cursor_pagination,
    decode_cursor,
    encode_cursor,
    format_link_header,
    offset_pagination,
    pagination,
)
from avian.params import Depends
from avian.testing import TestClient


class Book(msgspec.Struct):
    id: int
    title: str


BOOKS = [Book(i, f"Book {i}") for i in range(1, 48)]  # 47 books


def parse_links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([^"]+)"', header)}


def app_with_pages(**options: Any) -> App:
    app = App()

    @app.get("/books")
    async def list_books(ctx: Context) -> Page[Book]:
        params = pagination(ctx, **options)
        page = params.slice(BOOKS)
        params.set_link_header(ctx, page.total)
        return page

    return app


# --- page number ---------------------------------------------------------------------------


def test_defaults_first_page_of_twenty() -> None:
    with TestClient(app_with_pages()) as client:
        body = client.get("/books").json()
        assert [b["id"] for b in body["items"]] == list(range(1, 21))
        assert {k: body[k] for k in ("total", "page", "size", "pages")} == {
            "total": 47,
            "page": 1,
            "size": 20,
            "pages": 3,
        }


def test_a_middle_page_and_the_last_partial_page() -> None:
    with TestClient(app_with_pages()) as client:
        second = client.get("/books?page=2&size=10").json()
        assert [b["id"] for b in second["items"]] == list(range(11, 21))
        assert second["pages"] == 5
        last = client.get("/books?page=5&size=10").json()
        assert [b["id"] for b in last["items"]] == [41, 42, 43, 44, 45, 46, 47]
        beyond = client.get("/books?page=9&size=10").json()
        assert beyond["items"] == []
        assert beyond["total"] == 47


def test_size_limit_on_both_sides() -> None:
    with TestClient(app_with_pages()) as client:
        at_max = client.get("/books?size=100")
        assert at_max.status_code == 200
        assert at_max.json()["size"] == 100
        over = client.get("/books?size=101")
        assert over.status_code == 422
        issue = over.json()["details"]["issues"][0]
        assert issue["loc"] == ["query", "size"]
        assert issue["type"] == "less_than_equal"
        assert "100" in issue["msg"]


def test_a_smaller_max_size_and_clamping() -> None:
    with TestClient(app_with_pages(max_size=5)) as client:
        assert client.get("/books").json()["size"] == 5  # the default follows the maximum
        assert client.get("/books?size=5").status_code == 200
        assert client.get("/books?size=6").status_code == 422
    with TestClient(app_with_pages(max_size=5, clamp=True)) as client:
        clamped = client.get("/books?size=500").json()
        assert clamped["size"] == 5
        assert len(clamped["items"]) == 5


def test_page_limit_on_both_sides() -> None:
    with TestClient(app_with_pages()) as client:
        assert client.get("/books?page=10000").status_code == 200
        too_deep = client.get("/books?page=10001")
        assert too_deep.status_code == 422
        assert too_deep.json()["details"]["issues"][0]["loc"] == ["query", "page"]
    with TestClient(app_with_pages(max_page=3)) as client:
        assert client.get("/books?page=3").status_code == 200
        assert client.get("/books?page=4").status_code == 422


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("page=0", ["page"]),
        ("page=-1", ["page"]),
        ("page=abc", ["page"]),
        ("page=1.5", ["page"]),
        ("page=" + "9" * 5000, ["page"]),
        ("size=0", ["size"]),
        ("size=x&page=y", ["page", "size"]),
    ],
)
def test_invalid_values_are_422_listing_every_issue(query: str, names: list[str]) -> None:
    with TestClient(app_with_pages()) as client:
        response = client.get(f"/books?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        issues = response.json()["details"]["issues"]
        assert [issue["loc"] for issue in issues] == [["query", name] for name in names]


def test_empty_values_take_the_defaults() -> None:
    with TestClient(app_with_pages()) as client:
        body = client.get("/books?page=&size=").json()
        assert (body["page"], body["size"]) == (1, 20)


def test_link_header_relations_keep_other_query_parameters() -> None:
    with TestClient(app_with_pages()) as client:
        middle = client.get("/books?q=sci%20fi&page=2&size=10")
        links = parse_links(middle.headers["link"])
        assert links == {
            "first": "/books?q=sci+fi&page=1&size=10",
            "prev": "/books?q=sci+fi&page=1&size=10",
            "next": "/books?q=sci+fi&page=3&size=10",
            "last": "/books?q=sci+fi&page=5&size=10",
        }
        first = parse_links(client.get("/books?size=10").headers["link"])
        assert set(first) == {"first", "next", "last"}
        last = parse_links(client.get("/books?page=5&size=10").headers["link"])
        assert set(last) == {"first", "prev", "last"}
        beyond = parse_links(client.get("/books?page=9&size=10").headers["link"])
        assert beyond["prev"] == "/books?page=5&size=10"  # back to the real last page


def test_link_header_for_no_items_and_custom_parameter_names() -> None:
    app = App()

    @app.get("/empty/{name}")
    async def empty(ctx: Context) -> Page[Book]:
        params = pagination(ctx, page_param="p", size_param="per_page")
        params.set_link_header(ctx, 0)
        return params.page_of([], 0)

    with TestClient(app) as client:
        response = client.get("/empty/caf%C3%A9?per_page=5")
        assert response.json() == {"items": [], "total": 0, "page": 1, "size": 5, "pages": 0}
        assert parse_links(response.headers["link"]) == {
            "first": "/empty/caf%C3%A9?p=1&per_page=5",
            "last": "/empty/caf%C3%A9?p=1&per_page=5",
        }


def test_readers_work_as_dependencies() -> None:
    app = App()
    paginate = Pagination(default_size=2, max_size=3)

    @app.get("/deps")
    async def with_dependency(params: PageParams = Depends(paginate)) -> Page[Book]:
        return params.slice(BOOKS)

    with TestClient(app) as client:
        assert client.get("/deps").json()["size"] == 2
        assert client.get("/deps?size=3&page=2").json()["items"][0]["id"] == 4
        assert client.get("/deps?size=4").status_code == 422


def test_params_arithmetic() -> None:
    params = PageParams(page=3, size=10)
    assert (params.offset, params.limit) == (20, 10)
    assert params.page_of([1, 2], 21) == Page([1, 2], 21, 3, 10, 3)
    assert params.page_of([], 0).pages == 0
    assert PageParams(page=1, size=10).page_of(list(range(10)), 10).pages == 1
    assert msgspec.json.decode(
        msgspec.json.encode(Page([Book(1, "x")], 1, 1, 20, 1)), type=Page[Book]
    ).items == [Book(1, "x")]


def test_reader_options_are_checked() -> None:
    for bad in (
        {"max_size": 0},
        {"default_size": -1},
        {"max_page": True},
        {"default_size": 50, "max_size": 10},
    ):
        with pytest.raises(ConfigurationError, match="pagination"):
            Pagination(**bad)
    with pytest.raises(ConfigurationError, match="pagination"):
        OffsetPagination(default_limit=200)
    with pytest.raises(ConfigurationError, match="pagination"):
        CursorPagination(max_cursor_length=0)


def test_format_link_header() -> None:
    assert format_link_header({"next": "/a?page=2", "last": "/a?page=9"}) == (
        '</a?page=2>; rel="next", </a?page=9>; rel="last"'
    )


# --- limit / offset --------------------------------------------------------------------------


def app_with_offsets(**options: Any) -> App:
    app = App()

    @app.get("/books")
    async def list_books(ctx: Context) -> OffsetPage[Book]:
        params = offset_pagination(ctx, **options)
        page = params.slice(BOOKS)
        params.set_link_header(ctx, page.total)
        return page

    return app


def test_limit_offset_slices_and_links() -> None:
    with TestClient(app_with_offsets()) as client:
        response = client.get("/books?limit=10&offset=15")
        body = response.json()
        assert [b["id"] for b in body["items"]] == list(range(16, 26))
        assert (body["total"], body["limit"], body["offset"]) == (47, 10, 15)
        assert parse_links(response.headers["link"]) == {
            "first": "/books?offset=0&limit=10",
            "prev": "/books?offset=5&limit=10",
            "next": "/books?offset=25&limit=10",
            "last": "/books?offset=40&limit=10",
        }
        start = parse_links(client.get("/books?limit=10").headers["link"])
        assert set(start) == {"first", "next", "last"}
        end = parse_links(client.get("/books?limit=10&offset=40").headers["link"])
        assert set(end) == {"first", "prev", "last"}


def test_limit_and_offset_limits_on_both_sides() -> None:
    with TestClient(app_with_offsets()) as client:
        assert client.get("/books?limit=100").status_code == 200
        assert client.get("/books?limit=101").status_code == 422
        assert client.get("/books?offset=1000000").status_code == 200
        too_far = client.get("/books?offset=1000001")
        assert too_far.status_code == 422
        assert too_far.json()["details"]["issues"][0]["loc"] == ["query", "offset"]
        assert client.get("/books?offset=-1").status_code == 422
        assert client.get("/books?limit=0").status_code == 422
    with TestClient(app_with_offsets(max_limit=10, clamp=True)) as client:
        assert client.get("/books?limit=50").json()["limit"] == 10


def test_offset_params_defaults() -> None:
    params = OffsetParams()
    assert (params.limit, params.offset) == (20, 0)
    assert params.page_of([1], 1) == OffsetPage([1], 1, 20, 0)


# --- cursor ----------------------------------------------------------------------------------


def app_with_cursors(**options: Any) -> App:
    app = App()

    @app.get("/books")
    async def list_books(ctx: Context) -> CursorPage[Book]:
        params = cursor_pagination(ctx, **options)
        after: int = params.value(int) or 0
        items = [b for b in BOOKS if b.id > after][: params.size]
        has_more = bool(items) and items[-1].id < BOOKS[-1].id
        page = params.page_of(
            items,
            next_value=items[-1].id if has_more else None,
            prev_value=after if after else None,
        )
        params.set_link_header(ctx, page)
        return page

    return app


def test_cursor_pages_walk_to_the_end() -> None:
    with TestClient(app_with_cursors()) as client:
        seen: list[int] = []
        url = "/books?size=20"
        pages = 0
        while url and pages < 10:
            response = client.get(url)
            body = response.json()
            seen.extend(b["id"] for b in body["items"])
            links = parse_links(response.headers["link"])
            assert links["first"] == "/books?size=20"
            url = links.get("next", "")
            pages += 1
        assert seen == list(range(1, 48))
        assert pages == 3
        assert body["next_cursor"] is None
        assert body["prev_cursor"] is not None


def test_cursor_limits_and_tampering() -> None:
    with TestClient(app_with_cursors(max_cursor_length=16)) as client:
        at_limit = encode_cursor(1234567890)  # 14 characters
        assert client.get(f"/books?cursor={at_limit}").status_code == 200
        too_long = client.get("/books?cursor=" + "A" * 17)
        assert too_long.status_code == 422
        assert too_long.json()["details"]["issues"][0]["type"] == "string_too_long"
        tampered = client.get("/books?cursor=%%%")
        assert tampered.status_code == 422
        assert tampered.json()["details"]["issues"][0]["loc"] == ["query", "cursor"]
        wrong_type = client.get(f"/books?cursor={encode_cursor('text')}")
        assert wrong_type.status_code == 422
        assert client.get("/books?size=101").status_code == 422
        assert client.get("/books?size=100").status_code == 200


def test_cursor_round_trip() -> None:
    token = encode_cursor({"id": 7, "at": "2024-01-01"})
    assert not set(token) & set("=/+")
    assert decode_cursor(token) == {"id": 7, "at": "2024-01-01"}
    assert CursorParams(cursor=None).value() is None
    assert CursorParams(cursor=encode_cursor([1, 2])).value(list[int]) == [1, 2]
    page = CursorParams(size=2).page_of([1, 2], next_value=2)
    assert page == CursorPage([1, 2], 2, encode_cursor(2), None)
