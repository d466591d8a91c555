"""Jira platform REST API v3: projects, as far as permission schemes go — the project search and a
project's permission scheme. Status codes follow the official document
(jira-platform-permission-schemes.openapi.json); where it is silent the choice is commented.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.sandbox.common import (
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
from reconciler.sandbox.jira import PREFIX
from reconciler.sandbox.schemes import scheme_json
from reconciler.sandbox.state import PermissionScheme, Project, State

SEARCH_DEFAULT_PAGE = 50
SEARCH_MAX_PAGE = (
    100  # "If a value greater than 100 is provided, the maxResults parameter will default to 100"
)
ORDER_FIELDS = {"key": lambda p: p.key, "name": lambda p: p.name.casefold()}
SEARCH_ACTIONS = ("view", "browse", "edit", "create")
SEARCH_STATUSES = ("live", "archived", "deleted")


def create_project(state: State, key: str, name: str, scheme_name: str | None) -> Project:
    """Projects are created only by seeds: the tool never creates them."""
    if not key or not key.isalnum() or not key[0].isalpha() or key != key.upper():
        raise bad_request(
            f"The project key {key!r} must be upper-case letters and digits, starting with a letter."
        )
    if any(p.key == key for p in state.projects):
        raise bad_request(f"A project with the key {key!r} already exists.")
    if scheme_name is None and not state.permission_schemes:
        raise bad_request("a project needs a permission scheme, and the site has none")
    scheme = state.permission_schemes[0] if scheme_name is None else _scheme_named(state, scheme_name)
    project = Project(id=state.new_int(), key=key, name=name, permission_scheme_id=scheme.id)
    state.projects.append(project)
    return project


def _scheme_named(state: State, name: str) -> PermissionScheme:
    for scheme in state.permission_schemes:
        if scheme.name == name:
            return scheme
    raise bad_request(f"no permission scheme named {name!r}")


def _project(ctx: Ctx, key_or_id: str) -> Project:
    """A project the caller may see; one it may not is as absent as one that does not exist (the document:
    404 "if the project is not found or the user does not have permission to view the project")."""
    for project in ctx.state.projects:
        if (project.key == key_or_id or str(project.id) == key_or_id) and _may(ctx, project, "view"):
            return project
    raise not_found(f"No project could be found with key '{key_or_id}'.")


def _may(ctx: Ctx, project: Project, action: str) -> bool:
    """Whether the caller may `action` (a search action) the project, with Knobs.project_access."""
    access = ctx.project_access.get(project.key)
    if access is None:
        return True  # administered
    # "create" (Create Issues) is not modelled: a caller who may browse a project may create issues there.
    return access == "browse" and action != "edit"


def _administered(ctx: Ctx, project: Project) -> Project:
    if not _may(ctx, project, "edit"):
        # The document's 403: "the user does not have permission to view the project's configuration".
        raise ApiError(
            403,
            f"You do not have permission to view the configuration of the project {project.key}.",
            "FORBIDDEN",
        )
    return project


def _project_json(ctx: Ctx, project: Project) -> Json:
    return {
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        "self": f"{ctx.base_url}{PREFIX}/project/{project.id}",
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "service_desk",
        "simplified": False,
        "style": "classic",
        "isPrivate": False,
        "properties": {},
    }


def search_projects(ctx: Ctx, _: Mapping[str, str]) -> Reply:
    start = ctx.query_int("startAt", 0)
    size = ctx.query_int("maxResults", SEARCH_DEFAULT_PAGE)
    if start < 0 or size < 0:
        raise bad_request("startAt and maxResults must not be negative.")
    action = ctx.query.get("action") or "view"
    statuses = ctx.query.getlist("status") or ["live"]
    if action not in SEARCH_ACTIONS or not set(statuses) <= set(SEARCH_STATUSES):
        raise bad_request(
            f"action must be one of {', '.join(SEARCH_ACTIONS)}; status one of {', '.join(SEARCH_STATUSES)}."
        )
    size = ctx.page_size(min(size, SEARCH_MAX_PAGE))
    order = ctx.query.get("orderBy", "key")
    field = order.lstrip("+-")
    if field not in ORDER_FIELDS:
        # The document lists more fields (category, owner, issueCount, ...); the sandbox has none of them.
        raise bad_request(f"The sandbox cannot order projects by {order!r}.", "orderBy")
    keys, ids = ctx.query.getlist("keys"), ctx.query.getlist("id")
    text = (ctx.query.get("query") or "").casefold()
    found = [
        p
        for p in ctx.state.projects
        if (not keys or p.key in keys)
        and (not ids or str(p.id) in ids)
        and (text in p.key.casefold() or text in p.name.casefold())
        and _may(ctx, p, action)
        and "live" in statuses  # the sandbox archives and deletes no project
    ]
    if not found:
        raise not_found("No projects were found matching the search criteria.")
    found.sort(key=ORDER_FIELDS[field], reverse=order.startswith("-"))
    page = [_project_json(ctx, p) for p in found[start : start + size]]
    params = [("keys", k) for k in keys] + [("id", i) for i in ids]
    params += [("query", ctx.query["query"])] if ctx.query.get("query") else []
    params += [("action", action)] if "action" in ctx.query else []
    params += [("status", status) for status in ctx.query.getlist("status")]
    return page_bean(f"{ctx.base_url}{PREFIX}/project/search", params, start, size, len(found), page)


def _assigned_scheme(ctx: Ctx, project: Project) -> PermissionScheme:
    for scheme in ctx.state.permission_schemes:
        if scheme.id == project.permission_scheme_id:
            return scheme
    raise not_found(f"The project {project.key} has no permission scheme.")


def get_project_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    project = _administered(ctx, _project(ctx, args["project"]))
    scheme = _assigned_scheme(ctx, project)
    return Reply(200, scheme_json(ctx, scheme, with_grants=bool(ctx.query.get("expand"))))


class IdBeanIn(RequestModel):
    id: int


def put_project_scheme(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    project = _administered(ctx, _project(ctx, args["project"]))
    body = _id_bean(ctx)
    scheme = next((s for s in ctx.state.permission_schemes if s.id == body.id), None)
    if scheme is None:
        # Documented: "404 Returned if the project or permission scheme is not found".
        raise not_found(f"The permission scheme with ID {body.id} was not found.")
    project.permission_scheme_id = scheme.id
    return Reply(200, scheme_json(ctx, scheme, with_grants=bool(ctx.query.get("expand"))))


def _id_bean(ctx: Ctx) -> IdBeanIn:
    try:
        return parse_body(ctx, IdBeanIn)
    except ApiError as exc:
        # The operation declares no 400: a body without an id names no scheme, which is its 404.
        raise not_found(f"No permission scheme is given: {exc.message}") from None


ROUTES: tuple[Route, ...] = (
    Route(f"{PREFIX}/project/search", ("GET",), search_projects),
    Route(f"{PREFIX}/project/<project>/permissionscheme", ("GET",), get_project_scheme),
    Route(f"{PREFIX}/project/<project>/permissionscheme", ("PUT",), put_project_scheme),
)
