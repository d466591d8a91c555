"""Loading a manifest set (MANIFEST.md) into a DesiredState, with every problem as a positioned Diagnostic.

Each file is read by yamlsource, validated as a whole ManifestDocument (for the diagnostics), and its objects
are validated one by one (so that one bad object does not hide the cross-object problems of the others).
Cross-object rules (duplicate addresses, renamedFrom collisions, the 50-fields limit, one settings block)
run once every file has been read. Nothing here raises for bad input.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError, create_model

from reconciler.address import Address
from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, SourceSpan, error, shortened
from reconciler.kinds import KINDS, get_kind
from reconciler.kinds.base import Spec, did_you_mean, problem
from reconciler.kinds.kind import Declaration, ObjectOrigin, valid_spec
from reconciler.policy_rules import PolicyRule, offline_checks
from reconciler.yamlsource import DataPath, PathSegment, SourceMap, load_yaml_file

if TYPE_CHECKING:
    KindName = str
else:
    KindName = Literal[tuple(kind.name for kind in KINDS if kind.prunable)]
MANIFEST_SUFFIXES = (".yaml", ".yml")
# The largest site the benchmark models (ten times an enterprise site) exports 4.4 MB of manifests. A set is
# never read whole beyond this: hostile YAML costs up to a second and 300 MB per megabyte.
MAX_SET_BYTES = 20 * 1024 * 1024
MANIFEST_SECTIONS = ("settings", *(kind.name for kind in KINDS))
# For a file that does not parse: a manifest section key or `version: 1` at the start of a line.
_MANIFEST_LINE = re.compile(
    "^(?:(?:" + "|".join(MANIFEST_SECTIONS) + r""")\s*:|version\s*:\s*['"]?1['"]?\s*(?:#.*)?$)""",
    re.MULTILINE,
)
log = logging.getLogger(__name__)


def _check_protect_entry(text: str) -> str:
    try:
        Address.parse(text)
    except ValueError as exc:
        raise problem("settings", str(exc)) from None
    return text


ProtectEntry = Annotated[str, AfterValidator(_check_protect_entry)]


def _check_prunable(value: Any) -> Any:
    if isinstance(value, str) and any(value == kind.name and not kind.prunable for kind in KINDS):
        raise problem(
            "settings", f"{value} are never created or deleted, so `{value}` cannot be in settings.prune"
        )
    return value


PrunableKind = Annotated[KindName, BeforeValidator(_check_prunable)]


class Thresholds(Spec):
    max_delete_percent: int | None = Field(default=None, ge=0, le=100)
    max_update_percent: int | None = Field(default=None, ge=0, le=100)
    min_existing: int = Field(
        default=10, ge=0, description="Thresholds apply to kinds with this many objects."
    )


class Settings(Spec):
    prune: list[PrunableKind] = Field(
        default_factory=list, description="Kinds whose live objects that no manifest declares are deleted."
    )
    protect: list[ProtectEntry] = Field(
        default_factory=list, description="Addresses never deleted or replaced, e.g. products/Acme Widget."
    )
    thresholds: Thresholds | None = None
    exposure: Literal["warn", "deny"] = Field(
        default="warn",
        description="deny: a plan that adds a grant to anyone or applicationRole is an error.",
    )
    policies: list[PolicyRule] = Field(
        default_factory=list, description="Rules on the site as it will be after the plan (docs/policies.md)."
    )


def _reject_bool(value: Any) -> Any:
    # `version: true` would pass Literal[1], since True == 1 in Python.
    if isinstance(value, bool):
        raise problem("version", f"unsupported manifest version {value!r}; write `version: 1`")
    return value


_DOCUMENT_FIELDS: dict[str, Any] = {
    "version": (
        Annotated[Literal[1], BeforeValidator(_reject_bool)],
        Field(description="The manifest format version; required in every file."),
    ),
    "settings": (Settings | None, Field(default=None, description="In at most one file of the set.")),
    **{kind.name: (kind.section, None) for kind in KINDS},
}
ManifestDocument: type[Spec] = create_model(
    "ManifestDocument",
    __base__=Spec,
    __doc__="One manifest file. The JSON Schema of the format is generated from this model.",
    **_DOCUMENT_FIELDS,
)


