"""The one gate, which judges a finished plan: thresholds (at their boundaries), errors, the delete gate (a
replace counts), a saved plan for another site, and stale saved plans."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import ConfigError, PlanMismatchError, UnsafePlanError
from reconciler.kinds.kind import Action
from reconciler.registry import KINDS
from reconciler.safety import check_applicable, check_fresh, looks_applied, threshold_problems
from reconciler.state import Thresholds
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
    check_fresh(saved, site.read(), KINDS)
    other: InProcessSite = site_factory({"products": [{"name": "Widget"}]})  # Spare deleted meanwhile
    with pytest.raises(PlanMismatchError, match="products/Spare"):
        check_fresh(saved, other.read(), KINDS)


def test_a_saved_plan_applied_already_says_so(site_factory: Any) -> None:
    site: InProcessSite = site_factory(SEED)
    site.write(PRUNED)
    saved = site.plan()
    assert not looks_applied(saved, site.read(), KINDS)
    assert site.apply(saved).ok
    assert looks_applied(saved, site.read(), KINDS)
    with pytest.raises(PlanMismatchError, match="probably applied already"):
        check_fresh(saved, site.read(), KINDS)


def test_a_replace_alone_needs_allow_delete(site_factory: Any) -> None:
    """A TEXT field that becomes a SELECT is replaced (its values erased): the plan deletes nothing, and
    the gate still refuses it without --allow-delete."""
    site: InProcessSite = site_factory({"detailFields": {"organization": [{"name": "Tier", "type": "TEXT"}]}})
    site.write("detailFields:\n  organization:\n    - {name: Tier, type: SELECT, options: [Gold]}\n")
    plan = site.plan()
    assert [(c.action, str(c.address)) for c in plan.changes] == [
        (Action.REPLACE, "detailFields.organization/Tier")
    ]
    with pytest.raises(UnsafePlanError, match=r"-/\+ detailFields\.organization/Tier"):
        check_applicable(plan, allow_delete=False)
    check_applicable(plan, allow_delete=True)


@pytest.mark.parametrize(
    ("action", "limits"),
    [
        (Action.DELETE, Thresholds(max_delete_percent=30)),
        (Action.REPLACE, Thresholds(max_delete_percent=30)),
        (Action.UPDATE, Thresholds(max_update_percent=30)),
        (Action.RENAME, Thresholds(max_update_percent=30)),
    ],
)
def test_a_threshold_allows_exactly_its_share(action: Action, limits: Thresholds) -> None:
    """maxDeletePercent and maxUpdatePercent: 30: 3 changes of 10 objects pass, 4 are refused."""
    assert threshold_problems("products", [action] * 3, 10, limits, force=False) == []
    [refused] = threshold_problems("products", [action] * 4, 10, limits, force=False)
    assert "4 of 10 existing products (40%)" in refused.message and "(30%)" in refused.message


def test_min_existing_counts_a_kind_with_exactly_that_many_objects() -> None:
    limits = Thresholds(max_delete_percent=10, min_existing=5)
    [refused] = threshold_problems("products", [Action.DELETE] * 2, 5, limits, force=False)
    assert "2 of 5 existing products" in refused.message
    assert threshold_problems("products", [Action.DELETE] * 2, 4, limits, force=False) == []


def test_a_threshold_at_its_boundary_in_a_plan(site_factory: Any) -> None:
    """The same boundary through the planner: of 10 products, 3 deletes pass maxDeletePercent: 30."""
    site: InProcessSite = site_factory({"products": [{"name": f"P{n}"} for n in range(10)]})

    def keep(first: int) -> str:
        settings = "settings:\n  prune: [products]\n  thresholds: {maxDeletePercent: 30}\n"
        return settings + "products:\n" + "".join(f"  - name: P{n}\n" for n in range(first, 10))

    site.write(keep(3))
    plan = site.plan()
    assert not plan.has_errors and plan.counts["delete"] == 3
    site.write(keep(4))
    assert [d.code for d in site.plan().diagnostics] == ["plan.threshold"]


def test_a_saved_plan_for_another_site_is_refused_naming_both(site_factory: Any) -> None:
    """A plan that only creates has no live objects to disagree: only the site check stands between a
    staging plan and production."""
    site: InProcessSite = site_factory()
    site.write("products:\n  - name: Widget\n")
    saved = replace(site.plan(), site="https://staging.atlassian.net")
    assert [c.action for c in saved.changes] == [Action.CREATE]
    production = replace(site.read(), site="https://production.atlassian.net")
    with pytest.raises(PlanMismatchError) as refused:
        check_fresh(saved, production, KINDS)
    assert str(refused.value) == (
        "the plan was made for https://staging.atlassian.net, not https://production.atlassian.net; "
        "nothing was applied"
    )
    check_fresh(saved, replace(production, site="https://staging.atlassian.net"), KINDS)
