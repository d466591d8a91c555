"""Jira platform REST API v3: permission schemes and grants, permissions, groups, project roles, myself.

Errors use Jira's ErrorCollection `{errorMessages, errors}`. Status codes follow the official document
(jira-platform-permission-schemes.openapi.json); where it is silent the choice is commented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from reconciler.catalogue import (
    BUILTIN_PERMISSION_KEYS,
    HOLDER_TYPES,
    HOLDER_TYPES_WITH_PARAMETER,
    HOLDER_TYPES_WITHOUT_PARAMETER,
)
from reconciler.sandbox.common import (
    SANDBOX_EMAIL,
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
from reconciler.sandbox.state import Grant, Group, PermissionScheme, ProjectRole, State

PREFIX = "/rest/api/3"
UNAUTHENTICATED = "Client must be authenticated to access this resource."
SCHEME_EXPAND = "permissions,user,group,projectRole,field,all"
EXPAND_OPTIONS = frozenset(SCHEME_EXPAND.split(","))
# A few of the global permissions every site has; GET /permissions lists them beside the project ones.
GLOBAL_PERMISSION_KEYS = (
    "ADMINISTER",
    "BULK_CHANGE",
    "CREATE_SHARED_OBJECTS",
    "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
    "SYSTEM_ADMIN",
    "USER_PICKER",
)
# The `expand` value Jira puts on holders whose details can be expanded (as in the document's examples).
HOLDER_EXPAND = {
    "group": "group",
    "projectRole": "projectRole",
    "user": "user",
    "userCustomField": "field",
    "groupCustomField": "field",
}
SANDBOX_ACCOUNT_ID = "712020:5a1d0b7e-0000-4000-8000-00000000a001"


def error_body(err: ApiError) -> Json:
    if err.field:
        return {"errorMessages": [], "errors": {err.field: err.message}}
    return {"errorMessages": [err.message], "errors": {}}


# ---- lookups --------------------------------------------------------------------------------------


def project_permission_keys(state: State) -> frozenset[str]:
    apps = {p.key for p in state.app_permissions if p.type == "PROJECT"}
    return BUILTIN_PERMISSION_KEYS | apps


def _group_by(state: State, *, name: str | None, group_id: str | None) -> Group | None:
    for group in state.groups:
        if (name is None or group.name == name) and (group_id is None or group.id == group_id):
            return group
    return None


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
        group = _group_by(state, name=holder.parameter, group_id=holder.value)
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


def _scheme_json(
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
        _scheme_json(ctx, s, with_grants=with_grants, group_names=names) for s in ctx.state.permission_schemes
    ]
    return Reply(200, {"permissionSchemes": schemes})


def post_scheme(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    scheme = create_scheme(ctx.state, parse_body(ctx, SchemeIn))
    return Reply(201, _scheme_json(ctx, scheme, with_grants=True))


def get_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    scheme = _scheme(ctx.state, args["scheme_id"])
    return Reply(200, _scheme_json(ctx, scheme, with_grants=_wants_permissions(ctx)))


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
    return Reply(200, _scheme_json(ctx, scheme, with_grants=True))


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


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def list_permissions(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    entries: dict[str, Json] = {}
    for key in sorted(BUILTIN_PERMISSION_KEYS):
        entries[key] = {"key": key, "name": _title(key), "type": "PROJECT", "description": _title(key)}
    for key in GLOBAL_PERMISSION_KEYS:
        entries[key] = {"key": key, "name": _title(key), "type": "GLOBAL", "description": _title(key)}
    for app in ctx.state.app_permissions:
        entries[app.key] = {
            "key": app.key,
            "name": app.name,
            "type": app.type,
            "description": app.description,
        }
    return Reply(200, {"permissions": entries})


def bulk_groups(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    start = ctx.query_int("startAt", 0)
    size = ctx.query_int("maxResults", 50)
    if start < 0 or size < 1:
        raise bad_request("startAt must be 0 or more and maxResults 1 or more.")
    size = ctx.page_size(size)
    ids, names = ctx.query.getlist("groupId"), ctx.query.getlist("groupName")
    groups = [g for g in ctx.state.groups if not (ids or names) or g.id in ids or g.name in names]
    page = groups[start : start + size]
    params = [("groupId", v) for v in ids] + [("groupName", v) for v in names]
    url = f"{ctx.base_url}{PREFIX}/group/bulk"
    body: dict[str, Json] = {
        "self": f"{url}?{urlencode([*params, ('startAt', start), ('maxResults', size)])}",
        "maxResults": size,
        "startAt": start,
        "total": len(groups),
        "isLast": start + size >= len(groups),
        "values": [{"name": g.name, "groupId": g.id} for g in page],
    }
    if not body["isLast"]:
        body["nextPage"] = f"{url}?{urlencode([*params, ('startAt', start + size), ('maxResults', size)])}"
    return Reply(200, body)


def _role_json(ctx: Ctx, role: ProjectRole) -> Json:
    return {
        "self": f"{ctx.base_url}{PREFIX}/role/{role.id}",
        "name": role.name,
        "id": role.id,
        "description": role.description,
    }


def list_roles(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    return Reply(200, [_role_json(ctx, role) for role in ctx.state.project_roles])


def get_role(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """A project role and its default actors (the sandbox keeps none): where every role's `self` points."""
    role = next((r for r in ctx.state.project_roles if str(r.id) == args["role_id"]), None)
    if role is None:
        raise not_found(f"No project role with the id {args['role_id']!r} exists.")
    return Reply(200, {**_role_json(ctx, role), "actors": []})


