"""settings.policies end to end through the command line against the sandbox: an error-level rule fails plan
and apply before any write, --force or not; a warning is shown and apply goes ahead; a live grant that only
the site has is reported as such; rules on roles; a `projects` scope; and what policies read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Harness
from tests.e2e.test_cli import run

SEED: dict[str, Any] = {
    "permissionSchemes": [
        {"name": "Public scheme", "grants": [{"permission": "BROWSE_PROJECTS", "type": "anyone"}]},
        {
            "name": "Team scheme",
            "grants": [
                {"permission": "BROWSE_PROJECTS", "type": "projectRole", "holder": "Developers"},
                {"permission": "ADMINISTER_PROJECTS", "type": "group", "holder": "jira-administrators"},
            ],
        },
    ],
    "projects": [
        {"key": "IT", "name": "IT Support", "permissionScheme": "Public scheme"},
        {"key": "SD", "name": "Service Desk", "permissionScheme": "Team scheme"},
        {"key": "HR", "name": "HR Help", "permissionScheme": "Team scheme"},
    ],
    "customRoles": [{"name": "Ops", "grantedRights": ["alert-action", "alert-delete"]}],
    "teams": [
        {
            "name": "Platform SRE",
            "id": "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10",
            "roles": [{"name": "on-call", "granted": ["access-reports", "delete-schedules"]}],
        }
    ],
}

NO_ANONYMOUS = """\
settings:
  policies:
    - name: No anonymous browsing
      deny: {permission: BROWSE_PROJECTS, holder: anyone}
      level: LEVEL
permissionSchemes:
  - name: Team scheme
    grants:
      BROWSE_PROJECTS: [projectRole:Developers, anyone]
      ADMINISTER_PROJECTS: [group:jira-administrators]
products:
  - name: New product
"""


@pytest.fixture
def site(harness_factory: Any) -> Harness:
    harness: Harness = harness_factory(SEED)
    return harness


def policy(result: Any) -> list[dict[str, Any]]:
    assert result.stdout, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["policy"]
    return found


def project_searches(harness: Harness) -> int:
    return sum(1 for call in harness.site.calls if call.path.endswith("/project/search"))


def test_an_error_level_rule_fails_plan_and_apply_before_any_write_even_with_force(site: Harness) -> None:
    manifest = site.write(NO_ANONYMOUS.replace("LEVEL", "error"))
    planned = run(site, "plan", str(site.manifests))
    assert planned.exit_code == 1
    assert (
        "Policies: rules of settings.policies that the site breaks once this plan is applied:\n"
        "  [error] No anonymous browsing: permissionSchemes/Public scheme grants BROWSE_PROJECTS: anyone — "
        "projects IT — live, not in the manifests\n"
        "  [error] No anonymous browsing: permissionSchemes/Team scheme grants BROWSE_PROJECTS: anyone — "
        f"projects HR, SD — {manifest}:10:49\n"
    ) in planned.stdout
    assert (
        f"{manifest}:10:49: error[plan.policy]: grants BROWSE_PROJECTS: anyone (projects HR, SD), but the "
        "policy 'No anonymous browsing' denies BROWSE_PROJECTS to anyone\n"
    ) in planned.stdout
    assert "Plan failed: 2 error(s)." in planned.stdout
    site.site.calls.clear()
    applied = run(site, "apply", "--auto-approve", "--force", "--allow-delete", str(site.manifests))
    assert applied.exit_code == 1
    assert "the plan has errors (above); nothing was applied" in applied.stderr
    assert site.writes() == []


def test_a_warning_is_shown_and_apply_goes_ahead(site: Harness) -> None:
    site.write(NO_ANONYMOUS.replace("LEVEL", "warning"))
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert planned.exit_code == 0
    assert [(v["level"], v["object"]) for v in policy(planned)] == [
        ("warning", "permissionSchemes/Public scheme"),
        ("warning", "permissionSchemes/Team scheme"),
    ]
    assert not [d for d in json.loads(planned.stdout)["diagnostics"] if d["code"] == "plan.policy"]
    applied = run(site, "apply", "--auto-approve", str(site.manifests))
    assert applied.exit_code == 0, applied.output
    assert "[warning] No anonymous browsing: permissionSchemes/Team scheme" in applied.stdout
    assert any(path.endswith("/permission") for _method, path in site.writes())
    again = run(site, "plan", "--detailed-exitcode", str(site.manifests))
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout and "[warning] No anonymous browsing" in again.stdout


def test_a_live_grant_is_judged_though_no_manifest_names_its_kind(site: Harness) -> None:
    """The schemes are read for the policies only: judged, neither planned nor listed as not managed."""
    site.write(
        "settings:\n  policies:\n"
        "    - name: No anonymous browsing\n      deny: {permission: BROWSE_PROJECTS, holder: anyone}\n"
        "products: []\n"
    )
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert planned.exit_code == 1
    data = json.loads(planned.stdout)
    assert data["changes"] == [] and data["unmanaged"] == []
    assert policy(planned) == [
        {
            "rule": "No anonymous browsing",
            "level": "error",
            "object": "permissionSchemes/Public scheme",
            "grant": "BROWSE_PROJECTS: anyone",
            "projects": ["IT"],
        }
    ]
    assert [d["message"] for d in data["diagnostics"]] == [
        "grants BROWSE_PROJECTS: anyone (projects IT), but the policy 'No anonymous browsing' denies "
        "BROWSE_PROJECTS to anyone; the grant is live, not in the manifests"
    ]


ROLES = """\
settings:
  policies:
    - name: No delete rights for custom roles
      deny: {customRoleRight: "*-delete"}
    - name: No delete rights for team roles
      deny: {teamRoleRight: "delete-*"}
      level: warning
