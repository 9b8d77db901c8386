"""...and another ``Thing`` (plus a pydantic model called ``Thing`` too)."""

import msgspec
import pydantic


class Thing(msgspec.Struct):
    b: str


class PydThing(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(title="Thing")

    c: float
