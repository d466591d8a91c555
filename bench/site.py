"""The benchmark's enterprise site, as a sandbox seed, at any scale."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler import catalogue

NAMESPACE = uuid.UUID("6f1c9a52-9d3e-4c55-8a7e-0b5e2f4c1d20")


@dataclass(frozen=True)
class Scale:
    detail_fields_per_entity: int = 50
    products: int = 1000
    custom_roles: int = 300
    teams: int = 100
    roles_per_team: int = 4
    permission_schemes: int = 150
    grants_per_scheme: int = 60
    groups: int = 200
    project_roles: int = 20
    projects: int = 500
    declared_projects: int = 300  # the manifests declare the first ones
    users: int = 2000  # every 50th is inactive
    members_per_group: int = 60  # two pages of GET /group/member each
    roles_with_actors: int = 2  # project roles per project with a user and a group in them

    @property
    def objects(self) -> int:
        return (
            3 * self.detail_fields_per_entity
            + self.products
            + self.custom_roles
            + self.teams * self.roles_per_team
            + self.permission_schemes
            + self.declared_projects
        )


ENTERPRISE = Scale()
# The largest sites: ten times the enterprise site, except detail fields, which the API caps at 50 per
# entity (API-FACTS.md 9), so the enterprise site already has all it can.
TEN_TIMES = Scale(
    products=10_000,
    custom_roles=3_000,
    teams=1_000,
    permission_schemes=1_500,
    groups=2_000,
    projects=5_000,
    declared_projects=3_000,
    users=20_000,
)
SMALL = Scale(
    detail_fields_per_entity=5,
    products=230,
    custom_roles=45,
    teams=6,
    roles_per_team=2,
    permission_schemes=7,
    grants_per_scheme=12,
    groups=120,
    project_roles=5,
    projects=30,
    declared_projects=18,
    users=100,
)


def _id(kind: str, number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{number}"))


def enterprise_seed(scale: Scale) -> dict[str, Any]:
    rng = random.Random(20261125)
    rights = sorted(catalogue.CUSTOM_ROLE_RIGHTS)
    users = [
        {"accountId": _id("user", n), "displayName": f"User {n:05}", "active": n % 50 != 0}
        for n in range(scale.users)
    ]
    groups = [
        {
            "name": f"group-{n:03}",
            "id": _id("group", n),
            "members": [
                users[(n * 7 + m) % scale.users]["accountId"] for m in range(scale.members_per_group)
            ],
        }
        for n in range(scale.groups)
    ]
    project_roles = [{"name": f"Project role {n:02}", "id": 10000 + n} for n in range(scale.project_roles)]

    def role_actors(project: int) -> dict[str, Any]:
        """A user and a group in some of the project's roles: who `access --users` finds there."""
        return {
            str(project_roles[(project + k) % scale.project_roles]["name"]): {
                "users": [users[(project * 3 + k) % scale.users]["accountId"]],
                "groups": [groups[(project + k) % scale.groups]["name"]],
            }
            for k in range(scale.roles_with_actors)
        }

    holders: list[tuple[str, str | None]] = [("group", str(g["name"])) for g in groups]
    holders += [("projectRole", str(r["name"])) for r in project_roles]
    holders += [("reporter", None), ("assignee", None), ("projectLead", None), ("anyone", None)]
    keys = sorted(catalogue.BUILTIN_PERMISSION_KEYS)
    field_types = ["SELECT", "TEXT", "MULTISELECT", "EMAIL", "URL", "DATE", "NUMBER", "BOOLEAN", "PHONE"]

    def field(entity: str, n: int) -> dict[str, Any]:
        field_type = field_types[n % len(field_types)]
        options = [f"Option {i}" for i in range(3)] if field_type in ("SELECT", "MULTISELECT") else []
        return {"name": f"{entity.title()} field {n:02}", "type": field_type, "options": options}

    def grants() -> list[dict[str, Any]]:
        chosen: set[tuple[str, str, str | None]] = set()
        while len(chosen) < scale.grants_per_scheme:
            holder_type, holder = rng.choice(holders)
            chosen.add((rng.choice(keys), holder_type, holder))
        return [
            {"permission": key, "type": holder_type, **({"holder": holder} if holder else {})}
            for key, holder_type, holder in sorted(chosen, key=str)
        ]

    return {
        "users": users,
        "groups": groups,
        "projectRoles": project_roles,
        "teams": [
            {
                "name": f"Team {t:03}",
                "id": _id("team", t),
                "roles": [
                    {"name": f"role-{r}", "granted": sorted(rng.sample(catalogue.TEAM_ROLE_RIGHTS, 4))}
                    for r in range(scale.roles_per_team)
                ],
            }
            for t in range(scale.teams)
        ],
        "detailFields": {
            entity: [field(entity, n) for n in range(scale.detail_fields_per_entity)]
            for entity in ("organization", "customer", "entitlement")
        },
        "products": [{"name": f"Product {n:04}"} for n in range(scale.products)],
        "customRoles": [
            {"name": f"Custom role {n:03}", "grantedRights": sorted(rng.sample(rights, 6))}
            for n in range(scale.custom_roles)
        ],
        "permissionSchemes": [
            {"name": f"Scheme {n:03}", "description": f"Scheme number {n}", "grants": grants()}
            for n in range(scale.permission_schemes)
        ],
        "projects": [
            {
                "key": f"P{n:04}",
                "name": f"Project {n}",
                "permissionScheme": f"Scheme {n % scale.permission_schemes:03}",
                "roles": role_actors(n),
            }
            for n in range(scale.projects)
        ],
    }
