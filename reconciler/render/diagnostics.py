"""Diagnostics as text lines, plus GitHub Actions annotations so they show inline on a pull request."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import Diagnostic
from reconciler.render.workflow_commands import command


def render_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """One `file:line:col: error[code]: message` line each."""
    return "\n".join(diagnostic.format() for diagnostic in diagnostics)


def github_annotations(diagnostics: Sequence[Diagnostic]) -> list[str]:
    return [github_annotation(diagnostic) for diagnostic in diagnostics]


def github_annotation(diagnostic: Diagnostic) -> str:
    """`::error file=F,line=L,col=C,title=T::message`."""
    properties: dict[str, str | int] = {}
    if diagnostic.source:
        source = diagnostic.source
        properties |= {"file": source.file, "line": source.line, "col": source.column}
    title = f"{diagnostic.code}: {diagnostic.address}" if diagnostic.address else diagnostic.code
    properties["title"] = title
    return command(diagnostic.severity, diagnostic.message, properties)
