"""Who can do what, where: every (project, permission, holder) and the scheme that grants it. Pure.

The state comes from the permission schemes read from the site and the map of which scheme each project
uses, either as the site has them now (`live_access`) or as a plan leaves them (`planned_access`). The
`access` command reports its rows, every plan lists the rows it adds and removes, and settings.policies
judge the planned state. Holders stay holders here (a group, a project role, `anyone`): expanding them to
accounts needs more reads and belongs to the command that asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.kinds.kind import Change, LiveObject
from reconciler.kinds.permission_scheme import SchemeWrite
from reconciler.live import LiveState
from reconciler.plan.model import Plan

SCHEMES, PROJECTS = "permissionSchemes", "projects"


@dataclass(frozen=True, order=True)
class GrantHolder:
    """Who a grant is for: the API's holder type and id, and the label plans show (`group:NAME`)."""

    type: str
    value: str | None  # the group id, project role id, account id, application role key or field id
    label: str


@dataclass(frozen=True, order=True)
class Grant:
    permission: str
    holder: GrantHolder

    @property
    def label(self) -> str:
        """`KEY: holder`, as a scheme's essence lists its grants."""
        return f"{self.permission}: {self.holder.label}"


@dataclass(frozen=True)
class AccessState:
    schemes: Mapping[str, frozenset[Grant]]  # scheme name -> its grants
    projects: Mapping[str, str]  # project key -> the name of the scheme it uses


@dataclass(frozen=True, order=True)
class Access:
    """One row of the report: `holder` has `permission` in `project`, granted by `scheme`."""

    project: str
    permission: str
    holder: GrantHolder
    scheme: str


def rows(state: AccessState) -> list[Access]:
    """Every (project, permission, holder) with the scheme that grants it, sorted."""
    return sorted(
        Access(project, grant.permission, grant.holder, scheme)
        for project, scheme in state.projects.items()
        for grant in state.schemes.get(scheme, ())
    )


def access_changes(before: AccessState, after: AccessState) -> tuple[list[Access], list[Access]]:
    """The rows `after` has that `before` lacks (added), and the other way round (removed).

    A row is compared without its scheme: a project moved to another scheme that grants the same thing
    gains and loses nothing. Holders compare by label, as a scheme's grants do."""
    old = {_who_what_where(row): row for row in rows(before)}
    new = {_who_what_where(row): row for row in rows(after)}
    added = sorted(row for key, row in new.items() if key not in old)
    removed = sorted(row for key, row in old.items() if key not in new)
    return added, removed


def _who_what_where(row: Access) -> tuple[str, str, str]:
    return row.project, row.permission, row.holder.label


def live_access(live: LiveState, project_map: Mapping[str, str]) -> AccessState:
    """The site as read: its schemes' grants, and `project_map` (project key -> scheme name)."""
    schemes = {str(obj.essence["name"]): frozenset(_live_grants(obj)) for obj in live.of(SCHEMES)}
    return AccessState(schemes, dict(project_map))


def planned_access(plan: Plan, live: LiveState, project_map: Mapping[str, str]) -> AccessState:
    """The site as `plan` leaves it: each scheme change and project move applied to what was read."""
    now = live_access(live, project_map)
    schemes = dict(now.schemes)
    live_grants = {name: {grant.label: grant for grant in grants} for name, grants in now.schemes.items()}
    renamed: dict[str, str] = {}
    for change in plan.changes:
        if change.kind == SCHEMES:
            before = str(change.before["name"]) if change.before else None
            if before is not None:
                schemes.pop(before, None)
            if change.after is not None:
                after = str(change.after["name"])
                known = live_grants.get(before, {}) if before is not None else {}
                schemes[after] = frozenset(_planned_grants(change, known))
                if before is not None and before != after:
                    renamed[before] = after
    projects = {key: renamed.get(scheme, scheme) for key, scheme in now.projects.items()}
    for change in plan.changes:
        if change.kind == PROJECTS and change.after is not None:
            projects[str(change.after["key"])] = str(change.after["permissionScheme"])
    return AccessState(schemes, projects)


def _live_grants(scheme: LiveObject) -> Iterator[Grant]:
    parts: Mapping[str, Mapping[str, Any]] = scheme.context.get("grants", {})
    for label in scheme.essence["grants"]:
        part = parts.get(label)
        yield _grant(label, part["holder"] if part else None)


def _planned_grants(change: Change, live: Mapping[str, Grant]) -> Iterable[Grant]:
    """A scheme's grants after `change`: those it keeps as they were read, the added ones as planned."""
    assert change.after is not None
    bodies = change.context.grant_bodies if isinstance(change.context, SchemeWrite) else {}
    for label in change.after["grants"]:
        if label in live:
            yield live[label]
        else:
            body = bodies.get(label)
            yield _grant(label, body["holder"] if body else None)


def _grant(label: str, holder: Mapping[str, Any] | None) -> Grant:
    """A grant from its label and, where known, the holder as the API has it (type, parameter, value)."""
    permission, _, shown = label.partition(": ")
    if holder is None:  # a plan saved without the holder's body: its type, and no id to expand
        return Grant(permission, GrantHolder(shown.partition(":")[0], None, shown))
    ident = holder.get("value") or holder.get("parameter")
    return Grant(permission, GrantHolder(str(holder["type"]), str(ident) if ident else None, shown))
