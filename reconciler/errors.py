"""Diagnostics and the error hierarchy shared by every stage.

A Diagnostic is a problem to show a user; a ReconcilerError stops a command and carries diagnostics.
Only the CLI turns errors into output and exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A position in a manifest file, 1-based like editors show it."""

    file: str
    line: int
    column: int

    def __post_init__(self) -> None:
        if self.line < 1 or self.column < 1:
            raise ValueError(f"SourceSpan is 1-based, got {self.line}:{self.column}")

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# A file given as a manifest may be anything, a credential file too, and messages reach a pull request.
QUOTED_CHARACTERS = 20


def shortened(text: str) -> str:
    """Text read from a file as a message may quote it: at most QUOTED_CHARACTERS characters."""
    return text if len(text) <= QUOTED_CHARACTERS else f"{text[: QUOTED_CHARACTERS - 1]}…"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    source: SourceSpan | None = None
    address: str | None = None

    def format(self) -> str:
        """The yamllint/ansible-lint line: `file:line:col: error[code]: message`."""
        where = f"{self.source}: " if self.source else ""
        subject = f"{self.address}: " if self.address and not self.source else ""
        return f"{where}{self.severity}[{self.code}]: {subject}{self.message}"

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"severity": str(self.severity), "code": self.code, "message": self.message}
        if self.address:
            data["address"] = self.address
        if self.source:
            data.update(file=self.source.file, line=self.source.line, column=self.source.column)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        """The diagnostic `to_json` gave. Raises KeyError, ValueError or TypeError on malformed data."""
        source = (
            SourceSpan(str(data["file"]), int(data["line"]), int(data["column"])) if "file" in data else None
        )
        address = data.get("address")
        return cls(Severity(data["severity"]), str(data["code"]), str(data["message"]), source, address)


# The code of the line that says a limit cut the errors (manifest/load.py, which writes it literally for the
# scan of docs/troubleshooting.md): the errors are then not all counted.
MORE_PROBLEMS = "manifest.too_many_problems"


def error_count(diagnostics: Iterable[Diagnostic]) -> str:
    """`N error(s)` for a summary line; when a limit cut the errors, the N shown, and no claim of a total."""
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    shown = [d for d in errors if d.code != MORE_PROBLEMS]
    if len(shown) < len(errors):
        return f"{len(shown)} error(s) (and more, not counted)"
    return f"{len(errors)} error(s)"


def error(
    code: str, message: str, *, source: SourceSpan | None = None, address: str | None = None
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, source, address)


def warning(
    code: str, message: str, *, source: SourceSpan | None = None, address: str | None = None
) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, source, address)


@dataclass
class ReconcilerError(Exception):
    """Stops a command. The CLI prints `message` and every diagnostic, then exits 1."""

    message: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class ConfigError(ReconcilerError):
    """Bad manifests, bad options or bad environment."""


@dataclass
class SiteError(ReconcilerError):
    """The site answered with an error, or could not be reached.

    `endpoint` is `METHOD URL-path` (never with credentials), `status` the HTTP status or None for a
    network failure, `detail` the API's own error text, `source` the manifest position that the refusal
    is about when a kind can tell (otherwise the change's own).
    """

    endpoint: str = ""
    status: int | None = None
    detail: str = ""
    request_id: str | None = None
    source: SourceSpan | None = None


class TerminalSiteError(SiteError):
    """Retrying will not help: 4xx, malformed responses."""


class RetryableSiteError(SiteError):
    """Retries ran out on a transient failure: 429, 5xx, timeouts, dropped connections."""


class UnsafePlanError(ReconcilerError):
    """The plan deletes or changes more than the thresholds allow, or needs --allow-delete."""


class PlanMismatchError(ReconcilerError):
    """A saved plan no longer matches the live site."""