class RoleIn(RequestModel):
    name: str | None = None
    description: str | None = None


def create_project_role(state: State, name: str | None, description: str, role_id: int | None) -> ProjectRole:
    if not name or not name.strip():
        raise bad_request("The project role name must be given.", "name")
    if name != name.strip():
        raise bad_request("The project role name cannot begin or end with whitespace.", "name")
    if len(name) > 255:
        raise bad_request("The project role name must be at most 255 characters.", "name")
    if any(role.name.casefold() == name.casefold() for role in state.project_roles):
        raise ApiError(409, f"A project role with the name {name!r} already exists.", "CONFLICT", "name")
    if role_id is None:
        role_id = state.new_int()
    else:
        state.reserve(role_id)
    role = ProjectRole(id=role_id, name=name, description=description)
    state.project_roles.append(role)
    return role


def post_role(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    body = parse_body(ctx, RoleIn)
    role = create_project_role(ctx.state, body.name, body.description or "", None)
    return Reply(200, _role_json(ctx, role))


def myself(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    return Reply(
        200,
        {
            "self": f"{ctx.base_url}{PREFIX}/user?accountId={SANDBOX_ACCOUNT_ID}",
            "accountId": SANDBOX_ACCOUNT_ID,
            "accountType": "atlassian",
            "emailAddress": SANDBOX_EMAIL,
            "displayName": "Sandbox Admin",
            "active": True,
            "timeZone": "UTC",
        },
    )


# ---- holders the site checks: application roles, custom fields, users --------------------------------

# Every site has these system fields; GET /field lists them before the custom ones.
SYSTEM_FIELDS = (("summary", "Summary", "string"), ("description", "Description", "string"))
# GET /user/bulk: the document gives the accountId array `maxLength: 128`, and maxResults defaults to 10.
USER_BULK_MAX_IDS = 128
USER_BULK_PAGE_DEFAULT = 10


def check_checked_holder(state: State, kind: str, given: str) -> None:
    """An applicationRole, user or custom field holder must name something the site has (400)."""
    if kind == "applicationRole" and not any(role.key == given for role in state.application_roles):
        raise bad_request(f"The application role {given!r} does not exist.", "holder")
    if kind == "user" and not any(user.account_id == given for user in state.users):
        raise bad_request(f"The user {given!r} does not exist.", "holder")
    if kind in ("userCustomField", "groupCustomField") and not any(
        field.id == given for field in state.custom_fields
    ):
        raise bad_request(f"The custom field {given!r} does not exist.", "holder")


def list_application_roles(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    """A bare array, as documented. The sandbox has no licences and no default groups."""
    roles = [
        {
            "key": role.key,
            "name": role.name,
            "groups": [],
            "groupDetails": [],
            "defaultGroups": [],
            "defaultGroupsDetails": [],
            "selectedByDefault": False,
            "defined": False,
            "hasUnlimitedSeats": True,
            "platform": role.key == "jira-core",
        }
        for role in ctx.state.application_roles
    ]
    return Reply(200, roles)


def list_fields(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    """A bare array of system and custom fields; not paginated."""
    fields: list[Json] = [
        {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": False,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [field_id],
            "schema": {"type": kind, "system": field_id},
        }
        for field_id, name, kind in SYSTEM_FIELDS
    ]
    for field in ctx.state.custom_fields:
        number = field.id.removeprefix("customfield_")
        many = field.type.startswith("multi")
        item = "group" if "group" in field.type else "user"
        schema: dict[str, Json] = {
            "type": "array" if many else item,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{field.type}",
        }
        if number.isdigit():
            schema["customId"] = int(number)
        if many:
            schema["items"] = item
        fields.append(
            {
                "id": field.id,
                "key": field.id,
                "name": field.name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", field.name],
                "schema": schema,
            }
        )
    return Reply(200, fields)


def bulk_users(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    """The users among the given account ids, in the order asked; unknown ids are left out."""
    ids = list(dict.fromkeys(ctx.query.getlist("accountId")))
    if not ids:
        raise bad_request("At least one accountId is required.", "accountId")
    if len(ids) > USER_BULK_MAX_IDS:
        raise bad_request(f"At most {USER_BULK_MAX_IDS} accountId values are accepted.", "accountId")
    start = ctx.query_int("startAt", 0)
    size = ctx.query_int("maxResults", USER_BULK_PAGE_DEFAULT)
    if start < 0 or size < 1:
        raise bad_request("startAt must be 0 or more and maxResults 1 or more.")
    size = ctx.page_size(size)
    by_id = {user.account_id: user for user in ctx.state.users}
    found = [by_id[account_id] for account_id in ids if account_id in by_id]
    url = f"{ctx.base_url}{PREFIX}/user/bulk"
    asked = [("accountId", account_id) for account_id in ids]
    body: dict[str, Json] = {
        "self": f"{url}?{urlencode([*asked, ('startAt', start), ('maxResults', size)])}",
        "maxResults": size,
        "startAt": start,
        "total": len(found),
        "isLast": start + size >= len(found),
        "values": [
            {
                "self": f"{ctx.base_url}{PREFIX}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "accountType": "atlassian",
                "active": user.active,
                "displayName": user.display_name,
                "timeZone": "UTC",
            }
            for user in found[start : start + size]
        ],
    }
    if not body["isLast"]:
        body["nextPage"] = f"{url}?{urlencode([*asked, ('startAt', start + size), ('maxResults', size)])}"
    return Reply(200, body)


HOLDER_ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/applicationrole", ("GET",), list_application_roles),
    Route(f"{PREFIX}/field", ("GET",), list_fields),
    Route(f"{PREFIX}/user/bulk", ("GET",), bulk_users),
)


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
    Route(f"{PREFIX}/permissions", ("GET",), list_permissions),
    Route(f"{PREFIX}/group/bulk", ("GET",), bulk_groups),
    Route(f"{PREFIX}/role", ("GET",), list_roles),
    Route(f"{PREFIX}/role", ("POST",), post_role),
    Route(f"{PREFIX}/role/<role_id>", ("GET",), get_role),
    Route(f"{PREFIX}/myself", ("GET",), myself),
    *HOLDER_ROUTES,
)
