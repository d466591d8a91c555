"""Group members and project role actors (reconciler/sandbox/members.py), each answer validated against the
official document by `Api` (conftest.py), on the demo site, whose seed gives them content."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.seed import SeedError, build_state

from .conftest import SCOPED, Api

AGENTS = "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f"
ADMINS = "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60"
MIA, ANA, BEN, CHEN = (
    "5b10ac8d82e05b22cc7d4ef5",
    "6123a1b2c3d4e5f6a7b8c9d0",
    "6123a1b2c3d4e5f6a7b8c9d1",
    "6123a1b2c3d4e5f6a7b8c9d2",
)
FORMER = "6123a1b2c3d4e5f6a7b8c9d4"  # inactive
SERVICE_DESK_TEAM, ADMINISTRATORS = 10100, 10002


@pytest.fixture
def site(demo_seed: dict[str, Any]) -> SandboxSite:
    """The demo site, and a project whose developers include a user who is no longer active."""
    ops = {"key": "OPS", "name": "Operations", "roles": {"Developers": {"users": [MIA, FORMER]}}}
    return SandboxSite(seed={**demo_seed, "projects": [*demo_seed["projects"], ops]})


GROUP_OPERATIONS = {("getUsersFromGroup", 200), ("getUsersFromGroup", 400), ("getUsersFromGroup", 404)}
ROLE_OPERATIONS = {
    ("getProjectRoles", 200),
    ("getProjectRoles", 404),
    ("getProjectRole", 200),
    ("getProjectRole", 400),
    ("getProjectRole", 404),
}


def _accounts(page: dict[str, Any]) -> list[str]:
    return [user["accountId"] for user in page["values"]]


def test_group_members_are_paged_active_only_unless_asked(api: Api) -> None:
    j = api.jira
    first = api.get(j(f"/group/member?groupId={AGENTS}&maxResults=1"))
    assert first.status == 200
    assert (first.json["startAt"], first.json["maxResults"], first.json["total"]) == (0, 1, 2)
    assert first.json["isLast"] is False and "startAt=1" in first.json["nextPage"]
    assert _accounts(first.json) == [ANA]  # by display name: Ana Silva, Ben Okafor
    last = api.get(j(f"/group/member?groupId={AGENTS}&startAt=1&maxResults=1")).json
    assert last["isLast"] is True and "nextPage" not in last and _accounts(last) == [BEN]
    everyone = api.get(j("/group/member?groupname=service-desk-agents&includeInactiveUsers=true")).json
    assert _accounts(everyone) == [ANA, BEN, FORMER] and everyone["values"][2]["active"] is False
    # "The maximum number of items to return per page (number should be between 1 and 50)".
    assert api.get(j(f"/group/member?groupId={ADMINS}&maxResults=500")).json["maxResults"] == 50
    assert api.get(j("/group/member")).status == 400  # "if the group name is not specified"
    assert api.get(j(f"/group/member?groupId={AGENTS}&groupname=service-desk-agents")).status == 400
    assert api.get(j("/group/member?groupId=nope")).status == 404
    assert api.get(j("/group/member?groupname=nope")).status == 404
    assert api.get(api.jira_gateway(f"/group/member?groupId={ADMINS}"), auth=SCOPED).json["total"] == 1
    assert {(op, status) for _, op, status in api.contract.seen} >= GROUP_OPERATIONS


def test_project_roles_and_their_actors_in_a_project(api: Api) -> None:
    j = api.jira
    roles = api.get(j("/project/SD/role"))
    assert roles.status == 200
    assert roles.json["Service Desk Team"].endswith(f"/rest/api/3/project/SD/role/{SERVICE_DESK_TEAM}")
    team = api.get(j(f"/project/SD/role/{SERVICE_DESK_TEAM}"))
    assert team.status == 200 and team.json["name"] == "Service Desk Team"
    actors = [(a["type"], a.get("actorUser") or a.get("actorGroup")) for a in team.json["actors"]]
    # Sorted by display name: Mia Krystof, then the group service-desk-agents.
    assert actors == [
        ("atlassian-user-role-actor", {"accountId": MIA}),
        (
            "atlassian-group-role-actor",
            {"displayName": "service-desk-agents", "groupId": AGENTS, "name": "service-desk-agents"},
        ),
    ]
    # A role that has nobody in this project, and the project by its id.
    project_id = next(p["id"] for p in api.site.snapshot()["projects"] if p["key"] == "HR")
    assert api.get(j(f"/project/{project_id}/role/{SERVICE_DESK_TEAM}")).json["actors"] == []
    assert (
        api.get(j(f"/project/HR/role/{ADMINISTRATORS}")).json["actors"][0]["actorGroup"]["groupId"] == ADMINS
    )
    assert api.get(j("/project/SD/role/abc")).status == 400
    assert api.get(j("/project/SD/role/1")).status == 404
    assert api.get(j(f"/project/NOPE/role/{ADMINISTRATORS}")).status == 404
    assert api.get(j("/project/NOPE/role")).status == 404
    # "404 ... if the user does not have administrative permissions for the project."
    api.site.knobs.project_access = {"IT": "browse"}
    assert api.get(j("/project/IT/role")).status == 404
    assert api.get(j(f"/project/IT/role/{ADMINISTRATORS}")).status == 404
    assert {(op, status) for _, op, status in api.contract.seen} >= ROLE_OPERATIONS


def test_inactive_users_are_left_out_of_the_actors_when_asked(api: Api) -> None:
    developers = api.jira("/project/OPS/role/10001")
    assert [a["actorUser"]["accountId"] for a in api.get(developers).json["actors"]] == [FORMER, MIA]
    assert [
        a["actorUser"]["accountId"] for a in api.get(f"{developers}?excludeInactiveUsers=true").json["actors"]
    ] == [MIA]
    assert api.get(f"{developers}?excludeInactiveUsers=maybe").status == 400


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"groups": [{"name": "g", "members": ["nobody"]}]}, "group 'g': The user 'nobody' does not exist"),
        (
            {"projects": [{"key": "P", "name": "P", "roles": {"Nope": {}}}]},
            "project 'P' role 'Nope': no project role named 'Nope'",
        ),
        (
            {"projects": [{"key": "P", "name": "P", "roles": {"Developers": {"groups": ["nope"]}}}]},
            "The group 'nope' does not exist",
        ),
    ],
)
def test_a_seed_names_only_users_groups_and_roles_it_has(
    demo_seed: dict[str, Any], change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SeedError, match=problem):
        build_state({**demo_seed, **change})
