"""The command line (moving into this package; for one commit its face hands on the names of commands.py)."""

from reconciler.cli.commands import EXIT_ERROR, Ui, cli, main, serve_banner

__all__ = ["EXIT_ERROR", "Ui", "cli", "main", "serve_banner"]
