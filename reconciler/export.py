"""Export: manifests that describe the live site (`jsm-reconciler export`), and writing them safely.

`render_export` is pure: a LiveState in, one YAML text per kind out, stable and sorted, so that exporting an
unchanged site gives the same text and a Git diff shows only what changed on the site. Objects sort by name,
rights and grants sort, holders are written in their readable forms (docs/manifest.md, "Holders") and in the
exact mapping form where a name is not unique on the site.

The header's date is the one thing that differs between two exports of one site. `write_export` compares an
existing file with the new text without that line and leaves an unchanged file as it is, byte for byte, so
the date says when the content last changed and a re-export of an unchanged site is a no-op in Git.

File names are fixed per kind: object names only ever land inside YAML content. The writer still checks
every name and refuses anything that would resolve outside the output directory.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.files import check_output, write_atomically
from reconciler.kinds.kind import Identity, LiveObject, ResourceKind
from reconciler.live import LiveState
from reconciler.yamlwrite import dump

# The schema published with the release line that reads `version: 1` manifests. `--schema` takes a path
# relative to the written files instead, for a repository that vendors `jsm-reconciler schema --out`.
SCHEMA_URL = "https://raw.githubusercontent.com/jsm-reconciler/jsm-reconciler/v1/schemas/manifest.schema.json"
# The manifest reference of the same release line (docs/manifest.md), linked from every exported header.
MANIFEST_DOCS_URL = "https://github.com/jsm-reconciler/jsm-reconciler/blob/v1/docs/manifest.md"
PRUNING_DOCS_URL = f"{MANIFEST_DOCS_URL}#pruning-and-protecting"

_EXPORTED_AT = "# Exported at: "
_DATE_LINE = re.compile(rf"^{_EXPORTED_AT}.*$", re.MULTILINE)
# Every generated file name matches this: ASCII, no separator, no dot segment, no hidden file.
_SAFE_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.yaml\Z")


@dataclass(frozen=True)
class Export:
    files: dict[str, str]  # file name -> text, in the registry order of the kinds
    counts: dict[str, int]  # file name -> objects declared in it
    warnings: list[str]


class Outcome(StrEnum):
    WROTE = "wrote"
    UNCHANGED = "unchanged"


def check_schema_reference(schema: str) -> None:
    if not schema or any(c.isspace() or not c.isprintable() for c in schema):
        raise ConfigError(f"--schema {schema!r}: give a URL or a relative path, without spaces")


def render_export(
    live: LiveState, kinds: Sequence[ResourceKind], *, exported_at: datetime, schema: str = SCHEMA_URL
) -> Export:
    """One manifest text per kind of `kinds` read into `live` (an empty kind still gets its file: `[]`)."""
    check_schema_reference(schema)
    stamp = exported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    files: dict[str, str] = {}
    counts: dict[str, int] = {}
    warnings: list[str] = []
    for kind in kinds:
        if kind.name not in live.objects:
            continue
        readable = [obj for obj in live.of(kind.name) if obj.unreadable is None]
        warnings += [
            f"{obj.address} was not exported: {obj.unreadable}"
            for obj in live.of(kind.name)
            if obj.unreadable
        ]
        objects = _unique(readable, warnings)
        section = kind.export_section(objects, live.lookups)
        name = kind.export_file
        files[name] = _header(kind, live.site, schema, stamp) + "version: 1\n\n" + dump({kind.name: section})
        counts[name] = len(objects)
    return Export(files, counts, warnings)


def _unique(objects: Iterable[LiveObject], warnings: list[str]) -> list[LiveObject]:
    """One object per identity. Only products may have twins on a site, and a manifest names them once."""
    by_identity: dict[Identity, list[LiveObject]] = defaultdict(list)
    for obj in objects:
        by_identity[obj.identity].append(obj)
    kept = []
    for twins in by_identity.values():
        twins.sort(key=lambda o: o.server_id)
        if len(twins) > 1:
            ids = ", ".join(o.server_id for o in twins)
            warnings.append(
                f"{twins[0].address}: {len(twins)} objects on the site share this name and a manifest "
                f"declares it once; remove the twins on the site (ids {ids})"
            )
        kept.append(twins[0])
    return kept


def _header(kind: ResourceKind, site: str, schema: str, stamp: str) -> str:
    shown_site = "".join(c if c.isprintable() else "?" for c in site)
    lines = [
        f"# yaml-language-server: $schema={schema}",
        *(f"# {line}" for line in kind.export_about),
        f"# Exported from {shown_site} by `jsm-reconciler export`.",
        f"{_EXPORTED_AT}{stamp} (a re-export keeps this date while nothing else in the file changes)",
        "# No settings block: plan lists the site's objects that no manifest declares and never deletes",
        "# them, unless their kind is in `settings.prune`; see",
        f"# {PRUNING_DOCS_URL}",
    ]
    return "\n".join(lines) + "\n"


def _without_date(text: str) -> str:
    return _DATE_LINE.sub(_EXPORTED_AT, text, count=1)


def check_destination(out_dir: Path, names: Iterable[str], *, force: bool) -> None:
    """Refuse, before anything is read or written, names that could leave `out_dir` and existing files
    without `force`."""
    check_output(out_dir, "--out", directory=True)
    root = out_dir.resolve()
    existing = []
    for name in names:
        if not _SAFE_FILE_NAME.match(name):
            raise ConfigError(f"refusing to write {name!r}: not a plain file name inside --out {out_dir}")
        target = out_dir / name
        # A symbolic link that leads elsewhere would carry the write outside --out.
        if target.resolve().parent != root:
            raise ConfigError(f"refusing to write {target}: it leads outside --out {out_dir}")
        if target.exists() or target.is_symlink():
            existing.append(str(target))
    if existing and not force:
        raise ConfigError(
            "these files exist, so nothing was written (pass --force to overwrite them; "
            f"files whose content is unchanged stay as they are): {', '.join(existing)}"
        )


def write_export(files: Mapping[str, str], out_dir: Path, *, force: bool) -> list[tuple[Path, Outcome]]:
    """Write every file, or none if `check_destination` refuses; an unchanged file keeps its date."""
    check_destination(out_dir, files, force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for name, text in files.items():
        target = out_dir / name
        if target.is_file() and _without_date(_read(target)) == _without_date(text):
            results.append((target, Outcome.UNCHANGED))
            continue
        write_atomically(target, text)
        results.append((target, Outcome.WROTE))
    return results


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")