@dataclass(frozen=True)
class DesiredState:
    objects: Mapping[Address, Spec]
    settings: Settings
    protected: frozenset[Address]
    prune: frozenset[str]
    files: tuple[str, ...]
    origins: Mapping[Address, ObjectOrigin] = field(default_factory=dict, repr=False, compare=False)
    # The kinds the manifests name (MANIFEST.md, "Kinds the manifests name"): a section present in some
    # file, even empty, or a kind in settings.prune. Only these are planned.
    named_kinds: frozenset[str] = frozenset()

    @classmethod
    def empty(cls) -> DesiredState:
        return cls({}, Settings(), frozenset(), frozenset(), ())

    def locate(self, address: Address, *path: PathSegment) -> SourceSpan | None:
        """The position of an object, or of the deepest existing node along `path` below it.

        `path` uses the manifest's keys (camelCase) and list indices: `locate(a, "grants", "BROWSE_PROJECTS",
        1)` is the second holder of that grant. A final key gives the position of the key itself; `"team"`
        of a team role (a scoped object) is the `team:` of its scope block. None for an object that no file
        declares.
        """
        origin = self.origins.get(address)
        if origin is None:
            return None
        base = origin.path
        if origin.scope_path is not None and path[:1] == ("team",):
            base = origin.scope_path
        full = (*base, *path)
        return origin.source_map.locate(full, key=bool(path) and isinstance(path[-1], str))


@cycle_collection_paused()
def load_manifests(
    paths: Sequence[Path], *, environ: Mapping[str, str] | None = None
) -> tuple[DesiredState, list[Diagnostic]]:
    """Read every manifest under `paths`; all problems come back as diagnostics, sorted by position.

    No paths means the working directory, like Terraform: its own `*.yaml` and `*.yml` files only, not
    its subdirectories, and only those that look like manifests (`_looks_like_manifest`), since a
    repository's root also holds tool configurations. Paths that are given are read whole.

    Nothing is read from outside the paths given (MANIFEST.md, "Where files may be"): a symbolic link whose
    target is elsewhere is refused at its path. A set of more than MAX_SET_BYTES is not read at all.
    """
    loader = _Loader(os.environ if environ is None else environ)
    if paths:
        files = list(_manifest_files(paths, loader.diagnostics))
        if _within_set_limit([path for path, _ in files], loader.diagnostics):
            for path, shown in files:
                _load_file(loader, path, shown, only_manifests=False)
    else:
        _load_working_directory(loader)
    return loader.finish()


def _load_file(loader: _Loader, path: Path, shown: str, *, only_manifests: bool) -> None:
    try:
        loader.load_file(path, shown, only_manifests=only_manifests)
    except Exception as exc:  # the loader boundary: no input may end in a traceback
        loader.diagnostics.append(
            error(
                "manifest.internal",
                f"could not read this file ({type(exc).__name__}: {exc}); please report this",
                source=SourceSpan(shown, 1, 1),
            )
        )


def _load_working_directory(loader: _Loader) -> None:
    roots = _Roots([Path(".")])
    candidates = sorted(
        entry
        for entry in Path(".").iterdir()
        if entry.name.endswith(MANIFEST_SUFFIXES)
        and not entry.name.startswith(".")
        and roots.admits(entry, entry.as_posix(), loader.diagnostics)
        and entry.is_file()
    )
    if not _within_set_limit(candidates, loader.diagnostics):
        return
    for path in candidates:
        _load_file(loader, path, path.as_posix(), only_manifests=True)
    if not loader.files:
        skipped = len(candidates)
        why = f"; {skipped} YAML file(s) there are not manifests (-v lists them)" if skipped else ""
        loader.diagnostics.append(
            error(
                "manifest.read",
                f"no manifests found in . (a manifest is a *.yaml or *.yml file with `version: 1`){why}. "
                "Give the directory of your manifests, e.g. `jsm-reconciler validate jsm/`",
            )
        )


def _looks_like_manifest(data: Any) -> bool:
    """Whether a file found without being named is meant as a manifest.

    A key that is, or nearly is, a manifest section counts, so a manifest with a mistake in it is
    still read and its mistakes reported; `version` counts only as 1, since tool configurations have
    versions too (`version: 2`, `version: "3.8"`).
    """
    if not isinstance(data, dict):
        return False
    if data.get("version") in (1, "1"):
        return True
    sections = {section.casefold() for section in MANIFEST_SECTIONS}
    return any(difflib.get_close_matches(str(key).casefold(), sections, n=1, cutoff=0.8) for key in data)


