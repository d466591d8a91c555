"""The manifest models on their own: the error type of each rule (it becomes the diagnostic code)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.kinds.custom_role import CustomRoleSpec
from reconciler.kinds.detail_field import DetailFieldSpec
from reconciler.kinds.holder import Holder
from reconciler.kinds.permission_scheme import (
    PermissionSchemeSpec,
    is_app_permission_key,
    is_listed_permission,
)
from reconciler.kinds.product import ProductSpec
from reconciler.kinds.team_role import TeamRoleEntry
from reconciler.spec import Spec, did_you_mean


def error_types(model: type[Spec], data: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(e["loc"], e["type"]) for e in caught.value.errors()]


def test_did_you_mean() -> None:
    assert did_you_mean("nmae", ["name", "type"]) == " (did you mean 'name'?)"
    assert did_you_mean("PROJECTROLE", ["projectRole"]) == " (did you mean 'projectRole'?)"
    assert did_you_mean("zzz", ["name"]) == ""


@pytest.mark.parametrize("name", ["Key", "LABEL", "X", "a?b", "a.b", "x" * 256, "say \u201chi"])
def test_detail_field_name_rules(name: str) -> None:
    assert error_types(DetailFieldSpec, {"name": name, "type": "TEXT"}) == [(("name",), "invalid")]


def test_detail_field_options() -> None:
    assert error_types(DetailFieldSpec, {"name": "Notes", "type": "TEXT", "options": ["a"]}) == [
        ((), "invalid")
    ]
    assert error_types(DetailFieldSpec, {"name": "Tier", "type": "SELECT", "options": ["a,b", ""]}) == [
        (("options", 0), "invalid"),
        (("options", 1), "invalid"),
    ]
    with pytest.raises(ValidationError) as caught:
        DetailFieldSpec.model_validate({"name": "Tier", "type": "SELECT", "options": ["a", "b", "a"]})
    assert caught.value.errors()[0]["ctx"]["at"] == ("options", 2)
    spec = DetailFieldSpec.model_validate({"name": "Tier", "type": "MULTISELECT", "options": ["b", "a"]})
    assert spec.options == ["b", "a"]


def test_product_name_length() -> None:
    assert ProductSpec.model_validate({"name": "x" * 200}).name == "x" * 200
    assert error_types(ProductSpec, {"name": "x" * 201}) == [(("name",), "string_too_long")]


def test_custom_role_rights() -> None:
    """Rights outside the published list are valid (warnings, see test_manifest); empty ones are not."""
    data = {"name": "R", "grantedRights": ["alert-action", "alert-acknowlege"], "disallowedRights": ["nope"]}
    assert CustomRoleSpec.model_validate(data).disallowed_rights == ["nope"]
    assert error_types(CustomRoleSpec, {"name": "R", "grantedRights": [""]}) == [
        (("grantedRights", 0), "string_too_short")
    ]
    data = {
        "name": "R",
        "grantedRights": ["alert-close"],
        "disallowedRights": ["alert-delete", "alert-close"],
    }
    with pytest.raises(ValidationError) as caught:
        CustomRoleSpec.model_validate(data)
    (details,) = caught.value.errors()
    assert details["type"] == "conflicting_rights" and details["ctx"]["at"] == ("disallowedRights", 1)


def test_team_role_rights() -> None:
    assert TeamRoleEntry.model_validate({"name": "r", "granted": ["edit-team-roles"]}).granted == [
        "edit-team-roles"
    ]
    # Outside the documented 17: a warning offline (see test_examples), and the site decides.
    assert TeamRoleEntry.model_validate({"name": "r", "granted": ["edit-schedule"]}).granted == [
        "edit-schedule"
    ]
    empty = {"name": "r", "granted": [""]}
    assert error_types(TeamRoleEntry, empty) == [(("granted", 0), "string_too_short")]


def test_permission_keys() -> None:
    assert is_app_permission_key("com.example.timesheets__LOG_TIME")
    assert not is_app_permission_key("BROWSE_PROJECT")
    grants = {"com.example.x__Y": ["reporter"], "BROWSE_PROJECT": ["reporter"]}
    # A key outside the built-in list is valid: a warning offline, and the site's list decides at plan.
    spec = PermissionSchemeSpec.model_validate({"name": "S", "grants": grants})
    assert [key for key in spec.grants if not is_listed_permission(key)] == ["BROWSE_PROJECT"]
    assert error_types(PermissionSchemeSpec, {"name": "S", "grants": {"": ["reporter"]}}) == [
        (("grants", "", "[key]"), "string_too_short")
    ]


@pytest.mark.parametrize(
    ("text", "holder"),
    [
        ("anyone", Holder(type="anyone")),
        ("applicationRole", Holder(type="applicationRole")),
        ("applicationRole:jira-software", Holder(type="applicationRole", parameter="jira-software")),
        ("group:a:b", Holder(type="group", parameter="a:b")),
        ("projectRole:Service Desk Team", Holder(type="projectRole", parameter="Service Desk Team")),
    ],
)
def test_holder_string_forms(text: str, holder: Holder) -> None:
    spec = PermissionSchemeSpec.model_validate({"name": "S", "grants": {"BROWSE_PROJECTS": [text]}})
    assert spec.grants["BROWSE_PROJECTS"] == [holder]
    assert Holder.parse(text) == holder


@pytest.mark.parametrize(
    "holder",
    [
        "nobody",
        "group",
        "group:",
        "reporter:x",
        {"type": "user"},
        {"type": "anyone", "value": "1"},
        {"group": "x"},
    ],
)
def test_bad_holders(holder: object) -> None:
    data = {"name": "S", "grants": {"BROWSE_PROJECTS": [holder]}}
    assert error_types(PermissionSchemeSpec, data) == [(("grants", "BROWSE_PROJECTS", 0), "holder")]
