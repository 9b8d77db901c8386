"""``SettingsChecks``: what a block's ``check()`` uses to report errors and warnings.

Every block may define ``check(self, checks)``; the loader calls it once the values have
their types, innermost blocks first and the root last (the root sees every block, so
checks that involve several blocks live there).  Errors stop the app with one
:class:`~avian.config.SettingsError` listing them all; warnings are logged on the
``avian.config`` logger and the app starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from .problems import Problem

__all__ = ["SettingsChecks"]

T = TypeVar("T")


class SettingsChecks:
    """Reports about one block; ``field`` arguments are relative to it (``"port"``), and
    may reach into nested blocks (``"server.host"`` from the root)."""

    __slots__ = ("_errors", "_path", "_sources", "_warnings")

    def __init__(
        self,
        sources: Mapping[str, str],
        path: tuple[str, ...] = (),
        errors: list[Problem] | None = None,
        warnings: list[Problem] | None = None,
    ) -> None:
        self._sources = sources
        self._path = path
        self._errors: list[Problem] = [] if errors is None else errors
        self._warnings: list[Problem] = [] if warnings is None else warnings

    @property
    def errors(self) -> list[Problem]:
        """Every error reported so far (shared by all blocks)."""
        return self._errors

    @property
    def warnings(self) -> list[Problem]:
        """Every warning reported so far (shared by all blocks)."""
        return self._warnings

    def child(self, name: str) -> SettingsChecks:
        """The checks of the nested block ``name``."""
        return SettingsChecks(self._sources, (*self._path, name), self._errors, self._warnings)

    def path_of(self, field: str) -> str:
        """The dotted path of ``field`` from the root."""
        return ".".join((*self._path, *field.split("."))) if field else ".".join(self._path)

    def source_of(self, field: str) -> str:
        """Where the value of ``field`` came from (``"default"`` when nothing set it)."""
        path = self.path_of(field)
        # A field inside a block given as a whole (JSON) reports that block's source.
        while path:
            if path in self._sources:
                return self._sources[path]
            path = path.rpartition(".")[0]
        return "default"

    def error(self, field: str, message: str) -> None:
        """``field`` is wrong: the settings will be refused."""
        self._errors.append(Problem(self.path_of(field), message, self.source_of(field)))

    def warn(self, field: str, message: str) -> None:
        """``field`` is allowed but risky: logged at startup."""
        self._warnings.append(Problem(self.path_of(field), message, self.source_of(field)))

    def attempt(
        self, build: Callable[[], T], field: str = "", *, guess_from: object = None
    ) -> T | None:
        """Call ``build()`` and report its :class:`~avian.ConfigurationError` (or
        ``ValueError``/``TypeError``) as an error; returns its result, or ``None`` after an
        error.  Blocks use it to let the real component validate their values.

        The error is reported on ``field``; with ``guess_from`` (a block), on the first of
        the block's fields the message names, so the error shows where that value came from.
        """
        from ..errors import ConfigurationError

        try:
            return build()
        except (ConfigurationError, ValueError, TypeError) as exc:
            message = str(exc)
            if guess_from is not None and not field:
                field = _named_field(message, guess_from)
            self.error(field, message)
            return None


def _named_field(message: str, block: object) -> str:
    """The field of ``block`` that ``message`` mentions first, else ``""``; ``secret_key``
    is also found as "secret key(s)", ``origins`` as "origin"."""
    names = getattr(block, "__struct_fields__", None)
    if names is None:
        names = tuple(getattr(block, "__dataclass_fields__", {}))
    best: tuple[int, int, str] | None = None
    for name in names:
        spoken = name.replace("_", " ")
        stem = name[:-1] if name.endswith("s") else name
        variants = {name, spoken, stem, stem.replace("_", " ")}
        pattern = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        match = re.search(rf"(?<!\w)(?:{pattern})s?(?!\w)", message)
        if match is not None:
            candidate = (match.start(), -len(name), str(name))
            best = candidate if best is None else min(best, candidate)
    return best[2] if best else ""
