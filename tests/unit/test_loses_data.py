"""Removing an option from a SELECT or MULTISELECT detail field may lose or orphan the values stored with it
(the API does not say which): the update is destructive like a delete: --allow-delete, counted by
settings.thresholds as a delete, and a warning in the plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.errors import UnsafePlanError
from reconciler.plan.model import Plan
from reconciler.registry import KINDS
from reconciler.safety import check_applicable
from tests.inprocess import InProcessSite

SEED: dict[str, Any] = {
    "detailFields": {
        "organization": [
            {"name": "Region", "type": "SELECT", "options": ["AU", "EU", "US"]},
            {"name": "Note", "type": "TEXT"},
        ]
    }
}


def test_removing_an_option_is_destructive_and_needs_allow_delete(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write("detailFields:\n  organization:\n    - {name: Region, type: SELECT, options: [AU, EU, NZ]}\n")
    plan = site.plan()
    [change] = plan.changes
    assert (change.action.value, change.destructive) == ("update", True)
    assert change.reason == "removes option(s) 'US': the values stored with them may be lost or orphaned"
    [warned] = [d for d in plan.diagnostics if d.code == "plan.loses_data"]
    assert warned.severity == "warning" and warned.source is not None and warned.source.line == 4
    assert "--allow-delete" in warned.message
    with pytest.raises(
        UnsafePlanError, match=r"~ detailFields.organization/Region \(removes option\(s\) 'US'"
    ):
        check_applicable(plan, allow_delete=False)
    check_applicable(plan, allow_delete=True)
    saved = Plan.from_json(json.loads(json.dumps(plan.to_json())), KINDS)
    assert saved.destructive == plan.destructive  # a saved plan keeps it
    site.converge()


def test_adding_or_reordering_options_is_an_ordinary_update(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(
        "detailFields:\n  organization:\n    - {name: Region, type: SELECT, options: [US, EU, AU, NZ]}\n"
    )
    plan = site.plan()
    assert [c.action.value for c in plan.changes] == ["update"] and plan.destructive == ()
    assert not [d for d in plan.diagnostics if d.code == "plan.loses_data"]


def test_thresholds_count_it_as_a_delete(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(
        "settings:\n  thresholds: {maxDeletePercent: 40, minExisting: 2}\n"
        "detailFields:\n  organization:\n    - {name: Region, type: SELECT, options: [AU]}\n"
        "    - {name: Note, type: TEXT}\n"
    )
    [refused] = [d for d in site.plan().diagnostics if d.code == "plan.threshold"]
    assert "delete or replace 1 of 2 existing detailFields (50%)" in refused.message
