"""Built-in middleware: CORS, security headers, allowed hosts / HTTPS redirect, compression.

Each is an avian middleware (``async def __call__(self, ctx, call_next)``); the app installs
CORS and security headers in front of the user's own middleware.
"""

from .compression import CompressionMiddleware
from .cors import CORSMiddleware, CORSOptions
from .hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware
from .shield import ShieldMiddleware, ShieldOptions, shield_override

__all__ = [
    "AllowedHostsMiddleware",
    "CORSMiddleware",
    "CORSOptions",
    "CompressionMiddleware",
    "HTTPSRedirectMiddleware",
    "ShieldMiddleware",
    "ShieldOptions",
    "shield_override",
]
