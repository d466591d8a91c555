"""The example manifests: the valid set loads cleanly and passes the JSON Schema; each invalid case gives
exactly its golden diagnostics. Regenerate the goldens: `UPDATE_GOLDENS=1 pytest tests/unit/test_examples.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from reconciler.manifest.load import load_manifests
from reconciler.registry import KINDS
from reconciler.render.diagnostics import render_diagnostics
from reconciler.yamlsource import load_yaml_file

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "examples" / "manifests"
INVALID = ROOT / "examples" / "invalid"
SCHEMA = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/manifest.schema.json"

# on-site/: manifests that are valid offline; only the site finds them wrong (tests/e2e/test_golden.py).
CASES = sorted(
    p.name for p in INVALID.iterdir() if p.suffix == ".yaml" or (p.is_dir() and p.name != "on-site")
)
VALID_FILES = sorted(VALID.glob("*.yaml"))


def test_valid_examples_load_without_diagnostics() -> None:
    state, diagnostics = load_manifests([VALID], KINDS, environ={})
    assert diagnostics == []
    assert {address.kind for address in state.objects} == {
        "detailFields",
        "products",
        "customRoles",
        "teamRoles",
        "permissionSchemes",
        "projects",
    }
    assert state.prune == frozenset({"products", "customRoles"})
    assert [str(address) for address in sorted(state.protected)] == [
        "detailFields.organization/Region",
        "permissionSchemes/Default permission scheme",
    ]


def test_valid_examples_use_every_holder_form() -> None:
    state, _ = load_manifests([VALID], KINDS, environ={})
    holders = [
        holder
        for spec in state.objects.values()
        for grants in getattr(spec, "grants", {}).values()
        for holder in grants
    ]
    types = {holder.type for holder in holders}
    assert types == {
        "anyone",
        "assignee",
        "reporter",
        "projectLead",
        "sd.customer.portal.only",
        "applicationRole",
        "group",
        "projectRole",
        "user",
        "userCustomField",
        "groupCustomField",
    }
    assert any(holder.value for holder in holders), "the exact mapping form with value"
    assert any(holder.type == "applicationRole" and holder.parameter is None for holder in holders)


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_example_passes_the_json_schema(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith(SCHEMA_LINE + "\n")
    loaded, diagnostics = load_yaml_file(path, path.name, {})
    assert diagnostics == [] and loaded is not None
    jsonschema.Draft202012Validator(SCHEMA).validate(loaded.data)


@pytest.mark.parametrize("case", CASES)
def test_invalid_example_matches_its_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    _, diagnostics = load_manifests([Path(case)], KINDS, environ={})
    actual = render_diagnostics(diagnostics) + "\n"
    golden = INVALID / f"{Path(case).stem}.expected"
    if os.environ.get("UPDATE_GOLDENS") == "1":
        golden.write_text(actual, encoding="utf-8")
    assert diagnostics, "an invalid example must produce diagnostics"
    assert actual == golden.read_text(encoding="utf-8")


def test_every_golden_has_its_case() -> None:
    goldens = {p.stem for p in INVALID.glob("*.expected")}
    assert goldens == {Path(case).stem for case in CASES}
