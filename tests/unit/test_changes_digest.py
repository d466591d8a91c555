"""`changesDigest` (CLI.md): the same changes and exposure give the same digest however the site was read;
any difference a reviewer would see gives another."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from reconciler.kinds.kind import Action
from reconciler.plan.model import Exposure, Plan
from reconciler.registry import KINDS
from tests.inprocess import InProcessSite

SEED: dict[str, Any] = {
    "products": [{"name": "Widget"}, {"name": "Old gadget"}],
    "customRoles": [
        {"name": "FinanceRole", "grantedRights": ["alert-action", "alert-view"], "disallowedRights": []}
    ],
}
# The same site, read in another order: objects listed the other way round, a role's rights too, and
# one more object the manifests do not mention (another fingerprint, no other change).
SEED_REORDERED: dict[str, Any] = {
    "products": [{"name": "Unrelated"}, {"name": "Old gadget"}, {"name": "Widget"}],
    "customRoles": [
        {"name": "FinanceRole", "grantedRights": ["alert-view", "alert-action"], "disallowedRights": []}
    ],
}
PRODUCTS = """
products:
  - name: Widget
  - name: Gadget
    renamedFrom: [Old gadget]
  - name: New
"""
ROLES = """
customRoles:
  - name: FinanceRole
    grantedRights: [alert-view, alert-create]
"""
EXPOSURE = (
    Exposure("added", "Open", "BROWSE_PROJECTS: anyone", ("IT", "SD"), "permissionSchemes/Open"),
    Exposure("removed", "Old scheme", "BROWSE_PROJECTS: applicationRole", ("HR",), "projects/HR"),
)


def _plan(site: InProcessSite, *files: tuple[str, str]) -> Plan:
    for name, text in files:
        site.write(text, name=name)
    return replace(site.plan(), exposure=EXPOSURE)


def test_the_digest_ignores_read_order_fingerprints_and_positions(site_factory: Any) -> None:
    first = _plan(site_factory(SEED), ("all.yaml", PRODUCTS + ROLES))
    # Other files, another order of declaration: other positions in the manifests.
    second = _plan(site_factory(SEED_REORDERED), ("b.yaml", "\n\n" + ROLES), ("a.yaml", PRODUCTS))
    assert first.fingerprints != second.fingerprints and first.unmanaged != second.unmanaged
    assert [c.source for c in first.changes] != [c.source for c in second.changes]
    assert first.checksum != second.checksum
    assert first.changes_digest == second.changes_digest

    shuffled = replace(
        first,
        changes=tuple(reversed(first.changes)),
        exposure=(replace(EXPOSURE[0], projects=("SD", "IT")), *reversed(EXPOSURE[1:])),
        fingerprints=dict.fromkeys(first.fingerprints, "0" * 16),
    )
    assert shuffled.changes_digest == first.changes_digest
    assert len(first.changes_digest) == 64 and int(first.changes_digest, 16) >= 0


def test_every_difference_a_reviewer_sees_changes_the_digest(site_factory: Any) -> None:
    plan = _plan(site_factory(SEED), ("all.yaml", PRODUCTS + ROLES))
    create = next(c for c in plan.changes if c.action is Action.CREATE)
    others = tuple(c for c in plan.changes if c is not create)
    variants = [
        replace(plan, changes=others),
        replace(plan, changes=(*others, replace(create, after={"name": "Newer"}))),
        replace(plan, changes=(*others, replace(create, before={"name": "New"}, action=Action.UPDATE))),
        replace(plan, exposure=EXPOSURE[:1]),
        replace(plan, exposure=(replace(EXPOSURE[0], projects=("IT",)), *EXPOSURE[1:])),
        replace(plan, exposure=(replace(EXPOSURE[0], grant="BROWSE_PROJECTS: group:x"), *EXPOSURE[1:])),
    ]
    digests = {plan.changes_digest, *(variant.changes_digest for variant in variants)}
    assert len(digests) == len(variants) + 1


def test_the_plan_json_carries_the_digest(site_factory: Any) -> None:
    plan = _plan(site_factory(SEED), ("all.yaml", PRODUCTS + ROLES))
    saved = json.loads(json.dumps(plan.to_json()))
    assert list(saved)[:3] == ["formatVersion", "site", "changesDigest"]
    assert saved["changesDigest"] == plan.changes_digest == Plan.from_json(saved, KINDS).changes_digest
