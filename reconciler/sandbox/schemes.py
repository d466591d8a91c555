"""Jira permission schemes and their grants (REST API v3, jira-platform-permission-schemes.openapi.json).

A grant's holder must name what the site has (jira.py answers for groups, project roles and the holders only
the site can check). Status codes follow the official document; where it is silent the choice is commented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.catalogue import (
    BUILTIN_PERMISSION_KEYS,
    HOLDER_TYPES,
    HOLDER_TYPES_WITH_PARAMETER,
    HOLDER_TYPES_WITHOUT_PARAMETER,
)
from reconciler.sandbox.common import (
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
from reconciler.sandbox.jira import PREFIX, check_checked_holder, group_by
from reconciler.sandbox.state import Grant, PermissionScheme, State

SCHEME_EXPAND = "permissions,user,group,projectRole,field,all"
EXPAND_OPTIONS = frozenset(SCHEME_EXPAND.split(","))
# The `expand` value Jira puts on holders whose details can be expanded (as in the document's examples).
HOLDER_EXPAND = {
    "group": "group",
    "projectRole": "projectRole",
    "user": "user",
    "userCustomField": "field",
    "groupCustomField": "field",
}


def project_permission_keys(state: State) -> frozenset[str]:
    apps = {p.key for p in state.app_permissions if p.type == "PROJECT"}
    return BUILTIN_PERMISSION_KEYS | apps


def _scheme(state: State, raw_id: str) -> PermissionScheme:
    for scheme in state.permission_schemes:
        if str(scheme.id) == raw_id:
            return scheme
    raise not_found(f"The permission scheme with ID {raw_id} was not found.")


def _wants_permissions(ctx: Ctx) -> bool:
    # "permissions are included when you specify any value" of expand.
    return bool(ctx.query.get("expand"))


# ---- grants ---------------------------------------------------------------------------------------


class HolderIn(RequestModel):
    type: str
    parameter: str | None = None
    value: str | None = None


class GrantIn(RequestModel):
    holder: HolderIn
    permission: str


class SchemeIn(RequestModel):
    name: str
    description: str | None = None
    permissions: list[GrantIn] | None = None


def resolve_holder(state: State, holder: HolderIn) -> str | None:
    """The stored holder value, after checking that the holder exists. Raises 400 otherwise."""
    kind = holder.type
    if kind not in HOLDER_TYPES:
        raise bad_request(f"Holder type {kind!r} is not valid.", "holder")
    if kind in HOLDER_TYPES_WITHOUT_PARAMETER:
        if holder.parameter or holder.value:
            raise bad_request(f"Holder type {kind!r} does not take a parameter.", "holder")
        return None
    given = holder.value or holder.parameter
    if kind in HOLDER_TYPES_WITH_PARAMETER and not given:
        raise bad_request(f"Holder type {kind!r} needs a parameter.", "holder")
    if kind == "group":
        # parameter is the group name, value the group id; either identifies it, both must agree.
        group = group_by(state, name=holder.parameter, group_id=holder.value)
        if group is None:
            raise bad_request("The group in the permission holder does not exist.", "holder")
        return group.id
    if kind == "projectRole":
        if holder.parameter and holder.value and holder.parameter != holder.value:
            raise bad_request("parameter and value of a projectRole holder must be the same.", "holder")
        if not any(str(role.id) == given for role in state.project_roles):
            raise bad_request(f"The project role {given} does not exist.", "holder")
    if given is not None:
        check_checked_holder(state, kind, given)
    return given


def _checked_grant(state: State, grant: GrantIn) -> tuple[str, str, str | None]:
    if grant.permission not in project_permission_keys(state):
        raise bad_request(f"Permission {grant.permission!r} is not a project permission.", "permission")
    return grant.permission, grant.holder.type, resolve_holder(state, grant.holder)


def _checked_grants(
    state: State, present: Sequence[Grant], grants: Sequence[GrantIn]
) -> list[tuple[str, str, str | None]]:
    wanted = [_checked_grant(state, grant) for grant in grants]
    existing = {(g.permission, g.holder_type, g.holder_value) for g in present}
    for key in wanted:
        if key in existing:
            raise bad_request("The same permission grant is present.", "permission")
        existing.add(key)
    return wanted


def _new_grants(state: State, wanted: Sequence[tuple[str, str, str | None]]) -> list[Grant]:
    return [Grant(id=state.new_int(), permission=p, holder_type=t, holder_value=v) for p, t, v in wanted]


def add_grants(state: State, scheme: PermissionScheme, grants: Sequence[GrantIn]) -> list[Grant]:
    """Validate every grant first, then add them all: a bad grant leaves the scheme untouched."""
    added = _new_grants(state, _checked_grants(state, scheme.grants, grants))
    scheme.grants.extend(added)
    return added


def _group_names(state: State) -> dict[str, str]:
    """Group id -> name, the first group of an id winning as in `_group_by`: one lookup per grant, so that
    listing every scheme's grants stays linear on a large site."""
    return {group.id: group.name for group in reversed(state.groups)}


