"""Answers kept by the hash of what was asked, so unchanged code is never sent twice."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["AnswerCache", "answer_key"]


def answer_key(*parts: str) -> str:
    """A stable key for one question (model, level and every source shown)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


class AnswerCache:
    """A JSON file of ``key -> answer``; ``path=None`` keeps answers in memory only."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._data: dict[str, Any] = {}
        self.loaded = False
        """True when answers were read from an existing file."""
        if self.path is not None and self.path.is_file():
            try:
                loaded = msgspec.json.decode(self.path.read_bytes())
            except msgspec.DecodeError:
                loaded = {}  # a corrupt cache is rebuilt, not fatal
            if isinstance(loaded, dict):
                self._data = loaded
                self.loaded = True
        self.hits = 0
        self.offline = False
        """Answer only from the file: never ask the endpoint (CI)."""

    def get(self, key: str) -> Any | None:
        value = self._data.get(key)
        if value is not None:
            self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        self._data[key] = value

    def save(self) -> None:
        """Write atomically (a crash never leaves half a file)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(self._data), indent=1))
        os.replace(tmp, self.path)
