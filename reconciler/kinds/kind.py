"""The contract every resource kind implements, and the values that flow between the stages.

A kind reads its live objects (network), turns manifest specs and live objects into comparable
*essences* (pure), and writes one planned change (network). Everything generic — matching, renames,
pruning, ordering — lives in plan.py, so a new kind is one module plus one line in kinds/__init__.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from reconciler.address import Address
from reconciler.errors import Diagnostic, RetryableSiteError, SourceSpan, TerminalSiteError

if TYPE_CHECKING:
    from reconciler.manifest import DesiredState
    from reconciler.site.http import SiteClient

T = TypeVar("T")
CREATE_RETRY_PAUSE_S = 1.0
ANSWERLESS_LOOKS = 3

Essence = dict[str, Any]
# How desired and live objects are matched: (namespace, name key). The namespace is the detail field
# entity or the team id; the name key is case-folded where the API compares names so.
Identity = tuple[str, str]


def identity_key(kind: str, identity: Identity) -> str:
    """One string for an object's identity across kinds, as saved plans record it."""
    return f"{kind}|{identity[0]}|{identity[1]}"


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


@dataclass(frozen=True)
class Change:
    """One step of a plan. `key` is unique within the plan; `context` carries what the writer needs
    (server ids, grant ids, holder bodies) so that a saved plan can be applied exactly as reviewed."""

    key: str
    address: Address
    action: Action
    before: Essence | None
    after: Essence | None
    diffs: tuple[FieldDiff, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    depends_on: frozenset[str] = frozenset()
    reason: str | None = None
    source: SourceSpan | None = None

    @property
    def destructive(self) -> bool:
        return self.action.destructive

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

    @cached_property
    def fingerprint(self) -> str:
        """A stable digest of what the plan read of this object: a saved plan compares it again."""
        read = {"id": self.server_id, "scope": self.identity[0], "essence": self.essence}
        text = json.dumps(read, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Lookups:
    """Names and ids of what the manifests refer to but do not manage."""

    teams: Mapping[str, str] = field(default_factory=dict)  # team id -> name
    groups: Mapping[str, str] = field(default_factory=dict)  # group id -> name
    project_roles: Mapping[str, str] = field(default_factory=dict)  # project role id -> name
    permission_keys: frozenset[str] = frozenset()
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


@dataclass(frozen=True)
class Reference:
    """An object of another kind that an essence names: changes to it are ordered around the referrer."""

    kind: str
    identity: Identity
    path: tuple[str, ...]  # the manifest key that names it, for diagnostics
    what: str  # what it is, for a person: "permission scheme"


def _invert(by_id: Mapping[str, str]) -> Mapping[str, list[str]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for object_id, name in sorted(by_id.items()):
        by_name[name].append(object_id)
    return dict(by_name)


class ResourceKind(ABC):
    """One kind of managed object. Subclasses are stateless; instances are cheap."""

    name: ClassVar[str]  # the user-facing kind name of MANIFEST.md
    set_fields: ClassVar[frozenset[str]] = frozenset()  # essence lists compared as sets
    # Lookups to read first: "teams", "groups", "projectRoles", "permissions".
    needs: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def read(self, client: SiteClient, lookups: Lookups) -> list[LiveObject]:
        """Every live object of this kind, with as few requests as the API allows."""

    @abstractmethod
    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        """The manifests' objects of this kind as essences (pure). Unresolvable references are diagnostics."""

    @abstractmethod
    def apply(self, client: SiteClient, change: Change) -> None:
        """Carry out one change. Raises SiteError when the site refuses."""

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

    def can_update_in_place(self, before: Essence, after: Essence) -> bool:
        """False when the API cannot change some field, so the change must be a replace."""
        return True

    def replace_reason(self, before: Essence, after: Essence) -> str:
        """Why a replace is needed, for the plan."""
        return "the API cannot change it in place"

    def temporary_name(self, name: str, token: str) -> str:
        """A free name to park an object under while two objects swap names."""
        return f"{name[:150]} (renaming {token})"

    def write_context(self, desired: DesiredObject | None, live: LiveObject | None) -> dict[str, Any]:
        """What the writer needs beyond the essences: server ids and the like."""
        context: dict[str, Any] = {}
        if live is not None:
            context.update(live.context, serverId=live.server_id)
        if desired is not None:
            context.update(desired.context)
        return context


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


def delete_idempotent(delete: Callable[[], object]) -> None:
    """A delete whose object is already gone has done its job (a retried delete sees a 404)."""
    try:
        delete()
    except TerminalSiteError as exc:
        if exc.status != 404:
            raise
