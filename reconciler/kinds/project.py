"""Jira projects: which permission scheme each one uses. Projects are never created or deleted here."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pydantic import Field

from reconciler.address import Address
from reconciler.errors import Diagnostic, TerminalSiteError, error, warning
from reconciler.kind_names import PROJECTS
from reconciler.kinds.kind import (
    Action,
    Change,
    DesiredObject,
    Essence,
    LiveObject,
    Lookups,
    Reference,
    ResourceKind,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import Spec
from reconciler.state import DesiredState
from reconciler.yamlwrite import entry

SEARCH_PAGE_SIZE = 50  # the default of GET /project/search (at most 100)
KEYS_PER_SEARCH = 50  # "Up to 50 project keys can be provided"
# Reading a project's permission scheme needs this (API-FACTS.md section 7); said where it is missing.
ADMINISTER = "Administer Projects (or the global Administer Jira)"


class ProjectSpec(Spec):
    key: str = Field(min_length=1, description="The project key (case sensitive).")
    permission_scheme: str = Field(
        min_length=1, description="The name of the permission scheme the project uses (declared or live)."
    )


class ProjectKind(ResourceKind):
    """A plan reads only the declared projects' schemes, one GET each, concurrently: the API has no list
    of projects with their schemes. Export lists every project it may read first (GET /project/search
    with action=edit: the scheme needs Administer Projects, which an account may lack for some)."""

    name = "projects"
    address_form = PROJECTS
    section = list[ProjectSpec] | None
    spec = ProjectSpec
    name_field = "key"
    refers_to = frozenset({"permissionSchemes"})
    export_file = "projects.yaml"
    export_about = (
        "Jira projects and the permission scheme each uses, with the project's name as a comment.",
        "Projects are never created or deleted: remove an entry to leave that project's scheme alone.",
    )

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        entries = []
        for obj in sorted(objects, key=lambda o: str(o.essence["key"])):
            project = entry(obj.essence, ("key", "permissionScheme"))
            name = "".join(c if c.isprintable() else "?" for c in str(obj.context.get("name", "")))
            if name:
                project.yaml_add_eol_comment(name, "key")
            entries.append(project)
        return entries

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        if lookups.declared is None:
            found = search_projects(client, action="edit")
            names = {str(project["key"]): str(project["name"]) for project in found}
        else:
            names = {a.name: "" for a in lookups.declared if a.kind == self.name}
        return self.read_keys(client, sorted(names), names)

    def read_keys(self, client: SiteApi, keys: list[str], names: Mapping[str, str]) -> list[LiveObject]:
        """The projects with these keys, each with the scheme it uses; `names` are for export's comments.
        A project the account may view but not administer is read as unreadable, saying why."""
        try:
            return self._read_schemes(client, keys, names)
        except TerminalSiteError as exc:
            if exc.status != 403:
                raise
        # Which of them the account administers: only those schemes can be read. The others it may view
        # are unreadable; the rest are absent, or hidden from it, which the site does not tell apart.
        administered = {str(p["key"]) for p in search_projects(client, action="edit", keys=keys)}
        refused = [key for key in keys if key not in administered]
        visible = {str(p["key"]) for p in search_projects(client, action="view", keys=refused)}
        readable = self._read_schemes(client, [key for key in keys if key in administered], names)
        return readable + [self._unreadable(key) for key in refused if key in visible]

    def _unreadable(self, key: str) -> LiveObject:
        return LiveObject(
            address=Address(self.name, "", key),
            identity=self.identity("", key),
            essence={"key": key},
            server_id=key,
            unreadable=(
                f"the account may view project {key} but not read its permission scheme, which needs "
                f"{ADMINISTER} in that project"
            ),
        )

    def _read_schemes(self, client: SiteApi, keys: list[str], names: Mapping[str, str]) -> list[LiveObject]:
        paths = [f"/project/{quote(key, safe='')}/permissionscheme" for key in keys]
        # A 404 is no such project, or one the account may not view: `missing` makes it a plan error at its
        # line. Every answer comes before the first body, so a refusal (403) leaves nothing half read.
        schemes = list(client.get_each(Api.JIRA, paths, missing_ok=True))
        return [
            LiveObject(
                address=Address(self.name, "", key),
                identity=self.identity("", key),
                essence={"key": key, "permissionScheme": str(scheme["name"])},
                server_id=key,
                context={"fromSchemeId": str(scheme["id"])}
                | ({"name": names[key]} if names.get(key) else {}),
            )
            for key, scheme in zip(keys, schemes, strict=True)
            if scheme is not None
        ]

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects = [
            DesiredObject(
                address=address,
                identity=self.identity("", spec.key),
                essence={"key": spec.key, "permissionScheme": spec.permission_scheme},
                source=state.locate(address),
            )
            for address, spec in state.objects.items()
            if isinstance(spec, ProjectSpec)
        ]
        return objects, []

    def references(self, essence: Essence) -> tuple[Reference, ...]:
        scheme = Address("permissionSchemes", "", str(essence["permissionScheme"]))
        return (Reference(scheme, ("permissionScheme",), "permission scheme"),)

    def missing(self, desired: DesiredObject) -> Diagnostic | None:
        key = desired.essence["key"]
        return error(
            "plan.unknown_project",
            f"the site has no project with key {key!r} (keys are case sensitive), or the account may not "
            "view it (the site answers both alike); projects are never created here",
            source=desired.source,
            address=str(desired.address),
        )

    def apply(self, client: SiteApi, change: Change) -> None:
        if change.action is not Action.UPDATE or change.after is None:
            raise TerminalSiteError(f"{change.address}: projects are only moved between schemes")
        key, scheme_name = change.after["key"], change.after["permissionScheme"]
        # By name at apply time: the scheme may be created earlier in the same plan.
        schemes = client.get(Api.JIRA, "/permissionscheme")["permissionSchemes"]
        scheme_id = next((s["id"] for s in schemes if s.get("name") == scheme_name), None)
        if scheme_id is None:
            raise TerminalSiteError(f"{change.address}: the site has no permission scheme {scheme_name!r}")
        path = f"/project/{quote(key, safe='')}/permissionscheme"
        client.request(Api.JIRA, "PUT", path, json_body={"id": int(scheme_id)})


def read_project_map(client: SiteApi, known: Mapping[str, str]) -> tuple[dict[str, str], int]:
    """Every project's key -> the name of the scheme it uses, for exposure and the access diff; and how many
    projects the account may view but not administer (`read_projects`)."""
    projects = read_projects(client, known)
    return projects.schemes, projects.unadministered


@dataclass(frozen=True)
class SiteProjects:
    """The projects the account administers: each one's scheme and name."""

    schemes: dict[str, str]  # project key -> the name of the scheme it uses
    names: dict[str, str]  # project key -> project name
    unadministered: int  # how many projects it may view but not administer


