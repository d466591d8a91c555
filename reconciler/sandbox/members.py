"""Jira platform REST API v3: who is in a group, and who is in each project role of a project.

Status codes follow the official document (jira-platform-permission-schemes.openapi.json); where it is
silent the choice is commented. Groups get members and projects get role actors only from seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from reconciler.sandbox.common import Ctx, Json, Reply, Route, bad_request, not_found, page_bean
from reconciler.sandbox.jira import PREFIX, user_json
from reconciler.sandbox.state import Group, Project, ProjectRole, RoleActor, State

# "The maximum number of items to return per page (number should be between 1 and 50)", default 50.
MEMBERS_PAGE_MAX = 50


def add_members(state: State, group: Group, account_ids: Sequence[str]) -> None:
    for account_id in account_ids:
        _check_user(state, account_id)
        if account_id not in group.members:
            group.members.append(account_id)


def add_role_actors(
    state: State,
    project: Project,
    role: ProjectRole,
    account_ids: Sequence[str],
    groups: Sequence[Group],
) -> None:
    """Put users (by account id) and groups in a project role of `project`."""
    actors = project.role_actors.setdefault(str(role.id), [])
    for account_id in account_ids:
        _check_user(state, account_id)
        actors.append(RoleActor(id=state.new_int(), type="user", value=account_id))
    actors += [RoleActor(id=state.new_int(), type="group", value=group.id) for group in groups]


def _check_user(state: State, account_id: str) -> None:
    try:
        state.user(account_id)
    except KeyError:
        raise bad_request(f"The user {account_id!r} does not exist.") from None


def _flag(ctx: Ctx, name: str) -> bool:
    raw = (ctx.query.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise bad_request(f"{name} must be true or false.", name)
    return raw == "true"


def _named(state: State, name: str) -> Group:
    for group in state.groups:
        if group.name == name:
            return group
    raise KeyError(name)


def group_members(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    name, group_id = ctx.query.get("groupname"), ctx.query.get("groupId")
    if (name is None) == (group_id is None):
        # "400 Returned if the group name is not specified"; each parameter "cannot be used with" the other.
        raise bad_request("Give exactly one of groupname and groupId.")
    try:
        group = ctx.state.group(group_id) if group_id is not None else _named(ctx.state, str(name))
    except KeyError:
        raise not_found(f"The group {name or group_id!r} does not exist.") from None
    inactive = _flag(ctx, "includeInactiveUsers")
    start = ctx.query_int("startAt", 0)
    size = ctx.query_int("maxResults", MEMBERS_PAGE_MAX)
    if start < 0 or size < 1:
        raise bad_request("startAt must be 0 or more and maxResults 1 or more.")
    size = ctx.page_size(min(size, MEMBERS_PAGE_MAX))
    users = [ctx.state.user(account_id) for account_id in group.members]
    # Ordered by username, which the site does not return: the sandbox has none, and orders by display name.
    members = sorted(
        (user for user in users if inactive or user.active),
        key=lambda user: (user.display_name.casefold(), user.account_id),
    )
    page = [user_json(ctx, user) for user in members[start : start + size]]
    asked = [("groupname", name) if name is not None else ("groupId", group.id)]
    asked.append(("includeInactiveUsers", str(inactive).lower()))
    return page_bean(f"{ctx.base_url}{PREFIX}/group/member", asked, start, size, len(members), page)


def _administered(ctx: Ctx, key_or_id: str) -> Project:
    """A project the caller administers. The document answers 404 alike for no such project and for one
    the caller may not administer (Knobs.project_access)."""
    for project in ctx.state.projects:
        if key_or_id in (project.key, str(project.id)) and project.key not in ctx.project_access:
            return project
    raise not_found(f"No project could be found with key '{key_or_id}'.")


def _role_url(ctx: Ctx, project: Project, role: ProjectRole) -> str:
    return f"{ctx.base_url}{PREFIX}/project/{quote(project.key, safe='')}/role/{role.id}"


def project_roles(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """Every project role, as all of them are shared by every project: name -> the role's URL there."""
    project = _administered(ctx, args["project"])
    return Reply(200, {role.name: _role_url(ctx, project, role) for role in ctx.state.project_roles})


def _actor_json(state: State, actor: RoleActor) -> Json:
    if actor.type == "user":
        user = state.user(actor.value)
        return {
            "actorUser": {"accountId": user.account_id},
            "displayName": user.display_name,
            "id": actor.id,
            "type": "atlassian-user-role-actor",
        }
    group = state.group(actor.value)
    return {
        "actorGroup": {"displayName": group.name, "groupId": group.id, "name": group.name},
        "displayName": group.name,
        "id": actor.id,
        "name": group.name,
        "type": "atlassian-group-role-actor",
    }


def project_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """A project role and its actors in the project, sorted by display name."""
    project = _administered(ctx, args["project"])
    try:
        role_id = int(args["role_id"])
    except ValueError:
        raise bad_request(f"The project role id {args['role_id']!r} is not a number.") from None
    role = next((r for r in ctx.state.project_roles if r.id == role_id), None)
    if role is None:
        raise not_found(f"No project role with the id {role_id} exists.")
    exclude_inactive = _flag(ctx, "excludeInactiveUsers")
    actors = [
        _actor_json(ctx.state, actor)
        for actor in project.role_actors.get(str(role.id), [])
        if not (exclude_inactive and actor.type == "user" and not ctx.state.user(actor.value).active)
    ]
    actors.sort(key=lambda actor: (str(actor["displayName"]).casefold(), actor["id"]))
    return Reply(
        200,
        {
            "self": _role_url(ctx, project, role),
            "name": role.name,
            "id": role.id,
            "description": role.description,
            "actors": actors,
        },
    )


ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/group/member", ("GET",), group_members),
    Route(f"{PREFIX}/project/<project>/role", ("GET",), project_roles),
    Route(f"{PREFIX}/project/<project>/role/<role_id>", ("GET",), project_role),
)