def _manifest_files(paths: Sequence[Path], diagnostics: list[Diagnostic]) -> Iterator[tuple[Path, str]]:
    """Files under `paths`, each once, with the name diagnostics show (as given, never resolved)."""
    roots = _Roots(paths)
    seen: set[Path] = set()
    for given in paths:
        if not roots.admits(given, given.as_posix(), diagnostics):
            continue
        if given.is_file():
            found = [given]
        elif given.is_dir():
            found = sorted(_walk(given, roots, diagnostics), key=lambda p: p.parts)
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


def _walk(directory: Path, roots: _Roots, diagnostics: list[Diagnostic]) -> Iterator[Path]:
    # Hidden files and directories (.git, .github workflows, .venv) are never manifests. A linked directory
    # is not walked: when it is admitted, its target is inside the paths given and read there.
    for root, dirs, files in os.walk(directory):
        dirs[:] = [
            name
            for name in dirs
            if not name.startswith(".")
            and roots.admits(Path(root, name), Path(root, name).as_posix(), diagnostics)
            and not Path(root, name).is_symlink()
        ]
        for name in files:
            path = Path(root, name)
            if (
                name.endswith(MANIFEST_SUFFIXES)
                and not name.startswith(".")
                and roots.admits(path, path.as_posix(), diagnostics)
            ):
                yield path


class _Roots:
    """The paths given, as absolute paths whose directories are resolved but whose own name is kept: a path
    given that is itself a symbolic link is one more link to check."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [_anchored(path) for path in paths]

    def admits(self, path: Path, shown: str, diagnostics: list[Diagnostic]) -> bool:
        """False, with the refusal, for a symbolic link whose target is outside every path given. The
        target is neither read nor named: it may be a credential file."""
        if not path.is_symlink():
            return True
        target = path.resolve()
        if any(target.is_relative_to(root) for root in self.paths):
            return True
        problem = "a symbolic link to outside the manifests given is not read"
        why = "a manifest set is read only from inside the directories given"
        if path.is_dir():
            diagnostics.append(error("manifest.symlink", f"{shown}: {problem} ({why})"))
        else:
            diagnostics.append(
                error("manifest.symlink", f"{problem} ({why})", source=SourceSpan(shown, 1, 1))
            )
        return False


def _anchored(path: Path) -> Path:
    absolute = Path.cwd() / path
    if absolute.name in ("", ".", ".."):
        return absolute.resolve()
    return absolute.parent.resolve() / absolute.name


def _within_set_limit(files: Sequence[Path], diagnostics: list[Diagnostic]) -> bool:
    """Whether the files, measured before any is read, hold at most MAX_SET_BYTES."""
    total = 0
    for path in files:
        with contextlib.suppress(OSError):  # reading it says why it cannot be read
            total += path.stat().st_size
    if total <= MAX_SET_BYTES:
        return True
    megabytes, limit = total / (1024 * 1024), MAX_SET_BYTES // (1024 * 1024)
    message = (
        f"the manifests hold {megabytes:.1f} MB in {len(files)} file(s), more than the {limit} MB a manifest "
        "set may hold, so none was read; give the directory of your manifests only"
    )
    diagnostics.append(error("manifest.too_large", message))
    return False


def _text_looks_like_manifest(path: Path) -> bool:
    """For a file that does not parse: whether a line reads like the start of a manifest section."""
    try:
        with path.open("rb") as stream:
            text = stream.read(1024 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return True  # say why it cannot be read rather than pass over it in silence
    return _MANIFEST_LINE.search(text) is not None


class _Loader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.diagnostics: list[Diagnostic] = []
        self.files: list[str] = []
        self.declared: dict[tuple[str, str, str], Declaration] = {}
        self.settings: Settings | None = None
        self.settings_span: SourceSpan | None = None
        self.sections: set[str] = set()

    def load_file(self, path: Path, shown: str, *, only_manifests: bool) -> None:
        """Read one file; with `only_manifests`, skip it unless it looks like a manifest."""
        loaded, problems = load_yaml_file(path, shown, self.environ)
        if only_manifests and not (
            _looks_like_manifest(loaded.data) if loaded is not None else _text_looks_like_manifest(path)
        ):
            log.info("skipping %s: not a manifest (no `version: 1` and no manifest section)", shown)
            return
        log.info("reading %s", shown)
        self.files.append(shown)
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
                    f"a manifest file is a mapping (version, settings, ...), not {_describe_whole(data)}",
                    source=source_map.locate(()),
                )
            )
            return
        validated: dict[int, Spec] = {}
        try:
            _pair_validated(data, ManifestDocument.model_validate(data, by_name=False), validated)
        except ValidationError as exc:
            self.diagnostics.extend(_diagnostics_from(exc, data, source_map))
        for kind in KINDS:
            self.diagnostics.extend(kind.unlisted(data.get(kind.name), source_map))
        if "settings" in data:
            self._take_settings(valid_spec(Settings, data["settings"] or {}), source_map)
            self.diagnostics.extend(offline_checks(data["settings"], source_map))
        for kind in KINDS:
            if kind.name in data:
                self.sections.add(kind.name)
            for declared in kind.declarations(data.get(kind.name), source_map, validated):
                self._declare(declared)

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

    def _declare(self, declared: Declaration) -> None:
        address = declared.address
        first = self.declared.setdefault(address.key, declared)
        if first is declared:
            return
        here = declared.span()
        noun = get_kind(address.kind).address_form.noun
        same = (
            f" (the same {noun} as {first.address}: names compare without case)"
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
        for kind in KINDS:
            own = [item for item in objects if item.address.kind == kind.name]
            self.diagnostics.extend(kind.declared_problems(own))
        self.diagnostics.extend(_renamed_from_problems(objects))
        settings = self.settings or Settings()
        state = DesiredState(
            objects={item.address: item.spec for item in objects},
            settings=settings,
            protected=frozenset(Address.parse(entry) for entry in settings.protect),
            prune=frozenset(settings.prune),
            files=tuple(self.files),
            origins={item.address: item.origin for item in objects},
            named_kinds=frozenset(self.sections | set(settings.prune)),
        )
        return state, sorted(self.diagnostics, key=_position)


def _position(diagnostic: Diagnostic) -> tuple[str, int, int]:
    source = diagnostic.source
    return (source.file, source.line, source.column) if source else ("", 0, 0)


def _pair_validated(raw: Any, value: Any, known: dict[int, Spec]) -> None:
    """Records, by the identity of its data, each model that validating the whole document built, so
    that its objects are not validated a second time one by one: the same model on the same data."""
    if isinstance(value, Spec) and isinstance(raw, dict):
        known[id(raw)] = value
        for name, key in _field_keys(type(value)):
            item = getattr(value, name)
            if isinstance(item, Spec | list) and key in raw:  # text and numbers hold no models
                _pair_validated(raw[key], item, known)
    elif isinstance(value, list) and isinstance(raw, list) and len(value) == len(raw):
        for raw_item, item in zip(raw, value, strict=True):
            if isinstance(item, Spec | list):
                _pair_validated(raw_item, item, known)


@functools.cache
def _field_keys(model: type[Spec]) -> tuple[tuple[str, str], ...]:
    """A model's fields, each with its key in the manifest."""
    return tuple((name, info.alias or name) for name, info in model.model_fields.items())


