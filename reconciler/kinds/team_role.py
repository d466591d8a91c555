"""JSM Operations team roles, per team."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema
from ruamel.yaml.comments import CommentedMap

from reconciler import catalogue
from reconciler.address import Address
from reconciler.errors import Diagnostic, TerminalSiteError, error
from reconciler.kind_names import TEAM_ROLES
from reconciler.kinds import rights
from reconciler.kinds.kind import (
    Action,
    Change,
    Declaration,
    DesiredObject,
    Essence,
    LiveObject,
    Lookups,
    ResourceKind,
    Validated,
    by_name,
    create_verified,
    delete_verified,
    list_items,
    name_at,
    node_at,
    valid_spec,
    write_data_of,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import RenamedFrom, SingleLineName, Spec
from reconciler.state import DesiredState, ObjectOrigin
from reconciler.yamlsource import DataPath, SourceMap
from reconciler.yamlwrite import entry, text

# The 17 rights are the documentation's; the site may know more, so the list is advice
# (reconciler/kinds/rights.py).
TeamRoleRight = Annotated[
    str,
    Field(min_length=1),
    WithJsonSchema({"type": "string", "minLength": 1, "examples": list(catalogue.TEAM_ROLE_RIGHTS)}),
]
WHAT = "team role right"
LISTED = frozenset(catalogue.TEAM_ROLE_RIGHTS)


class TeamRoleEntry(Spec):
    """One role in a team's `roles` list."""

    name: SingleLineName
    granted: list[TeamRoleRight] = Field(
        default_factory=list, description="Every right not listed is not granted."
    )
    renamed_from: RenamedFrom


class TeamRolesBlock(Spec):
    team: str = Field(min_length=1, description="Team name, or the team id (UUID).")
    roles: list[TeamRoleEntry] = Field(default_factory=list)


class TeamRoleSpec(Spec):
    """One team role as the planner sees it: the manifest entry together with its team."""

    team: str
    name: str
    granted: list[str]
    renamed_from: RenamedFrom


def _essence(name: str, granted: list[str]) -> Essence:
    return {"name": name, "granted": sorted(set(granted))}


def _rights_body(granted: list[str]) -> list[dict[str, Any]]:
    """Every one of the 17 rights, so the result never depends on what the site kept before, and any
    granted right outside them, for the site to decide."""
    extra = sorted(set(granted) - set(catalogue.TEAM_ROLE_RIGHTS))
    return [{"right": right, "granted": right in granted} for right in (*catalogue.TEAM_ROLE_RIGHTS, *extra)]


class TeamRoleWrite(rights.RightsWrite):
    team_id: str


