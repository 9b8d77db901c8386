"""``load_settings``: defaults from the code, then the environment, then ``.env``, then
explicit overrides, each later source winning field by field.

The ``.env`` file wins over the environment on purpose: it is the file the app ships or the
operator edits for this app, while the environment is shared by everything the shell runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Mapping
from os import PathLike
from typing import Any, TypeVar, overload

import msgspec

from ..errors import ConfigurationError
from .conversion import ConversionError, convert, record_hints
from .dotenv import read_env_file
from .problems import Problem, SettingsError
from .schema import MISSING, SettingInfo, block_type, describe_settings, field_default
from .settings import Settings
from .validation import logger, shown, validate_settings

__all__ = ["load_settings"]

S = TypeVar("S")

FieldPath = tuple[str, ...]


@overload
def load_settings(
    *,
    env: Mapping[str, str] = ...,
    env_prefix: str = ...,
    env_file: str | PathLike[str] | None = ...,
    overrides: Mapping[str, Any] | None = ...,
) -> Settings: ...


@overload
def load_settings(
    settings_cls: type[S],
    *,
    env: Mapping[str, str] = ...,
    env_prefix: str = ...,
    env_file: str | PathLike[str] | None = ...,
    overrides: Mapping[str, Any] | None = ...,
) -> S: ...


def load_settings(
    settings_cls: Any = Settings,
    *,
    env: Mapping[str, str] = os.environ,
    env_prefix: str = "AVIAN_",
    env_file: str | PathLike[str] | None = ".env",
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """Build ``settings_cls`` (:class:`Settings` or a subclass, or any Struct/dataclass)
    from, in increasing precedence: its defaults, ``env`` (variables named ``env_prefix`` +
    the field's path, e.g. ``AVIAN_SERVER_PORT``), the ``env_file`` (skipped when missing
    or ``None``), and ``overrides`` (``{"server": {"port": 8000}}`` or
    ``{"server.port": 8000}``).

    Every value is converted to its field's type and every block checked; all problems are
    raised together as one :class:`SettingsError`; risky values are logged as warnings on
    the ``avian.config`` logger.
    """
    loading = _Loading(describe_settings(settings_cls, env_prefix), env_prefix.upper())
    loading.take_variables(
        {name: (value, f"environment variable {name}") for name, value in env.items()},
        warn_all=False,
    )
    if env_file is not None:
        try:
            file_values = read_env_file(env_file)
        except SettingsError as exc:
            loading.problems.extend(exc.problems)
            file_values = {}
        loading.take_variables(
            {
                name: (item.value, f"{os.fspath(env_file)} line {item.line} ({name})")
                for name, item in file_values.items()
            },
            warn_all=True,
        )
    if overrides:
        loading.take_overrides(overrides, ())
    converted = loading.convert_all()
    settings = loading.build(settings_cls, (), None, converted)
    failed = frozenset(p.path for p in loading.problems if p.path)
    if settings is None:  # a block could not be built; its problem is reported
        raise SettingsError(loading.problems)
    validate_settings(settings, loading.sources, skip=failed, earlier=loading.problems)
    return settings


class _Loading:
    """The state of one :func:`load_settings` call."""

    def __init__(self, infos: tuple[SettingInfo, ...], prefix: str) -> None:
        self.by_env = {info.env_name: info for info in infos}
        self.by_path = {info.path: info for info in infos}
        self.prefix = prefix
        self.block_names = {info.env_name for info in infos if info.is_block}
        self.raw: dict[FieldPath, tuple[Any, str]] = {}
        """Field path -> (value, source); later sources overwrite earlier ones."""
        self.whole: dict[FieldPath, tuple[Any, str]] = {}
        """Block path -> (a block instance given in overrides, source)."""
        self.problems: list[Problem] = []

    @property
    def sources(self) -> dict[str, str]:
        found = {".".join(path): source for path, (_, source) in self.whole.items()}
        found.update({".".join(path): source for path, (_, source) in self.raw.items()})
        return found

    # --- collecting ------------------------------------------------------------------------

    def take_variables(self, variables: Mapping[str, tuple[str, str]], *, warn_all: bool) -> None:
        """Variables of one source (the environment, a ``.env`` file)."""
        matched: list[tuple[SettingInfo, str, str]] = []
        for name, (value, source) in variables.items():
            upper = name.upper()
            if not upper.startswith(self.prefix):
                continue
            if upper != name and upper in variables:
                continue  # "AVIAN_DEBUG" and "avian_debug": the exact spelling wins
            info = self.by_env.get(upper)
            if info is None:
                self._unknown(upper, source, warn_all)
                continue
            matched.append((info, value, source))
        # Blocks given whole (JSON) first, so a variable for one field wins over them.
        matched.sort(key=lambda item: (not item[0].is_block, len(item[0].path)))
        for info, value, source in matched:
            if info.is_block:
                self._take_block_json(info, value, source)
            else:
                self._set(info.path, value, source)

    def _unknown(self, name: str, source: str, warn_all: bool) -> None:
        if not self.prefix:
            return  # without a prefix every variable would be "unknown"
        rest = name[len(self.prefix) :]
        if not warn_all and not any(name.startswith(block + "_") for block in self.block_names):
            return  # AVIAN_SOMETHING_ELSE in the environment may belong to another tool
        known = [env_name[len(self.prefix) :] for env_name in self.by_env]
        close = difflib.get_close_matches(rest, known, n=1, cutoff=0.75)
        hint = f" (did you mean {self.prefix}{close[0]}?)" if close else ""
        logger.warning("%s is not a setting%s [%s]", self.prefix + rest, hint, source)

    def _take_block_json(self, info: SettingInfo, text: str, source: str) -> None:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self.problems.append(
                Problem(info.dotted, f"expected a JSON object, got {shown(text)}", source)
            )
            return
        self._take_mapping(value, info.path, f"{source}, as JSON")

    def _take_mapping(self, values: Mapping[str, Any], path: FieldPath, source: str) -> None:
        for key, value in values.items():
            field_path = (*path, *str(key).split("."))
            info = self.by_path.get(field_path)
            if info is None:
                self.problems.append(Problem(".".join(field_path), "is not a setting", source))
            elif info.is_block and isinstance(value, Mapping):
                self._take_mapping(value, field_path, source)
            elif info.is_block:
                block = block_type(info.hint)
                if block is not None and isinstance(value, block):
                    self._set_whole(field_path, value, source)
                else:
                    self.problems.append(
                        Problem(
                            info.dotted,
                            f"expected a mapping or a {getattr(block, '__name__', 'block')}, "
                            f"got {shown(value)}",
                            source,
                        )
                    )
            else:
                self._set(field_path, value, source)

    def take_overrides(self, overrides: Mapping[str, Any], path: FieldPath) -> None:
        self._take_mapping(overrides, path, "overrides")

    def _set(self, path: FieldPath, value: Any, source: str) -> None:
        self.raw[path] = (value, source)

    def _set_whole(self, path: FieldPath, block: Any, source: str) -> None:
        # A whole block replaces what earlier sources said about its fields.
        for known in [p for p in self.raw if p[: len(path)] == path]:
            del self.raw[known]
        for known in [p for p in self.whole if p[: len(path)] == path]:
            del self.whole[known]
        self.whole[path] = (block, source)

    # --- converting and building -------------------------------------------------------------

    def convert_all(self) -> dict[FieldPath, Any]:
        converted: dict[FieldPath, Any] = {}
        for path, (value, source) in self.raw.items():
            info = self.by_path[path]
            try:
                converted[path] = convert(value, info.hint, parse_text=True)
            except ConversionError as exc:
                detail = f" ({exc.detail})" if exc.detail else ""
                self.problems.append(
                    Problem(
                        info.dotted,
                        f"expected {exc.expected}, got {shown(value, info.secret)}{detail}",
                        source,
                    )
                )
        return converted

    def _touched(self, path: FieldPath) -> bool:
        size = len(path)
        return any(p[:size] == path for p in self.raw) or any(
            p[:size] == path and p != path for p in self.whole
        )

    def build(self, cls: type, path: FieldPath, base: Any, converted: dict[FieldPath, Any]) -> Any:
        """An instance of ``cls`` at ``path``: ``base`` (or the class defaults) with the
        converted values applied; ``None`` (and a problem) when it can't be made."""
        kwargs: dict[str, Any] = {}
        failed = False
        for name in record_hints(cls):
            field_path = (*path, name)
            info = self.by_path[field_path]
            if info.is_block:
                child_cls = block_type(info.hint)
                assert child_cls is not None
                given = self.whole.get(field_path)
                default = field_default(cls, name) if base is None else MISSING
                untouched = given is None and not self._touched(field_path)
                if untouched and (base is not None or default is not MISSING):
                    continue  # nothing changes this block: its default stands
                if given is not None:
                    child_base = given[0]
                elif base is not None:
                    child_base = getattr(base, name)
                else:
                    child_base = None if default is MISSING else default
                child = self.build(child_cls, field_path, child_base, converted)
                if child is None:
                    failed = True
                else:
                    kwargs[name] = child
            elif field_path in converted:
                kwargs[name] = converted[field_path]
            elif (
                base is None
                and field_default(cls, name) is MISSING
                and field_path not in self.raw  # (a value that failed conversion is reported)
            ):
                self.problems.append(
                    Problem(info.dotted, f"is required: set {info.env_name}", "default")
                )
                failed = True
            elif base is None and field_default(cls, name) is MISSING:
                failed = True  # its value failed conversion (reported)
        if failed:
            return None
        try:
            if base is None:
                return cls(**kwargs)
            if not kwargs:
                return base
            if isinstance(base, msgspec.Struct):
                return msgspec.structs.replace(base, **kwargs)
            return dataclasses.replace(base, **kwargs)
        except (TypeError, ValueError, ConfigurationError) as exc:
            source = self.sources.get(".".join(path), "default")
            self.problems.append(Problem(".".join(path), str(exc), source))
            return None
