"""Reading a callable's parameters and resolved annotations (handlers and providers alike).

Functions, ``functools.partial`` objects, decorated functions, classes (their ``__init__``)
and instances with a ``__call__`` method are all accepted.  Annotations are resolved with
``Annotated`` extras kept, so markers such as ``Query(ge=1)`` survive.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Unresolved", "is_async_callable", "read_signature", "return_annotation"]


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, also through decorators and ``partial``, and for
    objects whose ``__call__`` is ``async def``."""
    target = inspect.unwrap(fn)
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    # An instance whose class defines ``async def __call__``.
    call = vars(type(target)).get("__call__")
    return call is not None and inspect.iscoroutinefunction(call)


def _hint_sources(fn: Any) -> list[Any]:
    """Objects whose annotations describe ``fn``'s parameters, most specific first."""
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, type):
        return [target.__init__, target]  # type: ignore[misc]
    if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target):
        return [target]
    call = vars(type(target)).get("__call__") or getattr(type(target), "__call__", None)  # noqa: B004
    return [call] if call is not None else []


def read_signature(fn: Callable[..., Any], where: str) -> tuple[inspect.Signature, dict[str, Any]]:
    """``fn``'s signature and its parameters' resolved annotations (``Annotated`` kept)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{where}: cannot read the signature: {exc}") from None
    hints: dict[str, Any] = {}
    for source in reversed(_hint_sources(fn)):
        try:
            hints.update(typing.get_type_hints(source, include_extras=True))
        except (TypeError, AttributeError):
            continue  # builtins and C types carry no annotations
        except NameError:
            hints.update(_resolve_each(source))
    return signature, hints


class Unresolved(str):
    """An annotation string that names something not importable where the function lives
    (a ``TYPE_CHECKING``-only import, a local class): usable only where the type does not
    matter (``ctx``, a parameter with a default)."""

    __slots__ = ()


def _resolve_each(source: Any) -> dict[str, Any]:
    """Annotations resolved one by one, so one unresolvable name spoils only its own
    parameter (kept as :class:`Unresolved`)."""
    annotations = getattr(source, "__annotations__", None) or {}
    namespace = getattr(inspect.unwrap(source), "__globals__", {})
    resolved: dict[str, Any] = {}
    for name, annotation in annotations.items():
        if not isinstance(annotation, str):
            resolved[name] = annotation
            continue
        try:
            resolved[name] = typing.get_type_hints(
                _Holder(annotation), namespace, include_extras=True
            )["value"]
        except Exception:
            resolved[name] = Unresolved(annotation)
    return resolved


class _Holder:
    """Something ``typing.get_type_hints`` resolves a single annotation string on."""

    def __init__(self, annotation: str) -> None:
        self.__annotations__ = {"value": annotation}


def return_annotation(fn: Callable[..., Any]) -> Any:
    """The declared return type (``inspect.Parameter.empty`` when none)."""
    sources = _hint_sources(fn)
    if not sources or isinstance(fn, type):
        return inspect.Parameter.empty
    try:
        hints = typing.get_type_hints(sources[0], include_extras=True)
    except Exception:
        return inspect.Parameter.empty
    return hints.get("return", inspect.Parameter.empty)
