"""avian: a batteries-included async web framework (ASGI 3, Python 3.11+)."""

from . import errors
from .errors import ConfigurationError, HTTPError
from .http.limits import BodyLimits, HeaderLimits

__all__ = ["BodyLimits", "ConfigurationError", "HTTPError", "HeaderLimits", "errors"]
__version__ = "0.1.0"
