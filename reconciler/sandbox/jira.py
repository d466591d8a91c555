"""Jira platform REST API v3: what every Jira request shares (the prefix, the error body), and what a site
has that the manifests name but do not manage: permissions, groups, project roles, application roles, fields,
users, myself. Permission schemes and their grants are schemes.py; projects are projects.py.

Errors use Jira's ErrorCollection `{errorMessages, errors}`. Status codes follow the official document
(jira-platform-permission-schemes.openapi.json); where it is silent the choice is commented.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.catalogue import (
    BUILTIN_PERMISSION_KEYS,
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
    page_bean,
    parse_body,
)
from reconciler.sandbox.state import Group, ProjectRole, State, User

PREFIX = "/rest/api/3"
UNAUTHENTICATED = "Client must be authenticated to access this resource."
# A few of the global permissions every site has; GET /permissions lists them beside the project ones.
GLOBAL_PERMISSION_KEYS = (
    "ADMINISTER",
    "BULK_CHANGE",
    "CREATE_SHARED_OBJECTS",
    "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
    "SYSTEM_ADMIN",
    "USER_PICKER",
)
SANDBOX_ACCOUNT_ID = "712020:5a1d0b7e-0000-4000-8000-00000000a001"


def error_body(err: ApiError) -> Json:
    if err.field:
        return {"errorMessages": [], "errors": {err.field: err.message}}
    return {"errorMessages": [err.message], "errors": {}}


# ---- groups, permissions, project roles, myself ------------------------------------------------


def group_by(state: State, *, name: str | None, group_id: str | None) -> Group | None:
    for group in state.groups:
        if (name is None or group.name == name) and (group_id is None or group.id == group_id):
            return group
    return None


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
    page = [{"name": g.name, "groupId": g.id} for g in groups[start : start + size]]
    params = [("groupId", v) for v in ids] + [("groupName", v) for v in names]
    return page_bean(f"{ctx.base_url}{PREFIX}/group/bulk", params, start, size, len(groups), page)


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
# GET /user/bulk: maxResults defaults to 10. The documents give no limit on the number of accountId values
# (the `maxLength: 128` beside them is an id's length), so the sandbox sets none.
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
    start = ctx.query_int("startAt", 0)
    size = ctx.query_int("maxResults", USER_BULK_PAGE_DEFAULT)
    if start < 0 or size < 1:
        raise bad_request("startAt must be 0 or more and maxResults 1 or more.")
    size = ctx.page_size(size)
    by_id = {user.account_id: user for user in ctx.state.users}
    found = [by_id[account_id] for account_id in ids if account_id in by_id]
    asked = [("accountId", account_id) for account_id in ids]
    page = [user_json(ctx, user) for user in found[start : start + size]]
    return page_bean(f"{ctx.base_url}{PREFIX}/user/bulk", asked, start, size, len(found), page)


def user_json(ctx: Ctx, user: User) -> Json:
    return {
        "self": f"{ctx.base_url}{PREFIX}/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "accountType": "atlassian",
        "active": user.active,
        "displayName": user.display_name,
        "timeZone": "UTC",
    }


HOLDER_ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/applicationrole", ("GET",), list_application_roles),
    Route(f"{PREFIX}/field", ("GET",), list_fields),
    Route(f"{PREFIX}/user/bulk", ("GET",), bulk_users),
)


ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/permissions", ("GET",), list_permissions),
    Route(f"{PREFIX}/group/bulk", ("GET",), bulk_groups),
    Route(f"{PREFIX}/role", ("GET",), list_roles),
    Route(f"{PREFIX}/role", ("POST",), post_role),
    Route(f"{PREFIX}/role/<role_id>", ("GET",), get_role),
    Route(f"{PREFIX}/myself", ("GET",), myself),
    *HOLDER_ROUTES,
)
