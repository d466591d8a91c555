"""Seeds, the state file, and state shared across site instances and processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.common import remove_object
from reconciler.sandbox.seed import SeedError
from reconciler.sandbox.server import reset_state
from reconciler.sandbox.state import Product

from .conftest import BASIC, DEMO_SEED, Api


def _post_product(site: SandboxSite, name: str) -> int:
    path = f"/jsm/csm/cloudid/{site.cloud_id}/api/v1/product"
    return Client(site).post(path, json={"name": name}, headers={"Authorization": BASIC}).status_code


def _product_names(site: SandboxSite) -> list[str]:
    return [p["name"] for p in site.snapshot()["products"]]


def test_an_empty_site_is_empty() -> None:
    snapshot = SandboxSite().snapshot()
    assert snapshot["groups"] == snapshot["products"] == snapshot["permission_schemes"] == []
    assert snapshot["detail_fields"] == {"organization": [], "customer": [], "entitlement": []}


def test_the_same_seed_gives_the_same_site(demo_seed: dict[str, Any]) -> None:
    assert SandboxSite(seed=demo_seed).snapshot() == SandboxSite(seed=demo_seed).snapshot()


def test_the_demo_seed_has_the_documented_lookups(demo_seed: dict[str, Any]) -> None:
    snapshot = SandboxSite(seed=demo_seed).snapshot()
    assert {g["name"]: g["id"] for g in snapshot["groups"]} == {
        "jira-servicemanagement-users": "0d3a3d4e-5c52-4f55-9f1e-2f1b3f6f9b1a",
        "jira-administrators": "6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60",
        "service-desk-agents": "b7e4c1d2-8f3a-4b6c-9d0e-7a1b2c3d4e5f",
    }
    assert [p["name"] for p in snapshot["products"]] == ["Gadget", "Acme Widget", "Legacy Widget"]
    roles = {r["name"]: (r["extended_role"], r["granted_rights"]) for r in snapshot["custom_roles"]}
    assert roles["FinanceRole"] == ("user", ["alert-action"]) and "Old role" in roles


def test_writes_persist_before_the_answer_and_a_second_instance_loads_them(
    tmp_path: Path, demo_seed: dict[str, Any]
) -> None:
    state_file = tmp_path / "sandbox.json"
    first = SandboxSite(state_file=state_file, seed=demo_seed)
    assert state_file.exists()
    assert _post_product(first, "Persisted") == 200
    assert "Persisted" in [p["name"] for p in json.loads(state_file.read_text())["products"]]
    # An existing state file wins over the seed.
    second = SandboxSite(state_file=state_file, seed={})
    assert second.snapshot() == first.snapshot()
    assert [p.name for p in tmp_path.iterdir()] == ["sandbox.json"]  # no temporary files left behind


def test_live_instances_on_one_file_see_each_others_writes(tmp_path: Path, demo_seed: dict[str, Any]) -> None:
    state_file = tmp_path / "sandbox.json"
    first = SandboxSite(state_file=state_file, seed=demo_seed)
    second = SandboxSite(state_file=state_file)
    assert _post_product(first, "From first") == 200
    assert "From first" in _product_names(second)
    assert _post_product(second, "From second") == 200
    assert _product_names(first)[-2:] == ["From first", "From second"]


def test_state_persists_across_processes(tmp_path: Path, demo_seed: dict[str, Any]) -> None:
    state_file = tmp_path / "sandbox.json"
    SandboxSite(state_file=state_file, seed=demo_seed)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from werkzeug.test import Client
        from reconciler.sandbox.app import SandboxSite

        site = SandboxSite(state_file=Path(sys.argv[1]))
        path = f"/jsm/csm/cloudid/{site.cloud_id}/api/v1/product"
        headers = {"Authorization": sys.argv[2]}
        answer = Client(site).post(path, json={"name": "From a subprocess"}, headers=headers)
        sys.exit(0 if answer.status_code == 200 else 1)
        """
    )
    subprocess.run([sys.executable, "-c", script, str(state_file), BASIC], check=True, timeout=60)
    assert "From a subprocess" in _product_names(SandboxSite(state_file=state_file))


