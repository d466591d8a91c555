"""Someone else changes the site between `plan --out` and `apply --plan`: the saved plan is refused before
any write, naming what changed, for every kind and for creates, updates, renames and deletes alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings
from tests.reliability.conftest import Ledger, Ran, Served, plan_keys, site_env, write_world
from tests.reliability.world import SRE, make_world


def someone(url: str) -> SiteClient:
    """Another admin, working on the same site."""
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    return SiteClient(url, url, credentials, settings=ClientSettings(backoff_s=0.01))


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def team_role_path(snapshot: dict[str, Any], role: str) -> str:
    team = named(snapshot["teams"], SRE)
    return f"/teams/{team['id']}/roles/{named(team['roles'], role)['id']}"


@dataclass(frozen=True)
class Edit:
    id: str
    address: str  # what the refusal must name
    edit: Callable[[SiteClient, dict[str, Any]], object]


EDITS = [
    Edit(
        "detail-field-options",
        "detailFields.organization/Org field 0",
        lambda c, _s: c.request(
            Api.CSM,
            "PUT",
            "/organization/details/Org%20field%200",
            json_body={"name": "Org field 0", "options": ["Z"]},
        ),
    ),
    Edit(
        "detail-field-renamed-away",
        "detailFields.organization/Org renamed 0",
        lambda c, _s: c.request(
            Api.CSM, "PUT", "/organization/details/Org%20old%200", json_body={"name": "Org elsewhere"}
        ),
    ),
    Edit(
        "product-created-by-someone",
        "products/New product w4 00",
        lambda c, _s: c.request(Api.CSM, "POST", "/product", json_body={"name": "New product w4 00"}),
    ),
    Edit(
        "product-deleted-by-someone",
        "products/Retired w4 0",
        lambda c, s: c.request(Api.CSM, "DELETE", f"/product/{named(s['products'], 'Retired w4 0')['id']}"),
    ),
    Edit(
        "custom-role-rights",
        "customRoles/Role 0",
        lambda c, s: c.request(
            Api.OPS,
            "PUT",
            f"/roles/{named(s['custom_roles'], 'Role 0')['id']}",
            params={"identifierType": "id"},
            json_body={"grantedRights": ["alert-close"]},
        ),
    ),
    Edit(
        "team-role-rights",
        f"teamRoles/{SRE}/sre role 0",
        lambda c, s: c.request(
            Api.OPS,
            "PATCH",
            team_role_path(s, "sre role 0"),
            json_body={"rights": [{"right": "delete-policies", "granted": True}]},
        ),
    ),
    Edit(
        "permission-scheme-description",
        "permissionSchemes/Service scheme 0",
        lambda c, s: c.request(
            Api.JIRA,
            "PUT",
            f"/permissionscheme/{named(s['permission_schemes'], 'Service scheme 0')['id']}",
            json_body={"name": "Service scheme 0", "description": "Edited by someone"},
        ),
    ),
    Edit(
        "permission-scheme-grant-added",
        "permissionSchemes/Service scheme 0",
        lambda c, s: c.request(
            Api.JIRA,
            "POST",
            f"/permissionscheme/{named(s['permission_schemes'], 'Service scheme 0')['id']}/permission",
            json_body={"permission": "DELETE_ISSUES", "holder": {"type": "anyone"}},
        ),
    ),
]


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_a_stale_saved_plan_is_refused_before_any_write(
    edit: Edit,
    serve: Callable[[dict[str, Any]], Served],
    run_cli: Callable[..., Ran],
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    world = make_world(4)
    served = serve(world.seed)
    env = site_env(served.url)
    manifests = write_world(world, tmp_path / "m")
    saved = tmp_path / "plan.json"
    assert run_cli(env, "plan", "--out", str(saved), str(manifests)).code == 0
    with someone(served.url) as client:
        edit.edit(client, served.site.snapshot())
    before = served.site.snapshot()
    since = len(served.site.calls)

    stale = run_cli(
        env,
        "apply",
        "--plan",
        str(saved),
        "--auto-approve",
        "--allow-delete",
        "--journal",
        str(tmp_path / "j"),
    )
    stale.assert_clean()
    assert stale.code == 1, stale.output
    assert "the site changed since the plan was made" in stale.stderr
    assert f"  {edit.address}\n" in stale.stderr, stale.stderr
    assert served.writes(since) == []
    assert served.site.snapshot() == before
    assert not (tmp_path / "j").exists() or (tmp_path / "j").read_text() == ""

    # Plan again, apply that plan: the site ends as the manifests say.
    fresh = tmp_path / "fresh.json"
    assert run_cli(env, "plan", "--out", str(fresh), str(manifests)).code == 0
    applied = run_cli(
        env,
        "apply",
        "--plan",
        str(fresh),
        "--auto-approve",
        "--allow-delete",
        "--journal",
        str(tmp_path / "j"),
    )
    assert applied.code == 0, applied.output
    assert plan_keys(run_cli, env, manifests) == []
    ledger.record(
        "stale-plan",
        order="3",
        fault="a live object changed between `plan --out` and `apply --plan` (8 edits, 5 kinds)",
        faults_injected=1,
        refused=1,
        converged=1,
        duplicates=0,
        untouched_changed=0,
    )
