"""Through the command line over HTTP: renames the site cannot decide, rights outside the published
list, and holders the site checks (issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import LOOKUPS, Harness
from tests.e2e.test_cli import run


def test_a_product_swap_and_a_field_rotation_are_errors_and_nothing_is_written(
    harness_factory: Any,
) -> None:
    harness: Harness = harness_factory(
        {
            "products": [{"name": "Alpha"}, {"name": "Beta"}],
            "detailFields": {
                "customer": [
                    {"name": "One", "type": "TEXT"},
                    {"name": "Two", "type": "DATE"},
                    {"name": "Three", "type": "URL"},
                ]
            },
        }
    )
    path = harness.write(
        """
        products:
          - {name: Alpha, renamedFrom: [Beta]}
          - {name: Beta, renamedFrom: [Alpha]}
        detailFields:
          customer:
            - {name: One, type: URL, renamedFrom: [Three]}
            - {name: Two, type: TEXT, renamedFrom: [One]}
            - {name: Three, type: DATE, renamedFrom: [Two]}
        """
    )
    before = harness.site.snapshot()
    harness.site.calls.clear()
    result = run(harness, "apply", "--auto-approve", "--allow-delete", str(harness.manifests))
    assert result.exit_code == 1
    assert harness.writes() == [] and harness.site.snapshot() == before
    output = result.output
    for line, named in [
        (4, ("products/Alpha (id ", "products/Beta (id ")),
        (5, ("products/Beta (id ", "products/Alpha (id ")),
        (8, ("detailFields.customer/One (id ", "detailFields.customer/Three (id ")),
        (9, ("detailFields.customer/Two (id ", "detailFields.customer/One (id ")),
        (10, ("detailFields.customer/Three (id ", "detailFields.customer/Two (id ")),
    ]:
        diagnostic = next(text for text in output.splitlines() if text.startswith(f"{path}:{line}:"))
        assert "error[plan.rename_conflict]" in diagnostic
        assert all(name in diagnostic for name in named), diagnostic
        assert "two steps" in diagnostic
    assert run(harness, "plan", str(harness.manifests)).exit_code == 1


SRE = next(team["id"] for team in LOOKUPS["teams"] if team["name"] == "Platform SRE")
SITE_ONLY_ROLES = [
    {"name": "Future", "grantedRights": ["alert-action", "future-right"], "disallowedRights": ["asdasdad"]},
    {"name": "Plain", "grantedRights": ["alert-create"]},
]


def test_an_export_holding_site_only_rights_validates_and_plans_to_no_changes(
    harness_factory: Any, tmp_path: Path
) -> None:
    # The same for a permission key outside the built-in list that the site has (a newer built-in one).
    newer = {"key": "ARCHIVE_ISSUES", "type": "PROJECT", "name": "Archive issues"}
    scheme = {"name": "S", "grants": [{"permission": "ARCHIVE_ISSUES", "type": "reporter"}]}
    harness: Harness = harness_factory(
        {"customRoles": SITE_ONLY_ROLES, "appPermissions": [newer], "permissionSchemes": [scheme]}
    )
    out = tmp_path / "exported"
    assert run(harness, "export", "--out", str(out)).exit_code == 0
    assert "future-right" in (out / "custom-roles.yaml").read_text(encoding="utf-8")
    assert "ARCHIVE_ISSUES: [reporter]" in (out / "permission-schemes.yaml").read_text(encoding="utf-8")
    validated = run(harness, "validate", str(out))
    assert validated.exit_code == 0, validated.output
    # Offline, the lists are all it has.
    assert "warning[manifest.unknown_right]" in validated.output
    assert "warning[manifest.unknown_permission]" in validated.output
    planned = run(harness, "plan", "--detailed-exitcode", str(out))
    assert planned.exit_code == 0, planned.output
    assert "unknown_" not in planned.output, "rights live roles hold and the site's own keys are known"


def test_a_right_no_one_holds_is_a_warning_at_its_position_and_the_site_decides(
    harness_factory: Any,
) -> None:
    harness: Harness = harness_factory({"customRoles": SITE_ONLY_ROLES})
    path = harness.write(
        """
        customRoles:
          - name: Future
            grantedRights: [alert-action, future-right]
            disallowedRights: [asdasdad]
          - name: Newer
            grantedRights: [alert-acknowlege, future-right]
        """
    )
    planned = run(harness, "plan", str(harness.manifests))
    assert planned.exit_code == 0
    warnings = [line for line in planned.output.splitlines() if "unknown_right" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:8:21: warning[plan.unknown_right]")
    assert "did you mean 'alert-acknowledge'?" in warnings[0]
    # This site accepts it, as the official PUT example's site accepts "asdasdad".
    applied = run(harness, "apply", "--auto-approve", str(harness.manifests))
    assert applied.exit_code == 0, applied.output
    assert run(harness, "plan", "--detailed-exitcode", str(harness.manifests)).exit_code == 0


def test_a_site_that_refuses_a_right_gives_an_error_at_the_right(harness_factory: Any) -> None:
    harness: Harness = harness_factory()
    path = harness.write(
        """
        customRoles:
          - name: Newer
            grantedRights: [alert-action, not-on-this-site]
        """
    )
    harness.site.knobs.fail_on = {("POST", "/v1/roles"): 400}
    applied = run(harness, "apply", "--auto-approve", str(harness.manifests))
    assert applied.exit_code == 1
    refusal = next(line for line in applied.output.splitlines() if "apply.failed" in line)
    assert refusal.startswith(f"{path}:5:35: error[apply.failed]"), refusal
    assert "'not-on-this-site'" in refusal and "not in the list the tool knows" in refusal
    assert harness.site.snapshot()["custom_roles"] == []


def test_holders_the_site_lacks_are_errors_at_their_lines_before_any_write(harness: Harness) -> None:
    path = harness.write(
        """
        permissionSchemes:
          - name: Checked
            grants:
              BROWSE_PROJECTS: [applicationRole:jira-softwar, applicationRole]
              EDIT_ISSUES: [userCustomField:customfield_99999, groupCustomField:Approvrs]
              ASSIGNABLE_USER:
                - user:5b10ac8d82e05b22cc7d4ef5
                - {type: user, value: 0000-gone}
        """
    )
    harness.site.calls.clear()
    result = run(harness, "apply", "--auto-approve", str(harness.manifests))
    assert result.exit_code == 1
    assert harness.writes() == []
    problems = [
        line.split(": ", 2)[0:2] for line in result.output.splitlines() if "plan.unknown_holder" in line
    ]
    assert problems == [
        [f"{path}:6:25", "error[plan.unknown_holder]"],
        [f"{path}:7:21", "error[plan.unknown_holder]"],
        [f"{path}:7:56", "error[plan.unknown_holder]"],
        [f"{path}:10:11", "error[plan.unknown_holder]"],
    ]
    assert "no application role with key 'jira-softwar' on the site" in result.output
    assert "did you mean 'jira-software'?" in result.output
    assert "no custom field named 'customfield_99999'" in result.output
    assert "did you mean 'Approvers'?" in result.output
    assert "no user with account id '0000-gone' on the site" in result.output
    users = [c for c in harness.site.calls if c.path.endswith("/user/bulk")]
    assert len(users) == 1 and "0000-gone" in users[0].query


def test_custom_fields_by_exact_name_plan_to_the_ids_the_site_holds(harness: Harness) -> None:
    harness.write(
        """
        permissionSchemes:
          - name: Named
            grants:
              EDIT_ISSUES: [userCustomField:Approvers, applicationRole:jira-servicedesk]
        """
    )
    assert run(harness, "apply", "--auto-approve", str(harness.manifests)).exit_code == 0
    grants = harness.site.snapshot()["permission_schemes"][0]["grants"]
    assert {(g["holder_type"], g["holder_value"]) for g in grants} == {
        ("userCustomField", "customfield_10050"),
        ("applicationRole", "jira-servicedesk"),
    }
    assert run(harness, "plan", "--detailed-exitcode", str(harness.manifests)).exit_code == 0


def test_only_the_holders_used_are_read(harness: Harness) -> None:
    harness.write(
        """
        permissionSchemes:
          - name: Plain
            grants:
              BROWSE_PROJECTS: [applicationRole, reporter, projectRole:Developers]
        """
    )
    harness.site.calls.clear()
    assert run(harness, "plan", str(harness.manifests)).exit_code == 0
    read = {c.path.removeprefix("/rest/api/3") for c in harness.site.calls}
    assert not read & {"/applicationrole", "/field", "/user/bulk"}


def test_a_team_role_right_outside_the_documented_17_is_for_the_site_to_decide(harness: Harness) -> None:
    path = harness.write(
        """
        teamRoles:
          - team: Platform SRE
            roles:
              - name: responder
                granted: [edit-schedules, edit-alert-policies]
        """
    )
    planned = run(harness, "plan", str(harness.manifests))
    assert planned.exit_code == 0
    warning = next(line for line in planned.output.splitlines() if "unknown_right" in line)
    assert warning.startswith(f"{path}:7:35: warning[plan.unknown_right]: team role right ")
    assert "'edit-alert-policies'" in warning
    # This site knows only the documented 17 and refuses the rest: the error points at the right.
    applied = run(harness, "apply", "--auto-approve", str(harness.manifests))
    assert applied.exit_code == 1
    refusal = next(line for line in applied.output.splitlines() if "apply.failed" in line)
    assert refusal.startswith(f"{path}:7:35: error[apply.failed]"), refusal
    assert "'edit-alert-policies'" in refusal
    assert harness.writes() == [("POST", f"/jsm/ops/api/{harness.site.cloud_id}/v1/teams/{SRE}/roles")]
