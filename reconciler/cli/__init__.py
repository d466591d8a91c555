"""The command line. `commands.py` declares every command and its options; each command's work is in the
module of its group (offline.py, plan_apply.py, access.py, export.py, sandbox.py), imported when the
command runs. The console script and `python -m reconciler` call `main`, which this face hands on."""

from reconciler.cli.commands import cli, main

__all__ = ["cli", "main"]