def _grant_json(ctx: Ctx, grant: Grant, group_names: Mapping[str, str]) -> Json:
    holder: dict[str, str] = {"type": grant.holder_type}
    if grant.holder_type == "group":
        holder["parameter"] = group_names.get(grant.holder_value or "", "")
        holder["value"] = grant.holder_value or ""
    elif grant.holder_value is not None:
        holder["parameter"] = holder["value"] = grant.holder_value
    if grant.holder_type in HOLDER_EXPAND:
        holder["expand"] = HOLDER_EXPAND[grant.holder_type]
    return {
        "id": grant.id,
        "self": f"{ctx.base_url}{PREFIX}/permissionscheme/permission/{grant.id}",
        "holder": holder,
        "permission": grant.permission,
    }


def scheme_json(
    ctx: Ctx, scheme: PermissionScheme, *, with_grants: bool, group_names: Mapping[str, str] | None = None
) -> Json:
    body: dict[str, Json] = {
        "expand": SCHEME_EXPAND,
        "id": scheme.id,
        "self": f"{ctx.base_url}{PREFIX}/permissionscheme/{scheme.id}",
        "name": scheme.name,
        "description": scheme.description,
    }
    if with_grants:
        names = _group_names(ctx.state) if group_names is None else group_names
        body["permissions"] = [_grant_json(ctx, grant, names) for grant in scheme.grants]
    return body


def _check_scheme_name(state: State, name: str, *, other_than: int | None = None) -> None:
    if not name.strip():
        raise bad_request("The permission scheme name must not be empty.", "name")
    if len(name) > 255:
        raise bad_request("The permission scheme name must be at most 255 characters.", "name")
    # The document only says "Must be unique"; the status for a clash is undocumented. Jira validation
    # failures are 400, and 409 is not declared on these operations.
    clash = any(s.name.casefold() == name.casefold() and s.id != other_than for s in state.permission_schemes)
    if clash:
        raise bad_request(f"A permission scheme with the name {name!r} already exists.", "name")


def create_scheme(state: State, body: SchemeIn) -> PermissionScheme:
    _check_scheme_name(state, body.name)
    wanted = _checked_grants(state, [], body.permissions or [])
    scheme = PermissionScheme(id=state.new_int(), name=body.name, description=body.description or "")
    scheme.grants = _new_grants(state, wanted)
    state.permission_schemes.append(scheme)
    return scheme


# ---- handlers -------------------------------------------------------------------------------------


