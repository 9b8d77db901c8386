"""Registering the OpenAPI document and docs UI routes on an app at startup."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import App

__all__ = ["install_openapi"]


def install_openapi(app: App) -> None:
    """Add ``/openapi.json``, ``/openapi.yaml`` and ``/docs`` (as configured) to ``app``."""
