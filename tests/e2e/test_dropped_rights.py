"""After a write, a right the site's answer lacks (one it does not know, with Knobs.drop_unknown_rights) is
a warning naming it, at its manifest line, on the command line and in the journal.

The choice for the plan after such an apply: it still shows the update, since the manifest asks for a right
the site does not have, and it says why it may come back (plan.unknown_right): the tool keeps no state of
its own, so only the manifest can end the loop, and both apply and plan say how."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from reconciler.sandbox.app import Knobs
from tests.e2e.conftest import Harness
from tests.e2e.test_cli import ROOT, run
from tests.inprocess import InProcessSite

SRE = "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"
SEED: dict[str, Any] = {
    "customRoles": [{"name": "Finance", "grantedRights": ["alert-action"]}],
    "teams": [{"name": "Platform SRE", "id": SRE, "roles": [{"name": "on-call"}]}],
}
MANIFEST = """
customRoles:
  - name: Finance
    grantedRights: [alert-action, alert-teleport]
teamRoles:
  - team: Platform SRE
    roles:
      - name: on-call
        granted: [access-reports, fly-kites]
"""


def test_apply_warns_of_each_right_the_site_did_not_keep(tmp_path: Path) -> None:
    site = InProcessSite(tmp_path, SEED)
    site.site.knobs.drop_unknown_rights = True
    site.write(MANIFEST)
    result = site.apply(site.plan())
    assert result.ok and len(result.applied) == 2
    warned = {change.key: warning for change, warning in result.warnings}
    assert set(warned) == {"customRoles/Finance", "teamRoles/Platform SRE/on-call"}
    role = warned["customRoles/Finance"]
    assert role.code == "apply.dropped" and role.severity == "warning"
    assert "did not keep right(s) 'alert-teleport'" in role.message
    assert role.source is not None and (role.source.line, role.source.column) == (5, 35)
    assert "'fly-kites'" in warned["teamRoles/Platform SRE/on-call"].message
    # What was known was kept; the plan after it still asks for the rest, and says why it may come back.
    assert site.site.snapshot()["custom_roles"][0]["granted_rights"] == ["alert-action"]
    again = site.plan()
    assert [c.key for c in again.changes] == ["customRoles/Finance", "teamRoles/Platform SRE/on-call"]
    reasons = [d.message for d in again.diagnostics if d.code == "plan.unknown_right"]
    assert len(reasons) == 2 and all("apply says so if the site drops it" in r for r in reasons)


def test_a_site_that_keeps_every_right_gives_no_warning(tmp_path: Path) -> None:
    site = InProcessSite(tmp_path, SEED)
    site.write(MANIFEST.replace("alert-teleport", "alert-create").replace("fly-kites", "edit-schedules"))
    result = site.converge()
    assert result.warnings == []


def test_the_command_line_and_the_journal_show_the_warning(harness_factory: Any, tmp_path: Path) -> None:
    harness: Harness = harness_factory(SEED, Knobs(record_calls=True, drop_unknown_rights=True))
    harness.write(MANIFEST)
    journal = tmp_path / "journal.jsonl"
    applied = run(harness, "apply", "--auto-approve", "--journal", str(journal), str(harness.manifests))
    assert applied.exit_code == 0, applied.output
    assert "warning[apply.dropped]" in applied.stderr and "'alert-teleport'" in applied.stderr
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    warned = [e for e in entries if e.get("warnings")]
    assert {e["address"] for e in warned} == {"customRoles/Finance", "teamRoles/Platform SRE/on-call"}
    assert all(e["event"] == "applied" for e in warned)
    documented = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split("## The apply journal")[1]
    fields = set(re.findall(r"^\| `([^|]+)` \|", documented.split("\n## ")[0], flags=re.MULTILINE))
    named = {name.strip("` ") for row in fields for name in row.split(",")}
    assert {key for entry in entries for key in entry} <= named  # docs/cli.md's table names every field
