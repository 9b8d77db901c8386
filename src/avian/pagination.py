"""Pagination helpers: page models, query parameter readers and ``Link`` headers.

Three styles, each with a response model, a parameters object and a reader:

=============  ==============================  ==================  ======================
style          query                           parameters          response model
=============  ==============================  ==================  ======================
page number    ``?page=2&size=20``             :class:`PageParams`   :class:`Page`
limit/offset   ``?limit=20&offset=40``         :class:`OffsetParams` :class:`OffsetPage`
cursor         ``?cursor=...&size=20``         :class:`CursorParams` :class:`CursorPage`
=============  ==============================  ==================  ======================

A reader (:class:`Pagination`, :class:`OffsetPagination`, :class:`CursorPagination`) is
configured once and called with ``ctx``; it validates the query (422 listing every issue,
like any typed parameter) and never trusts a size above its maximum.  Readers are plain
callables taking ``ctx``, so they also work as dependencies.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

import msgspec

from .context import Context
from .errors import ConfigurationError, HTTPError
from .http.jsoncodec import encode_json

__all__ = [
    "CursorPage",
    "CursorPagination",
    "CursorParams",
    "OffsetPage",
    "OffsetPagination",
    "OffsetParams",
    "Page",
    "PageParams",
    "Pagination",
    "cursor_pagination",
    "decode_cursor",
    "encode_cursor",
    "format_link_header",
    "offset_pagination",
    "pagination",
]

T = TypeVar("T")

DEFAULT_SIZE = 20
MAX_SIZE = 100
MAX_PAGE = 10_000
MAX_OFFSET = 1_000_000
MAX_CURSOR_LENGTH = 512


# --- response models ---------------------------------------------------------------------


class Page(msgspec.Struct, Generic[T]):
    """One page of results, page-number style (``Page[Book]`` as a return annotation)."""

    items: list[T]
    total: int
    """Items across every page."""
    page: int
    """This page's number, from 1."""
    size: int
    """The page size asked for (the last page may hold fewer items)."""
    pages: int
    """How many pages there are (0 when there are no items)."""


class OffsetPage(msgspec.Struct, Generic[T]):
    """One slice of results, limit/offset style."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(msgspec.Struct, Generic[T]):
    """One slice of results, cursor style: pass ``next_cursor`` back to get the next."""

    items: list[T]
    size: int
    next_cursor: str | None = None
    """``None`` on the last slice."""
    prev_cursor: str | None = None


# --- errors ------------------------------------------------------------------------------


def _issue(name: str, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["query", name], "msg": msg, "type": kind}


def _invalid(issues: list[dict[str, Any]]) -> HTTPError:
    return HTTPError(422, "Validation failed", code="VALIDATION_ERROR", details={"issues": issues})


def _read_int(
    query: Mapping[str, str],
    name: str,
    default: int,
    minimum: int,
    maximum: int | None,
    issues: list[dict[str, Any]],
    clamp: bool = False,
) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        if len(text) > 20 or not text.strip().lstrip("+-").isdigit():
            raise ValueError
        value = int(text)
    except ValueError:
        issues.append(_issue(name, f"Expected an integer, got {text[:40]!r}", "int_parsing"))
        return default
    if value < minimum:
        issues.append(_issue(name, f"Expected `int` >= {minimum}", "greater_than_equal"))
        return default
    if maximum is not None and value > maximum:
        if clamp:
            return maximum
        issues.append(_issue(name, f"Expected `int` <= {maximum}", "less_than_equal"))
        return default
    return value


def _check_positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise ConfigurationError(
                f"pagination: {name} must be a positive integer, got {value!r}"
            )


def _default_size(
    default: int | None, maximum: int, names: tuple[str, str], **limits: int | None
) -> int:
    """A reader's checked default page size: ``DEFAULT_SIZE`` (or ``maximum`` when smaller)
    unless given; ``names`` are the reader's own option names for error messages."""
    default_name, max_name = names
    if default is None:
        default = min(DEFAULT_SIZE, maximum) if isinstance(maximum, int) else DEFAULT_SIZE
    _check_positive(**{default_name: default, max_name: maximum}, **limits)
    if default > maximum:
        raise ConfigurationError(f"pagination: {default_name} is larger than {max_name}")
    return default


# --- links (RFC 8288) --------------------------------------------------------------------


