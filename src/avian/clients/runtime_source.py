"""The fixed part every generated client carries, read from the file it is kept in.

Each runtime (``python_runtime.py``, ``typescript_runtime.ts``) is real code, linted and
type-checked with avian; what follows its ``--- RUNTIME STARTS ---`` comment line is copied
verbatim into every generated client.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["RUNTIME_MARKER", "runtime_source"]

RUNTIME_MARKER = "--- RUNTIME STARTS ---"


def runtime_source(filename: str) -> str:
    """The text after the marker line of the runtime file ``filename`` (in this package)."""
    text = resources.files(__package__).joinpath(filename).read_text("utf-8")
    start = text.index("\n", text.index(RUNTIME_MARKER))
    return text[start:].strip("\n")
