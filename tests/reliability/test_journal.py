"""The apply journal (`--journal FILE`, env JSM_JOURNAL, default .jsm-journal.jsonl): one JSON line per
change event — started, then applied, failed or skipped — with the site's request ids and a timestamp.
(After a SIGKILL: see test_kill.py, which reads the journal of every killed run.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.reliability.conftest import (
    Ran,
    Served,
    check_entries,
    plan_keys,
    read_journal,
    site_env,
    write_world,
)
from tests.reliability.world import make_world


def test_a_normal_apply_records_every_change_started_then_applied(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(7)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "audit" / "journal.jsonl"
    env = site_env(served.url) | {"JSM_JOURNAL": str(journal)}  # the environment variable names the path
    planned = plan_keys(run_cli, env, manifests)
    ran = run_cli(env, "apply", "--auto-approve", "--allow-delete", str(manifests))
    assert ran.code == 0, ran.output

    entries = read_journal(journal)
    check_entries(entries, served.url)
    assert len({e["run"] for e in entries}) == 1
    assert [e["change"] for e in entries if e["event"] == "started"] != []
    by_change: dict[str, list[str]] = {}
    for entry in entries:
        by_change.setdefault(entry["change"], []).append(entry["event"])
    assert set(by_change) == set(planned)
    assert all(events == ["started", "applied"] for events in by_change.values()), by_change
    # Every applied change carries the request ids of the site's answers, as the site sent them.
    for entry in entries:
        if entry["event"] == "applied":
            assert entry["requestIds"], entry
            assert all(i.startswith("sandbox-") for i in entry["requestIds"]), entry
    times = [e["time"] for e in entries]
    assert times == sorted(times)

    # A second apply with nothing to do appends nothing; one with work appends a new run.
    assert run_cli(env, "apply", "--auto-approve", str(manifests)).code == 0
    assert read_journal(journal) == entries


def test_a_partial_failure_records_the_failure_with_the_apis_words(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(8)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "journal.jsonl"
    env = site_env(served.url)
    planned = plan_keys(run_cli, env, manifests)
    served.reset_knobs(fail_on={("POST", "/product"): 400})
    ran = run_cli(env, "apply", "--auto-approve", "--allow-delete", "--journal", str(journal), str(manifests))
    assert ran.code == 1 and "Apply incomplete" in ran.stderr

    entries = read_journal(journal)
    check_entries(entries, served.url)
    outcome = {e["change"]: e["event"] for e in entries if e["event"] != "started"}
    counts = Counter(outcome.values())
    failed = [e for e in entries if e["event"] == "failed"]
    assert counts["failed"] == sum(1 for k in planned if k.startswith("products/") and "New product" in k)
    assert all("Simulated failure" in e["error"] and e["address"].startswith("products/") for e in failed)
    assert all(e["requestIds"] for e in failed)
    assert counts["applied"] + counts["failed"] + counts["skipped"] == len(planned)
    # The record is true: what it calls applied is done; the rest is exactly what a new plan shows.
    served.reset_knobs()
    remaining = set(plan_keys(run_cli, env, manifests))
    assert remaining == {k for k, event in outcome.items() if event != "applied"}
