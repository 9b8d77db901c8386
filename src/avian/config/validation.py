"""Checking a settings object: every value against its declared type, then every block's
``check()``; errors are raised together, warnings logged on ``avian.config``."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from .checks import SettingsChecks
from .conversion import ConversionError, convert, is_record_type, record_hints
from .problems import Problem, SettingsError
from .schema import is_sensitive
from .secret import Secret, redact_url

__all__ = ["is_validated", "iter_blocks", "logger", "shown", "validate_settings"]

logger = logging.getLogger("avian.config")

_validated: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
"""Settings objects that passed :func:`validate_settings`, by ``id`` (settings holding
dicts are not hashable); ``build_app`` does not check them again."""


def iter_blocks(settings: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``settings`` and every nested block, parents first, in declaration order."""
    yield path, settings
    for name in record_hints(type(settings)):
        value = getattr(settings, name)
        if is_record_type(type(value)):
            yield from iter_blocks(value, (*path, name))


def shown(value: Any, secret: bool = False) -> str:
    """A value as error messages show it: secrets masked, URL passwords masked, long text cut."""
    if secret or isinstance(value, Secret):
        return "'***'"
    text = repr(redact_url(value)) if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_settings(
    settings: Any,
    sources: Mapping[str, str] | None = None,
    *,
    skip: frozenset[str] = frozenset(),
    earlier: list[Problem] | None = None,
) -> None:
    """Raise :class:`SettingsError` listing every wrong value of ``settings`` (and the
    ``earlier`` problems); log the warnings.

    ``sources`` maps dotted paths to where their values came from; values not in it are
    the code's.  Problems under a path in ``skip`` (already reported) are dropped.
    """
    sources = sources or {}
    errors: list[Problem] = list(earlier or ())
    warnings: list[Problem] = []
    _check_types(settings, (), sources, errors, skip)
    root = SettingsChecks(sources, (), [], warnings)
    # Inner blocks before the block holding them (the root last), siblings in order.
    for path, block in _children_first(settings, ()):
        check = getattr(block, "check", None)
        if callable(check):
            checks = root
            for name in path:
                checks = checks.child(name)
            check(checks)
    errors.extend(p for p in root.errors if not _under(p.path, skip))
    for warning in warnings:
        logger.warning("%s", warning)
    if errors:
        raise SettingsError(errors)
    try:
        _validated[id(settings)] = settings
    except TypeError:  # pragma: no cover - a user's root type without weak references
        pass


def _children_first(settings: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name in record_hints(type(settings)):
        value = getattr(settings, name)
        if is_record_type(type(value)):
            yield from _children_first(value, (*path, name))
    yield path, settings


def is_validated(settings: Any) -> bool:
    """``settings`` passed :func:`validate_settings` already."""
    return _validated.get(id(settings)) is settings


def _under(path: str, skip: frozenset[str]) -> bool:
    while path:
        if path in skip:
            return True
        path = path.rpartition(".")[0]
    return False


def _check_types(
    block: Any,
    path: tuple[str, ...],
    sources: Mapping[str, str],
    errors: list[Problem],
    skip: frozenset[str],
) -> None:
    for name, hint in record_hints(type(block)).items():
        value = getattr(block, name)
        dotted = ".".join((*path, name))
        if is_record_type(type(value)) and is_record_type(hint):
            _check_types(value, (*path, name), sources, errors, skip)
            continue
        if _under(dotted, skip):
            continue
        try:
            convert(value, hint, parse_text=False)
        except ConversionError as exc:
            detail = f" ({exc.detail})" if exc.detail else ""
            errors.append(
                Problem(
                    dotted,
                    f"expected {exc.expected}, got {shown(value, is_sensitive(name, hint))}{detail}",
                    SettingsChecks(sources).source_of(dotted),
                )
            )
