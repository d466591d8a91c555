"""The contract every resource kind implements, and the values that flow between the stages.

A kind owns everything about itself: its manifest section and address form, how it finds its objects in a
manifest file, how it reads its live objects (network), turns manifest specs and live objects into
comparable *essences* (pure), writes one planned change (network), and exports its section. Everything
generic — loading, matching, renames, pruning, ordering, export files — lives outside the kinds and holds
no per-kind branch, so a new kind is one module plus one line in registry.py (docs/adding-a-kind.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from reconciler.address import Address
from reconciler.errors import Diagnostic, RetryableSiteError, SourceSpan, TerminalSiteError
from reconciler.kind_names import AddressForm
from reconciler.site.api import SiteApi
from reconciler.spec import Spec
from reconciler.state import DesiredState, ObjectOrigin
from reconciler.yamlsource import DataPath, PathSegment, SourceMap

T = TypeVar("T")
CREATE_RETRY_PAUSE_S = 1.0
ANSWERLESS_LOOKS = 3

Essence = dict[str, Any]
# How desired and live objects are matched: the object's address in its canonical form, with the scope as
# the API keys it (a team's id, where the shown address has the team as written) and the name as the API
# compares it (case-folded for detail fields). Saved plans record it as its string form.
Identity = Address


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RENAME = "rename"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "rename": "~", "replace": "-/+", "delete": "-"}[self.value]

    @property
    def destructive(self) -> bool:
        return self in (Action.DELETE, Action.REPLACE)


@dataclass(frozen=True)
class FieldDiff:
    """One field-level difference; `path` is relative to the essence, e.g. ("grantedRights",)."""

    op: str  # "add" | "change" | "remove"
    path: tuple[str | int, ...]
    old: Any = None
    new: Any = None


class WriteData(BaseModel):
    """What a kind's writer needs beyond the essences (server ids, grant ids, holder bodies), typed per
    kind (its `write_data`) and saved with the plan, so that a saved plan is applied exactly as reviewed."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True)

    server_id: str | None = None

    @property
    def live_id(self) -> str:
        """The server id of the live object the change updates or deletes."""
        if self.server_id is None:
            raise TypeError("this change names no live object")
        return self.server_id

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


W = TypeVar("W", bound=WriteData)


def write_data_of(change: Change, model: type[W]) -> W:
    """The change's write data as the kind's own model."""
    if not isinstance(change.context, model):
        raise TypeError(f"{change.address}: the change carries no {model.__name__}")
    return change.context


@dataclass(frozen=True)
class Change:
    """One step of a plan. `key` is unique within the plan; `context` is the kind's WriteData."""

    key: str
    address: Address
    action: Action
    before: Essence | None
    after: Essence | None
    diffs: tuple[FieldDiff, ...] = ()
    context: WriteData = field(default_factory=WriteData)
    depends_on: frozenset[str] = frozenset()
    reason: str | None = None
    source: SourceSpan | None = None
    # An update in place that may lose stored data (`ResourceKind.loses_data`): destructive like a delete.
    loses_data: bool = False

    @property
    def destructive(self) -> bool:
        return self.action.destructive or self.loses_data

    @property
    def kind(self) -> str:
        return self.address.kind