def _renamed_from_problems(objects: list[Declaration]) -> Iterator[Diagnostic]:
    claims: dict[tuple[str, str, str], Declaration] = {}
    for item in objects:
        earlier_names: list[str] = getattr(item.spec, "renamed_from", [])
        for index, earlier in enumerate(earlier_names):
            claim = item.address.renamed(earlier).key
            span = item.span("renamedFrom", index)
            if claim == item.address.key:
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
            code, message, on_key = "unknown_key", f"unknown key {shortened(key)!r}{hint}", True
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
                    f"unsupported manifest version {_quoted(details['input'])}; write `version: 1`",
                )
        elif kind in _TYPE_NAMES:
            expected = _TYPE_NAMES[kind]
            if kind.startswith("model") and ("grants" in path or "holder" in path or "holders" in path):
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


def _quoted(value: Any) -> str:
    """A value any file can hold (its version), not only a manifest, quoted short (see `_describe_whole`)."""
    return repr(shortened(value)) if isinstance(value, str) else repr(value)


def _describe_whole(value: Any) -> str:
    """`_describe` for what any file can hold (the document, its version), not only a manifest: a file given
    as a manifest may be a credential file, so its text is quoted short. Values inside a manifest section
    are quoted whole."""
    return f"the text {shortened(value)!r}" if isinstance(value, str) else _describe(value)


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
    if not path or not isinstance(path[0], str) or path[0] not in data:
        return None
    try:
        kind = get_kind(path[0])
    except KeyError:
        return None
    address = kind.address_at(data[path[0]], path[1:])
    return str(address) if address else None