customRoles:
  - name: Ops
    grantedRights: [alert-action, alert-delete]
"""


def test_rules_on_role_rights(site: Harness) -> None:
    """The custom role is declared, at its right's line; the team role is live only, its kind named by no
    manifest (read for the rule, without a project search: rules on roles need no project map)."""
    manifest = site.write(ROLES)
    site.site.calls.clear()
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert planned.exit_code == 1
    assert policy(planned) == [
        {
            "rule": "No delete rights for custom roles",
            "level": "error",
            "object": "customRoles/Ops",
            "right": "alert-delete",
            "file": str(manifest),
            "line": 11,
            "column": 35,
        },
        {
            "rule": "No delete rights for team roles",
            "level": "warning",
            "object": "teamRoles/Platform SRE/on-call",
            "right": "delete-schedules",
        },
    ]
    assert project_searches(site) == 0
    assert not any("permissionscheme" in call.path for call in site.site.calls)
    site.write(ROLES.replace("alert-action, alert-delete", "alert-action"))
    applied = run(site, "apply", "--auto-approve", str(site.manifests))
    assert applied.exit_code == 0, applied.output
    assert run(site, "plan", "--detailed-exitcode", str(site.manifests)).exit_code == 0


def test_a_rule_with_projects_judges_only_the_schemes_they_use(site: Harness) -> None:
    site.write(
        "settings:\n  policies:\n"
        "    - name: No groups in SD\n      deny: {permission: '*', holder: group}\n"
        "      projects: [SD, NOPE]\n"
        "    - name: No anonymous browsing in HR\n      deny: {permission: '*', holder: anyone}\n"
        "      projects: [HR]\n"
        "permissionSchemes: []\n"
    )
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert [(v["rule"], v["object"], v["grant"], v["projects"]) for v in policy(planned)] == [
        (
            "No groups in SD",
            "permissionSchemes/Team scheme",
            "ADMINISTER_PROJECTS: group:jira-administrators",
            ["SD"],
        )
    ]
    assert [d["code"] for d in json.loads(planned.stdout)["diagnostics"]] == [
        "plan.policy_project",
        "plan.policy",
    ]


def test_policies_judge_the_whole_site_under_target(site: Harness) -> None:
    """A targeted plan leaves the rest of the site as it is, and the rules judge that end state too: the
    schemes are read although the target is a product."""
    site.write(NO_ANONYMOUS.replace("LEVEL", "error"))
    planned = run(site, "plan", "--format", "json", "--target", "products/New product", str(site.manifests))
    assert planned.exit_code == 1
    assert [c["address"] for c in json.loads(planned.stdout)["changes"]] == ["products/New product"]
    assert [(v["object"], "file" in v) for v in policy(planned)] == [
        ("permissionSchemes/Public scheme", False)
    ]


def test_the_project_map_is_read_once_for_exposure_and_policies(site: Harness) -> None:
    """The plan adds exposure (which needs every project's scheme) and has a rule on grants: one read of
    the map serves both (the search of administered projects, and the count of visible ones)."""
    site.write(NO_ANONYMOUS.replace("LEVEL", "warning"))
    site.site.calls.clear()
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert json.loads(planned.stdout)["exposure"] != []
    assert project_searches(site) == 2


def test_a_rule_names_a_field_by_its_name_though_no_grant_does(harness_factory: Any) -> None:
    """Live grants name a custom field by id: a rule that names it by name has the fields read for it."""
    scheme = {
        "name": "Approvals",
        "grants": [{"permission": "EDIT_ISSUES", "type": "userCustomField", "holder": "customfield_10050"}],
    }
    site: Harness = harness_factory({"permissionSchemes": [scheme]})
    site.write(
        "settings:\n  policies:\n"
        "    - name: No approver edits\n"
        "      deny: {permission: EDIT_ISSUES, holder: 'userCustomField:Approvers'}\n"
    )
    planned = run(site, "plan", "--format", "json", str(site.manifests))
    assert [(v["object"], v["grant"]) for v in policy(planned)] == [
        ("permissionSchemes/Approvals", "EDIT_ISSUES: userCustomField:customfield_10050")
    ]


TYPOS = """\
settings:
  policies:
    - name: Typo in a group
      deny: {permission: EDIT_ISSUES, holder: "group:jira-administrator"}
    - name: Typos everywhere
      only:
        permission: BROWSE_PROJECT
        holders: [anyone, "projectRole:Developer", "applicationRole:jira-servicedesc", "user:nobody"]
      level: warning
products: []
"""


def test_a_rule_naming_what_the_site_lacks_is_an_error_at_its_line_in_plan_and_check(site: Harness) -> None:
    """A deny with a mistyped group would judge nothing and pass every plan and audit: each name is checked
    on the site, as a grant's are, and said at the rule's level."""
    manifest = site.write(TYPOS)
    lacks = "names what the site does not have, and would judge nothing there"
    expected = [
        f"{manifest}:5:47: error[plan.policy_unknown]: the policy 'Typo in a group' {lacks}: no group named "
        "'jira-administrator' on the site (GET /rest/api/3/group/bulk); did you mean 'jira-administrators'?",
        f"{manifest}:8:21: warning[plan.policy_unknown]: the policy 'Typos everywhere' {lacks}: the site has "
        "no permission 'BROWSE_PROJECT' (did you mean 'BROWSE_PROJECTS'?)",
        f"{manifest}:9:27: warning[plan.policy_unknown]: the policy 'Typos everywhere' {lacks}: no project "
        "role named 'Developer' on the site (GET /rest/api/3/role); did you mean 'Developers'?",
        f"{manifest}:9:52: warning[plan.policy_unknown]: the policy 'Typos everywhere' {lacks}: no "
        "application role with key 'jira-servicedesc' on the site (GET /rest/api/3/applicationrole); did you "
        "mean 'jira-servicedesk'?",
        f"{manifest}:9:88: warning[plan.policy_unknown]: the policy 'Typos everywhere' {lacks}: no user with "
        "account id 'nobody' on the site (GET /rest/api/3/user/bulk)",
    ]
    planned = run(site, "plan", str(site.manifests))
    assert planned.exit_code == 1
    assert [line for line in planned.output.splitlines() if "policy_unknown" in line] == expected
    assert "manifest.unknown_permission" not in planned.output  # the site's own keys decided it
    checked = run(site, "access", "--check", str(site.manifests))
    assert checked.exit_code == 1
    assert [line for line in checked.stderr.splitlines() if "policy_unknown" in line] == expected
    # Each at its rule's level: the warning-level rule's are shown, the error-level one's fails the audit.
    assert "--check: error-level rules name 1 holder(s) or permission(s) the site lacks (above)." in (
        checked.stderr
    )
    assert "breaks no policy" not in checked.output
    # The warning-level rule's problems alone: shown, not failing, and not hidden by the all-clear.
    site.write(TYPOS.replace('administrator"', 'administrators"'))
    warned = run(site, "access", "--check", str(site.manifests))
    assert warned.exit_code == 0
    assert "--check: the site breaks no policy of the manifests (the rules' warnings are above)." in (
        warned.stderr
    )
    # Spelled as the site has them, the rules judge, and this site breaks neither.
    fixed = TYPOS.replace('administrator"', 'administrators"').replace("PROJECT\n", "PROJECTS\n")
    fixed = fixed.replace('Developer"', 'Developers"').replace("servicedesc", "servicedesk")
    site.write(fixed.replace(', "user:nobody"', ", reporter"))
    assert run(site, "access", "--check", str(site.manifests)).exit_code == 0
