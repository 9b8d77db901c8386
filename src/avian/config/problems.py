"""What is wrong with the settings, and where each wrong value came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["Problem", "SettingsError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One wrong setting: its dotted ``path`` (``""`` for a whole file), what is wrong, and
    its ``source`` (``"environment variable AVIAN_SERVER_PORT"``, ``".env line 3"``,
    ``"default"``...)."""

    path: str
    message: str
    source: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message} [{self.source}]"


class SettingsError(ConfigurationError):
    """The settings can't be used; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the settings:\n{lines}")