def format_link_header(links: Mapping[str, str]) -> str:
    """``{"next": url, ...}`` -> ``<url>; rel="next", ...`` (RFC 8288)."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())


def _url_with(ctx: Context, changes: Mapping[str, str | None]) -> str:
    """This request's path and query with some query parameters replaced or removed; a
    relative reference, so a forged ``Host`` header never ends up in a link."""
    req = ctx.request
    pairs = [(k, v) for k, v in req.query.multi_items() if k not in changes]
    pairs.extend((k, v) for k, v in changes.items() if v is not None)
    path = quote(req.path, safe="/:@!$&'()*+,;=-._~")
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _set_links(ctx: Context, links: Mapping[str, str]) -> None:
    if links:
        ctx.response.headers.set("link", format_link_header(links))


# --- page number -------------------------------------------------------------------------


@dataclass(frozen=True)
class PageParams:
    """A page request: ``page`` from 1, ``size`` items per page."""

    page: int = 1
    size: int = DEFAULT_SIZE
    page_param: str = "page"
    size_param: str = "size"

    @property
    def offset(self) -> int:
        """How many items to skip (for ``OFFSET``)."""
        return (self.page - 1) * self.size

    @property
    def limit(self) -> int:
        """How many items to fetch (for ``LIMIT``)."""
        return self.size

    def page_of(self, items: Sequence[T], total: int) -> Page[T]:
        """The response model for one page of already-fetched ``items``."""
        pages = -(-total // self.size) if total > 0 else 0
        return Page(list(items), total, self.page, self.size, pages)

    def slice(self, items: Sequence[T]) -> Page[T]:
        """The page of an in-memory sequence."""
        return self.page_of(items[self.offset : self.offset + self.size], len(items))

    def links(self, ctx: Context, total: int) -> dict[str, str]:
        """``first``/``prev``/``next``/``last`` URLs for this page."""
        pages = max(1, -(-total // self.size))
        size = str(self.size)

        def at(page: int) -> str:
            return _url_with(ctx, {self.page_param: str(page), self.size_param: size})

        links = {"first": at(1)}
        if self.page > 1:
            links["prev"] = at(min(self.page - 1, pages))
        if self.page < pages:
            links["next"] = at(self.page + 1)
        links["last"] = at(pages)
        return links

    def set_link_header(self, ctx: Context, total: int) -> None:
        """Add the ``Link`` header to the response (merged into what the handler returns)."""
        _set_links(ctx, self.links(ctx, total))


class Pagination:
    """Reads ``?page=&size=`` into :class:`PageParams`.

    ``size`` defaults to ``default_size`` and may not exceed ``max_size`` (422, or the
    maximum when ``clamp=True``); ``page`` starts at 1 and may not exceed ``max_page``
    (deep offsets are slow in every database).
    """

    def __init__(
        self,
        *,
        default_size: int | None = None,
        max_size: int = MAX_SIZE,
        max_page: int = MAX_PAGE,
        page_param: str = "page",
        size_param: str = "size",
        clamp: bool = False,
    ) -> None:
        self.default_size = _default_size(
            default_size, max_size, ("default_size", "max_size"), max_page=max_page
        )
        self.max_size = max_size
        self.max_page = max_page
        self.page_param = page_param
        self.size_param = size_param
        self.clamp = clamp

    def __call__(self, ctx: Context) -> PageParams:
        query = ctx.request.query
        issues: list[dict[str, Any]] = []
        page = _read_int(query, self.page_param, 1, 1, self.max_page, issues)
        size = _read_int(
            query, self.size_param, self.default_size, 1, self.max_size, issues, self.clamp
        )
        if issues:
            raise _invalid(issues)
        return PageParams(page, size, self.page_param, self.size_param)


def pagination(ctx: Context, **options: Any) -> PageParams:
    """``Pagination(**options)(ctx)``: page-number parameters of this request."""
    return Pagination(**options)(ctx)


# --- limit / offset ----------------------------------------------------------------------


@dataclass(frozen=True)
class OffsetParams:
    """A slice request: skip ``offset`` items, return at most ``limit``."""

    limit: int = DEFAULT_SIZE
    offset: int = 0
    limit_param: str = "limit"
    offset_param: str = "offset"

    def page_of(self, items: Sequence[T], total: int) -> OffsetPage[T]:
        return OffsetPage(list(items), total, self.limit, self.offset)

    def slice(self, items: Sequence[T]) -> OffsetPage[T]:
        return self.page_of(items[self.offset : self.offset + self.limit], len(items))

    def links(self, ctx: Context, total: int) -> dict[str, str]:
        limit = str(self.limit)

        def at(offset: int) -> str:
            return _url_with(ctx, {self.offset_param: str(offset), self.limit_param: limit})

        last = max(0, (total - 1) // self.limit * self.limit)
        links = {"first": at(0)}
        if self.offset > 0:
            links["prev"] = at(min(max(0, self.offset - self.limit), last))
        if self.offset + self.limit < total:
            links["next"] = at(self.offset + self.limit)
        links["last"] = at(last)
        return links

    def set_link_header(self, ctx: Context, total: int) -> None:
        _set_links(ctx, self.links(ctx, total))


class OffsetPagination:
    """Reads ``?limit=&offset=`` into :class:`OffsetParams` (limits as for
    :class:`Pagination`; ``offset`` may not exceed ``max_offset``)."""

    def __init__(
        self,
        *,
        default_limit: int | None = None,
        max_limit: int = MAX_SIZE,
        max_offset: int = MAX_OFFSET,
        limit_param: str = "limit",
        offset_param: str = "offset",
        clamp: bool = False,
    ) -> None:
        self.default_limit = _default_size(
            default_limit, max_limit, ("default_limit", "max_limit"), max_offset=max_offset
        )
        self.max_limit = max_limit
        self.max_offset = max_offset
        self.limit_param = limit_param
        self.offset_param = offset_param
        self.clamp = clamp

    def __call__(self, ctx: Context) -> OffsetParams:
        query = ctx.request.query
        issues: list[dict[str, Any]] = []
        limit = _read_int(
            query, self.limit_param, self.default_limit, 1, self.max_limit, issues, self.clamp
        )
        offset = _read_int(query, self.offset_param, 0, 0, self.max_offset, issues)
        if issues:
            raise _invalid(issues)
        return OffsetParams(limit, offset, self.limit_param, self.offset_param)


def offset_pagination(ctx: Context, **options: Any) -> OffsetParams:
    """``OffsetPagination(**options)(ctx)``."""
    return OffsetPagination(**options)(ctx)


# --- cursor ------------------------------------------------------------------------------


def encode_cursor(value: Any) -> str:
    """An opaque, URL-safe cursor for any JSON-encodable value (a last-seen id, a tuple)."""
    return base64.urlsafe_b64encode(encode_json(value)).rstrip(b"=").decode()


def decode_cursor(cursor: str, type: Any = Any, *, param: str = "cursor") -> Any:
    """The value inside a cursor, validated against ``type``; 422 when it was tampered
    with or is not a cursor at all."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=type)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise _invalid([_issue(param, "Invalid cursor", "cursor")]) from None


