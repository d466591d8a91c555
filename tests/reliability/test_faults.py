"""Faults end to end: the CLI applies a 100+ change plan over HTTP while the sandbox misbehaves.

Each case: the first apply completes or fails with a clear message; a fresh plan shows exactly the changes
the journal does not record as applied; a second apply converges; no object is duplicated and nothing
outside the plan changes (byte for byte)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import (
    Ledger,
    Ran,
    Served,
    baseline,
    check_after_fault,
    check_entries,
    converge,
    plan_keys,
    read_journal,
    site_env,
    write_world,
)
from tests.reliability.world import make_world


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    knobs: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    worlds: tuple[int, ...] = (1, 2)


CASES = [
    Case(
        "rate-limit", "429 with Retry-After on every 3rd request", {"rate_limit_every": 3, "retry_after_s": 0}
    ),
    Case(
        "error-503",
        "503 with Retry-After on every 5th request",
        {"error_every": 5, "error_status": 503, "retry_after_s": 0},
    ),
    Case("error-500", "500 on every 5th request", {"error_every": 5, "error_status": 500}),
    Case(
        "drop", "connection dropped after a committed write (every 3rd write)", {"drop_after_write_every": 3}
    ),
    Case(
        "slow",
        "answer slower than the client's read timeout (every 7th request: 0.6 s against 0.25 s)",
        {"slow_every": 7, "slow_s": 0.6},
        # The server commits 0.35 s after the client gave up: the look before re-sending comes later.
        {"read_timeout_s": 0.25, "create_pause": 1.0},
    ),
]


def injected(served: Served, case: Case, since: int) -> int:
    """How many faults the site actually injected during the first apply."""
    calls = served.site.calls[since:]
    knobs = case.knobs
    every: int
    if "rate_limit_every" in knobs:
        return sum(c.status == 429 for c in calls)
    if "error_every" in knobs:
        return sum(c.status == knobs["error_status"] for c in calls)
    if "drop_after_write_every" in knobs:
        committed = sum(c.method != "GET" and c.status < 300 for c in calls)
        every = knobs["drop_after_write_every"]
        return committed // every
    every = knobs["slow_every"]
    return len(calls) // every


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_then_plan_shows_what_remains_then_converges(
    case: Case,
    serve: Callable[[dict[str, Any]], Served],
    run_cli: Callable[..., Ran],
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    for n in case.worlds:
        world = make_world(n)
        served = serve(world.seed)
        env = site_env(served.url)
        manifests = write_world(world, tmp_path / f"world{n}")
        journal = tmp_path / f"journal{n}.jsonl"
        base = baseline(served, run_cli, env, manifests)
        assert len(base.planned) >= 100

        served.reset_knobs(**case.knobs)
        since = len(served.site.calls)
        first = run_cli(
            env,
            "apply",
            "--auto-approve",
            "--allow-delete",
            "--journal",
            str(journal),
            str(manifests),
            **case.settings,
        )
        first.assert_clean()
        assert first.code in (0, 1), first.output
        if first.code == 1:
            assert "Apply incomplete" in first.stderr or "Error: " in first.stderr, first.output
        assert served.writes(since), "the first apply wrote nothing"
        faults = injected(served, case, since)
        assert faults > 0, "the knob injected nothing: the case proves nothing"

        remaining = check_after_fault(served, run_cli, env, manifests, base, journal)
        converge(served, run_cli, env, manifests, base, journal)
        check_entries(read_journal(journal), served.url)
        ledger.record(
            case.id,
            order=f"1-{CASES.index(case)}",
            fault=case.title,
            changes=len(base.planned),
            faults_injected=faults,
            first_apply_completed=int(first.code == 0),
            first_apply_failed_cleanly=int(first.code == 1),
            left_after_first=len(remaining),
            converged=1,
            duplicates=0,
            untouched_changed=0,
        )


def test_a_detail_field_rename_whose_answer_is_lost_is_not_a_failure(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    """The rename PUT is addressed by the old name: sent again after a dropped answer, it finds no field by
    that name. The field already has its new name, so the change is done, not failed."""
    served = serve({"detailFields": {"organization": [{"name": "Old name", "type": "TEXT"}]}})
    manifests = tmp_path / "m"
    manifests.mkdir()
    (manifests / "site.yaml").write_text(
        "version: 1\ndetailFields:\n  organization:\n"
        "    - {name: New name, type: TEXT, renamedFrom: [Old name]}\n",
        encoding="utf-8",
    )
    env = site_env(served.url)
    served.reset_knobs(drop_after_write_every=1)
    ran = run_cli(env, "apply", "--auto-approve", "--journal", str(tmp_path / "j"), str(manifests))
    assert ran.code == 0, ran.output
    puts = [w for w in served.writes() if w[0] == "PUT"]
    assert [status for _, _, status in puts] == [200, 404]  # committed and dropped, then sent again
    served.reset_knobs()
    assert [f["name"] for f in served.site.snapshot()["detail_fields"]["organization"]] == ["New name"]


def test_a_grant_delete_whose_answer_is_lost_is_not_a_failure(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    """Jira answers the DELETE of a missing grant with 400, not 404: the DELETE sent again after a dropped
    answer gets it. The grant is gone, so the change is done, not failed."""
    grants = [
        {"permission": "CLOSE_ISSUES", "type": "reporter"},
        {"permission": "EDIT_ISSUES", "type": "assignee"},
    ]
    served = serve({"permissionSchemes": [{"name": "S", "description": "d", "grants": grants}]})
    manifests = tmp_path / "m"
    manifests.mkdir()
    (manifests / "site.yaml").write_text(
        "version: 1\npermissionSchemes:\n  - {name: S, description: d, grants: {EDIT_ISSUES: [assignee]}}\n",
        encoding="utf-8",
    )
    env = site_env(served.url)
    served.reset_knobs(drop_after_write_every=1)
    ran = run_cli(
        env, "apply", "--auto-approve", "--allow-delete", "--journal", str(tmp_path / "j"), str(manifests)
    )
    assert ran.code == 0, ran.output
    assert [status for method, _, status in served.writes() if method == "DELETE"] == [204, 400]
    served.reset_knobs()
    assert plan_keys(run_cli, env, manifests) == []
