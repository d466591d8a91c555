"""A realistic site and manifest set, generated: all five kinds, well over 100 changes of every action the
plan makes without --allow-delete trouble (create, update, rename, prune-delete), plus objects the plan
must never touch (unmanaged kinds, protected objects, teams the manifests do not mention).

`make_world(n)` is deterministic in `n`: the seed and the manifests differ by a few names per `n`, so
repeated runs are not all the same plan, and any failure is reproducible from its number.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from reconciler.catalogue import CUSTOM_ROLE_RIGHTS, TEAM_ROLE_RIGHTS
from tests.e2e.conftest import LOOKUPS

RIGHTS = sorted(CUSTOM_ROLE_RIGHTS)
SRE = "Platform SRE"
SUPPORT = "Customer Support"
UNTOUCHED_TEAM = "Untouched Team"
UNTOUCHED_TEAM_ID = "0b9c7d3e-1f2a-4b5c-8d6e-9f0a1b2c3d4e"


@dataclass(frozen=True)
class World:
    seed: dict[str, Any]
    manifest: dict[str, Any]

    def manifest_yaml(self) -> str:
        # JSON is YAML: exact, and no quoting surprises in generated names.
        return json.dumps(self.manifest, indent=1, ensure_ascii=False) + "\n"


def make_world(n: int = 0) -> World:
    rng = random.Random(n)
    tag = f"w{n}"

    def rights(k: int) -> list[str]:
        return sorted(rng.sample(RIGHTS, k))

    def team_rights(k: int) -> list[str]:
        return sorted(rng.sample(TEAM_ROLE_RIGHTS, k))

    # --- the site before ----------------------------------------------------------------------------
    seed_fields = {
        "organization": [
            {"name": f"Org field {i}", "type": "SELECT", "options": ["A", "B"]} for i in range(4)
        ]
        + [{"name": f"Org old {i}", "type": "TEXT"} for i in range(2)]
        + [{"name": "Unmanaged org note", "type": "TEXT"}],
        "customer": [{"name": "Unmanaged tier", "type": "SELECT", "options": ["Gold", "Silver"]}],
        "entitlement": [],
    }
    seed: dict[str, Any] = {
        **LOOKUPS,
        "teams": [
            {
                "name": SRE,
                "id": LOOKUPS["teams"][0]["id"],
                "roles": [{"name": f"sre role {i}", "granted": ["access-reports"]} for i in range(3)]
                + [{"name": f"sre stale {i}", "granted": ["edit-schedules"]} for i in range(2)],
            },
            {"name": SUPPORT, "id": LOOKUPS["teams"][1]["id"]},
            {
                "name": UNTOUCHED_TEAM,
                "id": UNTOUCHED_TEAM_ID,
                "roles": [
                    {"name": "their role", "granted": ["access-reports", "edit-policies"]},
                ],
            },
        ],
        "detailFields": seed_fields,
        "organizations": [
            {
                "name": "Acme Corp",
                "id": "1",
                "details": {"Unmanaged org note": ["keep me"], "Org old 0": ["x"]},
            }
        ],
        "products": [{"name": f"Product {tag} {i}"} for i in range(6)]
        + [{"name": f"Retired {tag} {i}"} for i in range(5)]
        + [{"name": f"Product old {i}"} for i in range(4)]
        + [{"name": "Protected product"}],
        "customRoles": [
            {"name": f"Role {i}", "grantedRights": ["alert-action"], "disallowedRights": []} for i in range(5)
        ]
        + [{"name": f"Stale role {i}", "grantedRights": ["alert-create"]} for i in range(3)]
        + [
            {"name": "Protected role", "grantedRights": ["alert-close"], "disallowedRights": ["alert-delete"]}
        ],
        "permissionSchemes": [
            {
                "name": "Service scheme 0",
                "description": "Old words",
                "grants": [
                    {"permission": "ADMINISTER_PROJECTS", "type": "projectRole", "holder": "Administrators"},
                    {"permission": "EDIT_ISSUES", "type": "group", "holder": "jira-servicemanagement-users"},
                    {"permission": "CLOSE_ISSUES", "type": "reporter"},
                ],
            },
            {
                "name": "Unmanaged scheme",
                "description": "Someone else's",
                "grants": [
                    {"permission": "BROWSE_PROJECTS", "type": "group", "holder": "jira-administrators"},
                    {"permission": "CREATE_ISSUES", "type": "anyone"},
                ],
            },
        ],
    }

    # --- the manifests ------------------------------------------------------------------------------
    organization = [
        # updates: options change
        {"name": f"Org field {i}", "type": "SELECT", "options": ["A", "B", f"C{i}"]}
        for i in range(3)
    ] + [{"name": "Org field 3", "type": "SELECT", "options": ["A", "B"]}]
    # renames keep their stored values
    organization += [
        {"name": f"Org renamed {i}", "type": "TEXT", "renamedFrom": [f"Org old {i}"]} for i in range(2)
    ]
    organization += [{"name": f"Org new {tag} {i}", "type": "TEXT"} for i in range(10)]
    customer = [
        {"name": f"Customer new {i}", "type": rng.choice(["TEXT", "EMAIL", "URL", "NUMBER"])}
        for i in range(8)
    ]
    entitlement = [{"name": f"Entitlement new {i}", "type": "DATE"} for i in range(5)]

    products: list[dict[str, Any]] = [{"name": f"Product {tag} {i}"} for i in range(6)]
    products += [{"name": f"Product renamed {i}", "renamedFrom": [f"Product old {i}"]} for i in range(4)]
    products += [{"name": f"New product {tag} {i:02d}"} for i in range(30)]

    custom_roles = [
        {"name": f"Role {i}", "grantedRights": rights(3), "disallowedRights": []} for i in range(5)
    ] + [
        {"name": f"New role {tag} {i:02d}", "grantedRights": rights(2), "disallowedRights": rights(1)}
        for i in range(15)
    ]
    # rights drawn separately may collide between granted and disallowed: keep them apart
    for role in custom_roles:
        role["disallowedRights"] = [r for r in role["disallowedRights"] if r not in role["grantedRights"]]

    team_roles = [
        {
            "team": SRE,
            "roles": [{"name": f"sre role {i}", "granted": team_rights(2)} for i in range(3)]
            + [{"name": f"sre new {tag} {i}", "granted": team_rights(3)} for i in range(8)],
        },
        {"team": SUPPORT, "roles": [{"name": f"support {i}", "granted": team_rights(1)} for i in range(6)]},
    ]

    holders = [
        "projectRole:Administrators",
        "projectRole:Developers",
        "projectRole:Service Desk Team",
        "group:jira-administrators",
        "group:service-desk-agents",
        "reporter",
        "assignee",
        "applicationRole",
    ]
    keys = ["BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "ASSIGN_ISSUES", "ADD_COMMENTS", "LINK_ISSUES"]
    schemes = [
        {
            "name": "Service scheme 0",
            "description": f"New words {tag}",
            "grants": {
                "ADMINISTER_PROJECTS": ["projectRole:Administrators"],
                "BROWSE_PROJECTS": ["projectRole:Service Desk Team", "group:service-desk-agents"],
                "CREATE_ISSUES": ["reporter", "group:jira-servicemanagement-users"],
            },
        }
    ] + [
        {
            "name": f"New scheme {tag} {i}",
            "description": f"Generated {i}",
            "grants": {key: sorted(rng.sample(holders, 2)) for key in rng.sample(keys, 3)},
        }
        for i in range(3)
    ]

    manifest: dict[str, Any] = {
        "version": 1,
        "settings": {
            "prune": ["products", "customRoles", "teamRoles"],
            "protect": [
                "products/Protected product",
                "customRoles/Protected role",
                f"teamRoles/{UNTOUCHED_TEAM}/their role",
            ],
        },
        "detailFields": {"organization": organization, "customer": customer, "entitlement": entitlement},
        "products": products,
        "customRoles": custom_roles,
        "teamRoles": team_roles,
        "permissionSchemes": schemes,
    }
    return World(seed, manifest)


# --- what must not change ------------------------------------------------------------------------------


def untouched(snapshot: dict[str, Any]) -> str:
    """The objects outside the plan, as bytes-exact JSON: compare before and after an apply."""
    view = {
        "groups": snapshot["groups"],
        "project_roles": snapshot["project_roles"],
        "teams": [t for t in snapshot["teams"] if t["id"] == UNTOUCHED_TEAM_ID]
        + [{k: v for k, v in t.items() if k != "roles"} for t in snapshot["teams"]],
        "detail_fields": [
            f
            for fields in snapshot["detail_fields"].values()
            for f in fields
            if f["name"].startswith("Unmanaged")
        ],
        "organizations": snapshot["organizations"],
        "products": [p for p in snapshot["products"] if p["name"] == "Protected product"],
        "custom_roles": [r for r in snapshot["custom_roles"] if r["name"] == "Protected role"],
        "permission_schemes": [s for s in snapshot["permission_schemes"] if s["name"] == "Unmanaged scheme"],
    }
    return json.dumps(view, sort_keys=True)


def untouched_ids(snapshot: dict[str, Any]) -> set[str]:
    """Server ids of the objects outside the plan: no write may name one in its path."""
    view = json.loads(untouched(snapshot))
    ids = {
        str(o["id"]) for section in ("products", "custom_roles", "permission_schemes") for o in view[section]
    }
    ids |= {str(f["id"]) for f in view["detail_fields"]}
    ids |= {r["id"] for t in view["teams"] for r in t.get("roles", [])}
    return ids


def duplicates(snapshot: dict[str, Any]) -> list[str]:
    """Names that two objects of one kind share (case-folded where the API compares so)."""
    found: list[str] = []

    def check(what: str, names: list[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                found.append(f"{what}: {name}")
            seen.add(name)

    check("products", [p["name"] for p in snapshot["products"]])
    check("customRoles", [r["name"].casefold() for r in snapshot["custom_roles"]])
    check("permissionSchemes", [s["name"] for s in snapshot["permission_schemes"]])
    for entity, fields in snapshot["detail_fields"].items():
        check(f"detailFields.{entity}", [f["name"].casefold() for f in fields])
    for team in snapshot["teams"]:
        check(f"teamRoles/{team['name']}", [r["name"].casefold() for r in team["roles"]])
    for scheme in snapshot["permission_schemes"]:
        grants = [
            json.dumps([g["permission"], g["holder_type"], g["holder_value"]]) for g in scheme["grants"]
        ]
        check(f"grants of {scheme['name']}", grants)
    return found
