"""Export: manifests that describe the live site (`jsm-reconciler export`), and writing them safely.

`render_export` is pure: a LiveState in, one YAML text per kind out, stable and sorted, so that exporting an
unchanged site gives the same text and a Git diff shows only what changed on the site. Objects sort by name,
rights and grants sort, holders are written in their readable forms (MANIFEST.md, "Holders") and in the
exact mapping form where a name is not unique on the site.

The header's date is the one thing that differs between two exports of one site. `write_export` compares an
existing file with the new text without that line and leaves an unchanged file as it is, byte for byte, so
the date says when the content last changed and a re-export of an unchanged site is a no-op in Git.

File names are fixed per kind: object names only ever land inside YAML content. The writer still checks
every name and refuses anything that would resolve outside the output directory.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from reconciler.address import DETAIL_FIELD_ENTITIES, KIND_NAMES
from reconciler.errors import ConfigError
from reconciler.kinds.kind import Identity, LiveObject, Lookups
from reconciler.site.live import LiveState

# The schema published with the release line that reads `version: 1` manifests. `--schema` takes a path
# relative to the written files instead, for a repository that vendors `jsm-reconciler schema --out`.
SCHEMA_URL = "https://raw.githubusercontent.com/jsm-reconciler/jsm-reconciler/v1/schemas/manifest.schema.json"

FILE_NAMES: Mapping[str, str] = {
    "detailFields": "detail-fields.yaml",
    "products": "products.yaml",
    "customRoles": "custom-roles.yaml",
    "teamRoles": "team-roles.yaml",
    "permissionSchemes": "permission-schemes.yaml",
    "projects": "projects.yaml",
}
_ABOUT: Mapping[str, tuple[str, ...]] = {
    "detailFields": ("Customer Service Management detail fields, per entity. Option order is kept.",),
    "products": ("Customer Service Management products.",),
    "customRoles": (
        "JSM Operations custom user roles. extendedRole is written only where it is not `user`:",
        "the API cannot set it, so plan warns when a site differs instead of changing it.",
    ),
    "teamRoles": (
        "JSM Operations team roles, per team. A team is written by name, or by id where its name",
        "is shared by another team.",
    ),
    "permissionSchemes": (
        "Jira permission schemes. The grants are all the grants: plan removes others from the site.",
        "Groups and project roles are written by name, or in the exact mapping form where a name is",
        "not unique on the site.",
    ),
    "projects": (
        "Jira projects and the permission scheme each uses, with the project's name as a comment.",
        "Projects are never created or deleted: remove an entry to leave that project's scheme alone.",
    ),
}
_EXPORTED_AT = "# Exported at: "
_DATE_LINE = re.compile(rf"^{_EXPORTED_AT}.*$", re.MULTILINE)
# Custom role extendedRole values a manifest accepts besides the default `user` (MANIFEST.md).
_EXTENDED_ROLES = ("observer", "stakeholder")
# Every generated file name matches this: ASCII, no separator, no dot segment, no hidden file.
_SAFE_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.yaml\Z")
# Plain (unquoted) output is kept to text that every YAML reader takes as the same string; the rest is
# quoted. Flow lists and the `${NAME}` interpolation of the loader make ruamel's own choice too lenient.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.@/()+:-]*\Z")
_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))


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


def render_export(live: LiveState, *, exported_at: datetime, schema: str = SCHEMA_URL) -> Export:
    """One manifest text per kind read into `live` (an empty kind still gets its file, with `[]`)."""
    check_schema_reference(schema)
    stamp = exported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    files: dict[str, str] = {}
    counts: dict[str, int] = {}
    warnings: list[str] = []
    for kind in KIND_NAMES:
        if kind not in live.objects:
            continue
        objects = _unique(live.of(kind), warnings)
        section = _SECTIONS[kind](objects, live.lookups)
        name = FILE_NAMES[kind]
        files[name] = _header(kind, live.site, schema, stamp) + "version: 1\n\n" + _dump({kind: section})
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


def _by_name(obj: LiveObject) -> tuple[str, str]:
    name = str(obj.essence["name"])
    return name.casefold(), name


def _detail_fields(objects: Sequence[LiveObject], _lookups: Lookups) -> CommentedMap:
    section = CommentedMap()
    for entity in DETAIL_FIELD_ENTITIES:
        fields = sorted((o for o in objects if o.address.scope == entity), key=_by_name)
        if fields:
            section[entity] = [_entry(o.essence, ("name", "type", "options")) for o in fields]
    return section


def _products(objects: Sequence[LiveObject], _lookups: Lookups) -> list[CommentedMap]:
    return [_entry(o.essence, ("name",)) for o in sorted(objects, key=_by_name)]


def _custom_roles(objects: Sequence[LiveObject], _lookups: Lookups) -> list[CommentedMap]:
    roles = []
    for obj in sorted(objects, key=_by_name):
        role = _entry(obj.essence, ("name",))
        extended = obj.context.get("extendedRole")
        if extended in _EXTENDED_ROLES:
            role["extendedRole"] = extended
        role.update(_entry(obj.essence, ("grantedRights", "disallowedRights")))
        roles.append(role)
    return roles


def _team_roles(objects: Sequence[LiveObject], lookups: Lookups) -> list[CommentedMap]:
    by_team: dict[str, list[LiveObject]] = defaultdict(list)
    for obj in objects:
        by_team[_team_label(str(obj.context["teamId"]), lookups)].append(obj)
    blocks = []
    for team in sorted(by_team, key=lambda label: (label.casefold(), label)):
        roles = [_entry(o.essence, ("name", "granted")) for o in sorted(by_team[team], key=_by_name)]
        blocks.append(CommentedMap([("team", _text(team)), ("roles", roles)]))
    return blocks


def _team_label(team_id: str, lookups: Lookups) -> str:
    """The team's name where it names this team alone; its id otherwise (resolve_team reads both)."""
    name = lookups.teams.get(team_id)
    if name is not None and lookups.team_ids_by_name.get(name) == [team_id] and name not in lookups.teams:
        return name
    return team_id


