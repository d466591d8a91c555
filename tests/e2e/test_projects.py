"""Projects and exposure end to end over HTTP: moves ordered around scheme creates and deletes, exposure
added, removed and reached by a move, `settings.exposure: deny`, a scheme still in use, and export."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.model import Plan
from tests.e2e.conftest import Harness, assert_no_changes, summary
from tests.e2e.test_cli import run

SCHEMES = [
    {
        "name": "Old scheme",
        "grants": [{"permission": "BROWSE_PROJECTS", "type": "projectRole", "holder": "Developers"}],
    },
    {
        "name": "Portal scheme",
        "grants": [
            {"permission": "BROWSE_PROJECTS", "type": "applicationRole", "holder": "jira-servicedesk"}
        ],
    },
]
PROJECTS = [
    {"key": "AA", "name": "Alpha", "permissionScheme": "Old scheme"},
    {"key": "BB", "name": "Beta", "permissionScheme": "Old scheme"},
    {"key": "CC", "name": "Gamma", "permissionScheme": "Old scheme"},
    {"key": "DD", "name": "Delta", "permissionScheme": "Portal scheme"},
]


@pytest.fixture
def site(harness_factory: Any) -> Harness:
    harness: Harness = harness_factory({"permissionSchemes": SCHEMES, "projects": PROJECTS})
    return harness


def scheme_of(harness: Harness, key: str) -> str:
    snapshot = harness.site.snapshot()
    names = {s["id"]: s["name"] for s in snapshot["permission_schemes"]}
    return str(next(names[p["permission_scheme_id"]] for p in snapshot["projects"] if p["key"] == key))


def exposure(plan: Plan) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    return [(e.change, e.scheme, e.grant, e.projects, e.cause) for e in plan.exposure]


def project_searches(harness: Harness) -> int:
    return sum(1 for call in harness.site.calls if call.path.endswith("/project/search"))


MOVE_ALL = """
settings:
  prune: [permissionSchemes]
permissionSchemes:
  - name: Portal scheme
    grants:
      BROWSE_PROJECTS: [applicationRole:jira-servicedesk]
  - name: New scheme
    grants:
      BROWSE_PROJECTS: [projectRole:Developers]
projects:
  - {key: AA, permissionScheme: New scheme}
  - {key: BB, permissionScheme: New scheme}
  - {key: CC, permissionScheme: New scheme}
