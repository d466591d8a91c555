"""JSM Operations API: custom user roles, teams and team roles.

Errors use `ErrorResponses {errors: [{title, code}]}`, and 401 `{code, message}` (jsm-ops-roles.openapi.json).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pydantic import Field

from reconciler.catalogue import CUSTOM_ROLE_RIGHTS, TEAM_ROLE_RIGHTS
from reconciler.sandbox.common import (
    ApiError,
    Ctx,
    Json,
    Reply,
    RequestModel,
    Route,
    bad_request,
    not_found,
    parse_body,
    remove_object,
)
from reconciler.sandbox.state import CustomRole, State, Team, TeamRole

PREFIX = "/jsm/ops/api/<cloud_id>/v1"
ROLES_PAGE_DEFAULT = 20
ROLES_PAGE_MAX = 100
BUILTIN_ROLES = frozenset({"user", "observer", "stakeholder", "admin"})


def error_body(err: ApiError) -> Json:
    if err.status == 401:
        return {"code": 401, "message": err.message}
    return {"errors": [{"title": err.message, "code": err.key}]}


def conflict(message: str) -> ApiError:
    # No status is documented for a name clash on roles; 409 is what the Ops API answers for
    # "another ... with the same name" on its other resources (schedules, rotations).
    return ApiError(409, message, "CONFLICT")


# ---- custom user roles ----------------------------------------------------------------------------


def _check_rights(granted: list[str], disallowed: list[str]) -> None:
    # Any right is accepted and stored: the official PUT example sends "asdasdad" and gets 200
    # "Updated" (doc-pages/ops-custom-user-roles.txt); JSM publishes no list to refuse against.
    both = sorted(set(granted) & set(disallowed))
    if both:
        raise bad_request(f"Rights cannot be both granted and disallowed: {', '.join(both)}")


def _check_role_name(state: State, name: str, *, other_than: str | None = None) -> None:
    if not name.strip():
        raise bad_request("The role name must not be empty.")
    if name.casefold() in BUILTIN_ROLES:
        raise bad_request(f"{name!r} is the name of a built-in role.")
    if any(r.name.casefold() == name.casefold() and r.id != other_than for r in state.custom_roles):
        raise conflict(f"A custom user role named {name!r} already exists.")


def create_custom_role(
    state: State, name: str, granted: list[str], disallowed: list[str], extended_role: str = "user"
) -> CustomRole:
    _check_role_name(state, name)
    _check_rights(granted, disallowed)
    role = CustomRole(
        id=state.new_uuid(),
        name=name,
        extended_role=extended_role,
        granted_rights=sorted(set(granted)),
        disallowed_rights=sorted(set(disallowed)),
    )
    state.custom_roles.append(role)
    return role


def _custom_role(ctx: Ctx, identifier: str) -> CustomRole:
    kind = ctx.query.get("identifierType") or "id"
    if kind not in ("id", "name"):
        # The enum is [id, name]; 422 is how Ops reports a request it cannot validate.
        raise ApiError(422, "identifierType must be id or name.", "UNPROCESSABLE_ENTITY")
    if identifier.casefold() in BUILTIN_ROLES:
        raise ApiError(422, f"{identifier!r} is not a custom user role.", "UNPROCESSABLE_ENTITY")
    for role in ctx.state.custom_roles:
        if (role.id if kind == "id" else role.name) == identifier:
            return role
    raise not_found(f"Custom user role {identifier!r} was not found.")


class CustomRoleIn(RequestModel):
    name: str
    grantedRights: list[str] = Field(default_factory=list)
    disallowedRights: list[str] = Field(default_factory=list)


class CustomRoleUpdateIn(RequestModel):
    id: str | None = None
    name: str | None = None
    grantedRights: list[str] | None = None
    disallowedRights: list[str] | None = None


def _summary(role: CustomRole) -> Json:
    return {"id": role.id, "name": role.name}


def list_custom_roles(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    offset = ctx.query_int("offset", 0)
    size = ctx.query_int("size", ROLES_PAGE_DEFAULT)
    if offset < 0 or not 1 <= size <= ROLES_PAGE_MAX:
        raise bad_request(f"offset must be 0 or more and size 1 to {ROLES_PAGE_MAX}.")
    size = ctx.page_size(size)
    roles = ctx.state.custom_roles
    # Links are relative to the API base, as in the document's example ("/v1/roles?offset=20&size=3").
    last = max(len(roles) - 1, 0) // size * size
    links = {"first": f"/v1/roles?offset=0&size={size}", "last": f"/v1/roles?offset={last}&size={size}"}
    # On the last page `next` is `last`, as in the document's example (which has them equal): the
    # document states no other rule for the end, so a client must stop at a page it has read already.
    more = offset + size < len(roles)
    links["next"] = f"/v1/roles?offset={offset + size}&size={size}" if more else links["last"]
    values = [_summary(role) for role in roles[offset : offset + size]]
    return Reply(200, {"values": values, "_expands": [], "links": links})


def _known_rights(ctx: Ctx, rights: list[str], known: Collection[str]) -> list[str]:
    """With Knobs.drop_unknown_rights, the rights the site knows: the others are dropped, not refused."""
    return [right for right in rights if right in known] if ctx.drop_unknown_rights else rights


def post_custom_role(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    body = parse_body(ctx, CustomRoleIn)
    granted, disallowed = (
        _known_rights(ctx, r, CUSTOM_ROLE_RIGHTS) for r in (body.grantedRights, body.disallowedRights)
    )
    role = create_custom_role(ctx.state, body.name, granted, disallowed)
    return Reply(200, {"message": "Created", "data": _summary(role)})


def get_custom_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    role = _custom_role(ctx, args["identifier"])
    return Reply(
        200,
        {
            "id": role.id,
            "name": role.name,
            "extendedRole": role.extended_role,
            "grantedRights": role.granted_rights,
            "disallowedRights": role.disallowed_rights,
        },
    )


def put_custom_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    role = _custom_role(ctx, args["identifier"])
    body = parse_body(ctx, CustomRoleUpdateIn)
    if body.id is not None and body.id != role.id:
        raise bad_request("The id in the body does not match the role.")
    if body.name is not None:
        _check_role_name(ctx.state, body.name, other_than=role.id)
    # Omitted lists keep their value; `extendedRole` is not part of the body, so it cannot change.
    granted = role.granted_rights if body.grantedRights is None else body.grantedRights
    disallowed = role.disallowed_rights if body.disallowedRights is None else body.disallowedRights
    granted, disallowed = (_known_rights(ctx, r, CUSTOM_ROLE_RIGHTS) for r in (granted, disallowed))
    _check_rights(granted, disallowed)
    role.name = body.name if body.name is not None else role.name
    role.granted_rights, role.disallowed_rights = sorted(set(granted)), sorted(set(disallowed))
    return Reply(200, {"message": "Updated", "data": _summary(role)})


def delete_custom_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    role = _custom_role(ctx, args["identifier"])
    remove_object(ctx.state.custom_roles, role)
    ctx.state.role_assignments = {a: r for a, r in ctx.state.role_assignments.items() if r != role.id}
    return Reply(204)


class AssignIn(RequestModel):
    accountId: str
    roleId: str


def assign_custom_role(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    body = parse_body(ctx, AssignIn)
    if body.roleId.casefold() in BUILTIN_ROLES:
        raise ApiError(422, f"{body.roleId!r} is not a custom user role.", "UNPROCESSABLE_ENTITY")
    role = next((r for r in ctx.state.custom_roles if r.id == body.roleId), None)
    if role is None:
        raise not_found(f"Custom user role {body.roleId!r} was not found.")
    ctx.state.role_assignments[body.accountId] = role.id
    # The document's schema says CustomRolesPaginatedResponse, its example {message, data}; we send the
    # example, which also satisfies that schema (it requires no property).
    return Reply(200, {"message": "Created", "data": _summary(role)})


# ---- teams and team roles -------------------------------------------------------------------------


def list_teams(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    return Reply(200, {"platformTeams": [{"teamId": t.id, "teamName": t.name} for t in ctx.state.teams]})


def _team(state: State, team_id: str) -> Team:
    for team in state.teams:
        if team.id == team_id:
            return team
    raise not_found(f"Team {team_id!r} was not found.")


def _team_role(team: Team, role_id: str) -> TeamRole:
    for role in team.roles:
        if role.id == role_id:
            return role
    raise not_found(f"Team role {role_id!r} was not found.")


def _team_role_json(role: TeamRole) -> Json:
    # Every right, alphabetically, granted or not.
    return {
        "id": role.id,
        "name": role.name,
        "rights": [{"right": right, "granted": right in role.granted} for right in TEAM_ROLE_RIGHTS],
    }


class RightIn(RequestModel):
    right: str
    granted: bool


class TeamRoleIn(RequestModel):
    name: str | None = None
    rights: list[RightIn] | None = None


def _apply_rights(granted: set[str], rights: list[RightIn], *, drop_unknown: bool = False) -> list[str]:
    unknown = sorted({r.right for r in rights} - set(TEAM_ROLE_RIGHTS))
    if unknown and drop_unknown:
        rights = [r for r in rights if r.right in TEAM_ROLE_RIGHTS]
    elif unknown:
        raise bad_request(f"Unknown team role rights: {', '.join(unknown)}")
    for entry in rights:
        if entry.granted:
            granted.add(entry.right)
        else:
            granted.discard(entry.right)
    return sorted(granted)


def _check_team_role_name(team: Team, name: str, *, other_than: str | None = None) -> None:
    if not name.strip():
        raise bad_request("The team role name must not be empty.")
    if any(r.name.casefold() == name.casefold() and r.id != other_than for r in team.roles):
        raise conflict(f"The team already has a role named {name!r}.")


def create_team_role(
    state: State, team: Team, name: str, rights: list[RightIn], *, drop_unknown: bool = False
) -> TeamRole:
    _check_team_role_name(team, name)
    # Rights left out of a create are not granted.
    granted = _apply_rights(set(), rights, drop_unknown=drop_unknown)
    role = TeamRole(id=state.new_uuid(), name=name, granted=granted)
    team.roles.append(role)
    return role


def list_team_roles(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    # A bare array, no pagination. A team the caller cannot see (or without ops) yields an empty list
    # rather than an error (observed on live sites; the list declares no 404).
    team = next((t for t in ctx.state.teams if t.id == args["team_id"]), None)
    return Reply(200, [_team_role_json(role) for role in team.roles] if team else [])


def post_team_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    team = _team(ctx.state, args["team_id"])
    body = parse_body(ctx, TeamRoleIn)
    if body.name is None:
        raise bad_request("name is required.")
    role = create_team_role(
        ctx.state, team, body.name, body.rights or [], drop_unknown=ctx.drop_unknown_rights
    )
    return Reply(200, _team_role_json(role))


def get_team_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    return Reply(200, _team_role_json(_team_role(_team(ctx.state, args["team_id"]), args["identifier"])))


def patch_team_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    team = _team(ctx.state, args["team_id"])
    role = _team_role(team, args["identifier"])
    body = parse_body(ctx, TeamRoleIn)
    if body.name is not None:
        _check_team_role_name(team, body.name, other_than=role.id)
    # PATCH: rights left out keep their value.
    granted = _apply_rights(set(role.granted), body.rights or [], drop_unknown=ctx.drop_unknown_rights)
    role.name = body.name if body.name is not None else role.name
    role.granted = granted
    return Reply(200, _team_role_json(role))


def delete_team_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    # DELETE declares only 204 and 403; an unknown team or role is still a 404 (contract notes).
    team = _team(ctx.state, args["team_id"])
    remove_object(team.roles, _team_role(team, args["identifier"]))
    return Reply(204)


ROUTES: tuple[Route, ...] = (
    # The custom user role page marks every operation "Experimental".
    Route(f"{PREFIX}/roles", ("GET",), list_custom_roles, experimental=True),
    Route(f"{PREFIX}/roles", ("POST",), post_custom_role, experimental=True),
    Route(f"{PREFIX}/roles/assign", ("POST",), assign_custom_role, experimental=True),
    Route(f"{PREFIX}/roles/<identifier>", ("GET",), get_custom_role, experimental=True),
    Route(f"{PREFIX}/roles/<identifier>", ("PUT",), put_custom_role, experimental=True),
    Route(f"{PREFIX}/roles/<identifier>", ("DELETE",), delete_custom_role, experimental=True),
    Route(f"{PREFIX}/teams", ("GET",), list_teams),
    Route(f"{PREFIX}/teams/<team_id>/roles", ("GET",), list_team_roles),
    Route(f"{PREFIX}/teams/<team_id>/roles", ("POST",), post_team_role),
    Route(f"{PREFIX}/teams/<team_id>/roles/<identifier>", ("GET",), get_team_role),
    Route(f"{PREFIX}/teams/<team_id>/roles/<identifier>", ("PATCH",), patch_team_role),
    Route(
        f"{PREFIX}/teams/<team_id>/roles/<identifier>", ("DELETE",), delete_team_role, no_declared_404=True
    ),
)
