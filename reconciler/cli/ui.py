"""Where the command line's output goes, and how an outcome becomes an exit code.

Every error reaches the user as a message with an address or a file:line:col, never as a traceback
(`--debug` shows one for developers). Output passes through a filter that blanks the credentials. This module
imports nothing heavy: every command, and `--help`, goes through it.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import ParamSpec, TextIO

import click

from reconciler.errors import Diagnostic, ReconcilerError
from reconciler.redaction import basic_auth_secrets, redactor
from reconciler.render.diagnostics import github_annotations, render_diagnostics
from reconciler.render.workflow_commands import inert

P = ParamSpec("P")
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class InterruptedExit(SystemExit):
    """The exit of a command that Ctrl-C stopped: exit 1, as every error (CLI.md allows no other code), and
    the process does not wait for threads that nothing can cut short."""

    def __init__(self) -> None:
        super().__init__(EXIT_ERROR)


class CtrlC:
    """The SIGINT handler while a command runs. The first Ctrl-C stops the waits of the site clients in
    use, in every thread (reconciler/interruption.py), and raises KeyboardInterrupt in the main thread; the
    tool then stops within about a second, and ignores another Ctrl-C meanwhile, so that the journal gets
    its last lines."""

    def __init__(self) -> None:
        self.stops: list[Callable[[], None]] = []
        self.pressed = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.pressed:
            return
        self.pressed = True
        for stop in self.stops:
            stop()
        raise KeyboardInterrupt


@contextmanager
def _handling_ctrl_c(handler: CtrlC) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set one
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class Ui:
    """Where output goes. Every line passes `redact`, so a credential can never be printed.

    `color` is False (--no-color, NO_COLOR), True (FORCE_COLOR), or None: colour on a terminal only.
    With `github` (GitHub Actions), what is printed cannot be a workflow command; only `annotate` makes some.
    """

    color: bool | None = None
    quiet: bool = False
    debug: bool = False
    secrets: list[str] = field(default_factory=list)
    github: bool = False
    redact: Callable[[str], str] = field(init=False, repr=False)
    ctrl_c: CtrlC = field(default_factory=CtrlC, repr=False)

    def __post_init__(self) -> None:
        self.redact = redactor(self.secrets)

    def shown(self, text: str) -> str:
        redacted = self.redact(text)
        return inert(redacted) if self.github else redacted

    def out(self, text: str) -> None:
        # Output sent to a file (`access --format csv > access.csv`) never reaches the runner, and wrapping
        # it in ::stop-commands:: would put two lines into the file.
        shown = self.redact(text) if _is_regular_file(sys.stdout) else self.shown(text)
        click.echo(shown, nl=not text.endswith("\n"), color=self.color)

    def stdout_color(self) -> bool:
        return self.color if self.color is not None else sys.stdout.isatty()

    def info(self, text: str) -> None:
        if not self.quiet:
            click.echo(self.shown(text), err=True)

    def fail(self, text: str) -> None:
        click.secho(self.shown(text), err=True, fg=None if self.color is False else "red", color=self.color)

    def annotate(self, diagnostics: Sequence[Diagnostic], *, err: bool) -> None:
        """Under GitHub Actions, the diagnostics as annotations on the files of a pull request."""
        if self.github:
            for annotation in github_annotations(diagnostics):
                click.echo(self.redact(annotation), err=err)

    def shows_progress(self) -> bool:
        """Whether a progress bar may be drawn: on a terminal, and not with --quiet."""
        return not self.quiet and sys.stderr.isatty()


def _is_regular_file(stream: TextIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):  # a test's stream has no file descriptor
        return False


def log_to_stderr(ui: Ui) -> None:
    """--verbose and --debug: every request and decision, on stderr, through the same filter as the output."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter(ui))
    handler.setFormatter(_ShownFormatter(ui, "%(levelname)s %(name)s: %(message)s"))
    for name in ("reconciler", "urllib3"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG)


class _RedactingFilter(logging.Filter):
    def __init__(self, ui: Ui) -> None:
        super().__init__()
        self.ui = ui

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.ui.redact(record.getMessage())
        record.args = None
        return True


class _ShownFormatter(logging.Formatter):
    """A log line as `Ui.shown` prints text: a file name or a site's message in it starts no command."""

    def __init__(self, ui: Ui, layout: str) -> None:
        super().__init__(layout)
        self.ui = ui

    def format(self, record: logging.LogRecord) -> str:
        return self.ui.shown(super().format(record))


def secrets() -> list[str]:
    """The credentials in the environment, in every form output could carry them."""
    token = os.environ.get("JSM_API_TOKEN", "").strip()
    found = [os.environ.get(name, "").strip() for name in ("JSM_OAUTH_TOKEN", "JSM_OAUTH_CLIENT_SECRET")]
    if token:
        found += basic_auth_secrets(os.environ.get("JSM_EMAIL", "").strip(), token)
    return found


def color_choice(no_color: bool, environ: Mapping[str, str]) -> bool | None:
    """--no-color and NO_COLOR (no-color.org) turn colour off; FORCE_COLOR (force-color.org) turns it
    on where output is not a terminal, as in CI logs; FORCE_COLOR=0 is read as off, as Node tools do."""
    if no_color or environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force:
        return force != "0"
    return None


def current_ui() -> Ui:
    ui: Ui = click.get_current_context().obj
    return ui


def handle_errors(command: Callable[P, int]) -> Callable[P, None]:
    """The one place that turns outcomes into exit codes and errors into messages."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        ui = current_ui()
        try:
            with _handling_ctrl_c(ui.ctrl_c):
                code = command(*args, **kwargs)
        except ReconcilerError as exc:
            ui.fail(f"Error: {exc.message}")
            if exc.diagnostics:
                ui.fail(render_diagnostics(exc.diagnostics))
                ui.annotate(exc.diagnostics, err=True)
            code = EXIT_ERROR
        except BrokenPipeError:
            # The reader of stdout went away (`| head`): nothing more can be shown, and Python's own flush at
            # exit would complain about the pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = EXIT_ERROR
        except (KeyboardInterrupt, click.Abort):  # click.prompt turns Ctrl-C into Abort
            ui.fail("Interrupted.")
            raise InterruptedExit() from None
        except Exception as exc:
            if ui.debug:
                raise
            ui.fail(f"Internal error: {type(exc).__name__}: {exc}. Run again with --debug for details.")
            code = EXIT_ERROR
        sys.exit(code)

    return wrapper


@contextmanager
def usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        exc.show()
        raise click.exceptions.Exit(EXIT_ERROR) from None
