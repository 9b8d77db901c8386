"""Fixtures of the end-to-end server tests (implemented in ``server_helpers``)."""

from server_helpers import events, spawn

__all__ = ["events", "spawn"]
