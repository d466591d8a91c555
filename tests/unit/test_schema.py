from __future__ import annotations

from pathlib import Path

import jsonschema

from reconciler.registry import KINDS
from reconciler.schema import SCHEMA_FILE, build_schema, render_schema, write_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_is_up_to_date() -> None:
    committed = (ROOT / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == render_schema(KINDS), "schemas/ is stale: run `jsm-reconciler schema --out schemas`"


def test_write_schemas(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "out", KINDS)
    assert written == [tmp_path / "out" / SCHEMA_FILE]
    assert written[0].read_text(encoding="utf-8") == render_schema(KINDS)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(build_schema(KINDS))


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(build_schema(KINDS))


def test_holders_are_strings_or_api_mappings() -> None:
    validator = _validator()
    base = {"version": 1, "permissionSchemes": [{"name": "S", "grants": {}}]}

    def valid(holder: object) -> bool:
        base["permissionSchemes"][0]["grants"] = {"BROWSE_PROJECTS": [holder]}  # type: ignore[index]
        return bool(validator.is_valid(base))

    assert valid("group:jira-administrators")
    assert valid({"type": "group", "value": "0d3a"})
    assert not valid({"type": "group", "name": "x"})
    assert not valid(42)


def test_schema_knows_keys_rights_and_permissions() -> None:
    validator = _validator()
    assert not validator.is_valid({"version": 1, "prodcts": []})
    assert not validator.is_valid({"version": 2})
    # A right outside the published list is a warning, never an error: the schema offers the list only.
    assert validator.is_valid({"version": 1, "customRoles": [{"name": "R", "grantedRights": ["nope"]}]})
    assert not validator.is_valid({"version": 1, "customRoles": [{"name": "R", "grantedRights": [""]}]})
    assert validator.is_valid({"version": 1, "teamRoles": [{"team": "T", "roles": [{"name": "r"}]}]})
    grants = {"com.example.timesheets__LOG_TIME": ["reporter"], "BROWSE_PROJECTS": ["anyone"]}
    assert validator.is_valid({"version": 1, "permissionSchemes": [{"name": "S", "grants": grants}]})
    # Keys outside the built-in list are warnings (the site's own list decides): the schema offers them.
    unlisted = {"BROWSE_PROJECT": ["anyone"]}
    assert validator.is_valid({"version": 1, "permissionSchemes": [{"name": "S", "grants": unlisted}]})
    empty = {"": ["anyone"]}
    assert not validator.is_valid({"version": 1, "permissionSchemes": [{"name": "S", "grants": empty}]})
    for name, ok in (("Region", True), ("Key", False), ("kEy", False), ("a.b", False), ("X", False)):
        document = {"version": 1, "detailFields": {"customer": [{"name": name, "type": "TEXT"}]}}
        assert validator.is_valid(document) is ok, name
