"""Stores: the async key-value protocol shared by stateful features, and its backends."""

from .base import Store, escape_glob
from .memory import MemoryStore
from .prefixed import PrefixedStore
from .selection import default_store

__all__ = ["MemoryStore", "PrefixedStore", "Store", "default_store", "escape_glob"]
