"""What the commands that read no site do: `validate` (the manifests, offline) and `schema` (the manifest
JSON Schema). Their options are in commands.py."""

from __future__ import annotations

from pathlib import Path

from reconciler.cli.ui import EXIT_ERROR, EXIT_OK, current_ui
from reconciler.errors import Severity, error_count
from reconciler.files import check_output
from reconciler.manifest.load import load_manifests
from reconciler.registry import KINDS
from reconciler.render.diagnostics import render_diagnostics
from reconciler.schema import write_schemas


def run_validate(*, paths: tuple[Path, ...]) -> int:
    ui = current_ui()
    desired, diagnostics = load_manifests(paths, KINDS)
    if diagnostics:
        ui.out(render_diagnostics(diagnostics))
        ui.annotate(diagnostics, err=False)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        ui.fail(f"{error_count(diagnostics)}.")
        return EXIT_ERROR
    ui.info(f"{len(desired.files)} file(s), {len(desired.objects)} object(s): valid.")
    return EXIT_OK


def run_schema(*, out_dir: Path) -> int:
    check_output(out_dir, "--out", directory=True)
    for written in write_schemas(out_dir, KINDS):
        current_ui().info(f"wrote {written}")
    return EXIT_OK
