"""``http``: request handling switches of ``App(...)``: slashes, method override, the global
method filter, request ids and the default entry page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block import SettingsBlock

if TYPE_CHECKING:
    from .checks import SettingsChecks

__all__ = ["HTTPSettings"]


class HTTPSettings(SettingsBlock, frozen=True, kw_only=True):
    """The ``App`` options of the same names; an empty ``allowed_methods`` allows every
    method (no filter)."""

    redirect_slashes: bool = True
    method_override: bool = True
    method_override_header: bool = False
    allowed_methods: tuple[str, ...] = ()
    request_id_header: str | None = "x-request-id"
    default_entry: bool = False

    def app_options(self) -> dict[str, Any]:
        return {
            "redirect_slashes": self.redirect_slashes,
            "method_override": self.method_override,
            "method_override_header": self.method_override_header,
            "allowed_methods": self.allowed_methods or None,
            "request_id_header": self.request_id_header,
            "default_entry": self.default_entry,
        }

    def check(self, checks: SettingsChecks) -> None:
        for method in self.allowed_methods:
            if not method.isascii() or not method.isalpha():
                checks.error("allowed_methods", f"{method!r} is not an HTTP method name")
