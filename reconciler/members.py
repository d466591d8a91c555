"""Who is in a group and in a project's roles: the reads `access --users` adds to the report.

One paged read (GET /group/member) per group and one read (GET /project/{key}/role/{id}, whose actors come
in one answer) per (project, project role) that a grant names, all at once under the client's concurrency
limit. A group is read once, whether a grant names it, a project role has it as an actor, or both; the groups
that only a role's actors name are read once those answers are in. The accounts that grants name as users
get their display names from GET /user/bulk, USER_BATCH at a time. Inactive accounts are left out: they
cannot log in; so are the accounts that /user/bulk does not know.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from reconciler.access import GroupKey, Member, Memberships, RoleActors
from reconciler.errors import TerminalSiteError
from reconciler.live import SHAPE_ERRORS, USER_BATCH
from reconciler.site.api import Api, SiteApi

MEMBERS_PAGE = 50  # GET /group/member: its default, and the most it gives at once


def read_memberships(
    client: SiteApi, groups: Iterable[str], roles: Iterable[tuple[str, str]], users: Iterable[str]
) -> Memberships:
    """The members of the groups (by id), the actors of the (project key, project role id) pairs, and the
    display names of the accounts."""
    members: dict[GroupKey, tuple[Member, ...]] = {}
    actors: dict[tuple[str, str], RoleActors] = {}
    names: dict[str, str] = {}

    def read_group(key: GroupKey) -> None:
        found = client.paginate_page_bean(
            Api.JIRA, "/group/member", max_results=MEMBERS_PAGE, params={key[0]: key[1]}
        )
        members[key] = tuple(_member(user) for user in found if user.get("active") is not False)

    def read_role(pair: tuple[str, str]) -> None:
        project, role_id = pair
        path = f"/project/{quote(project, safe='')}/role/{quote(role_id, safe='')}"
        actors[pair] = _role_actors(client.get(Api.JIRA, path, {"excludeInactiveUsers": "true"}))

    def read_users(batch: list[str]) -> None:
        found = client.paginate_page_bean(
            Api.JIRA, "/user/bulk", max_results=len(batch), params={"accountId": batch}
        )
        names.update(
            (str(user["accountId"]), str(user.get("displayName") or ""))
            for user in found
            if user.get("active") is not False
        )

    accounts = sorted(users)
    batches = [accounts[i : i + USER_BATCH] for i in range(0, len(accounts), USER_BATCH)]
    named = sorted({("groupId", group) for group in groups})
    jobs: list[Callable[[], None]] = [
        *(functools.partial(read_role, pair) for pair in sorted(roles)),
        *(functools.partial(read_group, key) for key in named),
        *(functools.partial(read_users, batch) for batch in batches),
    ]
    _run(client, jobs)
    in_roles = {key for found in actors.values() for key, _ in found.groups}
    _run(client, [functools.partial(read_group, key) for key in sorted(in_roles - set(members))])
    return Memberships(members, actors, names)


def _run(client: SiteApi, jobs: list[Callable[[], None]]) -> None:
    try:
        client.map(lambda job: job(), jobs)
    except SHAPE_ERRORS as exc:
        endpoint = client.last_endpoint() or "reading group members and project role actors"
        raise TerminalSiteError(
            f"{endpoint}: the answer does not have the documented shape ({type(exc).__name__}: {exc})",
            endpoint=endpoint,
        ) from exc


def _member(user: Mapping[str, Any]) -> Member:
    return Member(str(user["accountId"]), str(user.get("displayName") or ""))


def _role_actors(role: Mapping[str, Any]) -> RoleActors:
    users: list[Member] = []
    groups: list[tuple[GroupKey, str]] = []
    for actor in role["actors"]:
        if actor.get("actorUser"):
            users.append(Member(str(actor["actorUser"]["accountId"]), str(actor.get("displayName") or "")))
        elif actor.get("actorGroup"):
            group = actor["actorGroup"]
            name = str(group.get("name") or actor.get("displayName") or "")
            key = ("groupId", str(group["groupId"])) if group.get("groupId") else ("groupname", name)
            groups.append((key, name))
    return RoleActors(tuple(users), tuple(groups))
