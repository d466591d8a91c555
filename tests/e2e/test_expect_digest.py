"""`apply --expect-digest` (CLI.md): apply only the plan a reviewer saw; otherwise write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.site.api import Api
from tests.e2e.conftest import Harness
from tests.e2e.test_cli import run


@pytest.fixture
def products(harness_factory: Any) -> Harness:
    harness: Harness = harness_factory({"products": [{"name": "Keep"}, {"name": "Old"}]})
    harness.write("settings:\n  prune: [products]\nproducts:\n  - name: Keep\n  - name: New\n")
    return harness


def _digest(harness: Harness) -> str:
    result = run(harness, "plan", "--format", "json", str(harness.manifests))
    digest = json.loads(result.stdout)["changesDigest"]
    assert isinstance(digest, str)
    return digest


def test_the_reviewed_plan_applies(products: Harness, tmp_path: Path) -> None:
    digest = _digest(products)
    journal = tmp_path / "journal.jsonl"
    result = run(
        products,
        "apply",
        "--auto-approve",
        "--allow-delete",
        "--expect-digest",
        digest[:12].upper(),
        "--journal",
        str(journal),
        str(products.manifests),
    )
    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 applied, 0 failed, 0 skipped." in result.stdout
    assert run(products, "plan", "--detailed-exitcode", str(products.manifests)).exit_code == 0


def test_a_plan_that_changed_since_review_writes_nothing(products: Harness, tmp_path: Path) -> None:
    reviewed = _digest(products)
    # After review, someone renames by hand the product the plan deletes: the plan now deletes another.
    old = next(p for p in products.site.snapshot()["products"] if p["name"] == "Old")
    with products.client() as client:
        client.request(Api.CSM, "PUT", f"/product/{old['id']}", json_body={"name": "Old renamed"})
    products.site.calls.clear()
    journal = tmp_path / "journal.jsonl"
    args = ["apply", "--auto-approve", "--allow-delete", "--journal", str(journal)]
    result = run(products, *args, "--expect-digest", reviewed, str(products.manifests))
    assert result.exit_code == 1
    assert "- products/Old renamed" in result.stdout  # the new plan is shown
    assert "the plan has changed since it was reviewed" in result.stderr
    assert f"does not start with {reviewed}" in result.stderr and "nothing was applied" in result.stderr
    assert products.writes() == [] and not journal.exists()

    # The same refusal for a saved plan made after the change.
    saved = tmp_path / "plan.json"
    assert run(products, "plan", "--out", str(saved), str(products.manifests)).exit_code == 0
    stale = run(products, *args, "--plan", str(saved), "--expect-digest", reviewed[:12])
    assert stale.exit_code == 1 and "changed since it was reviewed" in stale.stderr
    assert products.writes() == [] and not journal.exists()
    # The new digest applies it.
    fresh = json.loads(saved.read_text())["changesDigest"]
    applied = run(products, *args, "--plan", str(saved), "--expect-digest", fresh[:12])
    assert applied.exit_code == 0, applied.output
    assert run(products, "plan", "--detailed-exitcode", str(products.manifests)).exit_code == 0


@pytest.mark.parametrize("value", ["abc123", "g" * 12, "0123456789ab cd", "a" * 65, ""])
def test_a_value_that_is_not_a_digest_prefix_is_a_usage_error(products: Harness, value: str) -> None:
    products.site.calls.clear()
    result = run(products, "apply", "--auto-approve", "--expect-digest", value, str(products.manifests))
    assert result.exit_code != 0
    assert "is not a changesDigest: give its first 12 to 64 hex digits" in result.output
    assert products.site.calls == []
