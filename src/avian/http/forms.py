"""Form data: the :class:`FormData` multi-dict and the two form parsers,
:func:`parse_urlencoded` and the streaming :func:`parse_multipart` (its machinery lives in
:mod:`avian.http.multipart`).

Parameter-pollution policy: a form may repeat a field name (``a=1&a=2``), and every value is
kept, in order.  Single-value access (``form["a"]``, ``form.get("a")``, ``to_dict()``) always
returns the *first* value, so a later duplicate can never silently replace what a validator
or proxy saw first; code that expects several values asks for them with ``get_all``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from typing import TypeVar, overload

from ..errors import BodyError
from .limits import BodyLimits
from .uploads import UploadFile

__all__ = [
    "FormData",
    "FormValue",
    "UploadFile",
    "limit_exceeded",
    "parse_multipart",
    "parse_urlencoded",
]


def limit_exceeded(what: str, limit_name: str, limit: int) -> BodyError:
    """The 413 error for a form limit, naming the limit and its value (for both parsers)."""
    return BodyError(
        413,
        f"{what}: more than {limit} ({limit_name})",
        details={"limit": limit_name, "max": limit},
    )


FormValue = str | UploadFile
"""A form value: text for ordinary fields, :class:`UploadFile` for file parts."""

_D = TypeVar("_D")


class FormData(Mapping[str, FormValue]):
    """An immutable, insertion-ordered multi-dict of form fields and uploaded files.

    Mapping access returns the first value of each name (the parameter-pollution policy in
    the module docstring); ``get_all`` and ``multi_items`` see every value.
    """

    __slots__ = ("_first", "_items")

    def __init__(
        self, items: Iterable[tuple[str, FormValue]] | Mapping[str, FormValue] = ()
    ) -> None:
        # PERF: the parsers pass a list; checking for it first skips the slower ABC check.
        pairs: tuple[tuple[str, FormValue], ...] = tuple(
            items if isinstance(items, list) or not isinstance(items, Mapping) else items.items()
        )
        # PERF: dict() keeps the *last* duplicate, so it is right only when there are none;
        # that is the common case and dict() is a single C call.
        first: dict[str, FormValue] = dict(pairs)
        if len(first) != len(pairs):
            first = {}
            for name, value in pairs:
                if name not in first:
                    first[name] = value
        self._items = pairs
        self._first = first

    # -- single values (first wins) -------------------------------------------------------

    def __getitem__(self, name: str) -> FormValue:
        return self._first[name]

    @overload
    def get(self, name: str, /) -> FormValue | None: ...
    @overload
    def get(self, name: str, /, default: FormValue) -> FormValue: ...
    @overload
    def get(self, name: str, /, default: _D) -> FormValue | _D: ...
    def get(self, name: str, /, default: object = None) -> object:
        """The first value of ``name``, or ``default`` when the form has no such field."""
        return self._first.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def to_dict(self) -> dict[str, FormValue]:
        """A plain dict of the first value of each name (files included)."""
        return dict(self._first)

    # -- every value ------------------------------------------------------------------------

    def get_all(self, name: str) -> list[FormValue]:
        """Every value sent for ``name``, in order (empty when there is none)."""
        return [value for key, value in self._items if key == name]

    getlist = get_all

    def multi_items(self) -> list[tuple[str, FormValue]]:
        """Every ``(name, value)`` pair, duplicates included, in the order received."""
        return list(self._items)

    @property
    def files(self) -> list[UploadFile]:
        """Every uploaded file, in the order received."""
        return [value for _, value in self._items if isinstance(value, UploadFile)]

    @property
    def fields(self) -> list[tuple[str, str]]:
        """Every ``(name, text)`` pair that is not a file, duplicates included."""
        return [(key, value) for key, value in self._items if isinstance(value, str)]

    async def close(self) -> None:
        """Close every uploaded file, releasing memory and temporary files."""
        for upload in self.files:
            await upload.close()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FormData):
            return self._items == other._items
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # UploadFile's repr shows name, type and size only, never the contents.
        return f"FormData({list(self._items)!r})"


_PERCENT = ord("%")
_HEX_DIGITS = "0123456789abcdefABCDEF"
_HEX_TO_BYTE = {
    (high + low).encode(): bytes([int(high + low, 16)])
    for high in _HEX_DIGITS
    for low in _HEX_DIGITS
}


def _percent_decode(raw: bytes) -> bytes:
    """Decode ``%XX`` escapes; a ``%`` not followed by two hex digits stays as it is."""
    # PERF: about 4x faster than urllib.parse.unquote_plus, which re-encodes its str input
    # and splits it with a regex; working on bytes also gives the exact size for the limit.
    first, *rest = raw.split(b"%")
    out = [first]
    for piece in rest:
        byte = _HEX_TO_BYTE.get(piece[:2])
        if byte is None:
            out.append(b"%")
            out.append(piece)
        else:
            out.append(byte)
            out.append(piece[2:])
    return b"".join(out)


def _check_item(name: bytes, value: bytes, limits: BodyLimits) -> None:
    """Raise 413 if a decoded name or value is over its limit (the slow, exact check)."""
    text = name.decode()
    if len(text) > limits.form_max_field_name_length:
        raise limit_exceeded(
            "form field name too long",
            "form_max_field_name_length",
            limits.form_max_field_name_length,
        )
    if len(value) > limits.form_max_field_size:
        raise limit_exceeded(
            f"form field {text!r} too large", "form_max_field_size", limits.form_max_field_size
        )


def parse_urlencoded(body: bytes, limits: BodyLimits) -> FormData:
    """Parse an ``application/x-www-form-urlencoded`` body.

    ``+`` means space, blank values are kept (``a=&b`` gives two empty strings), and text must
    be UTF-8 after percent-decoding (400 otherwise).  Too many fields, a name too long or a
    value too large give 413, naming the limit.
    """
    if not body:
        return FormData()
    max_fields = limits.form_max_fields
    pairs = body.replace(b"+", b" ").split(b"&")  # "+" is never a separator: replace it once
    if len(pairs) > max_fields and sum(1 for pair in pairs if pair) > max_fields:
        raise limit_exceeded("too many form fields", "form_max_fields", max_fields)
    max_name = limits.form_max_field_name_length
    max_size = limits.form_max_field_size
    items: list[tuple[str, FormValue]] = []
    append = items.append
    try:
        for pair in pairs:
            if not pair:
                continue
            name, _, value = pair.partition(b"=")
            # PERF: the "%" tests inline the common no-escape case; testing for the int is ~10x
            # faster than for b"%" (no buffer acquisition).  A name's byte length bounds its
            # length in characters, so the exact checks run only when needed.
            if _PERCENT in name:
                name = _percent_decode(name)
            if _PERCENT in value:
                value = _percent_decode(value)
            if len(name) > max_name or len(value) > max_size:
                _check_item(name, value, limits)
            append((name.decode(), value.decode()))
    except UnicodeDecodeError:
        raise BodyError(400, "form data is not valid UTF-8 after percent-decoding") from None
    return FormData(items)


async def parse_multipart(
    chunks: AsyncIterable[bytes], content_type: str, limits: BodyLimits
) -> FormData:
    """Parse a streamed ``multipart/form-data`` body into a :class:`FormData`.

    ``content_type`` is the full header value (its ``boundary`` is used).  Chunks are parsed
    as they arrive; limits give 413 (too many / too long / too large) or 415 (file extension),
    malformed bodies 400, and an exception raised by ``chunks`` propagates unchanged.  On any
    error every file created so far is closed first.  The caller enforces the total body size
    and the body timeout.
    """
    from .multipart import read_multipart  # PERF: python-multipart loads on first use

    return FormData(await read_multipart(chunks, content_type, limits))
