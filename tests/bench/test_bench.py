"""The benchmark in its reduced form (a small site, no latency), so it cannot rot. No timing is
asserted here: only that every measurement makes exactly the minimal number of requests."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

import bench.run as bench_run
from bench.run import (
    APPLY_MIX,
    TABLE_END,
    TABLE_START,
    Measurement,
    access_requests,
    plan_requests,
    project_map_requests,
    run,
    users_requests,
)
from bench.site import SMALL, enterprise_seed


def test_benchmark_makes_the_minimal_number_of_requests() -> None:
    results = run(SMALL, 0.0, subprocess_server=False, apply_mix=APPLY_MIX[SMALL])
    minimal, _, parts = plan_requests(SMALL)
    # One scheme GET per declared project and no project search: neither plan changes any exposure.
    assert parts["project scheme GETs (one per declared project)"] == SMALL.declared_projects
    assert not any("search" in part for part in parts)
    no_change, no_change_10, differing, access, access_users, *applies = results
    assert no_change.requests == no_change.minimal_requests == minimal
    assert (no_change.parallelism, no_change_10.parallelism) == (4, 10)
    assert no_change_10.requests == minimal
    # The changed plan reads the project map too exactly when it changes a scheme's exposure.
    assert differing.requests == differing.minimal_requests
    assert differing.minimal_requests in (minimal, minimal + project_map_requests(SMALL)[0])
    assert differing.json_cpu_s is not None
    # access reads what a plan reads for the schemes, plus the project map; --users adds one paged read per
    # group and per (project, project role) that a grant names.
    assert (access.name, access_users.name) == ("access", "access --users")
    assert access.requests == access.minimal_requests == access_requests(SMALL, 10)[0]
    extra, _ = users_requests(enterprise_seed(SMALL))
    assert access_users.requests == access_users.minimal_requests == access.minimal_requests + extra
    assert [m.parallelism for m in applies] == [4, 10]
    for measurement in applies:
        assert measurement.name == f"apply, {APPLY_MIX[SMALL].changes} changes"
        assert measurement.requests == measurement.minimal_requests
    assert no_change.per_object_requests is not None and no_change.per_object_requests > 3 * minimal


def test_the_performance_table_is_written_from_the_runs_own_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measurement = Measurement("plan, no changes", 6.0, 425, 425, 11, 4, 0.05, 0.4, 2125)
    runs = [
        {
            "started": "2026-11-29 23:00 UTC",
            "load_average": 1.5,
            "objects": 2000,
            "summary": {"scale": "1", "plan_ratio": 1.12},
            "results": [asdict(measurement)],
        }
    ]
    page = tmp_path / "performance.md"
    page.write_text(f"before\n{TABLE_START}\nold table\n{TABLE_END}\nafter\n", encoding="utf-8")
    monkeypatch.setattr(bench_run, "PERFORMANCE_PAGE", page)
    bench_run.write_table(runs)
    text = page.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text.startswith(f"before\n{TABLE_START}\n") and text.endswith(f"{TABLE_END}\nafter\n")
    assert (
        "| 2,000 objects (scale 1) | plan, no changes | 4 | 6.00 s | 425 (425) | 5.35 s | 1.12 | 0.40 s |"
        in text
    )
    assert "bench: scale=1 plan_ratio=1.12" in text


def test_the_performance_page_holds_the_table_the_benchmark_writes() -> None:
    text = bench_run.PERFORMANCE_PAGE.read_text(encoding="utf-8")
    assert text.count(TABLE_START) == 1 and text.count(TABLE_END) == 1
    table = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    assert table.lstrip().startswith("| site | measurement | parallelism | wall |")
    assert "bench: scale=1 " in table and "bench: scale=10 " in table
