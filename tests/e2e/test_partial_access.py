"""A partly privileged account (API-FACTS.md, "Project permission-scheme reads need Administer Projects"),
modelled by the sandbox's Knobs.project_access: a project it may only browse answers 403 to its scheme, one
it may not view answers 404. A declared one is an error at its manifest line naming the permission; the
undeclared ones are skipped by export and by the exposure check with one warning that counts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.app import Knobs
from tests.e2e.conftest import Harness
from tests.e2e.test_cli import run

SCHEMES = [
    {"name": "Old scheme", "grants": [{"permission": "BROWSE_PROJECTS", "type": "reporter"}]},
    {"name": "Portal scheme", "grants": [{"permission": "BROWSE_PROJECTS", "type": "anyone"}]},
]
PROJECTS = [
    {"key": "AA", "name": "Alpha", "permissionScheme": "Old scheme"},
    {"key": "BB", "name": "Beta", "permissionScheme": "Old scheme"},  # browse only
    {"key": "CC", "name": "Gamma", "permissionScheme": "Old scheme"},  # browse only
    {"key": "DD", "name": "Delta", "permissionScheme": "Portal scheme"},  # hidden
]
ACCESS: dict[str, Any] = {"BB": "browse", "CC": "browse", "DD": "none"}


@pytest.fixture
def site(harness_factory: Any) -> Harness:
    knobs = Knobs(record_calls=True, project_access=dict(ACCESS))
    harness: Harness = harness_factory({"permissionSchemes": SCHEMES, "projects": PROJECTS}, knobs)
    return harness


def test_a_declared_project_the_account_cannot_administer_is_an_error_at_its_line(site: Harness) -> None:
    site.write(
        """
        projects:
          - {key: AA, permissionScheme: Portal scheme}
          - {key: BB, permissionScheme: Portal scheme}
          - {key: DD, permissionScheme: Portal scheme}
        """
    )
    plan = site.plan()
    problems = {d.address: (d.code, d.message, d.source.line if d.source else 0) for d in plan.diagnostics}
    code, message, line = problems["projects/BB"]
    assert (code, line) == ("plan.unreadable", 5)
    assert "may view project BB but not read its permission scheme" in message
    assert "Administer Projects" in message
    code, message, line = problems["projects/DD"]
    assert (code, line) == ("plan.unknown_project", 6)
    assert "or the account may not view it" in message  # a 404 says both
    assert [c.key for c in plan.changes] == ["projects/AA"]  # the readable one is planned as ever


def test_export_skips_the_projects_it_cannot_read_with_one_warning(site: Harness, tmp_path: Path) -> None:
    out = tmp_path / "export"
    exported = run(site, "export", "--kind", "projects", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    text = (out / "projects.yaml").read_text(encoding="utf-8")
    assert "key: AA" in text and "BB" not in text and "DD" not in text
    warnings = [line for line in exported.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: 2 project(s) that the account may view but not administer were left out of the export: "
        "reading a project's permission scheme needs Administer Projects (or the global Administer Jira)"
    ]
    # Only the projects it administers were asked for their scheme: nothing was refused.
    assert {c.status for c in site.site.calls if c.path.endswith("/permissionscheme")} == {200}


def test_the_exposure_check_skips_undeclared_projects_it_cannot_read(site: Harness) -> None:
    """A grant to anyone added to a scheme: the map of every project's scheme is read, except where the
    account may not read it, and the plan says how many it left out."""
    site.write(
        """
        permissionSchemes:
          - name: Old scheme
            grants:
              BROWSE_PROJECTS: [reporter, anyone]
        """
    )
    plan = site.plan()
    assert not plan.has_errors, [d.format() for d in plan.diagnostics]
    assert [(e.change, e.scheme, e.projects) for e in plan.exposure] == [("added", "Old scheme", ("AA",))]
    warnings = [d for d in plan.diagnostics if d.code == "plan.projects_unreadable"]
    assert len(warnings) == 1 and warnings[0].message.startswith("2 project(s) that the account may view")
    assert {c.status for c in site.site.calls if c.path.endswith("/permissionscheme")} == {200}


def test_access_planned_says_at_its_line_that_a_declared_project_is_not_administered(site: Harness) -> None:
    """The project is read as unreadable, with no scheme: the plan's own error, not an internal one."""
    site.write(
        """
        projects:
          - {key: AA, permissionScheme: Portal scheme}
          - {key: BB, permissionScheme: Portal scheme}
        """
    )
    result = run(site, "access", "--planned", str(site.manifests))
    assert result.exit_code == 1
    assert "Internal error" not in result.stderr
    assert "the plan of the manifests has 1 error(s), so it would change nothing" in result.stderr
    assert (
        "site.yaml:5:5: error[plan.unreadable]: the account may view project BB but not read its permission "
        "scheme"
    ) in result.stderr
