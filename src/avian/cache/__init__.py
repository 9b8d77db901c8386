"""Caching: the ``Cache`` service over any store, and response caching middleware."""

from .responses import ResponseCache, cache, cache_response
from .service import Cache

__all__ = ["Cache", "ResponseCache", "cache", "cache_response"]
