"""Building a feature's frozen options object from any spelling users write.

``app.cors(origin=...)``, ``app.cors({"origin": ...})`` and ``app.cors(CORSOptions(...))``
(optionally with keyword overrides) all end up as one validated dataclass; unknown names
fail at once with a "did you mean" hint (camelCase seed spellings map to snake_case).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import ConfigurationError

__all__ = ["coerce_options"]

T = TypeVar("T")


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check_names(
    values: Mapping[str, Any], names: tuple[str, ...], label: str, aliases: Mapping[str, str]
) -> None:
    for name in values:
        if name in names:
            continue
        suggestion = aliases.get(name)
        if suggestion is None and _camel_to_snake(str(name)) in names:
            suggestion = _camel_to_snake(str(name))
        if suggestion is None:
            suggestion = next(iter(difflib.get_close_matches(str(name), names, n=1)), None)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        raise ConfigurationError(
            f"unknown {label} option {name!r}{hint}; options are {', '.join(names)}"
        )


def coerce_options(
    cls: type[T],
    options: T | Mapping[str, Any] | None,
    kwargs: Mapping[str, Any] | None,
    *,
    label: str,
    aliases: Mapping[str, str] | None = None,
) -> T:
    """An instance of the options dataclass ``cls`` from an instance, a mapping and/or
    keyword overrides."""
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init)  # type: ignore[arg-type]
    extra = dict(kwargs or {})
    _check_names(extra, names, label, aliases or {})
    if isinstance(options, cls):
        return dataclasses.replace(options, **extra) if extra else options  # type: ignore[type-var]
    if options is None:
        base: dict[str, Any] = {}
    elif isinstance(options, Mapping):
        base = dict(options)
        _check_names(base, names, label, aliases or {})
    else:
        raise ConfigurationError(
            f"{label} options must be {cls.__name__}, a dict or keyword arguments, "
            f"not {type(options).__name__}"
        )
    return cls(**{**base, **extra})
