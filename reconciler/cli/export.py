"""What `export` does: read the site's objects of the kinds asked for, and write one manifest file per kind
that a plan then finds no change in. Its options are in commands.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reconciler.cli.site import OPS_KINDS, open_site, ops_refusal_with, read_site
from reconciler.cli.ui import EXIT_OK, current_ui
from reconciler.errors import SiteError
from reconciler.export import (
    SCHEMA_URL,
    check_destination,
    check_schema_reference,
    render_export,
    write_export,
)
from reconciler.kinds.project import count_visible_projects, unadministered_warning
from reconciler.registry import kinds_for


def run_export(
    *,
    out_dir: Path,
    kind_names: tuple[str, ...],
    force: bool,
    schema: str | None,
    parallelism: int,
    site: str | None,
) -> int:
    """`schema` None: the published schema of this release line (export.SCHEMA_URL)."""
    ui = current_ui()
    kinds = kinds_for(kind_names or None)
    schema = SCHEMA_URL if schema is None else schema
    # Refuse before reading: a large site takes a while to read.
    check_schema_reference(schema)
    check_destination(out_dir, [kind.export_file for kind in kinds], force=force)
    with open_site(site, parallelism) as (client, name):
        try:
            live = read_site(client, name, [kind.name for kind in kinds])
        except SiteError as exc:
            others = " ".join(f"--kind {kind.name}" for kind in kinds if kind.name not in OPS_KINDS)
            way_out = (
                f"export only the other kinds: jsm-reconciler export {others}"
                if others
                else f"export other kinds (only {', '.join(kind.name for kind in kinds)} were asked for)"
            )
            raise ops_refusal_with(exc, way_out) from None
        # Export reads the projects the account administers: the others are counted, not read.
        unadministered = (
            count_visible_projects(client) - len(live.of("projects")) if "projects" in live.objects else 0
        )
    exported = render_export(live, kinds, exported_at=datetime.now(UTC), schema=schema)
    if unadministered > 0:
        ui.fail(f"Warning: {unadministered_warning(unadministered, 'the export')}")
    for warning in exported.warnings:
        ui.fail(f"Warning: {warning}")
    for path, outcome in write_export(exported.files, out_dir, force=force):
        ui.out(f"{outcome.value:>9}  {path}  ({exported.counts[path.name]} object(s))")
    total = sum(exported.counts.values())
    ui.info(f"Exported {total} object(s) from {name}; check them with: jsm-reconciler plan {out_dir}")
    return EXIT_OK
