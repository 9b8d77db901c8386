"""Query strings as an ordered multi-dict.

Parameter-pollution policy: ``get`` and ``[]`` return the FIRST value of a repeated name;
``get_all`` returns every value.  A later duplicate can never silently replace the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl

from ..errors import BodyError

__all__ = ["QueryParams", "parse_query"]

MAX_QUERY_FIELDS = 1000


def parse_query(
    query_string: bytes | str, max_fields: int = MAX_QUERY_FIELDS
) -> list[tuple[str, str]]:
    """Decode a query string strictly (UTF-8); 400 on bad encoding or too many fields.

    Raw non-ASCII bytes (sent unescaped by some clients) are decoded as UTF-8 exactly like
    percent-escapes, so ``é`` and ``%C3%A9`` mean the same and a raw 0xFF byte is refused like
    ``%ff``.
    """
    if isinstance(query_string, bytes):
        text = query_string.decode("latin-1")
    else:
        text = query_string if query_string.isascii() else query_string.encode().decode("latin-1")
    try:
        if text.isascii():
            return parse_qsl(
                text, keep_blank_values=True, errors="strict", max_num_fields=max_fields
            )
        # One byte per character, escapes included, then every name and value as UTF-8.
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="latin-1", max_num_fields=max_fields
        )
        return [(k.encode("latin-1").decode(), v.encode("latin-1").decode()) for k, v in pairs]
    except UnicodeDecodeError:
        raise BodyError(400, "query string is not valid UTF-8") from None
    except ValueError:
        raise BodyError(400, f"too many query parameters: more than {max_fields}") from None


class QueryParams(Mapping[str, str]):
    """Read-only multi-dict of query parameters."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        self._pairs = pairs or []
        first: dict[str, str] = {}
        for k, v in self._pairs:
            if k not in first:
                first[k] = v
        self._first = first

    @classmethod
    def from_string(
        cls, query_string: bytes | str, max_fields: int = MAX_QUERY_FIELDS
    ) -> QueryParams:
        if not query_string:
            return cls()
        return cls(parse_query(query_string, max_fields))

    def __getitem__(self, key: str) -> str:
        return self._first[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def __contains__(self, key: object) -> bool:
        return key in self._first

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]

    getlist = get_all

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def to_dict(self) -> dict[str, str]:
        """First value of each name."""
        return dict(self._first)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueryParams):
            return self._pairs == other._pairs
        if isinstance(other, Mapping):
            return self._first == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._pairs))

    def __repr__(self) -> str:
        return f"QueryParams({self._pairs!r})"


EMPTY_QUERY: Mapping[str, str] = QueryParams()