"""


def test_moves_wait_for_the_new_scheme_and_the_emptied_scheme_waits_for_them(site: Harness) -> None:
    site.write(MOVE_ALL)
    plan = site.plan()
    assert summary(plan) == [
        ("create", "permissionSchemes/New scheme"),
        ("update", "projects/AA"),
        ("update", "projects/BB"),
        ("update", "projects/CC"),
        ("delete", "permissionSchemes/Old scheme"),
    ]
    by_key = {c.key: c for c in plan.changes}
    moves = {"projects/AA", "projects/BB", "projects/CC"}
    assert by_key["permissionSchemes/Old scheme"].depends_on == moves
    assert all(by_key[m].depends_on == {"permissionSchemes/New scheme"} for m in moves)
    # The delete needs the map, once: the projects the account administers, and how many it may view.
    assert plan.exposure == () and project_searches(site) == 2
    site.site.calls.clear()
    site.converge()
    writes = site.writes()
    assert writes[0] == ("POST", "/rest/api/3/permissionscheme")
    assert sorted(writes[1:4]) == [
        ("PUT", f"/rest/api/3/project/{k}/permissionscheme") for k in ("AA", "BB", "CC")
    ]
    assert writes[4][0] == "DELETE" and len(writes) == 5
    assert {scheme_of(site, key) for key in ("AA", "BB", "CC")} == {"New scheme"}
    assert scheme_of(site, "DD") == "Portal scheme"


def test_a_targeted_move_takes_the_scheme_create_along(site: Harness) -> None:
    """`--target projects/AA` reads the schemes too and plans the create AA waits for, before the move."""
    site.write(MOVE_ALL)
    args = ("--target", "projects/AA", str(site.manifests))
    planned = run(site, "plan", "--format", "json", *args)
    assert planned.exit_code == 0, planned.output
    changes = json.loads(planned.stdout)["changes"]
    assert [(c["action"], c["address"], c["dependsOn"]) for c in changes] == [
        ("create", "permissionSchemes/New scheme", []),
        ("update", "projects/AA", ["permissionSchemes/New scheme"]),
    ]
    applied = run(site, "apply", "--auto-approve", *args)
    assert applied.exit_code == 0, applied.output
    assert scheme_of(site, "AA") == "New scheme" and scheme_of(site, "BB") == "Old scheme"
    assert run(site, "plan", "--detailed-exitcode", *args).exit_code == 0


def test_a_targeted_scheme_delete_takes_along_the_moves_it_waits_for(site: Harness) -> None:
    """`--target permissionSchemes/Old scheme` reads the projects too: the delete waits for the moves off
    the scheme, so it takes them along (and the create they wait for), never calling them undeclared."""
    site.write(MOVE_ALL)
    args = ("--target", "permissionSchemes/Old scheme", str(site.manifests))
    planned = run(site, "plan", "--format", "json", *args)
    assert planned.exit_code == 0, planned.output
    assert [(c["action"], c["address"]) for c in json.loads(planned.stdout)["changes"]] == [
        ("create", "permissionSchemes/New scheme"),
        ("update", "projects/AA"),
        ("update", "projects/BB"),
        ("update", "projects/CC"),
        ("delete", "permissionSchemes/Old scheme"),
    ]
    applied = run(site, "apply", "--auto-approve", "--allow-delete", *args)
    assert applied.exit_code == 0, applied.output
    assert {scheme_of(site, key) for key in ("AA", "BB", "CC")} == {"New scheme"}
    assert_no_changes(site.plan())


def test_a_failed_scheme_create_skips_the_moves_and_the_delete_that_wait_for_it(
    site: Harness, tmp_path: Path
) -> None:
    """The site refuses the new scheme: the moves onto it are never sent, nor the delete of the scheme they
    leave; the CLI and the journal say so, and the next plan shows all of it again."""
    site.write(MOVE_ALL)
    site.site.knobs.fail_on = {("POST", "/permissionscheme"): 400}
    site.site.calls.clear()
    journal = tmp_path / "journal.jsonl"
    args = ("--auto-approve", "--allow-delete", "--journal", str(journal), str(site.manifests))
    result = run(site, "apply", *args)
    assert result.exit_code == 1
    assert site.writes() == [("POST", "/rest/api/3/permissionscheme")]
    waiting = ["projects/AA", "projects/BB", "projects/CC", "permissionSchemes/Old scheme"]
    for address in waiting:
        assert f"skipped {address}: it depends on a change that failed" in result.stderr
    assert "Apply incomplete: 0 applied, 1 failed, 4 skipped." in result.stderr
    events = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert sorted(e["change"] for e in events if e["event"] == "skipped") == sorted(waiting)
    assert [e["change"] for e in events if e["event"] == "started"] == ["permissionSchemes/New scheme"]
    site.site.knobs.fail_on = {}
    assert len(site.plan().changes) == 5
    assert run(site, "apply", *args).exit_code == 0
    assert_no_changes(site.plan())
    assert {scheme_of(site, key) for key in ("AA", "BB", "CC")} == {"New scheme"}


def test_no_project_search_without_an_exposure_change(site: Harness) -> None:
    site.write(
        "projects:\n  - {key: AA, permissionScheme: Old scheme}\n"
        "  - {key: BB, permissionScheme: Old scheme}\n"
    )
    site.site.calls.clear()
    assert_no_changes(site.plan())
    reads = [c.path for c in site.site.calls if "/project/" in c.path]
    assert sorted(reads) == [
        "/rest/api/3/project/AA/permissionscheme",
        "/rest/api/3/project/BB/permissionscheme",
    ]


def test_exposure_added_removed_and_reached_by_a_move(site: Harness) -> None:
    site.write(
        """
        permissionSchemes:
          - name: Old scheme
            grants:
              BROWSE_PROJECTS: [projectRole:Developers, anyone]
          - name: Portal scheme
            grants:
              BROWSE_PROJECTS: [projectRole:Developers]
        projects:
          - {key: AA, permissionScheme: Old scheme}
          - {key: CC, permissionScheme: Portal scheme}
        """
    )
    plan = site.plan()
    assert exposure(plan) == [
        ("added", "Old scheme", "BROWSE_PROJECTS: anyone", ("AA", "BB"), "permissionSchemes/Old scheme"),
        (
            "removed",
            "Portal scheme",
            "BROWSE_PROJECTS: applicationRole:jira-servicedesk",
            ("CC", "DD"),
            "permissionSchemes/Portal scheme",
        ),
    ]
    site.converge()
    # A move alone: DD goes onto the now public Old scheme and off Portal scheme.
    site.write("projects:\n  - {key: DD, permissionScheme: Old scheme}\n", "move.yaml")
    (site.manifests / "site.yaml").unlink()
    site.site.calls.clear()
    plan = site.plan()
    assert exposure(plan) == [("added", "Old scheme", "BROWSE_PROJECTS: anyone", ("DD",), "projects/DD")]
    assert project_searches(site) == 0  # a move names its own project: no map needed
    site.converge()
    assert scheme_of(site, "DD") == "Old scheme"


def test_exposure_shows_in_every_rendering_and_survives_a_saved_plan(site: Harness, tmp_path: Path) -> None:
    site.write("projects:\n  - {key: AA, permissionScheme: Portal scheme}\n")
    saved = tmp_path / "plan.json"
    planned = run(site, "plan", str(site.manifests), "--out", str(saved))
    assert planned.exit_code == 0, planned.output
    line = (
        "+ BROWSE_PROJECTS: applicationRole:jira-servicedesk on Portal scheme (by projects/AA) — projects AA"
    )
    assert planned.output.startswith("Exposure: grants to anyone or applicationRole")
    assert f"  {line}\n" in planned.output
    markdown = run(site, "plan", "--format", "markdown", str(site.manifests)).output
    assert "> [!CAUTION]\n> **Exposure:" in markdown and f"> - `{line}`" in markdown
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["exposure"] == [
        {
            "change": "added",
            "scheme": "Portal scheme",
            "grant": "BROWSE_PROJECTS: applicationRole:jira-servicedesk",
            "projects": ["AA"],
            "cause": "projects/AA",
        }
    ]
    edited = {**data, "exposure": []}
    saved_edit = tmp_path / "edited.json"
    saved_edit.write_text(json.dumps(edited), encoding="utf-8")
    refused = run(site, "apply", "--plan", str(saved_edit), "--auto-approve")
    assert refused.exit_code == 1 and "checksum" in refused.output
    applied = run(site, "apply", "--plan", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert line in applied.output and scheme_of(site, "AA") == "Portal scheme"
    assert_no_changes(site.plan())


def test_deny_refuses_added_exposure_before_any_write(site: Harness) -> None:
    site.write(
        """
        settings:
          exposure: deny
        permissionSchemes:
          - name: Public scheme
            grants:
              BROWSE_PROJECTS: [anyone]
        projects:
          - {key: AA, permissionScheme: Public scheme}
          - {key: BB, permissionScheme: Portal scheme}
        """
    )
    site.site.calls.clear()
    result = run(site, "apply", str(site.manifests), "--auto-approve")
    assert result.exit_code == 1
    assert site.writes() == []
    assert (
        "/site.yaml:6:5: error[plan.exposure]: the scheme gains BROWSE_PROJECTS: anyone, "
        "which exposes projects AA; settings.exposure is deny" in result.output
    )
    assert (
        "/site.yaml:11:5: error[plan.exposure]: moving the project onto Portal scheme exposes it through "
        "BROWSE_PROJECTS: applicationRole:jira-servicedesk; settings.exposure is deny" in result.output
    )
    # Removing exposure is never refused.
    site.write("settings:\n  exposure: deny\nprojects:\n  - {key: DD, permissionScheme: Old scheme}\n")
    assert [e.change for e in site.plan().exposure] == ["removed"]
    site.converge()


def test_a_bare_application_role_grant_is_exposure(site: Harness) -> None:
    """`applicationRole` naming no product means every logged-in user of any product: shown as exposure,
    refused under `settings.exposure: deny`, and gone again when the grant is removed."""
    public = """
        permissionSchemes:
          - name: Old scheme
            grants:
              BROWSE_PROJECTS: [projectRole:Developers, applicationRole]
        """
    site.write("settings:\n  exposure: deny\n" + textwrap.dedent(public))
    site.site.calls.clear()
    refused = run(site, "apply", "--auto-approve", str(site.manifests))
    assert refused.exit_code == 1 and site.writes() == []
    assert (
        "error[plan.exposure]: the scheme gains BROWSE_PROJECTS: applicationRole, which exposes projects "
        "AA, BB, CC; settings.exposure is deny" in refused.output
    )
    site.write(public)
    line = "+ BROWSE_PROJECTS: applicationRole on Old scheme — projects AA, BB, CC"
    applied = run(site, "apply", "--auto-approve", str(site.manifests))
    assert applied.exit_code == 0, applied.output
    assert f"  {line}\n" in applied.output
    assert_no_changes(site.plan())
    site.write(public.replace(", applicationRole]", "]"))
    assert exposure(site.plan()) == [
        (
            "removed",
            "Old scheme",
            "BROWSE_PROJECTS: applicationRole",
            ("AA", "BB", "CC"),
            "permissionSchemes/Old scheme",
        )
    ]
    site.converge()


def test_deleting_a_scheme_in_use_is_refused_naming_the_projects(site: Harness) -> None:
    site.write(
        """
        settings:
          prune: [permissionSchemes]
        permissionSchemes:
          - name: Portal scheme
            grants:
              BROWSE_PROJECTS: [applicationRole:jira-servicedesk]
        projects:
          - {key: BB, permissionScheme: Portal scheme}
        """
    )
    site.site.calls.clear()
    result = run(site, "apply", str(site.manifests), "--auto-approve", "--allow-delete")
    assert result.exit_code == 1 and site.writes() == []
    assert (
        "error[plan.scheme_in_use]: permissionSchemes/Old scheme: the plan deletes this scheme, "
        "but 2 project(s) use it and no manifest moves them: AA, CC;" in result.output
    )


def test_a_saved_plan_is_stale_once_a_project_moves_onto_the_scheme_it_deletes(
    site: Harness, tmp_path: Path
) -> None:
    """The saved plan deletes Old scheme once AA, BB and CC are off it; then DD moves onto it. A delete's
    touches hold the scheme alone, so `apply --plan` reads every project's scheme again and refuses."""
    saved = tmp_path / "plan.json"
    site.write(MOVE_ALL)
    assert run(site, "plan", "--out", str(saved), str(site.manifests)).exit_code == 0
    drift = tmp_path / "drift"
    drift.mkdir()
    (drift / "p.yaml").write_text("version: 1\nprojects: [{key: DD, permissionScheme: Old scheme}]\n")
    assert run(site, "apply", "--auto-approve", str(drift)).exit_code == 0
    assert "error[plan.scheme_in_use]" in run(site, "plan", str(site.manifests)).output
    site.site.calls.clear()
    # Without --allow-delete, the delete is refused before the check's reads.
    refused = run(site, "apply", "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 1 and "pass --allow-delete" in refused.stderr
    assert not [c.path for c in site.site.calls if c.path.startswith("/rest/api/3/project/search")]
    site.site.calls.clear()
    stale = run(site, "apply", "--plan", str(saved), "--auto-approve", "--allow-delete")
    assert stale.exit_code == 1 and site.writes() == []
    assert "the site changed since the plan was made, so nothing was applied; plan again." in stale.stderr
    assert (
        "  permissionSchemes/Old scheme: now used by project(s) DD, which the plan does not move"
        in stale.stderr
    )
    # The check costs a search and a GET per project the plan does not move: AA, BB and CC were read as
    # the objects it touches.
    reads = sorted(c.path for c in site.site.calls if c.path.startswith("/rest/api/3/project/"))
    schemes = [f"/rest/api/3/project/{key}/permissionscheme" for key in ("AA", "BB", "CC", "DD")]
    assert reads == sorted(["/rest/api/3/project/search", *schemes])
    assert scheme_of(site, "DD") == "Old scheme"
    site.write(MOVE_ALL + "  - {key: DD, permissionScheme: Portal scheme}\n")
    site.converge()


def test_unknown_project_and_scheme_are_errors_at_their_lines(site: Harness) -> None:
    site.write(
        "projects:\n  - {key: AA, permissionScheme: Nope scheme}\n"
        "  - {key: ZZ, permissionScheme: Old scheme}\n"
    )
    result = run(site, "plan", str(site.manifests))
    assert result.exit_code == 1
    assert (
        "/site.yaml:3:15: error[plan.unknown_reference]: no permission scheme named 'Nope scheme'"
        in result.output
    )
    assert (
        "/site.yaml:4:5: error[plan.unknown_project]: the site has no project with key 'ZZ'" in result.output
    )


def test_prune_rejects_projects(site: Harness) -> None:
    site.write("settings:\n  prune: [projects]\n")
    result = run(site, "validate", str(site.manifests))
    assert result.exit_code == 1
    assert "error[manifest.settings]: projects are never created or deleted" in result.output


def test_export_round_trip_with_projects(site: Harness, tmp_path: Path) -> None:
    out = tmp_path / "export"
    exported = run(site, "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    text = (out / "projects.yaml").read_text(encoding="utf-8")
    assert "  - key: AA  # Alpha\n    permissionScheme: Old scheme\n" in text
    site.clear()
    for path in out.glob("*.yaml"):
        (site.manifests / path.name).write_bytes(path.read_bytes())
    assert_no_changes(site.plan())
    plan = run(site, "plan", "--detailed-exitcode", str(site.manifests))
    assert plan.exit_code == 0, plan.output


def test_a_move_waits_for_the_rename_of_its_scheme_and_cannot_name_the_earlier_name(site: Harness) -> None:
    renamed = """
        permissionSchemes:
          - name: Renamed scheme
            renamedFrom: [Old scheme]
            grants:
              BROWSE_PROJECTS: [projectRole:Developers]
        projects:
          - {key: DD, permissionScheme: Renamed scheme}
        """
    site.write(renamed + "  - {key: AA, permissionScheme: Old scheme}\n")
    problems = [d.message for d in site.plan().diagnostics]
    assert problems == [
        "this plan deletes or renames the permission scheme 'Old scheme', but this still names it"
    ]
    site.write(renamed)
    plan = site.plan()
    assert summary(plan) == [("rename", "permissionSchemes/Renamed scheme"), ("update", "projects/DD")]
    assert plan.changes[1].depends_on == {"permissionSchemes/Renamed scheme"}
    site.converge()
    assert scheme_of(site, "DD") == scheme_of(site, "AA") == "Renamed scheme"
