"""MANIFEST.md, "Kinds the manifests name": a kind is managed only when a manifest names it (its section,
even empty, or settings.prune); one no manifest names is neither read, planned, listed as not managed, nor
pruned, so a repository may adopt one kind at a time."""

from __future__ import annotations

from pathlib import Path

from reconciler.registry import kinds_to_read
from tests.inprocess import InProcessSite

SEED = {
    "products": [{"name": "Keep"}, {"name": "Old product"}],
    "customRoles": [{"name": "Old role", "grantedRights": ["alert-action"]}],
    "detailFields": {"organization": [{"name": "Region", "type": "TEXT"}]},
}


def test_a_kind_no_manifest_names_is_neither_planned_nor_listed(tmp_path: Path) -> None:
    site = InProcessSite(tmp_path, SEED)
    site.write("settings:\n  prune: [products]\nproducts:\n  - name: Keep\n")
    plan = site.plan()
    assert [(c.action.value, c.key) for c in plan.changes] == [("delete", "products/Old product")]
    assert plan.unmanaged == ()  # neither customRoles/Old role nor the detail field
    assert kinds_to_read(site.desired()) == {"products"}
    site.converge()
    assert [r["name"] for r in site.site.snapshot()["custom_roles"]] == ["Old role"]


def test_an_empty_section_names_its_kind(tmp_path: Path) -> None:
    site = InProcessSite(tmp_path, SEED)
    site.write("customRoles: []\n")
    plan = site.plan()
    assert plan.changes == () and plan.unmanaged == ("customRoles/Old role",)


def test_settings_prune_names_its_kind(tmp_path: Path) -> None:
    site = InProcessSite(tmp_path, SEED)
    site.write("settings:\n  prune: [customRoles]\n")
    assert [(c.action.value, c.key) for c in site.plan().changes] == [("delete", "customRoles/Old role")]


def test_a_named_kind_reads_what_it_refers_to_without_planning_it(tmp_path: Path) -> None:
    """Projects name schemes: the schemes are read to check the name, but no manifest names the kind, so
    the live schemes are neither listed nor changed."""
    seed = {
        "permissionSchemes": [{"name": "Live scheme"}],
        "projects": [{"key": "SD", "name": "Service Desk"}],
    }
    site = InProcessSite(tmp_path, {**seed, **SEED})
    site.write("projects:\n  - {key: SD, permissionScheme: Nowhere scheme}\n")
    assert kinds_to_read(site.desired()) == {"projects", "permissionSchemes"}
    plan = site.plan()
    assert [c.kind for c in plan.changes] == ["projects"] and plan.unmanaged == ()  # not "Live scheme"
    assert [d.code for d in plan.diagnostics] == ["plan.unknown_reference"]
