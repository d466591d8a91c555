"""Diagnostics as text lines, plus GitHub Actions annotations so they show inline on a pull request."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import Diagnostic, Severity
from reconciler.render.workflow_commands import command


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """One `file:line:col: error[code]: message` line each."""
    return "\n".join(diagnostic.format() for diagnostic in diagnostics)


# GitHub shows at most 10 error, 10 warning and 10 notice annotations of a step (and 50 of a job), and drops
# the rest (actions/toolkit, docs/problem-matchers.md): more would only lengthen the log, where every
# diagnostic is also a line.
MAX_ERROR_ANNOTATIONS = 10
MAX_WARNING_ANNOTATIONS = 10


def github_annotations(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """The errors and the warnings, each up to what GitHub shows of a step, and a notice that the log has
    the rest. Each severity has its own room, so warnings, however many, never crowd out an error."""
    errors = [d for d in diagnostics if d.severity is Severity.ERROR][:MAX_ERROR_ANNOTATIONS]
    others = [d for d in diagnostics if d.severity is not Severity.ERROR][:MAX_WARNING_ANNOTATIONS]
    annotations = [github_annotation(diagnostic) for diagnostic in errors + others]
    more = len(diagnostics) - len(annotations)
    if more:
        annotations.append(
            command("notice", f"{more} more problem(s) are not annotated; the log lists them all")
        )
    return annotations


def github_annotation(diagnostic: Diagnostic) -> str:
    """`::error file=F,line=L,col=C,title=T::message`."""
    properties: dict[str, str | int] = {}
    if diagnostic.source:
        source = diagnostic.source
        properties |= {"file": source.file, "line": source.line, "col": source.column}
    title = f"{diagnostic.code}: {diagnostic.address}" if diagnostic.address else diagnostic.code
    properties["title"] = title
    return command(diagnostic.severity, diagnostic.message, properties)
