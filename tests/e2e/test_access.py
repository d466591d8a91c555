"""`jsm-reconciler access` end to end against the demo site: the report, its reads, --users, --planned and
the filters; and the access diff in the plan the command line prints."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.seed import load_seed_file
from tests.e2e.conftest import Harness
from tests.e2e.test_cli import run
from tests.e2e.test_cli_imports import NEVER, _among, _loaded

ROOT = Path(__file__).resolve().parents[2]
AGENTS, ADMINS = "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f", "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60"
SERVICE_DESK_TEAM, ADMINISTRATORS = "10100", "10002"
MIA, FORMER_CONTRACTOR = "5b10ac8d82e05b22cc7d4ef5", "6123a1b2c3d4e5f6a7b8c9d4"  # active, and inactive


@pytest.fixture
def demo(harness_factory: Any) -> Harness:
    harness: Harness = harness_factory(load_seed_file(ROOT / "examples" / "sandbox-seed.yaml"))
    return harness


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _reads(harness: Harness) -> Counter[str]:
    return Counter(f"{call.path}?{call.query}" if call.query else call.path for call in harness.site.calls)


def test_the_report_lists_every_grant_and_reads_what_a_plan_reads_plus_the_project_map(demo: Harness) -> None:
    demo.site.calls.clear()
    result = run(demo, "access", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    found = _csv(result.stdout)
    assert list(found[0]) == ["project", "projectName", "permission", "holder", "scheme"]
    assert len(found) == 14 and "14 grant(s) in 4 project(s) of " in result.stderr
    assert {tuple(row.values()) for row in found if row["project"] == "SD"} == {
        ("SD", "Service Desk", "ADMINISTER_PROJECTS", "projectRole:Administrators", "CS scheme"),
        ("SD", "Service Desk", "BROWSE_PROJECTS", "projectRole:Service Desk Team", "CS scheme"),
        ("SD", "Service Desk", "EDIT_ISSUES", "group:jira-administrators", "CS scheme"),
    }
    # The schemes with their grants, and the names the grants' holders are labelled with; then the map:
    # the projects the account administers, each one's scheme, and the count of those it may view.
    assert _reads(demo) == Counter(
        [
            "/_edge/tenant_info",
            "/rest/api/3/permissionscheme?expand=permissions",
            "/rest/api/3/group/bulk?startAt=0&maxResults=50",
            "/rest/api/3/role",
            "/rest/api/3/project/search?action=edit&startAt=0&maxResults=50",
            *(f"/rest/api/3/project/{key}/permissionscheme" for key in ("ENG", "HR", "IT", "SD")),
            "/rest/api/3/project/search?maxResults=0",
        ]
    )


def test_users_reads_each_named_group_and_project_role_once_and_lists_active_accounts(demo: Harness) -> None:
    demo.site.calls.clear()
    result = run(demo, "access", "--users", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    extra = Counter(
        {read: count for read, count in _reads(demo).items() if "/group/member" in read or "/role/" in read}
    )
    # Both groups are named by grants (EDIT_ISSUES, ASSIGNABLE_USER) and are actors of project roles too: each
    # is read once. jira-servicemanagement-users is named by no grant: it is not read.
    assert extra == Counter(
        [
            f"/rest/api/3/group/member?groupId={AGENTS}&startAt=0&maxResults=50",
            f"/rest/api/3/group/member?groupId={ADMINS}&startAt=0&maxResults=50",
            *(
                f"/rest/api/3/project/{key}/role/{role}?excludeInactiveUsers=true"
                for key, role in [
                    ("SD", ADMINISTRATORS),
                    ("SD", SERVICE_DESK_TEAM),
                    ("IT", ADMINISTRATORS),
                    ("IT", SERVICE_DESK_TEAM),
                    ("HR", ADMINISTRATORS),
                    ("ENG", ADMINISTRATORS),
                ]
            ),
        ]
    )
    assert "--users: 8 more request(s), for the members of 2 group(s), the actors of 6 project role(s)" in (
        result.stderr
    )
    found = _csv(result.stdout)
    assert list(found[0])[5:] == ["accountId", "displayName", "via"]
    browse_sd = {
        (row["displayName"], row["via"])
        for row in found
        if (row["project"], row["permission"]) == ("SD", "BROWSE_PROJECTS")
    }
    # The inactive member of service-desk-agents is left out.
    assert browse_sd == {
        ("Mia Krystof", "projectRole:Service Desk Team"),
        ("Ana Silva", "projectRole:Service Desk Team > group:service-desk-agents"),
        ("Ben Okafor", "projectRole:Service Desk Team > group:service-desk-agents"),
    }
    # A holder that is no account stays a holder, with empty account columns.
    assert {
        (row["holder"], row["accountId"])
        for row in found
        if (row["project"], row["permission"]) == ("HR", "BROWSE_PROJECTS")
    } == {("applicationRole:jira-servicedesk", "")}


def test_users_leaves_out_a_user_holder_that_is_inactive(harness_factory: Any) -> None:
    """As with a group's members: the grant keeps its row, with no account. (The sandbox knows every user
    that a grant names; tests/unit/test_access.py has an unknown one.)"""
    seed = load_seed_file(ROOT / "examples" / "sandbox-seed.yaml")
    cs_scheme = next(scheme for scheme in seed["permissionSchemes"] if scheme["name"] == "CS scheme")
    cs_scheme["grants"] += [
        {"permission": "EDIT_ISSUES", "type": "user", "holder": account}
        for account in (MIA, FORMER_CONTRACTOR)
    ]
    site: Harness = harness_factory(seed)
    result = run(
        site, "access", "--users", "--project", "SD", "--permission", "EDIT_ISSUES", "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    users = {
        (row["holder"], row["accountId"], row["displayName"])
        for row in _csv(result.stdout)
        if row["holder"].startswith("user:")
    }
    assert users == {
        (f"user:{MIA}", MIA, "Mia Krystof"),
        (f"user:{FORMER_CONTRACTOR}", "", ""),
    }


def test_a_project_filter_reads_only_that_projects_scheme(demo: Harness) -> None:
    demo.site.calls.clear()
    result = run(demo, "access", "--project", "SD", "--permission", "EDIT_ISSUES", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "site": demo.url,
        "planned": False,
        "access": [
            {
                "project": "SD",
                "projectName": "Service Desk",
                "permission": "EDIT_ISSUES",
                "holder": "group:jira-administrators",
                "scheme": "CS scheme",
            }
        ],
    }
    assert [read for read in _reads(demo) if read.endswith("/permissionscheme")] == [
        "/rest/api/3/project/SD/permissionscheme"
    ]


def test_a_filter_that_matches_nothing_names_the_nearest_key(demo: Harness) -> None:
    project = run(demo, "access", "--project", "SDD")
    assert project.exit_code == 1
    assert "Error: --project 'SDD' matches no project that the account administers (did you mean 'SD'?)" in (
        project.stderr
    )
    permission = run(demo, "access", "--permission", "EDIT_ISSUE")
    assert permission.exit_code == 1 and "(did you mean 'EDIT_ISSUES'?)" in permission.stderr
    # A permission that exists and that nobody has is an empty report, not a mistake.
    nobody = run(demo, "access", "--permission", "DELETE_ALL_WORKLOGS", "--format", "csv")
    assert nobody.exit_code == 0 and nobody.stdout == "project,projectName,permission,holder,scheme\n"


def test_planned_reports_the_site_as_the_plan_would_leave_it(demo: Harness) -> None:
    for example in (ROOT / "examples" / "manifests").glob("*.yaml"):
        shutil.copy(example, demo.manifests)
    result = run(demo, "access", "--planned", str(demo.manifests), "--project", "ENG", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["planned"] is True
    assert {(row["permission"], row["holder"], row["scheme"]) for row in data["access"]} >= {
        ("VIEW_VOTERS_AND_WATCHERS", "anyone", "Engineering scheme"),
        ("EDIT_ISSUES", "user:5b10ac8d82e05b22cc7d4ef5", "Engineering scheme"),
    }
    assert not any(row["scheme"] == "Default permission scheme" for row in data["access"])
    # Nothing was written, and the live report still shows the site as it is.
    assert demo.writes() == []
    live = json.loads(run(demo, "access", "--project", "ENG", "--format", "json").stdout)
    assert {row["scheme"] for row in live["access"]} == {"Default permission scheme"}


def test_planned_refuses_a_plan_with_errors(demo: Harness) -> None:
    demo.write("projects:\n  - key: SD\n    permissionScheme: No such scheme\n")
    result = run(demo, "access", "--planned", str(demo.manifests))
    assert result.exit_code == 1
    assert "the plan of the manifests has 1 error(s), so it would change nothing" in result.stderr
    assert "No such scheme" in result.stderr


def test_without_planned_the_manifests_are_not_read(demo: Harness) -> None:
    demo.write("products:\n  - nmae: Typo\n")
    result = run(demo, "access", str(demo.manifests), "--permission", "EDIT_ISSUES")
    assert result.exit_code == 0, result.stderr
    assert "The manifests are read only with --planned" in result.stderr
    assert (
        "SD  Service Desk  (scheme: CS scheme)\n  EDIT_ISSUES  group:jira-administrators\n" in result.stdout
    )


def test_the_plan_shows_and_saves_its_access_diff(demo: Harness, tmp_path: Path) -> None:
    demo.write(
        """
        permissionSchemes:
          - name: CS scheme
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              BROWSE_PROJECTS: [projectRole:Service Desk Team, group:service-desk-agents]
        """
    )
    saved = tmp_path / "plan.json"
    text = run(demo, "plan", str(demo.manifests), "--out", str(saved))
    assert text.exit_code == 0, text.stderr
    # No manifest declares IT or SD: the map of every project's scheme says who uses the scheme.
    assert (
        "Access: what each holder gains (+) and loses (-), and where (2 added, 2 removed):\n"
        "  group:jira-administrators\n"
        "    - EDIT_ISSUES in projects IT, SD (CS scheme)\n"
        "  group:service-desk-agents\n"
        "    + BROWSE_PROJECTS in projects IT, SD (CS scheme)\n"
    ) in text.stdout
    access = json.loads(saved.read_text(encoding="utf-8"))["access"]
    assert [(row["project"], row["holder"]) for row in access["added"]] == [
        ("IT", "group:service-desk-agents"),
        ("SD", "group:service-desk-agents"),
    ]
    applied = run(demo, "apply", "--plan", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "+ BROWSE_PROJECTS in projects IT, SD (CS scheme)" in applied.stdout
    after = _csv(
        run(demo, "access", "--permission", "BROWSE_PROJECTS", "--project", "IT", "--format", "csv").stdout
    )
    assert {row["holder"] for row in after} == {"projectRole:Service Desk Team", "group:service-desk-agents"}
    demo.converge()


def test_planned_with_manifests_that_manage_no_access_is_the_live_report(demo: Harness) -> None:
    demo.write("products:\n  - name: Gadget\n")
    planned = run(demo, "access", "--planned", str(demo.manifests), "--format", "csv")
    assert planned.exit_code == 0, planned.stderr
    assert (
        "The manifests manage no permission schemes or projects: the plan changes no access."
        in planned.stderr
    )
    assert planned.stdout == run(demo, "access", "--format", "csv").stdout


def test_access_against_a_real_site_loads_no_sandbox(tmp_path: Path, demo: Harness) -> None:
    site = {"JSM_SITE": demo.url, "JSM_API_BASE": demo.url}
    credentials = {"JSM_EMAIL": SANDBOX_EMAIL, "JSM_API_TOKEN": SANDBOX_API_TOKEN}
    loaded = _loaded(tmp_path, "access", "--users", **site, **credentials)
    assert "reconciler.cli.access" in loaded and "reconciler.members" in loaded
    assert _among(loaded, NEVER) == []


def test_check_exits_1_when_the_live_site_breaks_an_error_level_rule(demo: Harness) -> None:
    demo.write(
        """
        settings:
          policies:
            - name: Only admins edit issues
              only: {permission: EDIT_ISSUES, holders: [projectRole:Administrators]}
            - name: No application roles browse
              deny: {permission: BROWSE_PROJECTS, holder: applicationRole}
              level: warning
        """
    )
    demo.site.calls.clear()
    result = run(demo, "access", "--check", str(demo.manifests), "--format", "csv")
    assert result.exit_code == 1
    assert len(_csv(result.stdout)) == 14  # the report is written all the same
    assert (
        "Policies: rules of settings.policies that the site breaks now:\n"
        "  [error] Only admins edit issues: permissionSchemes/CS scheme grants EDIT_ISSUES: "
        "group:jira-administrators — projects IT, SD — live, not in the manifests\n"
        "  [warning] No application roles browse: permissionSchemes/Default permission scheme grants "
        "BROWSE_PROJECTS: applicationRole:jira-servicedesk — projects ENG, HR — live, not in the manifests\n"
        "--check: 1 error-level rule violation(s).\n"
    ) in result.stderr
    # The report's reads and the map, once: the rules judge grants, which those reads hold.
    assert _reads(demo)["/rest/api/3/permissionscheme?expand=permissions"] == 1
    assert _reads(demo)["/rest/api/3/project/search?action=edit&startAt=0&maxResults=50"] == 1
    rule = "{name: Browse, deny: {permission: BROWSE_PROJECTS, holder: applicationRole}, level: warning}"
    demo.write(f"settings:\n  policies:\n    - {rule}\n")
    assert run(demo, "access", "--check", str(demo.manifests)).exit_code == 0


def test_check_reads_each_projects_scheme_once_when_the_manifests_declare_projects(demo: Harness) -> None:
    demo.write(
        """
        settings:
          policies:
            - name: Only admins edit issues
              only: {permission: EDIT_ISSUES, holders: [projectRole:Administrators]}
        projects:
          - {key: SD, permissionScheme: CS scheme}
        """
    )
    demo.site.calls.clear()
    result = run(demo, "access", "--check", str(demo.manifests), "--format", "csv")
    assert result.exit_code == 1
    assert len(_csv(result.stdout)) == 14
    reads = _reads(demo)
    assert [reads[f"/rest/api/3/project/{key}/permissionscheme"] for key in ("ENG", "HR", "IT", "SD")] == [
        1
    ] * 4


def test_check_with_planned_judges_the_site_as_the_plan_leaves_it(demo: Harness) -> None:
    demo.write(
        """
        settings:
          policies:
            - name: No administrators edit
              deny: {permission: EDIT_ISSUES, holder: group:jira-administrators}
        permissionSchemes:
          - name: CS scheme
            grants:
              ADMINISTER_PROJECTS: [projectRole:Administrators]
              BROWSE_PROJECTS: [projectRole:Service Desk Team]
        """
    )
    assert run(demo, "access", "--check", str(demo.manifests)).exit_code == 1
    planned = run(demo, "access", "--check", "--planned", str(demo.manifests))
    assert planned.exit_code == 0, planned.stderr
    assert "--check: the site breaks no policy of the manifests." in planned.stderr


def test_planned_reports_the_end_state_that_breaks_a_rule_and_shows_the_rule_after_it(demo: Harness) -> None:
    """A broken error-level rule is a plan error, but not one that stops the report of that end state."""
    demo.write(
        """
        settings:
          policies:
            - name: Only admins edit issues
              only: {permission: EDIT_ISSUES, holders: [projectRole:Administrators]}
        """
    )
    broken = (
        "Policies: rules of settings.policies that the site breaks once this plan is applied:\n"
        "  [error] Only admins edit issues: permissionSchemes/CS scheme grants EDIT_ISSUES: "
        "group:jira-administrators — projects IT, SD — live, not in the manifests\n"
    )
    checked = run(demo, "access", "--planned", "--check", str(demo.manifests), "--format", "csv")
    assert checked.exit_code == 1
    assert len(_csv(checked.stdout)) == 14
    assert broken + "--check: 1 error-level rule violation(s).\n" in checked.stderr
    assert "so it would change nothing" not in checked.stderr
    planned = run(demo, "access", "--planned", str(demo.manifests), "--format", "csv")
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout == checked.stdout
    assert (
        broken + "Warning: 1 error-level rule violation(s): `plan` fails on them, `access --check` exits 1\n"
    ) in planned.stderr


def test_check_shows_names_from_the_site_escaped_and_warns_of_a_rule_scoped_to_no_such_project(
    harness_factory: Any,
) -> None:
    hostile = "Public\x1b[2J\u202e scheme"
    site: Harness = harness_factory(
        {
            "permissionSchemes": [
                {"name": hostile, "grants": [{"permission": "BROWSE_PROJECTS", "type": "anyone"}]}
            ],
            "projects": [{"key": "AA", "name": "Alpha", "permissionScheme": hostile}],
        }
    )
    site.write(
        """
        settings:
          policies:
            - name: No anonymous browsing
              deny: {permission: BROWSE_PROJECTS, holder: anyone}
            - name: Nobody edits NOPE
              deny: {permission: EDIT_ISSUES, holder: anyone}
              projects: [AA, NOPE]
        """
    )
    result = run(site, "access", "--check", str(site.manifests), "--format", "json")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert (
        "  [error] No anonymous browsing: permissionSchemes/Public\\u001b[2J\\u202e scheme grants "
        "BROWSE_PROJECTS: anyone — projects AA — live, not in the manifests\n"
    ) in result.stderr
    assert (
        "warning[plan.policy_project]: the policy 'Nobody edits NOPE' names project(s) NOPE that the site "
        "does not have, or that the account does not administer: the rule judges no scheme for them\n"
    ) in result.stderr


def test_check_judges_role_rights_and_still_reports_the_schemes(demo: Harness) -> None:
    demo.write(
        "settings:\n  policies:\n    - {name: No all-alert access, deny: {customRoleRight: alerts-*}}\n"
    )
    result = run(demo, "access", "--check", str(demo.manifests), "--format", "csv")
    assert result.exit_code == 1
    assert len(_csv(result.stdout)) == 14
    assert (
        "[error] No all-alert access: customRoles/Old role grants the right alerts-access-all"
        in result.stderr
    )


def test_check_needs_policies(demo: Harness) -> None:
    demo.write("products:\n  - name: Gadget\n")
    demo.site.calls.clear()
    result = run(demo, "access", "--check", str(demo.manifests))
    assert result.exit_code == 1
    assert "--check: the manifests have no settings.policies to check the site against" in result.stderr
    assert demo.site.calls == []
