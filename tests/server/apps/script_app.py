"""Serves itself with ``avian.server.serve()``, as a user's script calling ``app.listen()``.

``python script_app.py workers`` runs two workers (the import string is inferred from
``__main__``); ``python script_app.py manual`` disables signal handling and stops through
the app's shutdown callback (``GET /shutdown``), as ``app.request_shutdown()`` does;
``python script_app.py h11`` serves with uvicorn's h11 parser and a 0.5 s header timeout.
"""

import os
import sys

from basic import app as basic_app
from basic import record, send_text

from avian.server import serve


class ScriptApp:
    """An object app, so serve() can set server_address and _shutdown_callback on it."""

    server_address = None
    _shutdown_callback = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/address":
            await send_text(send, repr(self.server_address))
        elif scope["type"] == "http" and scope["path"] == "/shutdown":
            await send_text(send, "bye")
            self._shutdown_callback()
        else:
            await basic_app(scope, receive, send)


app = ScriptApp()

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "workers":
        serve(app, workers=2, port=0, access_log=False)
    elif mode == "manual":
        serve(
            app,
            port=0,
            auto_graceful_shutdown=False,
            on_listening=lambda url: record("listening " + url),
        )
    elif mode == "h11":  # uvicorn's pure-Python HTTP parser, with a short header timeout
        serve(app, port=0, header_timeout=0.5, uvicorn_options={"http": "h11"})
    record(f"returned {os.getpid()}")
