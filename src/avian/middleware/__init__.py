"""Built-in middleware: CORS, security headers, allowed hosts / HTTPS redirect, compression.

Each is an avian middleware (``async def __call__(self, ctx, call_next)``); the app installs
CORS and security headers in front of the user's own middleware.
"""
