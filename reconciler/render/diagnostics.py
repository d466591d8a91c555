"""Diagnostics as text lines, plus GitHub Actions workflow commands so they show inline on a pull request."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from reconciler.errors import Diagnostic


def render_diagnostics(diagnostics: Sequence[Diagnostic], *, github: bool = False) -> str:
    """One `file:line:col: error[code]: message` line each; with `github`, then one annotation each."""
    lines = [diagnostic.format() for diagnostic in diagnostics]
    if github:
        lines.extend(github_annotation(diagnostic) for diagnostic in diagnostics)
    return "\n".join(lines)


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def github_annotation(diagnostic: Diagnostic) -> str:
    """`::error file=F,line=L,col=C,title=T::message`, escaped as the runner expects."""
    properties: list[str] = []
    if diagnostic.source:
        source = diagnostic.source
        properties += [f"file={_property(source.file)}", f"line={source.line}", f"col={source.column}"]
    title = f"{diagnostic.code}: {diagnostic.address}" if diagnostic.address else diagnostic.code
    properties.append(f"title={_property(title)}")
    return f"::{diagnostic.severity} {','.join(properties)}::{_data(diagnostic.message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