class TeamRoleKind(ResourceKind):
    """Team roles live under platform teams; a role is matched by (team id, role name)."""

    name = "teamRoles"
    write_data = TeamRoleWrite
    site_decides = frozenset({f"manifest.{rights.UNLISTED_RIGHT}"})
    address_form = TEAM_ROLES
    section = list[TeamRolesBlock] | None
    spec = TeamRoleSpec
    export_file = "team-roles.yaml"
    export_about = (
        "JSM Operations team roles, per team. A team is written by name, or by id where its name",
        "is shared by another team.",
    )

    def declarations(
        self, section: Any, source_map: SourceMap, validated: Validated
    ) -> Iterator[Declaration]:
        for block_index, block in list_items(section):
            team = block.get("team") if isinstance(block, dict) else None
            if not isinstance(team, str) or not team:
                continue
            for index, item in list_items(block.get("roles")):
                role = valid_spec(TeamRoleEntry, item, validated)
                if isinstance(role, TeamRoleEntry):
                    spec = TeamRoleSpec(
                        team=team, name=role.name, granted=role.granted, renamed_from=role.renamed_from
                    )
                    origin = ObjectOrigin(
                        source_map, (self.name, block_index, "roles", index), (self.name, block_index)
                    )
                    yield Declaration(Address(self.name, team, role.name), spec, origin)

    def address_at(self, section: Any, path: DataPath) -> Address | None:
        match path:
            case (int(block), "roles", int(index), *_):
                team, name = node_at(section, block, "team"), name_at(section, block, "roles", index)
                return Address(self.name, team, name) if name and isinstance(team, str) and team else None
        return None

    def unlisted(self, section: Any, source_map: SourceMap) -> Iterator[Diagnostic]:
        for index, block in list_items(section):
            for position, role in list_items(node_at(block, "roles")):
                address = self.address_at(section, (index, "roles", position))
                at = (source_map, (self.name, index, "roles", position, "granted"))
                yield from rights.offline_warnings(
                    node_at(role, "granted"), WHAT, catalogue.TEAM_ROLE_RIGHTS, at, address
                )

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        by_team: dict[str, list[LiveObject]] = defaultdict(list)
        for obj in objects:
            by_team[_team_label(str(obj.context["teamId"]), lookups)].append(obj)
        blocks = []
        for team in sorted(by_team, key=lambda label: (label.casefold(), label)):
            roles = [entry(o.essence, ("name", "granted")) for o in sorted(by_team[team], key=by_name)]
            blocks.append(CommentedMap([("team", text(team)), ("roles", roles)]))
        return blocks

    set_fields = frozenset({"granted"})
    needs = frozenset({"teams"})

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        team_ids = sorted(lookups.teams)
        answers = client.get_each(Api.OPS, [f"/teams/{team_id}/roles" for team_id in team_ids])
        return [
            self._live(team_id, lookups.teams[team_id], raw)
            for team_id, roles in zip(team_ids, answers, strict=True)
            for raw in roles
        ]

    def _live(self, team_id: str, team_name: str, raw: dict[str, Any]) -> LiveObject:
        # Every answer lists all 17 rights (API-FACTS.md 2): a missing list is not "none granted".
        granted = [r["right"] for r in raw["rights"] if r["granted"]]
        essence = _essence(raw["name"], granted)
        server_id = str(raw["id"])
        return LiveObject(
            address=Address(self.name, team_name, raw["name"]),
            identity=self.identity(team_id, raw["name"]),
            essence=essence,
            server_id=server_id,
            context={"teamId": team_id},
        )

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects: list[DesiredObject] = []
        diagnostics: list[Diagnostic] = []
        for address, spec in state.objects.items():
            if not isinstance(spec, TeamRoleSpec):
                continue
            team_id, problem = resolve_team(spec.team, lookups)
            if team_id is None:
                diagnostics.append(
                    error(
                        "plan.unknown_team",
                        problem,
                        source=state.locate(address, "team"),
                        address=str(address),
                    )
                )
                continue
            objects.append(
                DesiredObject(
                    address=address,
                    identity=self.identity(team_id, spec.name),
                    essence=_essence(spec.name, spec.granted),
                    renamed_from=tuple(self.identity(team_id, old) for old in spec.renamed_from),
                    source=state.locate(address),
                    context=_context(state, address, spec, team_id),
                )
            )
        return objects, diagnostics

    def review(self, desired: Sequence[DesiredObject], live: Sequence[LiveObject]) -> list[Diagnostic]:
        held = {right for obj in live for right in obj.essence["granted"]}
        return rights.review(desired, held, WHAT, catalogue.TEAM_ROLE_RIGHTS)

    def apply(self, client: SiteApi, change: Change) -> list[Diagnostic] | None:
        data = write_data_of(change, TeamRoleWrite)
        team_id = data.team_id
        if change.action is Action.DELETE:
            role_id = data.live_id
            # The team's list, not GET by id: that DELETE and GET declare no 404 for a missing role.
            delete_verified(
                lambda: client.request(Api.OPS, "DELETE", f"/teams/{team_id}/roles/{role_id}"),
                lambda: any(r.get("id") == role_id for r in client.get(Api.OPS, f"/teams/{team_id}/roles")),
            )
            return None
        assert change.after is not None
        body = {"name": change.after["name"], "rights": _rights_body(change.after["granted"])}
        try:
            if change.action is Action.CREATE:
                kept = create_verified(
                    lambda: client.request(Api.OPS, "POST", f"/teams/{team_id}/roles", json_body=body).body,
                    lambda: self._find(client, team_id, body["name"]),
                )
            else:
                path = f"/teams/{team_id}/roles/{data.live_id}"
                kept = client.request(Api.OPS, "PATCH", path, json_body=body).body
        except TerminalSiteError as exc:
            raise rights.refusal(exc, data.unlisted_rights) from exc
        # The answer is the role as the site kept it, every right listed with `granted`.
        granted = [r["right"] for r in kept["rights"] if r["granted"]]
        return rights.dropped(change, change.after["granted"], granted, data.unlisted_rights)

    def _find(self, client: SiteApi, team_id: str, name: str) -> dict[str, Any] | None:
        roles = client.get(Api.OPS, f"/teams/{team_id}/roles")
        return next((r for r in roles if r.get("name") == name), None)


def _context(state: DesiredState, address: Address, spec: TeamRoleSpec, team_id: str) -> dict[str, Any]:
    context: dict[str, Any] = {"teamId": team_id}
    unlisted = rights.positions(
        state,
        address,
        ((right, ("granted", index)) for index, right in enumerate(spec.granted) if right not in LISTED),
    )
    if unlisted:
        context[rights.CONTEXT_KEY] = unlisted
    return context


def resolve_team(team: str, lookups: Lookups) -> tuple[str | None, str]:
    """A team id as written, or the id of the one team with that name; otherwise why not."""
    if team in lookups.teams:
        return team, ""
    ids = lookups.team_ids_by_name.get(team, [])
    if len(ids) == 1:
        return ids[0], ""
    if ids:
        return None, f"{len(ids)} teams are named {team!r}; use the team id ({', '.join(ids)})"
    return None, f"no team {team!r} on the site (teams are listed by GET /v1/teams; is Operations enabled?)"


def _team_label(team_id: str, lookups: Lookups) -> str:
    """The team's name where it names this team alone; its id otherwise (resolve_team reads both)."""
    name = lookups.teams.get(team_id)
    if name is not None and lookups.team_ids_by_name.get(name) == [team_id] and name not in lookups.teams:
        return name
    return team_id