def _permission_schemes(objects: Sequence[LiveObject], _lookups: Lookups) -> list[CommentedMap]:
    schemes = []
    for obj in sorted(objects, key=_by_name):
        holders: dict[str, list[Any]] = defaultdict(list)
        parts = obj.context["grants"]
        for grant in obj.essence["grants"]:  # sorted by "KEY: label", so holders sort by label
            key, holder = parts[grant]["permission"], parts[grant]["holder"]
            label = grant.removeprefix(f"{key}: ")
            exact = f"{{type: {holder['type']}, value: {holder.get('value')}}}"
            if label == exact:  # holder_label found no unique name: write what the API holds
                holders[key].append(_flow_map({"type": holder["type"], "value": _text(holder["value"])}))
            else:
                holders[key].append(_text(label))
        grants = CommentedMap((_key(key), _flow(holders[key])) for key in sorted(holders))
        scheme = _entry(obj.essence, ("name", "description"))
        scheme["grants"] = grants
        schemes.append(scheme)
    return schemes


def _projects(objects: Sequence[LiveObject], _lookups: Lookups) -> list[CommentedMap]:
    entries = []
    for obj in sorted(objects, key=lambda o: str(o.essence["key"])):
        entry = _entry(obj.essence, ("key", "permissionScheme"))
        name = "".join(c if c.isprintable() else "?" for c in str(obj.context.get("name", "")))
        if name:
            entry.yaml_add_eol_comment(name, "key")
        entries.append(entry)
    return entries


_SECTIONS = {
    "detailFields": _detail_fields,
    "products": _products,
    "customRoles": _custom_roles,
    "teamRoles": _team_roles,
    "permissionSchemes": _permission_schemes,
    "projects": _projects,
}


def _entry(essence: Mapping[str, Any], keys: Sequence[str]) -> CommentedMap:
    """The essence's fields in manifest order: text quoted safely, lists on one line."""
    entry = CommentedMap()
    for key in keys:
        if key in essence:
            value = essence[key]
            entry[key] = _flow([_text(v) for v in value]) if isinstance(value, list) else _text(value)
    return entry


def _text(value: str) -> str:
    """A string value as the manifest loader will read it back: `${` is its interpolation, `$${` a literal."""
    return _quoted(value.replace("${", "$${"))


def _key(value: str) -> str:
    return _quoted(value)  # keys are never interpolated


def _quoted(value: str) -> str:
    if not value.isprintable():
        # Line breaks, bidirectional overrides and zero-width characters become visible escapes, so that a
        # reviewer sees them in a pull request (see _Emitter).
        quoted: str = DoubleQuotedScalarString(value)
        return quoted
    plain = (
        _PLAIN.match(value)
        and not value.endswith((" ", ":"))
        and ": " not in value
        and all(r.resolve(ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str" for r in _RESOLVERS)
    )
    if plain:
        return value
    quoted = SingleQuotedScalarString(value)
    return quoted


def _flow(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _flow_map(items: Mapping[str, Any]) -> CommentedMap:
    mapping = CommentedMap(items)
    mapping.fa.set_flow_style()
    return mapping


class _Emitter(RoundTripEmitter):
    """Escapes every character of a double-quoted string that is not printable, including those that
    ruamel writes raw when unicode is allowed (U+202E, U+200B, U+2028), and only in such strings, so
    that other non-ASCII text stays readable."""

    def write_double_quoted(self, text: Any, split: Any = True) -> None:
        if str(text).isprintable():
            super().write_double_quoted(text, split)
            return
        allow_unicode, self.allow_unicode = self.allow_unicode, False
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = allow_unicode


def _dump(document: Mapping[str, Any]) -> str:
    yaml = YAML(typ="rt")
    yaml.Emitter = _Emitter
    yaml.width = 4096  # never fold a long name over two lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _header(kind: str, site: str, schema: str, stamp: str) -> str:
    shown_site = "".join(c if c.isprintable() else "?" for c in site)
    lines = [
        f"# yaml-language-server: $schema={schema}",
        *(f"# {line}" for line in _ABOUT[kind]),
        f"# Exported from {shown_site} by `jsm-reconciler export`.",
        f"{_EXPORTED_AT}{stamp} (a re-export keeps this date while nothing else in the file changes)",
        "# No settings block: plan lists the site's objects that no manifest declares and never deletes",
        "# them, unless their kind is in `settings.prune` (MANIFEST.md).",
    ]
    return "\n".join(lines) + "\n"


def _without_date(text: str) -> str:
    return _DATE_LINE.sub(_EXPORTED_AT, text, count=1)


def check_destination(out_dir: Path, names: Iterable[str], *, force: bool) -> None:
    """Refuse, before anything is read or written, names that could leave `out_dir` and existing files
    without `force`."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: not a directory")
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
        _write_atomically(target, text)
        results.append((target, Outcome.WROTE))
    return results


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _write_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="\n", dir=path.parent, prefix=".export-", suffix=".tmp", delete=False
    ) as tmp:
        tmp.write(text)
    Path(tmp.name).replace(path)
