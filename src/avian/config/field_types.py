"""Field types for settings: numbers written with units, and common constraints.

``ByteSize`` and ``Seconds`` are plain ``int``/``float`` to type checkers and to the code
that reads them; the ``Annotated`` marker tells the loader to also accept ``"10MB"`` or
``"5m"``.  The ``msgspec.Meta`` constraints are checked by the loader at startup.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "DURATION",
    "SIZE",
    "ByteSize",
    "Port",
    "PositiveInt",
    "PositiveSeconds",
    "PositiveSize",
    "Seconds",
    "Unit",
]


class Unit:
    """Marks an ``Annotated`` number as written with units (a size, a duration)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Unit({self.name!r})"


SIZE = Unit("size")
DURATION = Unit("duration")

ByteSize = Annotated[int, SIZE]
"""Bytes: an ``int``, or text such as ``"512KiB"`` or ``"10MB"``."""
Seconds = Annotated[float, DURATION]
"""Seconds: a number, a ``timedelta``, or text such as ``"100ms"``, ``"30s"``, ``"5m"``."""

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
PositiveSize = Annotated[int, SIZE, msgspec.Meta(gt=0)]
PositiveSeconds = Annotated[float, DURATION, msgspec.Meta(gt=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
