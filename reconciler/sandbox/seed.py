"""Seeds: the readable way to describe a sandbox site (format documented in `state.py`).

A seed is applied through the same functions the API handlers use, so it obeys the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import shortened
from reconciler.sandbox import csm, jira, members, ops, projects, schemes
from reconciler.sandbox.common import ApiError
from reconciler.sandbox.state import (
    DEFAULT_CLOUD_ID,
    ENTITY_KINDS,
    ApplicationRole,
    AppPermission,
    CustomField,
    Entity,
    EntityKind,
    Group,
    State,
    Team,
    User,
    describe_validation_error,
)


class SeedError(ValueError):
    """The seed is malformed or breaks one of the API's rules."""


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SeedGroup(_Seed):
    name: str
    id: str | None = None
    members: list[str] = Field(default_factory=list)  # account ids of `users`


class SeedProjectRole(_Seed):
    name: str
    id: int | None = None
    description: str = ""


class SeedAppPermission(_Seed):
    key: str
    type: Literal["GLOBAL", "PROJECT"] = "PROJECT"
    name: str | None = None
    description: str = ""


class SeedApplicationRole(_Seed):
    key: str
    name: str | None = None


class SeedCustomField(_Seed):
    name: str
    id: str | None = None
    type: str = "userpicker"


class SeedUser(_Seed):
    account_id: str = Field(alias="accountId")
    display_name: str | None = Field(None, alias="displayName")
    active: bool = True


class SeedTeamRole(_Seed):
    name: str
    granted: list[str] = Field(default_factory=list)


class SeedTeam(_Seed):
    name: str
    id: str | None = None
    roles: list[SeedTeamRole] = Field(default_factory=list)


class SeedField(_Seed):
    name: str
    type: str
    options: list[str] = Field(default_factory=list)


class SeedDetailFields(_Seed):
    organization: list[SeedField] = Field(default_factory=list)
    customer: list[SeedField] = Field(default_factory=list)
    entitlement: list[SeedField] = Field(default_factory=list)


class SeedEntity(_Seed):
    name: str
    id: str | None = None
    details: dict[str, list[str]] = Field(default_factory=dict)


class SeedProduct(_Seed):
    name: str
    id: str | None = None


class SeedEntitlement(_Seed):
    product: str
    organization: str | None = None
    customer: str | None = None
    details: dict[str, list[str]] = Field(default_factory=dict)


class SeedCustomRole(_Seed):
    name: str
    extended_role: Literal["user", "observer", "stakeholder"] = Field("user", alias="extendedRole")
    granted_rights: list[str] = Field(default_factory=list, alias="grantedRights")
    disallowed_rights: list[str] = Field(default_factory=list, alias="disallowedRights")


class SeedGrant(_Seed):
    permission: str
    type: str
    holder: str | None = None


class SeedScheme(_Seed):
    name: str
    description: str = ""
    grants: list[SeedGrant] = Field(default_factory=list)


class SeedRoleActors(_Seed):
    users: list[str] = Field(default_factory=list)  # account ids
    groups: list[str] = Field(default_factory=list)  # group names


class SeedProject(_Seed):
    key: str
    name: str
    permission_scheme: str | None = Field(None, alias="permissionScheme")
    roles: dict[str, SeedRoleActors] = Field(default_factory=dict)  # project role name -> its actors here


class Seed(_Seed):
    cloud_id: str = Field(DEFAULT_CLOUD_ID, alias="cloudId")
    groups: list[SeedGroup] = Field(default_factory=list)
    project_roles: list[SeedProjectRole] = Field(default_factory=list, alias="projectRoles")
    app_permissions: list[SeedAppPermission] = Field(default_factory=list, alias="appPermissions")
    teams: list[SeedTeam] = Field(default_factory=list)
    detail_fields: SeedDetailFields = Field(default_factory=SeedDetailFields, alias="detailFields")
    organizations: list[SeedEntity] = Field(default_factory=list)
    customers: list[SeedEntity] = Field(default_factory=list)
    products: list[SeedProduct] = Field(default_factory=list)
    entitlements: list[SeedEntitlement] = Field(default_factory=list)
    custom_roles: list[SeedCustomRole] = Field(default_factory=list, alias="customRoles")
    permission_schemes: list[SeedScheme] = Field(default_factory=list, alias="permissionSchemes")
    application_roles: list[SeedApplicationRole] = Field(default_factory=list, alias="applicationRoles")
    custom_fields: list[SeedCustomField] = Field(default_factory=list, alias="customFields")
    users: list[SeedUser] = Field(default_factory=list, alias="users")
    projects: list[SeedProject] = Field(default_factory=list)


