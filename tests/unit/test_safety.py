"""The one gate: thresholds and protect while planning, then errors, the delete gate and stale saved plans."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ConfigError, PlanMismatchError, UnsafePlanError
from reconciler.kinds.kind import Action
from reconciler.manifest import Thresholds
from reconciler.safety import check_applicable, check_fresh, looks_applied, threshold_problems
from tests.inprocess import InProcessSite

SEED: dict[str, Any] = {"products": [{"name": "Widget"}, {"name": "Spare"}]}
PRUNED = "settings: {prune: [products]}\nproducts:\n  - name: Widget\n  - name: Gadget\n"


def test_thresholds_count_each_kind_and_force_turns_the_error_into_a_warning() -> None:
    limits = Thresholds(max_delete_percent=20, max_update_percent=50, min_existing=5)
    actions = [Action.DELETE, Action.REPLACE, Action.UPDATE]
    [refused] = threshold_problems("products", actions, 8, limits, force=False)
    assert refused.code == "plan.threshold" and refused.severity == "error"
    assert "delete or replace 2 of 8 existing products (25%)" in refused.message
    [forced] = threshold_problems("products", actions, 8, limits, force=True)
    assert forced.severity == "warning"
    assert threshold_problems("products", actions, 4, limits, force=False) == []  # under minExisting


def test_a_plan_with_errors_or_unallowed_deletes_is_refused(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(PRUNED)
    plan = site.plan()
    with pytest.raises(UnsafePlanError, match="products/Spare"):
        check_applicable(plan, allow_delete=False)
    check_applicable(plan, allow_delete=True)
    site.write("products:\n  - {name: Widget, renamedFrom: [Spare]}\n")
    with pytest.raises(ConfigError, match="errors"):
        check_applicable(site.plan(), allow_delete=True)


def test_a_saved_plan_is_refused_once_what_it_touches_changed(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(PRUNED)
    saved = site.plan()
    check_fresh(saved, site.read())
    other: InProcessSite = site_factory({"products": [{"name": "Widget"}]})  # Spare deleted meanwhile
    with pytest.raises(PlanMismatchError, match="products/Spare"):
        check_fresh(saved, other.read())


def test_a_saved_plan_applied_already_says_so(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(PRUNED)
    saved = site.plan()
    assert not looks_applied(saved, site.read())
    assert site.apply(saved).ok
    assert looks_applied(saved, site.read())
    with pytest.raises(PlanMismatchError, match="probably applied already"):
        check_fresh(saved, site.read())