def read_projects(
    client: SiteApi, known: Mapping[str, str], *, only: Collection[str] | None = None
) -> SiteProjects:
    """`administered_schemes`, and the count of the projects the account may view but not administer.
    With `only`, the schemes of just those keys."""
    schemes, names = administered_schemes(client, known, only=only)
    return SiteProjects(schemes, names, max(0, count_visible_projects(client) - len(names)))


def administered_schemes(
    client: SiteApi, known: Mapping[str, str], *, only: Collection[str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Project key -> scheme name, and key -> project name, of the projects the account administers: a
    search, and one GET per project whose scheme is not `known` already (the API has no list of projects
    with their schemes). With `only`, the schemes of just those keys."""
    found = search_projects(client, action="edit")
    names = {str(p["key"]): str(p.get("name") or "") for p in found}
    keys = [key for key in names if key not in known and (only is None or key in only)]
    read = ProjectKind().read_keys(client, keys, {})
    schemes = {key: scheme for key, scheme in known.items() if only is None or key in only}
    schemes |= {obj.identity.name: obj.essence["permissionScheme"] for obj in read if obj.unreadable is None}
    return schemes, names


def project_schemes(
    client: SiteApi, declared: Sequence[LiveObject], *, every: bool
) -> tuple[dict[str, str], list[Diagnostic]]:
    """Project key -> the name of the scheme it uses, for exposure, policies and the access diff: the
    declared projects' as the plan read them (`declared`); with `every`, also every other project the
    account administers (`read_project_map`), and a warning that counts those it may view but not
    administer (the declared ones among them are plan errors already, at their lines)."""
    known = schemes_read(declared)
    if not every:
        return known, []
    project_map, unadministered = read_project_map(client, known)
    undeclared = unadministered - sum(1 for obj in declared if obj.unreadable is not None)
    if undeclared <= 0:
        return project_map, []
    what = (
        "the project-to-scheme map (exposure, policies, the access diff, the check that a deleted scheme is "
        "unused)"
    )
    return project_map, [warning("plan.projects_unreadable", unadministered_warning(undeclared, what))]


def schemes_read(projects: Sequence[LiveObject]) -> dict[str, str]:
    """Project key -> scheme name of the projects read, but those whose scheme the account may not read."""
    return {obj.identity.name: obj.essence["permissionScheme"] for obj in projects if obj.unreadable is None}


def unadministered_warning(count: int, what: str) -> str:
    """The one warning for the projects left out of `what` because the account does not administer them."""
    return (
        f"{count} project(s) that the account may view but not administer were left out of {what}: reading "
        f"a project's permission scheme needs {ADMINISTER}"
    )


def search_projects(
    client: SiteApi, *, action: str, keys: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The projects the account may `action` (view, or edit: administer), of `keys` when given."""
    if keys is not None and not keys:
        return []
    batches = (
        [None]
        if keys is None
        else [keys[i : i + KEYS_PER_SEARCH] for i in range(0, len(keys), KEYS_PER_SEARCH)]
    )
    found: list[dict[str, Any]] = []
    for batch in batches:
        params: dict[str, Any] = {"action": action, **({"keys": list(batch)} if batch else {})}
        try:
            found += client.paginate_page_bean(
                Api.JIRA, "/project/search", max_results=SEARCH_PAGE_SIZE, params=params
            )
        except TerminalSiteError as exc:
            if exc.status != 404:  # documented: "no projects matching the search criteria are found"
                raise
    if not all(isinstance(p, dict) and isinstance(p.get("key"), str) for p in found):
        raise TypeError("a project in the search answer has no key")
    return found


def count_visible_projects(client: SiteApi) -> int:
    """How many projects the account may view: the search's total, without a page (maxResults=0)."""
    try:
        total = client.get(Api.JIRA, "/project/search", {"maxResults": 0})["total"]
    except TerminalSiteError as exc:
        if exc.status == 404:
            return 0
        raise
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError("the project search's total is not a number")
    return total