def load_seed_file(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON seed file (JSON is YAML, but a .json file gets JSON's clearer errors)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"{path}: no such seed file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the seed: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
    except (json.JSONDecodeError, YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed is a mapping of sections")
    return data


def _seed_problems(exc: ValidationError) -> str:
    """`describe_validation_error`, but a top-level key the seed does not know is named as such, with what
    a seed is: a manifest given as a seed fails on its `version` and `settings` keys."""
    unknown = [
        str(problem["loc"][0])
        for problem in exc.errors(include_url=False)
        if problem["type"] == "extra_forbidden" and len(problem["loc"]) == 1
    ]
    if not unknown:
        return describe_validation_error(exc)
    named = ", ".join(repr(shortened(key)) for key in unknown)
    return (
        f"unknown top-level key(s) {named}: a seed describes a sandbox "
        "site's state (sections such as products, teams, projects; see examples/sandbox-seed.yaml), "
        "not manifests; give manifests to plan or apply"
    )


def build_state(seed: Mapping[str, Any]) -> State:
    try:
        parsed = Seed.model_validate(seed)
    except ValidationError as exc:
        raise SeedError(f"invalid sandbox seed: {_seed_problems(exc)}") from None
    state = State(cloud_id=parsed.cloud_id)
    where = "seed"
    try:
        for group in parsed.groups:
            where = f"group {group.name!r}"
            state.groups.append(Group(id=group.id or state.new_uuid(), name=group.name))
        for role in parsed.project_roles:
            where = f"project role {role.name!r}"
            jira.create_project_role(state, role.name, role.description, role.id)
        for app in parsed.app_permissions:
            state.app_permissions.append(
                AppPermission(
                    key=app.key, type=app.type, name=app.name or app.key, description=app.description
                )
            )
        _seed_holders(state, parsed)
        for made, seed_group in zip(state.groups, parsed.groups, strict=True):
            where = f"group {made.name!r}"
            members.add_members(state, made, seed_group.members)
        for seed_team in parsed.teams:
            where = f"team {seed_team.name!r}"
            team = Team(id=seed_team.id or state.new_uuid(), name=seed_team.name)
            state.teams.append(team)
            for team_role in seed_team.roles:
                where = f"team {team.name!r} role {team_role.name!r}"
                rights = [ops.RightIn(right=right, granted=True) for right in team_role.granted]
                ops.create_team_role(state, team, team_role.name, rights)
        for kind in ENTITY_KINDS:
            for field in getattr(parsed.detail_fields, kind):
                where = f"{kind} detail field {field.name!r}"
                csm.create_field(state, kind, field.name, field.type, field.options)
        _seed_entities(state, "organization", parsed.organizations)
        _seed_entities(state, "customer", parsed.customers)
        for product in parsed.products:
            where = f"product {product.name!r}"
            csm.create_product(state, product.name, product.id)
        for entitlement in parsed.entitlements:
            where = f"entitlement of {entitlement.product!r}"
            _seed_entitlement(state, entitlement)
        for custom in parsed.custom_roles:
            where = f"custom role {custom.name!r}"
            ops.create_custom_role(
                state, custom.name, custom.granted_rights, custom.disallowed_rights, custom.extended_role
            )
        for scheme in parsed.permission_schemes:
            where = f"permission scheme {scheme.name!r}"
            grants = [_grant(state, grant) for grant in scheme.grants]
            schemes.create_scheme(
                state, schemes.SchemeIn(name=scheme.name, description=scheme.description, permissions=grants)
            )
        roles = {role.name: role for role in state.project_roles}
        groups = {group.name: group for group in reversed(state.groups)}
        for project in parsed.projects:
            where = f"project {project.key!r}"
            created = projects.create_project(state, project.key, project.name, project.permission_scheme)
            for role_name, actors in project.roles.items():
                where = f"project {project.key!r} role {role_name!r}"
                in_role = roles.get(role_name)
                if in_role is None:
                    raise ApiError(400, f"no project role named {role_name!r}")
                named = [groups.get(name) or _no_group(name) for name in actors.groups]
                members.add_role_actors(state, created, in_role, actors.users, named)
    except ApiError as exc:
        raise SeedError(f"invalid sandbox seed, {where}: {exc.message}") from exc
    return state


def _seed_holders(state: State, parsed: Seed) -> None:
    """What permission grants may name besides groups and project roles: application roles, custom
    fields and users."""
    for role in parsed.application_roles:
        state.application_roles.append(ApplicationRole(key=role.key, name=role.name or role.key))
    for field in parsed.custom_fields:
        field_id = field.id or f"customfield_{state.new_int()}"
        state.custom_fields.append(CustomField(id=field_id, name=field.name, type=field.type))
    for user in parsed.users:
        name = user.display_name or user.account_id
        state.users.append(User(account_id=user.account_id, display_name=name, active=user.active))


def _no_group(name: str) -> Group:
    raise ApiError(400, f"The group {name!r} does not exist.")


def _seed_entities(state: State, kind: EntityKind, entities: list[SeedEntity]) -> None:
    for seed_entity in entities:
        # Organization ids are positive integers, customer ids account ids.
        new_id = str(state.new_int()) if kind == "organization" else state.new_uuid()
        entity = Entity(id=seed_entity.id or new_id, name=seed_entity.name)
        (state.organizations if kind == "organization" else state.customers).append(entity)
        for name, values in seed_entity.details.items():
            csm.set_values(state, kind, entity, name, values)


def _by_name(entities: list[Entity], name: str, kind: str) -> Entity:
    for entity in entities:
        if entity.name == name:
            return entity
    raise ApiError(400, f"no {kind} named {name!r}")


def _seed_entitlement(state: State, seed: SeedEntitlement) -> None:
    product = next((p for p in state.products if p.name == seed.product), None)
    if product is None:
        raise ApiError(400, f"no product named {seed.product!r}")
    if (seed.organization is None) == (seed.customer is None):
        raise ApiError(400, "give exactly one of organization and customer")
    if seed.organization is not None:
        kind: EntityKind = "organization"
        owner = _by_name(state.organizations, seed.organization, kind)
    else:
        kind = "customer"
        owner = _by_name(state.customers, seed.customer or "", kind)
    entitlement = csm.create_entitlement(state, kind, owner, product.id)
    for name, values in seed.details.items():
        csm.set_values(state, "entitlement", entitlement, name, values)


def _grant(state: State, grant: SeedGrant) -> schemes.GrantIn:
    """Seeds name groups and project roles; the API wants the group name and the role id."""
    holder = grant.holder
    if grant.type == "projectRole":
        role = next((r for r in state.project_roles if r.name == holder), None)
        if role is None:
            raise ApiError(400, f"no project role named {holder!r}")
        holder = str(role.id)
    return schemes.GrantIn(
        permission=grant.permission, holder=schemes.HolderIn(type=grant.type, parameter=holder)
    )
