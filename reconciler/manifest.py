"""Loading a manifest set (MANIFEST.md) into a DesiredState, with every problem as a positioned Diagnostic.

Each file is read by yamlsource, validated as a whole ManifestDocument (for the diagnostics), and its objects
are validated one by one (so that one bad object does not hide the cross-object problems of the others).
Cross-object rules (duplicate addresses, renamedFrom collisions, the 50-fields limit, one settings block)
run once every file has been read. Nothing here raises for bad input.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from reconciler import catalogue
from reconciler.address import DETAIL_FIELD_ENTITIES, Address
from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, SourceSpan, error
from reconciler.kinds.base import Spec, did_you_mean, problem
from reconciler.kinds.custom_role import CustomRoleSpec
from reconciler.kinds.detail_field import DetailFieldSpec, DetailFieldsSection
from reconciler.kinds.permission_scheme import PermissionSchemeSpec
from reconciler.kinds.product import ProductSpec
from reconciler.kinds.team_role import TeamRoleEntry, TeamRolesBlock, TeamRoleSpec
from reconciler.yamlsource import DataPath, PathSegment, SourceMap, load_yaml_file

KindName = Literal["detailFields", "products", "customRoles", "teamRoles", "permissionSchemes"]
MANIFEST_SUFFIXES = (".yaml", ".yml")


def _check_protect_entry(text: str) -> str:
    try:
        Address.parse(text)
    except ValueError as exc:
        raise problem("settings", str(exc)) from None
    return text


ProtectEntry = Annotated[str, AfterValidator(_check_protect_entry)]


class Thresholds(Spec):
    max_delete_percent: int | None = Field(default=None, ge=0, le=100)
    max_update_percent: int | None = Field(default=None, ge=0, le=100)
    min_existing: int = Field(
        default=10, ge=0, description="Thresholds apply to kinds with this many objects."
    )


class Settings(Spec):
    prune: list[KindName] = Field(
        default_factory=list, description="Kinds whose live objects that no manifest declares are deleted."
    )
    protect: list[ProtectEntry] = Field(
        default_factory=list, description="Addresses never deleted or replaced, e.g. products/Acme Widget."
    )
    thresholds: Thresholds | None = None


def _reject_bool(value: Any) -> Any:
    # `version: true` would pass Literal[1], since True == 1 in Python.
    if isinstance(value, bool):
        raise problem("version", f"unsupported manifest version {value!r}; write `version: 1`")
    return value


class ManifestDocument(Spec):
    """One manifest file. The JSON Schema of the format is generated from this model."""

    version: Annotated[Literal[1], BeforeValidator(_reject_bool)] = Field(
        description="The manifest format version; required in every file."
    )
    settings: Settings | None = Field(default=None, description="In at most one file of the set.")
    detail_fields: DetailFieldsSection | None = None
    products: list[ProductSpec] | None = None
    custom_roles: list[CustomRoleSpec] | None = None
    team_roles: list[TeamRolesBlock] | None = None
    permission_schemes: list[PermissionSchemeSpec] | None = None


@dataclass(frozen=True)
class ObjectOrigin:
    """Where an object was declared: its node, and for a team role also the node of its team block."""

    source_map: SourceMap
    path: DataPath
    team_path: DataPath | None = None


@dataclass(frozen=True)
class DesiredState:
    objects: Mapping[Address, Spec]
    settings: Settings
    protected: frozenset[Address]
    prune: frozenset[str]
    files: tuple[str, ...]
    origins: Mapping[Address, ObjectOrigin] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def empty(cls) -> DesiredState:
        return cls({}, Settings(), frozenset(), frozenset(), ())

    def locate(self, address: Address, *path: PathSegment) -> SourceSpan | None:
        """The position of an object, or of the deepest existing node along `path` below it.

        `path` uses the manifest's keys (camelCase) and list indices: `locate(a, "grants", "BROWSE_PROJECTS",
        1)` is the second holder of that grant. A final key gives the position of the key itself; `"team"`
        of a team role is the `team:` of its block. None for an object that no file declares.
        """
        origin = self.origins.get(address)
        if origin is None:
            return None
        base = origin.path
        if origin.team_path is not None and path[:1] == ("team",):
            base = origin.team_path
        full = (*base, *path)
        return origin.source_map.locate(full, key=bool(path) and isinstance(path[-1], str))


@cycle_collection_paused()
def load_manifests(
    paths: Sequence[Path], *, environ: Mapping[str, str] | None = None
) -> tuple[DesiredState, list[Diagnostic]]:
    """Read every manifest under `paths`; all problems come back as diagnostics, sorted by position."""
    loader = _Loader(os.environ if environ is None else environ)
    for path, shown in _manifest_files(paths, loader.diagnostics):
        try:
            loader.load_file(path, shown)
        except Exception as exc:  # the loader boundary: no input may end in a traceback
            loader.diagnostics.append(
                error(
                    "manifest.internal",
                    f"could not read this file ({type(exc).__name__}: {exc}); please report this",
                    source=SourceSpan(shown, 1, 1),
                )
            )
    return loader.finish()


def _manifest_files(paths: Sequence[Path], diagnostics: list[Diagnostic]) -> Iterator[tuple[Path, str]]:
    """Files under `paths`, each once, with the name diagnostics show (as given, never resolved)."""
    seen: set[Path] = set()
    for given in paths:
        if given.is_file():
            found = [given]
        elif given.is_dir():
            found = sorted(_walk(given), key=lambda p: p.parts)
            if not found:
                diagnostics.append(
                    error("manifest.read", f"{given}: no *.yaml or *.yml files in this directory")
                )
        else:
            diagnostics.append(error("manifest.read", f"{given}: no such file or directory"))
            continue
        for path in found:
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                yield path, path.as_posix()


def _walk(directory: Path) -> Iterator[Path]:
    # Hidden files and directories (.git, .github workflows, .venv) are never manifests.
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                yield Path(root, name)


def _identity(address: Address) -> tuple[str, str, str]:
    """What makes two addresses the same object: detail field names compare without case, like the API."""
    if address.kind == "detailFields":
        return (address.kind, address.scope, address.name.casefold())
    return (address.kind, address.scope, address.name)


@dataclass
class _Declared:
    address: Address
    spec: Spec
    origin: ObjectOrigin

    def span(self, *path: PathSegment) -> SourceSpan:
        return self.origin.source_map.locate((*self.origin.path, *path))


class _Loader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.diagnostics: list[Diagnostic] = []
        self.files: list[str] = []
        self.declared: dict[tuple[str, str, str], _Declared] = {}
        self.settings: Settings | None = None
        self.settings_span: SourceSpan | None = None

    def load_file(self, path: Path, shown: str) -> None:
        self.files.append(shown)
        loaded, problems = load_yaml_file(path, shown, self.environ)
        self.diagnostics.extend(problems)
        if loaded is None:
            return
        data, source_map = loaded.data, loaded.source_map
        if data is None:
            self.diagnostics.append(
                error(
                    "manifest.version",
                    "the file is empty; every manifest file starts with `version: 1`",
                    source=source_map.locate(()),
                )
            )
            return
        if not isinstance(data, dict):
            self.diagnostics.append(
                error(
                    "manifest.invalid",
                    f"a manifest file is a mapping (version, settings, ...), not {_describe(data)}",
                    source=source_map.locate(()),
                )
            )
            return
        known: dict[int, Spec] = {}
        try:
            _pair_validated(data, ManifestDocument.model_validate(data, by_name=False), known)
        except ValidationError as exc:
            self.diagnostics.extend(_diagnostics_from(exc, data, source_map))
        if "settings" in data:
            self._take_settings(_valid(Settings, data["settings"] or {}), source_map)
        for address, spec, origin in _objects(data, source_map, known):
            self._declare(address, spec, origin)

    def _take_settings(self, settings: Settings | None, source_map: SourceMap) -> None:
        span = source_map.locate(("settings",), key=True)
        if self.settings_span is not None:
            self.diagnostics.append(
                error(
                    "manifest.settings",
                    f"settings are already given at {self.settings_span}; keep them in one file of the set",
                    source=span,
                )
            )
            return
        self.settings_span = span
        self.settings = settings

    def _declare(self, address: Address, spec: Spec, origin: ObjectOrigin) -> None:
        declared = _Declared(address, spec, origin)
        first = self.declared.get(_identity(address))
        if first is None:
            self.declared[_identity(address)] = declared
            return
        here = declared.span()
        same = (
            f" (the same field as {first.address}: names compare without case)"
            if first.address != address
            else ""
        )
        self.diagnostics.append(
            error(
                "manifest.duplicate",
                f"{address} is declared more than once: at {first.span()} and at {here}{same}",
                source=here,
                address=str(address),
            )
        )

    def finish(self) -> tuple[DesiredState, list[Diagnostic]]:
        objects = list(self.declared.values())
        self.diagnostics.extend(_too_many_fields(objects))
        self.diagnostics.extend(_renamed_from_problems(objects))
        settings = self.settings or Settings()
        state = DesiredState(
            objects={item.address: item.spec for item in objects},
            settings=settings,
            protected=frozenset(Address.parse(entry) for entry in settings.protect),
            prune=frozenset(settings.prune),
            files=tuple(self.files),
            origins={item.address: item.origin for item in objects},
        )
        return state, sorted(self.diagnostics, key=_position)


def _position(diagnostic: Diagnostic) -> tuple[str, int, int]:
    source = diagnostic.source
    return (source.file, source.line, source.column) if source else ("", 0, 0)


def _objects(
    data: dict[str, Any], source_map: SourceMap, known: Mapping[int, Spec]
) -> Iterator[tuple[Address, Spec, ObjectOrigin]]:
    """Every object of the file that is valid on its own, whatever else is wrong with the file."""

    def items(value: Any) -> Iterator[tuple[int, Any]]:
        yield from enumerate(value) if isinstance(value, list) else ()

    sections = data.get("detailFields")
    if isinstance(sections, dict):
        for entity in DETAIL_FIELD_ENTITIES:
            for index, item in items(sections.get(entity)):
                spec = _valid(DetailFieldSpec, item, known)
                if isinstance(spec, DetailFieldSpec):
                    origin = ObjectOrigin(source_map, ("detailFields", entity, index))
                    yield Address("detailFields", entity, spec.name), spec, origin
    for kind, model in (("products", ProductSpec), ("customRoles", CustomRoleSpec)):
        for index, item in items(data.get(kind)):
            spec = _valid(model, item, known)
            if spec is not None:
                yield Address(kind, "", spec.name), spec, ObjectOrigin(source_map, (kind, index))
    for block_index, block in items(data.get("teamRoles")):
        team = block.get("team") if isinstance(block, dict) else None
        if not isinstance(team, str) or not team:
            continue
        for index, item in items(block.get("roles")):
            entry = _valid(TeamRoleEntry, item, known)
            if isinstance(entry, TeamRoleEntry):
                spec = TeamRoleSpec(
                    team=team, name=entry.name, granted=entry.granted, renamed_from=entry.renamed_from
                )
                origin = ObjectOrigin(
                    source_map, ("teamRoles", block_index, "roles", index), ("teamRoles", block_index)
                )
                yield Address("teamRoles", team, entry.name), spec, origin
    for index, item in items(data.get("permissionSchemes")):
        spec = _valid(PermissionSchemeSpec, item, known)
        if isinstance(spec, PermissionSchemeSpec):
            yield (
                Address("permissionSchemes", "", spec.name),
                spec,
                ObjectOrigin(source_map, ("permissionSchemes", index)),
            )


def _valid(model: type[Spec], item: Any, known: Mapping[int, Spec] | None = None) -> Any:
    spec = known.get(id(item)) if known else None
    if type(spec) is model:
        return spec
    try:
        return model.model_validate(item, by_name=False)
    except ValidationError:
        return None


def _pair_validated(raw: Any, value: Any, known: dict[int, Spec]) -> None:
    """Records, by the identity of its data, each model that validating the whole document built, so
    that its objects are not validated a second time one by one: the same model on the same data."""
    if isinstance(value, Spec) and isinstance(raw, dict):
        known[id(raw)] = value
        for name, info in type(value).model_fields.items():
            key = info.alias or name
            if key in raw:
                _pair_validated(raw[key], getattr(value, name), known)
    elif isinstance(value, list) and isinstance(raw, list) and len(value) == len(raw):
        for raw_item, item in zip(raw, value, strict=True):
            _pair_validated(raw_item, item, known)


def _too_many_fields(objects: list[_Declared]) -> Iterator[Diagnostic]:
    counts: Counter[str] = Counter()
    for item in objects:
        if item.address.kind != "detailFields":
            continue
        counts[item.address.scope] += 1
        if counts[item.address.scope] == catalogue.MAX_DETAIL_FIELDS_PER_ENTITY + 1:
            total = sum(
                1
                for other in objects
                if other.address.kind == "detailFields" and other.address.scope == item.address.scope
            )
            yield error(
                "manifest.too_many_fields",
                f"{total} detail fields for {item.address.scope}; the API allows at most "
                f"{catalogue.MAX_DETAIL_FIELDS_PER_ENTITY} per entity (this is the first one over)",
                source=item.span(),
                address=str(item.address),
            )


def _renamed_from_problems(objects: list[_Declared]) -> Iterator[Diagnostic]:
    claims: dict[tuple[str, str, str], _Declared] = {}
    for item in objects:
        earlier_names: list[str] = getattr(item.spec, "renamed_from", [])
        for index, earlier in enumerate(earlier_names):
            claim = _identity(item.address.renamed(earlier))
            span = item.span("renamedFrom", index)
            if claim == _identity(item.address):
                yield error(
                    "manifest.renamed_from",
                    f"renamedFrom lists the object's own name {earlier!r}",
                    source=span,
                    address=str(item.address),
                )
                continue
            first = claims.setdefault(claim, item)
            if first is not item:
                yield error(
                    "manifest.renamed_from",
                    f"{item.address.renamed(earlier)} is already renamed into {first.address} "
                    f"(renamedFrom at {first.span('renamedFrom')}); an earlier name becomes one object only",
                    source=span,
                    address=str(item.address),
                )


# From pydantic errors to diagnostics

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _diagnostics_from(
    exc: ValidationError, data: dict[str, Any], source_map: SourceMap
) -> Iterator[Diagnostic]:
    for details in exc.errors():
        path, on_key = _data_path(data, details["loc"])
        kind = details["type"]
        ctx: dict[str, Any] = details.get("ctx") or {}
        inside = path[:1] == ("settings",)
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = _allowed_keys(path[:-1])
            hint = did_you_mean(key, allowed) or (
                f" (expected one of: {', '.join(allowed)})" if allowed else ""
            )
            code, message, on_key = "unknown_key", f"unknown key {key!r}{hint}", True
        elif kind == "missing":
            missing = str(details["loc"][-1])
            if not path and missing == "version":
                code, message = "version", "missing `version: 1` (required in every manifest file)"
            else:
                code, message = "invalid", f"missing required key {missing!r}"
        elif kind == "literal_error":
            code, message = "invalid", _literal_message(details["input"], str(ctx.get("expected", "")))
            if path == ("version",):
                code, message = (
                    "version",
                    f"unsupported manifest version {details['input']!r}; write `version: 1`",
                )
        elif kind in _TYPE_NAMES:
            expected = _TYPE_NAMES[kind]
            if kind.startswith("model") and "grants" in path:
                expected = "a holder: text like group:NAME, or a mapping {type, parameter, value}"
            code, message = (
                "invalid",
                f"{_label(path)}: expected {expected}, got {_describe(details['input'])}",
            )
        elif "message" in ctx:  # our own errors (reconciler.kinds.base.problem)
            code, message = kind, str(ctx["message"])
            path = (*path, *ctx.get("at", ()))
        else:
            text = str(details["msg"]).removeprefix("Value error, ")
            text = re.sub(r"^(Input|String|List|Value) should", "should", text)
            code, message = "invalid", f"{_label(path)}: {text}"
        if inside and code == "invalid":
            code = "settings"
        yield error(
            f"manifest.{code}",
            message,
            source=source_map.locate(path, key=on_key),
            address=_address_at(data, path),
        )


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[DataPath, bool]:
    """The part of a pydantic `loc` that names data, skipping pydantic's own segments (union members, tags).

    The flag says the error is about the last mapping key itself (`[key]`), not its value.
    """
    node: Any = data
    path: DataPath = ()
    for segment in loc:
        if segment == "[key]" and path:
            return path, True
        child = _child(node, segment)
        if child is not _ABSENT:
            node, path = child, (*path, segment)
    return path, False


_ABSENT = object()


def _child(node: Any, segment: PathSegment) -> Any:
    if isinstance(node, dict) and isinstance(segment, str) and segment in node:
        return node[segment]
    if isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
        return node[segment]
    return _ABSENT


def _allowed_keys(path: DataPath) -> list[str]:
    """The keys the model at `path` accepts, found by walking the model types along the path."""
    annotation: Any = ManifestDocument
    for segment in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if segment not in fields:
                return []
            annotation = fields[str(segment)].annotation
        elif get_origin(annotation) in (list, dict) and get_args(annotation):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _literal_message(value: Any, expected: str) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    return f"{value!r} is not allowed here{hint}; expected {expected}"


def _label(path: DataPath) -> str:
    """`grantedRights[1]` for (..., "grantedRights", 1): the nearest key and the indices below it."""
    label = ""
    for segment in reversed(path):
        if isinstance(segment, int):
            label = f"[{segment}]{label}"
        else:
            return f"{segment}{label}"
    return label or "the document"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"the number {value} (quote it to make it text)"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value} ({type(value).__name__}; quote it to make it text)"


def _address_at(data: dict[str, Any], path: DataPath) -> str | None:
    """The address of the object a data path points into, when the object has a usable name."""

    def name_of(item: Any) -> str | None:
        name = item.get("name") if isinstance(item, dict) else None
        return name if isinstance(name, str) and name else None

    def at(*keys: PathSegment) -> Any:
        node: Any = data
        for key in keys:
            node = _child(node, key)
        return node

    match path:
        case ("detailFields", str(entity), int(), *_) if entity in DETAIL_FIELD_ENTITIES:
            name = name_of(at(*path[:3]))
            return str(Address("detailFields", entity, name)) if name else None
        case ("products" | "customRoles" | "permissionSchemes" as kind, int(), *_):
            name = name_of(at(*path[:2]))
            return str(Address(kind, "", name)) if name else None
        case ("teamRoles", int(block), "roles", int(), *_):
            name, team = name_of(at(*path[:4])), at("teamRoles", block, "team")
            return str(Address("teamRoles", team, name)) if name and isinstance(team, str) and team else None
    return None