def list_schemes(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    # Not paginated: every scheme in one answer.
    with_grants = _wants_permissions(ctx)
    names = _group_names(ctx.state)
    schemes = [
        scheme_json(ctx, s, with_grants=with_grants, group_names=names) for s in ctx.state.permission_schemes
    ]
    return Reply(200, {"permissionSchemes": schemes})


def post_scheme(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    scheme = create_scheme(ctx.state, parse_body(ctx, SchemeIn))
    return Reply(201, scheme_json(ctx, scheme, with_grants=True))


def get_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    scheme = _scheme(ctx.state, args["scheme_id"])
    return Reply(200, scheme_json(ctx, scheme, with_grants=_wants_permissions(ctx)))


def put_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    scheme = _scheme(ctx.state, args["scheme_id"])
    body = parse_body(ctx, SchemeIn)
    _check_scheme_name(ctx.state, body.name, other_than=scheme.id)
    if body.permissions is not None:
        # `permissions` overwrites every existing grant; the new grants get new ids.
        scheme.grants = _new_grants(ctx.state, _checked_grants(ctx.state, [], body.permissions))
    scheme.name = body.name
    if body.description is not None:
        scheme.description = body.description
    return Reply(200, scheme_json(ctx, scheme, with_grants=True))


def delete_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    scheme = _scheme(ctx.state, args["scheme_id"])
    remove_object(ctx.state.permission_schemes, scheme)
    _release_scheme(ctx.state, scheme.id)
    return Reply(204)


def _release_scheme(state: State, scheme_id: int) -> None:
    """The document declares no refusal for deleting a scheme that projects use (DELETE answers 204, 401,
    403 or 404), so the delete goes through; those projects fall back to the site's first remaining
    scheme, as a site always has a default one."""
    fallback = state.permission_schemes[0].id if state.permission_schemes else None
    for project in state.projects:
        if project.permission_scheme_id == scheme_id:
            project.permission_scheme_id = fallback


def list_grants(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    scheme = _scheme(ctx.state, args["scheme_id"])
    names = _group_names(ctx.state)
    grants = [_grant_json(ctx, grant, names) for grant in scheme.grants]
    return Reply(200, {"permissions": grants, "expand": "user,group,projectRole,field,all"})


def post_grant(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    expand = ctx.query.get("expand")
    if expand and not set(expand.split(",")) <= EXPAND_OPTIONS:
        raise bad_request(f"The value for expand is invalid: {expand!r}.", "expand")
    # POST declares no 404; an unknown scheme still is one, as on GET (listed in the contract notes).
    scheme = _scheme(ctx.state, args["scheme_id"])
    (grant,) = add_grants(ctx.state, scheme, [parse_body(ctx, GrantIn)])
    return Reply(201, _grant_json(ctx, grant, _group_names(ctx.state)))


def _find_grant(ctx: Ctx, args: Mapping[str, str]) -> tuple[PermissionScheme, Grant] | None:
    for scheme in ctx.state.permission_schemes:
        if str(scheme.id) == args["scheme_id"]:
            for grant in scheme.grants:
                if str(grant.id) == args["permission_id"]:
                    return scheme, grant
    return None


def get_grant(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    found = _find_grant(ctx, args)
    if found is None:
        raise not_found(f"The permission grant with ID {args['permission_id']} was not found.")
    return Reply(200, _grant_json(ctx, found[1], _group_names(ctx.state)))


def delete_grant(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    found = _find_grant(ctx, args)
    if found is None:
        # Documented: "400 ... permission grant with the provided ID is not found" (not 404).
        raise bad_request(f"The permission grant with ID {args['permission_id']} is not found.")
    scheme, grant = found
    remove_object(scheme.grants, grant)
    return Reply(204)


ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/permissionscheme", ("GET",), list_schemes),
    Route(f"{PREFIX}/permissionscheme", ("POST",), post_scheme),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>", ("GET",), get_scheme),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>", ("PUT",), put_scheme),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>", ("DELETE",), delete_scheme),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>/permission", ("GET",), list_grants),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>/permission", ("POST",), post_grant),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>/permission/<permission_id>", ("GET",), get_grant),
    Route(f"{PREFIX}/permissionscheme/<scheme_id>/permission/<permission_id>", ("DELETE",), delete_grant),
)
