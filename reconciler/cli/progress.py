"""Progress bars on a terminal, for reading a site and for applying. rich's progress machinery is the
heaviest part of its import, so the commands import this module only when they draw a bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler.cli.ui import Ui


@contextmanager
def progress_bar(ui: Ui, title: str, description: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient bar on stderr (`title` then the task's `description`); yields what advances it by one."""
    columns = (TextColumn(title), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    console = Console(stderr=True, no_color=ui.color is False, force_terminal=ui.color, highlight=False)
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
