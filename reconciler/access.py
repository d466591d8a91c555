"""Who can do what, where: every (project, permission, holder) and the scheme that grants it. Pure.

The state comes from the permission schemes read from the site and the map of which scheme each project
uses, either as the site has them now (`live_access`) or as a plan leaves them (`planned_access`). The
`access` command reports its rows, every plan lists the rows it adds and removes (`AccessDiff`), and
settings.policies judge the planned state. Holders stay holders in a row (a group, a project role,
`anyone`); `accounts` expands a row to the accounts behind it, from `Memberships` that
reconciler/members.py reads for `access --users`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import catalogue
from reconciler.kinds.kind import Change, LiveObject, write_data_of
from reconciler.kinds.permission_scheme import SchemeWrite
from reconciler.live import LiveState
from reconciler.plan.model import Access, AccessDiff, GrantHolder, Plan
from reconciler.spec import did_you_mean

SCHEMES, PROJECTS = "permissionSchemes", "projects"
# Access, AccessDiff and GrantHolder are what a plan records of access, so they live with the plan
# (plan/model.py); they are this module's words too.
__all__ = [
    "Access",
    "AccessDiff",
    "AccessState",
    "Account",
    "Grant",
    "GrantHolder",
    "GroupKey",
    "Member",
    "Memberships",
    "ReportRow",
    "RoleActors",
    "access_changes",
    "access_diff",
    "accounts",
    "live_access",
    "planned_access",
    "report_rows",
    "rows",
    "select",
    "to_expand",
]


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
    return _after(plan, live_access(live, project_map))


def _after(plan: Plan, now: AccessState) -> AccessState:
    schemes = dict(now.schemes)
    renamed: dict[str, str] = {}
    for change in plan.changes:
        if change.kind == SCHEMES:
            before = str(change.before["name"]) if change.before else None
            if before is not None:
                schemes.pop(before, None)
            if change.after is not None:
                after = str(change.after["name"])
                known = {grant.label: grant for grant in now.schemes.get(before, ())} if before else {}
                schemes[after] = frozenset(_planned_grants(change, known))
                if before is not None and before != after:
                    renamed[before] = after
    projects = {key: renamed.get(scheme, scheme) for key, scheme in now.projects.items()}
    for change in plan.changes:
        if change.kind == PROJECTS and change.after is not None:
            projects[str(change.after["key"])] = str(change.after["permissionScheme"])
    return AccessState(schemes, projects)


def _live_grants(scheme: LiveObject) -> Iterator[Grant]:
    """The scheme's grants as read: the kind keeps each one's holder beside its label."""
    parts: Mapping[str, Mapping[str, Any]] = scheme.context["grants"]
    for label in scheme.essence["grants"]:
        yield _grant(label, parts[label]["holder"])


def _planned_grants(change: Change, live: Mapping[str, Grant]) -> Iterable[Grant]:
    """A scheme's grants after `change`: those it keeps as they were read, the added ones as planned (the
    change carries the body of each grant it adds)."""
    assert change.after is not None
    for label in change.after["grants"]:
        if label in live:
            yield live[label]
        else:
            yield _grant(label, write_data_of(change, SchemeWrite).grant_bodies[label]["holder"])


def _grant(label: str, holder: Mapping[str, Any]) -> Grant:
    """A grant from its label and the holder as the API has it (type, parameter, value)."""
    permission, _, shown = label.partition(": ")
    ident = holder.get("value") or holder.get("parameter")
    return Grant(permission, GrantHolder(str(holder["type"]), str(ident) if ident else None, shown))


def access_diff(plan: Plan, live: LiveState, project_map: Mapping[str, str]) -> AccessDiff:
    """What `plan` adds and removes in the projects of `project_map` and in those it moves."""
    if SCHEMES not in live.objects or not any(change.kind in (SCHEMES, PROJECTS) for change in plan.changes):
        return AccessDiff()  # --target without schemes has nothing to compare a move against
    before = live_access(live, project_map)
    after = _after(plan, before)
    # Only the projects whose grants the plan may change: a large site's other rows are never built.
    changed = {
        name
        for name in before.schemes.keys() | after.schemes.keys()
        if before.schemes.get(name) != after.schemes.get(name)
    }
    touched = {
        key
        for key in before.projects.keys() | after.projects.keys()
        if before.projects.get(key) != after.projects.get(key)
        or before.projects.get(key) in changed
        or after.projects.get(key) in changed
    }
    added, removed = access_changes(_of_projects(before, touched), _of_projects(after, touched))
    return AccessDiff(tuple(added), tuple(removed))


def _of_projects(state: AccessState, keys: Collection[str]) -> AccessState:
    return AccessState(state.schemes, {key: scheme for key, scheme in state.projects.items() if key in keys})


# --- accounts (access --users) ----------------------------------------------------------------------

# How GET /group/member is asked for a group: ("groupId", ID), or ("groupname", NAME) for a project role's
# group actor that comes without its id (the document makes `groupId` optional there).
GroupKey = tuple[str, str]


@dataclass(frozen=True)
class Member:
    account_id: str
    display_name: str


@dataclass(frozen=True)
class RoleActors:
    """Who is in a project role in one project: users, and groups (how to read each one's members, and its
    name)."""

    users: tuple[Member, ...] = ()
    groups: tuple[tuple[GroupKey, str], ...] = ()


@dataclass(frozen=True)
class Memberships:
    groups: Mapping[GroupKey, tuple[Member, ...]]  # the active members of each group read
    roles: Mapping[tuple[str, str], RoleActors]  # (project key, project role id) -> its actors there
    users: Mapping[str, str]  # account id -> display name, of the active accounts that grants name


@dataclass(frozen=True)
class Account:
    """An account that has a row's permission, and `via` which holder: the group or project role (with the
    group in it that the account is in), or the user holder itself."""

    account_id: str
    display_name: str
    via: str


def to_expand(found: Iterable[Access]) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """What the rows name that --users reads: group ids, (project key, project role id) pairs, account ids."""
    groups: set[str] = set()
    roles: set[tuple[str, str]] = set()
    users: set[str] = set()
    for row in found:
        value = row.holder.value
        if value is None:
            continue
        if row.holder.type == "group":
            groups.add(value)
        elif row.holder.type == "projectRole":
            roles.add((row.project, value))
        elif row.holder.type == "user":
            users.add(value)
    return groups, roles, users


def accounts(row: Access, memberships: Memberships) -> list[Account] | None:
    """The accounts behind the row's holder, sorted by name; None for a holder that names no accounts
    (anyone, an application role, reporter, assignee, projectLead, a custom field, portal-only customers)."""
    holder, value = row.holder, row.holder.value
    if value is None or holder.type not in ("user", "group", "projectRole"):
        return None
    if holder.type == "user":
        # An inactive or unknown account reaches nobody, as an empty group does: the grant keeps its row.
        name = memberships.users.get(value)
        return [] if name is None else [Account(value, name, holder.label)]
    if holder.type == "group":
        found = {
            Account(m.account_id, m.display_name, holder.label)
            for m in memberships.groups[("groupId", value)]
        }
    else:
        actors = memberships.roles[(row.project, value)]
        found = {Account(user.account_id, user.display_name, holder.label) for user in actors.users}
        for key, name in actors.groups:
            via = f"{holder.label} > group:{name}"
            found |= {Account(m.account_id, m.display_name, via) for m in memberships.groups[key]}
    return sorted(
        found, key=lambda account: (account.display_name.casefold(), account.account_id, account.via)
    )


@dataclass(frozen=True)
class ReportRow:
    """One row of `access`: a grant in a project and, with --users, one account it reaches (or None for a
    holder that names no accounts, or a group or role with nobody in it)."""

    access: Access
    project_name: str
    account: Account | None = None

    def fields(self, users: bool) -> dict[str, str]:
        row = self.access
        found = {
            "project": row.project,
            "projectName": self.project_name,
            "permission": row.permission,
            "holder": row.holder.label,
            "scheme": row.scheme,
        }
        if users:
            account = self.account
            found |= {
                "accountId": account.account_id if account else "",
                "displayName": account.display_name if account else "",
                "via": account.via if account else "",
            }
        return found


def select(
    found: Iterable[Access],
    projects: Collection[str],
    permissions: Collection[str],
    *,
    known: Collection[str],
) -> list[Access]:
    """The rows of these projects and permissions (every one when none is given). Raises ValueError for a
    project not `known`, or a permission neither built in nor granted anywhere, with a did-you-mean."""
    found = list(found)
    granted = {row.permission for row in found} | catalogue.BUILTIN_PERMISSION_KEYS
    for key in projects:
        if key not in known:
            raise ValueError(
                f"--project {key!r} matches no project that the account administers{did_you_mean(key, known)}"
            )
    for key in permissions:
        if key not in granted:
            raise ValueError(
                f"--permission {key!r} is neither a built-in permission nor granted by any scheme"
                f"{did_you_mean(key, granted)}"
            )
    return [
        row
        for row in found
        if (not projects or row.project in projects) and (not permissions or row.permission in permissions)
    ]


def report_rows(
    found: Iterable[Access], names: Mapping[str, str], memberships: Memberships | None = None
) -> Iterator[ReportRow]:
    """The report, row by row: a row per grant, or with `memberships` a row per account each grant reaches
    (and the grant alone where it reaches no account, or its holder names none). A holder's accounts are
    worked out once: the same group is granted many permissions in many projects."""
    reached_by: dict[tuple[str, str, str], list[Account] | None] = {}
    for row in found:
        name = names.get(row.project, "")
        reached = None
        if memberships is not None:
            holder = (
                row.holder.type,
                row.holder.label,
                row.project if row.holder.type == "projectRole" else "",
            )
            if holder not in reached_by:
                reached_by[holder] = accounts(row, memberships)
            reached = reached_by[holder]
        if reached:
            yield from (ReportRow(row, name, account) for account in reached)
        else:
            yield ReportRow(row, name)
