"""Stores: the async key-value protocol shared by stateful features, and its backends."""

from .base import Store
from .memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