@dataclass(frozen=True)
class CursorParams:
    """A cursor request: continue after ``cursor`` (``None``: from the start)."""

    cursor: str | None = None
    size: int = DEFAULT_SIZE
    cursor_param: str = "cursor"
    size_param: str = "size"

    def value(self, type: Any = Any) -> Any:
        """The decoded cursor (``None`` when absent); 422 when it is not valid."""
        if self.cursor is None:
            return None
        return decode_cursor(self.cursor, type, param=self.cursor_param)

    def page_of(
        self, items: Sequence[T], next_value: Any = None, prev_value: Any = None
    ) -> CursorPage[T]:
        """The response model; ``next_value``/``prev_value`` (``None``: no such slice) are
        encoded into cursors."""
        return CursorPage(
            list(items),
            self.size,
            None if next_value is None else encode_cursor(next_value),
            None if prev_value is None else encode_cursor(prev_value),
        )

    def links(self, ctx: Context, page: CursorPage[Any]) -> dict[str, str]:
        size = str(self.size)

        def at(cursor: str | None) -> str:
            return _url_with(ctx, {self.cursor_param: cursor, self.size_param: size})

        links = {"first": at(None)}
        if page.prev_cursor is not None:
            links["prev"] = at(page.prev_cursor)
        if page.next_cursor is not None:
            links["next"] = at(page.next_cursor)
        return links

    def set_link_header(self, ctx: Context, page: CursorPage[Any]) -> None:
        _set_links(ctx, self.links(ctx, page))


class CursorPagination:
    """Reads ``?cursor=&size=`` into :class:`CursorParams` (cursors longer than
    ``max_cursor_length`` are refused before anything decodes them)."""

    def __init__(
        self,
        *,
        default_size: int | None = None,
        max_size: int = MAX_SIZE,
        max_cursor_length: int = MAX_CURSOR_LENGTH,
        cursor_param: str = "cursor",
        size_param: str = "size",
        clamp: bool = False,
    ) -> None:
        self.default_size = _default_size(
            default_size,
            max_size,
            ("default_size", "max_size"),
            max_cursor_length=max_cursor_length,
        )
        self.max_size = max_size
        self.max_cursor_length = max_cursor_length
        self.cursor_param = cursor_param
        self.size_param = size_param
        self.clamp = clamp

    def __call__(self, ctx: Context) -> CursorParams:
        query = ctx.request.query
        issues: list[dict[str, Any]] = []
        size = _read_int(
            query, self.size_param, self.default_size, 1, self.max_size, issues, self.clamp
        )
        cursor = query.get(self.cursor_param) or None
        if cursor is not None and len(cursor) > self.max_cursor_length:
            issues.append(
                _issue(
                    self.cursor_param,
                    f"Cursor longer than {self.max_cursor_length} characters",
                    "string_too_long",
                )
            )
        if issues:
            raise _invalid(issues)
        return CursorParams(cursor, size, self.cursor_param, self.size_param)


def cursor_pagination(ctx: Context, **options: Any) -> CursorParams:
    """``CursorPagination(**options)(ctx)``."""
    return CursorPagination(**options)(ctx)
