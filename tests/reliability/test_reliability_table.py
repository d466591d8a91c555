"""The Reliability table of docs/reliability.md is the one `scripts/reliability-table.py` renders from the
suite's summary: same header, same cases. Figures are not compared (they depend on timing)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.reliability.conftest import ROOT, Ledger, write_summary

CASES = [
    "rate-limit",
    "error-503",
    "error-500",
    "drop",
    "slow",
    "sigkill",
    "stale-plan",
    "malformed",
    "canary",
]


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "reliability_table", ROOT / "scripts" / "reliability-table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_table_has_the_rendered_shape_and_every_case() -> None:
    table = script()
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert table.START in page and table.END in page
    section = page.split(table.START, 1)[1].split(table.END, 1)[0]
    assert table.HEADER in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| Fault")]
    assert len(rows) == len(CASES), rows
    assert all(re.fullmatch(r"\| .+ \| \d+ \| (\d+|–) \| \d+ \| .+ \| .+ \|", row) for row in rows), rows
    assert "From `build/reliability/summary.json`" in section


def test_the_script_renders_any_summary_and_replaces_only_its_table() -> None:
    table = script()
    row = {"runs": 2, "fault": "f", "changes": 226, "faults_injected": 9, "converged": 2, "duplicates": 0}
    summary = {
        "generated": "now",
        "seconds": 1.0,
        "cases": [
            {**row, "case": "rate-limit", "first_apply_completed": 2, "untouched_changed": 0},
            {**row, "case": "sigkill", "killed": 2, "distinct_kill_points": 2, "kill_points": [3, 9]},
            {**row, "case": "stale-plan", "refused": 2},
            {**row, "case": "malformed", "first_apply_failed_cleanly": 2},
            {**row, "case": "canary", "commands": 20, "outputs_and_files_searched": 40, "canary_found": 0},
        ],
    }
    rendered = table.render(summary)
    assert rendered.count("\n| ") == 5 and "| f | 2 | 113 | 9 |" in rendered
    page = f"before\n{table.START}\nold\n{table.END}\nafter\n"
    assert table.replace_table(page, rendered) == f"before\n{table.START}\n{rendered}\n{table.END}\nafter\n"


def test_the_workers_of_one_run_add_up_and_a_new_run_replaces(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"

    def book(**figures: Any) -> Ledger:
        ledger = Ledger()
        ledger.record("drop", **figures)
        return ledger

    write_summary(book(converged=1, ok=True, kill_points=[3]), "run-1", 5.0, summary)
    write_summary(book(converged=1, ok=True, kill_points=[9]), "run-1", 7.0, summary)  # another worker
    (row,) = json.loads(summary.read_text())["cases"]
    assert (row["runs"], row["converged"], row["ok"], row["kill_points"]) == (2, 2, True, [3, 9])
    assert json.loads(summary.read_text())["seconds"] == 7.0
    write_summary(book(converged=1, ok=True), "run-2", 1.0, summary)
    (row,) = json.loads(summary.read_text())["cases"]
    assert (row["runs"], row["converged"]) == (1, 1)
