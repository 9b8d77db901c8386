"""The ``avian`` command line: ``avian run``, ``avian routes`` and the commands to come.

Each subcommand lives in its own module here and is listed in
:data:`avian.cli.main.COMMANDS`; see ``docs/cli.md``.
"""
