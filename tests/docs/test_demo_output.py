"""Output of the demo that the docs quote is the demo's output (tests/golden/demo, checked against the tool
by tests/e2e/test_golden.py)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_exposure_example_is_the_head_of_the_demo_plan() -> None:
    page = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    exposure = page.split("\n## Exposure\n", 1)[1].split("\n## ", 1)[0]
    quoted = exposure.split("```text\n", 1)[1].split("```", 1)[0]
    plan = (ROOT / "tests" / "golden" / "demo" / "plan.txt").read_text(encoding="utf-8")
    assert plan.startswith(quoted + "\n")
