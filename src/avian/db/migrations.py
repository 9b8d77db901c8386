"""SQL migrations with Alembic, wired to an app's SQL connection (DB-07).

``avian db`` uses :class:`Migrations`; it may also be used from code::

    from avian.db.migrations import Migrations

    Migrations(app).upgrade()          # e.g. in a deploy script

Alembic runs from a :class:`alembic.config.Config` built here (no ``alembic.ini``): the
script directory is the connection's ``migrations`` option, and ``env.py`` (written by
:meth:`Migrations.init`) receives the app's engine factory and target metadata through
``config.attributes``, so the migrations use exactly the URL and driver options the app does.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ConfigurationError
from .errors import UnknownConnectionError, missing_driver
from .migration_templates import ENV_PY, README, REVISION_TEMPLATE

if TYPE_CHECKING:
    from alembic.config import Config

    from ..app import App
    from .sql import SQLConnection

__all__ = ["Migrations", "resolve_metadata"]


def _import_alembic() -> None:
    try:
        import alembic  # noqa: F401
    except ImportError:
        raise missing_driver("alembic", "sql", "SQL migrations") from None


def resolve_metadata(reference: Any) -> Any:
    """The ``MetaData`` a reference stands for.

    Accepts a ``MetaData``, a declarative base (its ``.metadata``), a sequence of
    ``MetaData``, or the string ``"package.module:Base.metadata"`` (imported here).
    """
    if reference is None:
        return None
    if isinstance(reference, str):
        module_name, sep, attribute = reference.partition(":")
        if not sep or not module_name or not attribute:
            raise ConfigurationError(
                f"metadata must look like 'module:Base.metadata', got {reference!r}"
            )
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"cannot import {module_name!r} for metadata: {exc}") from exc
        for part in attribute.split("."):
            try:
                target = getattr(target, part)
            except AttributeError:
                raise ConfigurationError(
                    f"{reference!r}: {module_name} has no attribute path {attribute!r}"
                ) from None
        reference = target
    from sqlalchemy import MetaData

    if isinstance(reference, MetaData):
        return reference
    if isinstance(getattr(reference, "metadata", None), MetaData):
        return reference.metadata
    if isinstance(reference, list | tuple) and all(isinstance(m, MetaData) for m in reference):
        return list(reference)
    raise ConfigurationError(
        f"metadata must be a SQLAlchemy MetaData or a declarative base, got {reference!r}"
    )


class Migrations:
    """Alembic commands against one SQL connection of ``app`` (``"sql"`` by default).

    ``directory`` overrides the connection's ``migrations`` option; a relative directory is
    taken from ``base_dir`` (default: the current directory).  ``metadata`` overrides the
    connection's ``metadata`` option.  Alembic's own output goes to ``stdout``.
    """

    def __init__(
        self,
        app: App,
        *,
        name: str = "sql",
        directory: str | os.PathLike[str] | None = None,
        metadata: Any = None,
        base_dir: str | os.PathLike[str] | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        _import_alembic()
        try:
            spec = app.db.spec(name)
        except UnknownConnectionError as exc:
            raise ConfigurationError(str(exc)) from None
        if spec.kind != "sql":
            raise ConfigurationError(
                f"migrations need a SQL connection; {name!r} is a {spec.kind} connection"
            )
        self.spec: SQLConnection = spec  # type: ignore[assignment]
        chosen = Path(directory) if directory is not None else self.spec.migrations
        self.directory = Path(base_dir or Path.cwd()) / chosen
        self._metadata_reference = metadata if metadata is not None else self.spec.metadata
        self._stdout = stdout or sys.stdout

    @property
    def metadata(self) -> Any:
        """The target ``MetaData`` (resolved on first use), or ``None``."""
        return resolve_metadata(self._metadata_reference)

    def config(self) -> Config:
        """An Alembic ``Config`` for this app's directory, engine and metadata."""
        from alembic.config import Config

        config = Config(stdout=self._stdout)
        config.set_main_option("script_location", str(self.directory))
        config.set_main_option("path_separator", "os")
        config.attributes["avian.engine_factory"] = self.spec.create_engine
        config.attributes["avian.url"] = self.spec.url
        config.attributes["avian.metadata"] = self.metadata
        return config

    def _require_directory(self) -> None:
        if not (self.directory / "env.py").is_file():
            raise ConfigurationError(
                f"no migrations directory at {self.directory}: run `avian db init` first"
            )

    def init(self) -> Path:
        """Create the migrations directory (``env.py``, the revision template, ``versions/``)."""
        if self.directory.exists() and any(self.directory.iterdir()):
            raise ConfigurationError(f"{self.directory} already exists and is not empty")
        (self.directory / "versions").mkdir(parents=True, exist_ok=True)
        (self.directory / "env.py").write_text(ENV_PY, encoding="utf-8")
        (self.directory / "script.py.mako").write_text(REVISION_TEMPLATE, encoding="utf-8")
        (self.directory / "README").write_text(README, encoding="utf-8")
        return self.directory

    def revision(
        self,
        message: str,
        *,
        autogenerate: bool | None = None,
        rev_id: str | None = None,
    ) -> list[Path]:
        """Write a new revision; autogenerated from the metadata when one is known (or when
        ``autogenerate=True``, which then requires it).  Returns the files written."""
        from alembic import command

        self._require_directory()
        if autogenerate is None:
            autogenerate = self._metadata_reference is not None
        if autogenerate and self.metadata is None:
            raise ConfigurationError(
                "autogenerate needs the models' metadata: pass with_sql(metadata=...) or "
                "--metadata module:Base.metadata"
            )
        result = command.revision(
            self.config(), message=message, autogenerate=autogenerate, rev_id=rev_id
        )
        scripts = result if isinstance(result, list) else [result]
        return [Path(script.path) for script in scripts if script is not None]

    def upgrade(self, revision: str = "head", *, sql: bool = False) -> None:
        """Apply revisions up to ``revision`` (``"head"``, an id, ``"+1"``)."""
        from alembic import command

        self._require_directory()
        command.upgrade(self.config(), revision, sql=sql)

    def downgrade(self, revision: str, *, sql: bool = False) -> None:
        """Undo revisions down to ``revision`` (an id, ``"-1"``, ``"base"``)."""
        from alembic import command

        self._require_directory()
        command.downgrade(self.config(), revision, sql=sql)

    def current(self, *, verbose: bool = False) -> None:
        """Print the revision the database is at."""
        from alembic import command

        self._require_directory()
        command.current(self.config(), verbose=verbose)

    def history(self, *, verbose: bool = False) -> None:
        """Print the revisions, newest first, marking the current one."""
        from alembic import command

        self._require_directory()
        command.history(self.config(), verbose=verbose, indicate_current=True)
