"""A pydantic model called ``Thing``, clashing with the msgspec ones."""

import pydantic


class Thing(pydantic.BaseModel):
    d: bool
