"""Diagnostics as text lines, plus GitHub Actions annotations so they show inline on a pull request."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import Diagnostic
from reconciler.render.workflow_commands import command


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """One `file:line:col: error[code]: message` line each."""
    return "\n".join(diagnostic.format() for diagnostic in diagnostics)


# GitHub shows at most 10 error and 10 warning annotations of a step and 50 of a job, and drops the rest;
# more would only lengthen the log, where every diagnostic is also a line.
MAX_ANNOTATIONS = 50


def github_annotations(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """The first MAX_ANNOTATIONS, and a notice that the log has the rest."""
    annotations = [github_annotation(diagnostic) for diagnostic in diagnostics[:MAX_ANNOTATIONS]]
    if len(diagnostics) > MAX_ANNOTATIONS:
        more = len(diagnostics) - MAX_ANNOTATIONS
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
