"""One ``Thing``..."""

import msgspec


class Thing(msgspec.Struct):
    a: int