@dataclass(frozen=True)
class DesiredObject:
    address: Address
    identity: Identity
    essence: Essence
    renamed_from: tuple[Identity, ...] = ()
    source: SourceSpan | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveObject:
    address: Address
    identity: Identity
    essence: Essence
    server_id: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # Why the account cannot read this object that the site has (a project it may view but not administer):
    # a plan error for a declared one, never a change.
    unreadable: str | None = None

    @cached_property
    def fingerprint(self) -> str:
        """A stable digest of what the plan read of this object: a saved plan compares it again."""
        read = {"id": self.server_id, "scope": self.identity.scope, "essence": self.essence}
        text = json.dumps(read, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Declaration:
    """One object a manifest file declares, valid on its own."""

    address: Address
    spec: Spec
    origin: ObjectOrigin

    def span(self, *path: PathSegment) -> SourceSpan:
        return self.origin.source_map.locate((*self.origin.path, *path))


def list_items(value: Any) -> Iterator[tuple[int, Any]]:
    """The (index, item) pairs of a manifest list; nothing when the value is not a list."""
    yield from enumerate(value) if isinstance(value, list) else ()


# The models that validating a whole manifest file built, by the id() of the data each was built from.
Validated = Mapping[int, Spec]


def valid_spec(model: type[Spec], item: Any, validated: Validated | None = None) -> Any:
    """The item as `model`, or None: the file's diagnostics come from validating the whole document.
    A model the document's validation already built from this very data is taken as it is."""
    spec = validated.get(id(item)) if validated else None
    if type(spec) is model:
        return spec
    try:
        return model.model_validate(item, by_name=False)
    except ValidationError:
        return None


def node_at(node: Any, *path: PathSegment) -> Any:
    """The manifest data at `path` below `node`, or None where the path leads nowhere."""
    for segment in path:
        if isinstance(node, dict) and isinstance(segment, str):
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return None
    return node


def name_at(node: Any, *path: PathSegment, key: str = "name") -> str | None:
    """The name (`key`) of the manifest object at `path`, when it is usable text."""
    name = node_at(node, *path, key)
    return name if isinstance(name, str) and name else None


@dataclass(frozen=True)
class Lookups:
    """Names and ids of what the manifests refer to but do not manage."""

    teams: Mapping[str, str] = field(default_factory=dict)  # team id -> name
    groups: Mapping[str, str] = field(default_factory=dict)  # group id -> name
    project_roles: Mapping[str, str] = field(default_factory=dict)  # project role id -> name
    permission_keys: frozenset[str] = frozenset()
    # Read only when the manifests' grants name such holders (see CheckedHolders).
    application_roles: frozenset[str] = frozenset()  # application role keys
    custom_fields: Mapping[str, str] = field(default_factory=dict)  # custom field id -> name
    users: frozenset[str] = frozenset()  # the account ids asked for that the site has
    # The addresses the manifests declare, for kinds read one object at a time (projects); None when
    # every object is wanted (export).
    declared: frozenset[Address] | None = None

    @cached_property
    def team_ids_by_name(self) -> Mapping[str, list[str]]:
        return _invert(self.teams)

    @cached_property
    def group_ids_by_name(self) -> Mapping[str, list[str]]:
        return _invert(self.groups)

    @cached_property
    def project_role_ids_by_name(self) -> Mapping[str, list[str]]:
        return _invert(self.project_roles)

    @cached_property
    def custom_field_ids_by_name(self) -> Mapping[str, list[str]]:
        return _invert(self.custom_fields)


@dataclass(frozen=True)
class CheckedHolders:
    """What the manifests' grants name that only the site can check, so that a plan reads groups, project
    roles, permission keys, application roles, fields or users only when some grant needs them."""

    application_roles: bool = False
    custom_fields: bool = False
    account_ids: frozenset[str] = frozenset()
    groups: bool = False
    project_roles: bool = False
    permission_keys: bool = False

    def __or__(self, other: CheckedHolders) -> CheckedHolders:
        return CheckedHolders(
            self.application_roles or other.application_roles,
            self.custom_fields or other.custom_fields,
            self.account_ids | other.account_ids,
            self.groups or other.groups,
            self.project_roles or other.project_roles,
            self.permission_keys or other.permission_keys,
        )


@dataclass(frozen=True)
class Reference:
    """An object of another kind that an essence names: changes to it are ordered around the referrer."""

    identity: Identity  # its kind is the identity's
    path: tuple[str, ...]  # the manifest key that names it, for diagnostics
    what: str  # what it is, for a person: "permission scheme"


def _invert(by_id: Mapping[str, str]) -> Mapping[str, list[str]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for object_id, name in sorted(by_id.items()):
        by_name[name].append(object_id)
    return dict(by_name)


class ResourceKind(ABC):
    """One kind of managed object. Subclasses are stateless; instances are cheap."""

    name: ClassVar[str]  # the user-facing kind name (docs/manifest.md), and its manifest section's key
    address_form: ClassVar[AddressForm]
    # The manifest section's type (for validation and the JSON Schema), and the model of one object in it.
    section: ClassVar[Any]
    spec: ClassVar[type[Spec]]
    set_fields: ClassVar[frozenset[str]] = frozenset()  # essence lists compared as sets
    # Lookups to read first: "teams", "groups", "projectRoles", "permissions".
    needs: ClassVar[frozenset[str]] = frozenset()
    # Lookups its `read` may use as it meets what the live objects name (group and project role names for
    # the holders of live grants): read at the first use, so not at all when nothing live names one.
    reads_on_demand: ClassVar[frozenset[str]] = frozenset()
    name_field: ClassVar[str] = "name"  # the manifest key that names an object (a project's `key`)
    refers_to: ClassVar[frozenset[str]] = frozenset()  # kinds its objects name (see `references`)
    capacity: ClassVar[int | None] = None  # the most objects the API allows in one scope
    # Codes of the `unlisted` warnings: a plan that reads this kind replaces them with what the site says.
    site_decides: ClassVar[frozenset[str]] = frozenset()
    write_data: ClassVar[type[WriteData]] = WriteData  # what its changes carry for the writer
    export_file: ClassVar[str]
    export_about: ClassVar[tuple[str, ...]]  # the export header's lines about this kind

    def name_key(self, name: str) -> str:
        """A name as the API compares it."""
        return self.address_form.name_key(name)

    def identity(self, scope: str, name: str) -> Identity:
        """What matches a desired object to a live one: the canonical address (see `Identity`)."""
        return Address(self.name, scope, self.name_key(name))

    # --- manifests (pure) ------------------------------------------------------------------------

    def declarations(
        self, section: Any, source_map: SourceMap, validated: Validated
    ) -> Iterator[Declaration]:
        """The objects of this kind's section of one file that are valid on their own. The default reads
        a list of named objects."""
        for index, item in list_items(section):
            spec = valid_spec(self.spec, item, validated)
            if spec is not None:
                address = Address(self.name, "", getattr(spec, self.name_field))
                yield Declaration(address, spec, ObjectOrigin(source_map, (self.name, index)))

    def address_at(self, section: Any, path: DataPath) -> Address | None:
        """The address of the object a data path inside the section points into, if it has a name."""
        name = name_at(section, *path[:1], key=self.name_field) if path and isinstance(path[0], int) else None
        return Address(self.name, "", name) if name else None

    def holders_to_check(self, state: DesiredState) -> CheckedHolders:
        """The holders this kind's manifests name that only the site can check."""
        return CheckedHolders()

    def unlisted(self, section: Any, source_map: SourceMap) -> Iterator[Diagnostic]:
        """Warnings for values outside lists that are not the site's own (rights, permission keys): the
        site decides. Found in the section's data, so they show beside any error of the same object."""
        yield from ()

    def declared_problems(self, declared: Sequence[Declaration]) -> Iterator[Diagnostic]:
        """Rules across this kind's objects of the whole manifest set, beyond one object."""
        yield from ()

    # --- export (pure) ----------------------------------------------------------------------------

    @abstractmethod
    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        """The manifest section that declares `objects` (one per identity), stable and sorted."""

    # --- the site ---------------------------------------------------------------------------------

    @abstractmethod
    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        """Every live object of this kind, with as few requests as the API allows."""

    @abstractmethod
    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        """The manifests' objects of this kind as essences (pure). Unresolvable references are diagnostics."""

    @abstractmethod
    def apply(self, client: SiteApi, change: Change) -> Sequence[Diagnostic] | None:
        """Carry out one change. Raises SiteError when the site refuses; returns warnings when the site
        took the change but did not keep all of it."""

    def references(self, essence: Essence) -> tuple[Reference, ...]:
        """The objects of other kinds this essence names (a project's permission scheme)."""
        return ()

    def missing(self, desired: DesiredObject) -> Diagnostic | None:
        """For a kind whose objects are never created here: why a declared object without a live one is
        an error."""
        return None

    def notes(self, desired: DesiredObject, live: LiveObject) -> list[Diagnostic]:
        """Warnings about differences that no change can fix (fields the API cannot write)."""
        return []

    def review(self, desired: Sequence[DesiredObject], live: Sequence[LiveObject]) -> list[Diagnostic]:
        """Warnings that need the manifests and the live objects together."""
        return []

    def can_update_in_place(self, before: Essence, after: Essence) -> bool:
        """False when the API cannot change some field, so the change must be a replace."""
        return True

    def replace_reason(self, before: Essence, after: Essence) -> str:
        """Why a replace is needed, for the plan."""
        return "the API cannot change it in place"

    def loses_data(self, before: Essence, after: Essence) -> str | None:
        """What an update in place from `before` to `after` may lose of the data stored with the object,
        or None: such an update is destructive, like a delete."""
        return None

    def write_context(self, desired: DesiredObject | None, live: LiveObject | None) -> WriteData:
        """What the writer needs beyond the essences: the live object's server id, and what the kind's
        `write_data` takes of the live and desired objects' context."""
        context: dict[str, Any] = {}
        if live is not None:
            context.update(live.context, serverId=live.server_id)
        if desired is not None:
            context.update(desired.context)
        return self.write_data.model_validate(context)


def text_list(raw: Mapping[str, Any], key: str) -> list[str]:
    """A list of strings from an answer (absent or null: empty). Anything else is an answer of the
    wrong shape, never to be read as something else (a string is not a list of its letters)."""
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{key!r} is not a list of strings")
    return value


def create_verified(create: Callable[[], T], find: Callable[[], T | None], *, attempts: int = 3) -> T:
    """Send a create that is not idempotent. When the answer is lost (dropped connection, timeout,
    5xx, 429), look whether the object exists before sending it again, so nothing is created twice."""
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except RetryableSiteError as exc:
            if attempt == attempts:
                raise
            # With no answer at all (timeout, dropped connection) the site may still be committing the
            # create: look a few times, waiting longer each time, before sending it again.
            looks = ANSWERLESS_LOOKS if exc.status is None else 1
            for look in range(looks):
                time.sleep(CREATE_RETRY_PAUSE_S * attempt * 2**look)
                found = find()
                if found is not None:
                    return found
    raise AssertionError("unreachable")


AUTH_STATUSES = frozenset({401, 403})


def delete_verified(delete: Callable[[], object], exists: Callable[[], bool]) -> None:
    """Send a delete, and decide what an odd outcome means by reading, never by its status alone.

    When the answer was lost (retries ran out), or the site refused with a 4xx other than auth, the
    object may already be gone: a DELETE sent again after a lost answer sees a 404, or a 400 where the
    documents declare no 404 (CSM fields and products, Ops team roles). Gone means done."""
    try:
        delete()
    except RetryableSiteError:
        if exists():
            raise
    except TerminalSiteError as exc:
        if exc.status is None or exc.status in AUTH_STATUSES or not 400 <= exc.status < 500 or exists():
            raise


def found(read: Callable[[], object]) -> bool:
    """Whether reading one object finds it; for GETs whose documents declare 404 for a missing one."""
    try:
        read()
    except TerminalSiteError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def by_name(obj: LiveObject) -> tuple[str, str]:
    """Export order: by name without case, then with case."""
    name = str(obj.essence["name"])
    return name.casefold(), name
