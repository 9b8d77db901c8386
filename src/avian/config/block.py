"""``SettingsBlock``: the base of every settings block (and of ``Settings`` itself).

A block is an immutable, keyword-only msgspec Struct whose ``repr`` hides secrets and URL
passwords.  Three optional hooks connect it to the app; a user's own block (a Struct or a
dataclass) may define any of them too:

- ``check(checks)``: report errors and risky values (see :class:`SettingsChecks`);
- ``app_options()``: keyword arguments this block contributes to ``App(...)``;
- ``install(app, settings)``: set the feature up on a built app (middleware, services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from .secret import redact_url

if TYPE_CHECKING:
    from ..app import App
    from .checks import SettingsChecks

__all__ = ["SettingsBlock"]


class SettingsBlock(msgspec.Struct, frozen=True, kw_only=True, weakref=True):
    """Base class of settings blocks; subclasses declare fields with defaults.

    Subclasses that add a field without a default must pass ``kw_only=True`` themselves
    (msgspec does not inherit it).
    """

    def check(self, checks: SettingsChecks) -> None:
        """Report wrong or risky values (the default reports nothing)."""

    def app_options(self) -> dict[str, Any]:
        """Keyword arguments for ``App(...)`` (the default contributes none)."""
        return {}

    def install(self, app: App, settings: Any) -> None:
        """Set this block's feature up on ``app`` (the default does nothing)."""

    def __repr__(self) -> str:
        parts = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            shown = repr(redact_url(value)) if isinstance(value, str) else repr(value)
            parts.append(f"{name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"