def test_reset_state_seeds_or_empties(tmp_path: Path, demo_seed: dict[str, Any]) -> None:
    state_file = tmp_path / "sandbox.json"
    reset_state(state_file, DEMO_SEED)
    assert SandboxSite(state_file=state_file).snapshot() == SandboxSite(seed=demo_seed).snapshot()
    json_seed = tmp_path / "seed.json"
    json_seed.write_text(json.dumps({"products": [{"name": "Only"}]}))
    reset_state(state_file, json_seed)
    assert _product_names(SandboxSite(state_file=state_file)) == ["Only"]
    reset_state(state_file, None)
    assert SandboxSite(state_file=state_file).snapshot() == SandboxSite().snapshot()


def test_a_running_site_sees_a_reset(tmp_path: Path, demo_seed: dict[str, Any]) -> None:
    state_file = tmp_path / "sandbox.json"
    site = SandboxSite(state_file=state_file, seed=demo_seed)
    reset_state(state_file, None)
    assert _product_names(site) == []


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (
            {"customRoles": [{"name": "R", "grantedRights": ["fly"], "disallowedRights": ["fly"]}]},
            "both granted and disallowed: fly",
        ),
        ({"detailFields": {"organization": [{"name": "a.b", "type": "TEXT"}]}}, "cannot contain ."),
        ({"teams": [{"name": "T", "roles": [{"name": "r", "granted": ["fly"]}]}]}, "team 'T' role 'r'"),
        (
            {
                "permissionSchemes": [
                    {"name": "S", "grants": [{"permission": "EDIT_ISSUES", "type": "group", "holder": "x"}]}
                ]
            },
            "permission scheme 'S'",
        ),
        ({"organizations": [{"name": "O", "details": {"Nope": ["x"]}}]}, "does not exist"),
        ({"entitlements": [{"product": "Ghost", "organization": "O"}]}, "no product named 'Ghost'"),
        ({"products": [{"nam": "typo"}]}, "invalid sandbox seed"),
        ({"projects": [{"key": "SD", "name": "Service Desk"}]}, "project 'SD': a project needs a permission"),
        (
            {
                "permissionSchemes": [{"name": "S"}],
                "projects": [{"key": "SD", "name": "x", "permissionScheme": "T"}],
            },
            "no permission scheme named 'T'",
        ),
        ({"permissionSchemes": [{"name": "S"}], "projects": [{"key": "sd", "name": "x"}]}, "upper-case"),
        (
            {"permissionSchemes": [{"name": "S"}], "projects": [{"key": "SD", "name": "x"}] * 2},
            "already exists",
        ),
    ],
)
def test_bad_seeds_are_refused_with_a_reason(seed: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError, match=message.replace(".", r"\.")):
        SandboxSite(seed=seed)


def test_seeded_projects_use_their_scheme_or_the_first_one() -> None:
    site = SandboxSite(
        seed={
            "permissionSchemes": [{"name": "Default"}, {"name": "Other"}],
            "projects": [{"key": "AA", "name": "A"}, {"key": "BB", "name": "B", "permissionScheme": "Other"}],
        }
    )
    snapshot = site.snapshot()
    ids = {s["name"]: s["id"] for s in snapshot["permission_schemes"]}
    assert [(p["key"], p["permission_scheme_id"]) for p in snapshot["projects"]] == [
        ("AA", ids["Default"]),
        ("BB", ids["Other"]),
    ]


def test_seed_files_must_be_mappings(tmp_path: Path) -> None:
    bad = tmp_path / "seed.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SeedError, match="mapping"):
        reset_state(tmp_path / "state.json", bad)
    bad.write_text("groups: [\n")
    with pytest.raises(SeedError, match="not valid YAML"):
        reset_state(tmp_path / "state.json", bad)


def test_concurrent_writes_are_all_kept(api: Api) -> None:
    def create(number: int) -> int:
        return api.post(api.csm("/product"), {"name": f"Parallel {number}"}).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(create, range(40))) == {200}
    products = api.site.snapshot()["products"]
    assert len({p["id"] for p in products}) == len(products) == 43


def test_remove_object_removes_that_object_not_an_equal_one() -> None:
    first, twin = Product(id="p", name="Same", seq=1), Product(id="p", name="Same", seq=1)
    products = [first, twin]
    remove_object(products, twin)
    assert products == [first] and products[0] is first
    with pytest.raises(ValueError):
        remove_object(products, twin)
