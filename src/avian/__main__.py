"""``python -m avian``: the ``avian`` command, for when the console script is not on ``PATH``."""

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
