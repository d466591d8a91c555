"""docs/policies.md: its starter pack is the one the example manifests carry, each rule with its reason, and
the plan it quotes is the demo's."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reconciler.manifest.load import load_manifests
from reconciler.registry import KINDS

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return PAGE.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_starter_pack_is_the_examples_and_each_rule_says_why() -> None:
    section = _section("A starter pack for JSM")
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    documented = yaml.safe_load(block)["settings"]["policies"]
    example = yaml.safe_load((ROOT / "examples" / "manifests" / "settings.yaml").read_text(encoding="utf-8"))
    assert documented == example["settings"]["policies"]
    reasons = re.findall(r"^- \*\*(.+?)\*\*: ", section, re.MULTILINE)
    assert reasons == [rule["name"] for rule in documented]
    state, diagnostics = load_manifests([ROOT / "examples" / "manifests"], KINDS, environ={})
    assert diagnostics == [] and len(state.settings.policies) == len(documented)


def test_the_quoted_demo_plan_is_the_demos() -> None:
    quoted = _section("How a broken rule shows").split("```text\n", 1)[1].split("```", 1)[0]
    plan = (ROOT / "tests" / "golden" / "demo" / "plan.txt").read_text(encoding="utf-8")
    assert quoted.startswith("Policies: ") and quoted in plan
