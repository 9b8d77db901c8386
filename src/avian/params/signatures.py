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

__all__ = [
    "Unresolved",
    "call_target",
    "is_async_callable",
    "read_signature",
    "return_annotation",
]


def _unwrapped(fn: Any) -> Any:
    """``fn`` without decorator wrappers (``__wrapped__``) and ``functools.partial`` layers."""
    target = inspect.unwrap(fn)
    while isinstance(target, functools.partial):
        target = inspect.unwrap(target.func)
    return target


def _is_plain_callable(target: Any) -> bool:
    """Functions, methods, builtins and classes: calling them runs them (or builds an
    instance), not a ``__call__`` defined by their type."""
    # Not ``inspect.isroutine``: it also takes any object with a ``__get__`` (a callable
    # object that binds like a method), whose ``__call__`` is what runs.
    return (
        inspect.isfunction(target)
        or inspect.ismethod(target)
        or inspect.isbuiltin(target)
        or isinstance(target, type)
    )


def call_target(fn: Any) -> Any:
    """What actually runs when ``fn`` is called: the function behind decorators and
    ``partial``, or, for an instance, its class's ``__call__`` (inherited ones included)."""
    target = _unwrapped(fn)
    if _is_plain_callable(target):
        return target
    call = getattr(type(target), "__call__", None)  # noqa: B004 - the type's, not the object's
    return target if call is None else _unwrapped(call)


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, also through decorators and ``partial``, and for
    objects whose class defines or inherits an ``async def __call__``."""
    target = _unwrapped(fn)
    if inspect.iscoroutinefunction(target):  # also objects marked by markcoroutinefunction
        return True
    return not _is_plain_callable(target) and inspect.iscoroutinefunction(call_target(target))


def _hint_sources(fn: Any) -> list[Any]:
    """Objects whose annotations describe ``fn``'s parameters, most specific first."""
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, type):
        return [target.__init__, target]  # type: ignore[misc]
    if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target):
        return [target]
    call = getattr(type(target), "__call__", None)  # noqa: B004 - the type's, not the object's
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
