"""Apps named as ``"module:attr"`` import strings: importing one, and naming an app object.

Worker and reload processes are started with ``spawn`` and import the app afresh, so the
server must be able to name an app by an import string; :func:`infer_import_string` finds
one for an app object (including an app defined in the script being run), and
:func:`import_app` turns a string back into the app with errors that say what went wrong.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ConfigurationError

__all__ = ["AppLoadError", "import_app", "infer_import_string"]


class AppLoadError(ConfigurationError):
    """An app given as ``"module:attr"`` could not be imported."""


def import_app(spec: str) -> Any:
    """Import ``"module:attr"`` (``attr`` defaults to ``app``; dotted attributes allowed)."""
    module_name, _, attrs = spec.partition(":")
    attrs = attrs or "app"
    if not module_name or not all(part.isidentifier() for part in attrs.split(".")):
        raise AppLoadError(f"app must look like 'module:attribute', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise AppLoadError(
                f"could not import module {module_name!r} (not found on sys.path)"
            ) from exc
        raise AppLoadError(
            f"error while importing {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise AppLoadError(
            f"error while importing {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attrs.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attrs!r}") from None
    return obj


def infer_import_string(app: object) -> str:
    """Find ``"module:attr"`` naming ``app`` so worker and reload processes can import it.

    A regular module holding the object is preferred; an app that lives only in a script
    run as ``python script.py`` is named after the script, whose directory is put on
    ``sys.path`` and ``PYTHONPATH`` so child processes can import it.
    """
    for name in sorted(sys.modules):
        if name in ("__main__", "__mp_main__") or name == "avian" or name.startswith("avian."):
            continue
        attr = _attribute_holding(sys.modules[name], app)
        if attr is not None:
            return f"{name}:{attr}"
    main = sys.modules.get("__main__")
    attr = _attribute_holding(main, app) if main is not None else None
    if main is None or attr is None:
        raise ConfigurationError(
            "cannot find a module attribute holding the app; workers and reload need it as an "
            "import string: pass 'module:attr' instead of the app object"
        )
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":  # run as python -m pkg.mod
        return f"{spec.name}:{attr}"
    script = getattr(main, "__file__", None)
    if not script:
        raise ConfigurationError(
            "cannot name an app defined interactively; pass 'module:attr' instead"
        )
    path = Path(script).resolve()
    if not path.stem.isidentifier():
        raise ConfigurationError(
            f"cannot import script {path.name!r} as a module (not a Python identifier); "
            "rename it or pass 'module:attr'"
        )
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    python_path = os.environ.get("PYTHONPATH", "")
    if directory not in python_path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (directory, python_path) if p)
    return f"{path.stem}:{attr}"


def _attribute_holding(module: ModuleType | None, obj: object) -> str | None:
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return None
    if namespace.get("app") is obj:
        return "app"
    for key, value in list(namespace.items()):
        if value is obj and isinstance(key, str) and key.isidentifier():
            return key
    return None
