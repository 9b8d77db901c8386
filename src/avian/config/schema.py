"""The shape of a settings class: every block and field, its path and its variable name.

A *block* is a field whose type is a msgspec Struct or a dataclass (``server``,
``limits``...); every other field is a *leaf*.  Names are the path joined by ``_`` and
upper-cased after the prefix: ``limits.max_body_size`` is ``AVIAN_LIMITS_MAX_BODY_SIZE``.
A block may also be given whole, as a JSON object, under its own name (``AVIAN_CORS``).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Final, Union, get_args, get_origin

import msgspec

from ..errors import ConfigurationError
from .conversion import describe, is_record_type, record_hints
from .secret import Secret

__all__ = [
    "MISSING",
    "SettingInfo",
    "block_type",
    "describe_settings",
    "field_default",
    "is_sensitive",
    "mentions_secret",
]


class _Missing:
    """The default of a field that has none (it must be set)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One field of a settings class, as the loader and the docs see it."""

    path: tuple[str, ...]
    """Field names from the root: ``("limits", "max_body_size")``."""
    env_name: str
    """The variable that sets it: ``AVIAN_LIMITS_MAX_BODY_SIZE``."""
    hint: Any
    """The declared type (``Annotated`` kept)."""
    default: Any
    """The value used when nothing sets it (:data:`MISSING` when it must be set)."""
    is_block: bool
    """A nested block (set field by field, or whole as a JSON object)."""

    @property
    def dotted(self) -> str:
        """``"limits.max_body_size"``."""
        return ".".join(self.path)

    @property
    def secret(self) -> bool:
        """Values of this field are never shown (see :func:`is_sensitive`)."""
        return is_sensitive(self.path[-1], self.hint)

    @property
    def expected(self) -> str:
        """What a value looks like (``"an integer"``, ``"a size (...)"``)."""
        return describe(self.hint)


_SENSITIVE_WORDS = ("password", "secret", "token", "api_key", "credential")


def is_sensitive(name: str, hint: Any) -> bool:
    """Values of a field are never shown in errors when its type holds a :class:`Secret`,
    its name says it is one (``password``, ``secret``, ``token``...), or it is a mapping
    (option blobs such as ``mongo_options`` may carry credentials)."""
    lowered = name.lower()
    if any(word in lowered for word in _SENSITIVE_WORDS):
        return True
    return mentions_secret(hint) or _is_mapping(hint)


def _is_mapping(hint: Any) -> bool:
    if get_origin(hint) is Annotated:
        hint = get_args(hint)[0]
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return any(_is_mapping(arg) for arg in get_args(hint))
    return (origin or hint) in (dict, Mapping)


def mentions_secret(hint: Any) -> bool:
    """True when values of type ``hint`` hold a :class:`Secret`."""
    if hint is Secret:
        return True
    return any(mentions_secret(arg) for arg in get_args(hint) if arg is not Ellipsis)


def field_default(cls: Any, name: str) -> Any:
    """The default value of field ``name`` of a Struct or dataclass (factories called), or
    :data:`MISSING`."""
    default, factory = _field_defaults(cls)[name]
    if default is not MISSING:
        return default
    return factory() if factory is not None else MISSING


@lru_cache(maxsize=256)
def _field_defaults(cls: Any) -> dict[str, tuple[Any, Any]]:
    """Per field: (default or MISSING, default factory or None)."""
    found: dict[str, tuple[Any, Any]] = {}
    if issubclass(cls, msgspec.Struct):
        for info in msgspec.structs.fields(cls):
            default = MISSING if info.default is msgspec.NODEFAULT else info.default
            factory = None if info.default_factory is msgspec.NODEFAULT else info.default_factory
            found[info.name] = (default, factory)
    else:
        for f in dataclasses.fields(cls):
            default = MISSING if f.default is dataclasses.MISSING else f.default
            factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
            found[f.name] = (default, factory)
    return found


def describe_settings(settings_cls: type, env_prefix: str = "AVIAN_") -> tuple[SettingInfo, ...]:
    """Every block and leaf of ``settings_cls``, depth first in declaration order.

    Raises :class:`~avian.ConfigurationError` when two fields would share a variable name
    (``rate.limit`` and ``rate_limit``) or a field's type can't be read.
    """
    return _describe(settings_cls, env_prefix)


@lru_cache(maxsize=64)
def _describe(settings_cls: type, env_prefix: str) -> tuple[SettingInfo, ...]:
    if not is_record_type(settings_cls):
        raise ConfigurationError(
            f"settings class must be a msgspec Struct or a dataclass, got {settings_cls!r}"
        )
    found: list[SettingInfo] = []
    _walk(settings_cls, (), settings_cls_default(settings_cls), env_prefix.upper(), found, ())
    seen: dict[str, str] = {}
    for info in found:
        other = seen.setdefault(info.env_name, info.dotted)
        if other != info.dotted:
            raise ConfigurationError(
                f"settings {other!r} and {info.dotted!r} would both be set by {info.env_name}; "
                "rename one of them"
            )
    return tuple(found)


def settings_cls_default(cls: type) -> Any:
    """An instance made of defaults only, when the class has a default for every field."""
    try:
        return cls()
    except Exception:  # required fields (or a broken default): leaf defaults come from the class
        return None


def _walk(
    cls: type,
    path: tuple[str, ...],
    instance: Any,
    prefix: str,
    found: list[SettingInfo],
    parents: tuple[type, ...],
) -> None:
    if cls in parents:
        raise ConfigurationError(f"settings block {cls.__name__} contains itself")
    try:
        hints = record_hints(cls)
    except Exception as exc:
        raise ConfigurationError(f"cannot read the fields of {cls.__name__}: {exc}") from None
    for name, hint in hints.items():
        field_path = (*path, name)
        env_name = prefix + "_".join(field_path).upper()
        default = getattr(instance, name) if instance is not None else field_default(cls, name)
        block = block_type(hint)
        found.append(SettingInfo(field_path, env_name, hint, default, block is not None))
        if block is not None:
            child = default if isinstance(default, block) else None
            _walk(block, field_path, child, prefix, found, (*parents, cls))


def block_type(hint: Any) -> type | None:
    """The Struct/dataclass type of a nested block (``Annotated`` unwrapped), else ``None``."""
    if get_origin(hint) is not None and get_args(hint) and hasattr(hint, "__metadata__"):
        hint = get_args(hint)[0]
    return hint if is_record_type(hint) else None
