"""``python -m examples.showcase`` serves the showcase (PORT env var, default 3000)."""

from .app import app

app.listen()
