"""Export (issue 5): round trips through the sandbox, stable output, and safe writing."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import catalogue
from reconciler.address import Address
from reconciler.apply import apply_plan
from reconciler.cli import cli
from reconciler.errors import ConfigError, Severity
from reconciler.export import Outcome, render_export, write_export
from reconciler.kinds.custom_role import CustomRoleKind
from reconciler.kinds.detail_field import DetailFieldKind
from reconciler.kinds.kind import LiveObject, Lookups
from reconciler.kinds.permission_scheme import PermissionSchemeKind
from reconciler.kinds.product import ProductKind
from reconciler.kinds.team_role import TeamRoleKind
from reconciler.live import NO_HOLDERS, LiveState, holders_to_check, read_live_state
from reconciler.manifest.load import load_manifests
from reconciler.plan.build import build_plan
from reconciler.registry import KINDS
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.server import serve_in_thread
from reconciler.site.api import Api
from reconciler.site.config import Credentials
from reconciler.site.http import SiteClient
from reconciler.state import DesiredState

EXPORT_FILES = [kind.export_file for kind in KINDS]
T1 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T2 = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
PAGE = 7  # small pages, so that groups, products and custom roles take many requests
APP_KEY = "com.example.timesheets__LOG_TIME"
TWIN_GROUP = "support staff"
TWIN_IDS = ("a1a1a1a1-0000-4000-8000-000000000001", "a1a1a1a1-0000-4000-8000-000000000002")
TWIN_TEAM_IDS = ("b2b2b2b2-0000-4000-8000-000000000001", "b2b2b2b2-0000-4000-8000-000000000002")
# Names that look like paths, YAML syntax, interpolation, numbers and invisible or odd Unicode: they must
# come back as the same text, and never become a file. Names with a line break or a control character
# cannot be declared: test_names_with_control_characters_are_exported_and_renamed_away.
ODD_NAMES = (
    "../../escape",
    "../products.yaml",
    "/etc/passwd",
    "C:\\Windows\\x",
    "..",
    "a/b",
    "${HOME}",
    "$${literal}",
    "$",
    "yes",
    "No",
    "null",
    "~",
    "2024-01-01",
    "10",
    "1e3",
    "12:30",
    "x\u202ey",
    "zero\u200bwidth",
    "# hash",
    "a: b",
    "a #b",
    " leading",
    "trailing ",
    "Ünïcødé ✓",
    "emoji 😀",
    "'single'",
    '"double"',
    "[x], {y}",
    "- dash",
    "? q",
    "&anchor *alias !tag %pct @at `bt |pipe >gt",
)


def _lookups_seed() -> dict[str, Any]:
    """What the manifests refer to but do not manage; the same ids on every site of a test."""
    groups = [{"name": f"group-{i:02d}", "id": f"c3c3c3c3-0000-4000-8000-{i:012d}"} for i in range(30)]
    groups += [{"name": TWIN_GROUP, "id": group_id} for group_id in TWIN_IDS]
    groups.append({"name": "ops: on-call #1 ${X}", "id": "c3c3c3c3-0000-4000-8000-999999999999"})
    teams: list[dict[str, Any]] = [
        {"name": name, "id": f"d4d4d4d4-0000-4000-8000-{i:012d}"}
        for i, name in enumerate(["Platform SRE", "Customer Support", "Équipe ✓", "a: b", "10", "Net ops"])
    ]
    teams += [{"name": "Twins", "id": team_id} for team_id in TWIN_TEAM_IDS]
    return {
        "groups": groups,
        "projectRoles": [
            {"name": "Administrators", "id": 10002},
            {"name": "Service Desk Team", "id": 10100},
            {"name": "Reviewers: QA #2", "id": 10200},
        ],
        "appPermissions": [{"key": APP_KEY, "type": "PROJECT", "name": "Log time"}],
        "teams": teams,
        "applicationRoles": [{"key": "jira-servicedesk"}],
        "customFields": [
            {"id": "customfield_10050", "name": "Approvers", "type": "multiuserpicker"},
            {"id": "customfield_10051", "name": "Approvers", "type": "multigrouppicker"},  # a shared name
        ],
        "users": [{"accountId": "5b10ac8d82e05b22cc7d4ef5"}],
    }


def rich_seed() -> dict[str, Any]:
    """Every kind and every holder type, with more than 300 objects."""
    seed = _lookups_seed()
    custom_rights = sorted(catalogue.CUSTOM_ROLE_RIGHTS)
    team_rights = list(catalogue.TEAM_ROLE_RIGHTS)
    types = list(catalogue.DETAIL_FIELD_TYPES)
    seed["detailFields"] = {
        entity: [
            {
                "name": f"{entity} field {i:02d}" if i else "Ünïcødé #1 'x'",
                "type": types[i % len(types)],
                # Unsorted on purpose: option order is the user's and must be kept.
                "options": ["Zeta", "alpha", "Émile", "'q' #1"]
                if types[i % len(types)] in catalogue.DETAIL_FIELD_TYPES_WITH_OPTIONS
                else [],
            }
            for i in range(40)
        ]
        for entity in ("organization", "customer", "entitlement")
    }
    seed["products"] = [{"name": f"Product {i:03d}"} for i in range(100)] + [
        {"name": name} for name in ODD_NAMES
    ]
    seed["customRoles"] = [
        {
            "name": f"Role {i:02d}" if i >= len(ODD_NAMES) else f"role {ODD_NAMES[i]}",
            "grantedRights": custom_rights[i % 7 :: 5],
            "disallowedRights": custom_rights[i % 7 + 1 :: 5],
        }
        for i in range(40)
    ]
    for index, team in enumerate(seed["teams"]):
        team["roles"] = [
            {"name": f"role {j} {ODD_NAMES[index + j]}", "granted": team_rights[j : j + index + 1]}
            for j in range(6)
        ]
    holders = [
        {"type": "anyone"},
        {"type": "assignee"},
        {"type": "reporter"},
        {"type": "projectLead"},
        {"type": "sd.customer.portal.only"},
        {"type": "applicationRole"},
        {"type": "applicationRole", "holder": "jira-servicedesk"},
        {"type": "user", "holder": "5b10ac8d82e05b22cc7d4ef5"},
        {"type": "userCustomField", "holder": "customfield_10050"},
        {"type": "groupCustomField", "holder": "customfield_10051"},
        {"type": "group", "holder": "group-03"},
        {"type": "group", "holder": "ops: on-call #1 ${X}"},
        {"type": "group", "holder": TWIN_GROUP},  # ambiguous: the first of the twins
        {"type": "projectRole", "holder": "Service Desk Team"},
        {"type": "projectRole", "holder": "Reviewers: QA #2"},
    ]
    keys = sorted(catalogue.BUILTIN_PERMISSION_KEYS)  # three holders per key, so that holders sort too
    seed["permissionSchemes"] = [
        {
            "name": f"Scheme {i:02d}" if i else "Scheme: ${ODD} #0",
            "description": ["", "Used by all customer service projects", "multi\nline: #"][i % 3],
            "grants": [
                {"permission": keys[(i + j // 3) % len(keys)], **holder} for j, holder in enumerate(holders)
            ]
            + [{"permission": APP_KEY, "type": "projectRole", "holder": "Administrators"}],
        }
        for i in range(20)
    ]
    return seed


@contextmanager
def served(site: SandboxSite) -> Iterator[SiteClient]:
    with serve_in_thread(site) as url:
        credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
        with SiteClient(url, url, credentials) as client:
            yield client


def read(client: SiteClient, desired: DesiredState | None = None) -> LiveState:
    """The site as export reads it, or with `desired` as plan reads it (with the holders it names).
    Both sites of a round trip are "sandbox": the header names the site, and must match for the bytes to."""
    holders = holders_to_check(KINDS, desired) if desired is not None else NO_HOLDERS
    return read_live_state(client, KINDS, site="sandbox", holders=holders)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))}


def errors_of(diagnostics: Any) -> list[str]:
    return [d.format() for d in diagnostics if d.severity is Severity.ERROR]


def test_round_trip_on_a_large_paginated_site(tmp_path: Path) -> None:
    source = SandboxSite(seed=rich_seed(), knobs=Knobs(max_page_size=PAGE, record_calls=True))
    repo = tmp_path / "repo" / "manifests"
    with served(source) as client:
        # The second twin group holds a grant too: only the API can say which twin it means.
        scheme_id = next(s["id"] for s in source.snapshot()["permission_schemes"] if s["name"] == "Scheme 01")
        grant = {"permission": "EDIT_ISSUES", "holder": {"type": "group", "value": TWIN_IDS[1]}}
        client.request(Api.JIRA, "POST", f"/permissionscheme/{scheme_id}/permission", json_body=grant)
        source.calls.clear()
        live = read(client)
    for listing in ("/group/bulk", "/product", "/v1/roles"):
        pages = [c for c in source.calls if c.method == "GET" and c.path.endswith(listing)]
        assert len(pages) > 3, listing
    count = sum(len(objects) for objects in live.objects.values())
    assert count >= 300

    exported = render_export(live, KINDS, exported_at=T1)
    assert not exported.warnings
    assert sum(exported.counts.values()) == count
    written = write_export(exported.files, repo, force=False)
    assert [(p.name, o) for p, o in written] == [(name, Outcome.WROTE) for name in EXPORT_FILES]
    # Object names that look like paths stay inside the YAML: nothing but the five files exists.
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == sorted(
        [
            "repo",
            "repo/manifests",
            *(f"repo/manifests/{name}" for name in EXPORT_FILES),
        ]
    )
    schemes = (repo / "permission-schemes.yaml").read_text(encoding="utf-8")
    assert f"{{type: group, value: {TWIN_IDS[0]}}}" in schemes
    assert f"{{type: group, value: {TWIN_IDS[1]}}}" in schemes
    assert "'group:ops: on-call #1 $${X}'" in schemes
    assert "projectRole:Service Desk Team" in schemes
    # Custom field holders by id: two fields share the name, and plan checks the id on the site.
    assert "userCustomField:customfield_10050" in schemes and "groupCustomField:customfield_10051" in schemes
    teams = (repo / "team-roles.yaml").read_text(encoding="utf-8")
    assert f"team: {TWIN_TEAM_IDS[0]}" in teams
    assert "team: Platform SRE" in teams
    assert '"x\\u202Ey"' in (repo / "products.yaml").read_text(encoding="utf-8")
    first = snapshot(repo)

    desired, diagnostics = load_manifests([repo], KINDS, environ={})
    assert diagnostics == []
    assert len(desired.objects) == count
    with served(source) as client:
        plan = build_plan(desired, read(client, desired), KINDS)
    assert errors_of(plan.diagnostics) == []
    assert plan.changes == ()
    assert plan.unmanaged == ()

    target = SandboxSite(seed=_lookups_seed(), knobs=Knobs(max_page_size=PAGE))
    with served(target) as client:
        creation = build_plan(desired, read(client, desired), KINDS)
        assert errors_of(creation.diagnostics) == []
        assert len(creation.changes) == count
        assert apply_plan(creation, client, parallelism=8).ok
        again = read(client)
        assert build_plan(desired, read(client, desired), KINDS).changes == ()

    # A later re-export into the same repository: nothing changed, so nothing is rewritten, date included.
    rewritten = write_export(render_export(again, KINDS, exported_at=T2).files, repo, force=True)
    assert {o for _, o in rewritten} == {Outcome.UNCHANGED}
    assert snapshot(repo) == first
    # And an export made at the same moment into a fresh directory is the same bytes.
    fresh = tmp_path / "fresh"
    write_export(render_export(again, KINDS, exported_at=T1).files, fresh, force=False)
    assert snapshot(fresh) == first


def test_names_with_control_characters_are_exported_and_renamed_away(tmp_path: Path) -> None:
    seed = {**_lookups_seed(), "products": [{"name": "multi\nline"}, {"name": "Plain"}]}
    seed["teams"][0]["roles"] = [{"name": "tab\tx", "granted": ["access-reports"]}]
    with served(SandboxSite(seed=seed)) as client:
        live = read(client)
        write_export(render_export(live, KINDS, exported_at=T1).files, tmp_path, force=False)
        products = (tmp_path / "products.yaml").read_text(encoding="utf-8")
        teams = (tmp_path / "team-roles.yaml").read_text(encoding="utf-8")
        assert '- name: "multi\\nline"' in products
        assert '- name: "tab\\tx"' in teams
        _, diagnostics = load_manifests([tmp_path], KINDS, environ={})
        assert sorted((d.code, d.address) for d in diagnostics) == [
            ("manifest.control_character", "products/multi\nline"),
            ("manifest.control_character", "teamRoles/Platform SRE/tab\tx"),
        ]
        # An earlier name only has to match the site, so the manifests can rename such objects.
        products = products.replace(
            '- name: "multi\\nline"', '- name: multi line\n    renamedFrom: ["multi\\nline"]'
        )
        teams = teams.replace('- name: "tab\\tx"', '- name: tab x\n        renamedFrom: ["tab\\tx"]')
        (tmp_path / "products.yaml").write_text(products, encoding="utf-8")
        (tmp_path / "team-roles.yaml").write_text(teams, encoding="utf-8")
        desired, diagnostics = load_manifests([tmp_path], KINDS, environ={})
        assert diagnostics == []
        plan = build_plan(desired, live, KINDS)
        assert sorted((c.action.value, str(c.address)) for c in plan.changes) == [
            ("rename", "products/multi line"),
            ("rename", "teamRoles/Platform SRE/tab x"),
        ]
        assert apply_plan(plan, client, parallelism=2).ok
        assert build_plan(desired, read(client), KINDS).changes == ()


def test_the_date_changes_only_with_the_content(tmp_path: Path) -> None:
    live = LiveState("sandbox", Lookups(), {"products": (_product("Acme Widget"),)})
    write_export(render_export(live, KINDS, exported_at=T1).files, tmp_path, force=False)
    before = (tmp_path / "products.yaml").read_bytes()
    assert b"# Exported at: 2025-01-02T03:04:05Z" in before

    same = write_export(render_export(live, KINDS, exported_at=T2).files, tmp_path, force=True)
    assert same == [(tmp_path / "products.yaml", Outcome.UNCHANGED)]
    assert (tmp_path / "products.yaml").read_bytes() == before

    grown = LiveState("sandbox", Lookups(), {"products": (_product("Acme Widget"), _product("Acme Gadget"))})
    changed = write_export(render_export(grown, KINDS, exported_at=T2).files, tmp_path, force=True)
    assert changed == [(tmp_path / "products.yaml", Outcome.WROTE)]
    text = (tmp_path / "products.yaml").read_text(encoding="utf-8")
    assert "# Exported at: 2025-06-07T08:09:10Z" in text
    assert text.index("Acme Gadget") < text.index("Acme Widget")

    other_site = LiveState("https://other.atlassian.net", Lookups(), grown.objects)
    moved = write_export(render_export(other_site, KINDS, exported_at=T1).files, tmp_path, force=True)
    assert moved == [(tmp_path / "products.yaml", Outcome.WROTE)]


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "products.yaml").write_text("# mine\n", encoding="utf-8")
    live = LiveState("sandbox", Lookups(), {"products": (_product("A"),), "customRoles": ()})
    files = render_export(live, KINDS, exported_at=T1).files
    with pytest.raises(ConfigError, match=r"exist.*--force.*products\.yaml"):
        write_export(files, tmp_path, force=False)
    # All or nothing: the file that did not exist was not written either.
    assert snapshot(tmp_path) == {"products.yaml": b"# mine\n"}
    write_export(files, tmp_path, force=True)
    assert sorted(snapshot(tmp_path)) == ["custom-roles.yaml", "products.yaml"]
    assert "customRoles: []" in (tmp_path / "custom-roles.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name",
    [
        "../x.yaml",
        "../../x.yaml",
        "/tmp/x.yaml",
        "sub/x.yaml",
        "..",
        ".hidden.yaml",
        "x\u202e.yaml",
        "é.yaml",
    ],
)
def test_never_writes_outside_out(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="refusing to write"):
        write_export({"products.yaml": "version: 1\n", name: "version: 1\n"}, out, force=True)
    assert snapshot(tmp_path) == {}


def test_never_follows_a_link_out_of_out(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.yaml"
    out.mkdir()
    outside.write_text("precious\n", encoding="utf-8")
    (out / "products.yaml").symlink_to(outside)
    with pytest.raises(ConfigError, match="leads outside"):
        write_export({"products.yaml": "version: 1\n"}, out, force=True)
    assert outside.read_text(encoding="utf-8") == "precious\n"


def test_twins_are_declared_once_with_a_warning() -> None:
    twins = (_product("Gadget", "p1"), _product("Gadget", "p2"))
    exported = render_export(LiveState("sandbox", Lookups(), {"products": twins}), KINDS, exported_at=T1)
    assert exported.files["products.yaml"].count("- name: Gadget") == 1
    assert exported.warnings == [
        "products/Gadget: 2 objects on the site share this name and a manifest declares it once; "
        "remove the twins on the site (ids p1, p2)"
    ]


def test_extended_role_is_written_when_not_user(tmp_path: Path) -> None:
    seed = {
        "customRoles": [
            {"name": "Watcher", "extendedRole": "observer", "grantedRights": ["alert-action"]},
            {"name": "Plain", "extendedRole": "user"},
        ]
    }
    with served(SandboxSite(seed=seed)) as client:
        live = read(client)
    write_export(render_export(live, KINDS, exported_at=T1).files, tmp_path, force=False)
    text = (tmp_path / "custom-roles.yaml").read_text(encoding="utf-8")
    assert "  - name: Watcher\n    extendedRole: observer\n" in text
    assert text.count("extendedRole:") == 1
    desired, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    assert diagnostics == []
    plan = build_plan(desired, live, KINDS)
    assert (plan.changes, plan.diagnostics) == ((), ())
    # On a new site the API creates a `user` role: plan says so, since no request can change it.
    with served(SandboxSite()) as client:
        apply_plan(build_plan(desired, read(client), KINDS), client)
        after = build_plan(desired, read(client), KINDS)
    assert after.changes == ()
    assert [d.code for d in after.diagnostics] == ["plan.extended_role"]


def _product(name: str, server_id: str = "1") -> LiveObject:
    return ProductKind()._live({"id": server_id, "name": name})


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
# Names the tool writes are one line: no control characters (manifest.control_character).
one_line = st.characters(codec="utf-8", exclude_categories=["Cc"], exclude_characters="\u2028\u2029")
written_names = st.text(one_line, min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    product=written_names.filter(lambda n: bool(n.strip())),
    field=written_names.filter(lambda n: catalogue.detail_field_name_problem(n) is None),
    option=written_names.filter(lambda n: catalogue.detail_field_option_problem(n) is None),
    group=names,
    team=names,
    text=written_names,
    free=names,
)
def test_any_text_comes_back_the_same(
    product: str, field: str, option: str, group: str, team: str, text: str, free: str
) -> None:
    """Whatever the names hold, the loader reads the export as the same site: plan has no changes."""
    team_id = "e5e5e5e5-0000-4000-8000-000000000001"
    lookups = Lookups(
        teams={team_id: team},
        groups={"g1": group},
        project_roles={"10": free},
        permission_keys=frozenset(),
        users=frozenset({free}),
    )
    grants = [
        {
            "id": 1,
            "permission": "BROWSE_PROJECTS",
            "holder": {"type": "group", "parameter": group, "value": "g1"},
        },
        {
            "id": 2,
            "permission": "EDIT_ISSUES",
            "holder": {"type": "projectRole", "parameter": "10", "value": "10"},
        },
        {
            "id": 3,
            "permission": "ASSIGN_ISSUES",
            "holder": {"type": "user", "parameter": free, "value": free},
        },
    ]
    objects: Mapping[str, tuple[LiveObject, ...]] = {
        "products": (_product(product),),
        "detailFields": (_detail_field(field, option),),
        "customRoles": (
            CustomRoleKind()._live({"id": "r", "name": text, "grantedRights": ["alert-action"]}),
        ),
        "teamRoles": (TeamRoleKind()._live(team_id, team, {"id": "t", "name": text, "rights": []}),),
        "permissionSchemes": (
            PermissionSchemeKind()._live(
                {"id": 5, "name": product, "description": free, "permissions": grants}, lookups
            ),
        ),
    }
    live = LiveState("sandbox", lookups, objects)
    with tempfile.TemporaryDirectory() as directory:
        write_export(render_export(live, KINDS, exported_at=T1).files, Path(directory), force=False)
        desired, diagnostics = load_manifests([Path(directory)], KINDS, environ={})
    assert diagnostics == []
    plan = build_plan(desired, live, KINDS)
    assert (plan.changes, errors_of(plan.diagnostics)) == ((), [])


def _detail_field(name: str, option: str) -> LiveObject:
    # DetailFieldKind.read builds its objects inline; this is the object it builds for such a field.
    essence = {"name": name, "type": "SELECT", "options": [option]}
    address = Address("detailFields", "organization", name)
    return LiveObject(address, DetailFieldKind().identity("organization", name), essence, name)


def test_cli_export_end_to_end(tmp_path: Path) -> None:
    state, out = tmp_path / "state.json", tmp_path / "manifests"
    env = {"JSM_SITE": "sandbox", "JSM_SANDBOX_STATE": str(state), "JSM_EMAIL": "", "JSM_API_TOKEN": ""}
    runner = CliRunner(env=env)
    seed = Path(__file__).resolve().parents[2] / "examples" / "sandbox-seed.yaml"
    assert runner.invoke(cli, ["sandbox", "reset", "--seed", str(seed)]).exit_code == 0

    first = runner.invoke(cli, ["export", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert sorted(os.listdir(out)) == sorted(EXPORT_FILES)
    assert f"wrote  {out / 'products.yaml'}  (3 object(s))" in first.output
    plan = runner.invoke(cli, ["plan", "--detailed-exitcode", str(out)])
    assert plan.exit_code == 0, plan.output

    refused = runner.invoke(cli, ["export", "--out", str(out)])
    assert refused.exit_code == 1
    assert "pass --force" in refused.output
    again = runner.invoke(cli, ["export", "--out", str(out), "--force"])
    assert again.exit_code == 0, again.output
    assert again.output.count("unchanged") == len(KINDS)

    only = tmp_path / "only"
    schema = "../schemas/manifest.schema.json"
    some = runner.invoke(
        cli, ["export", "--out", str(only), "--kind", "products", "--kind", "teamRoles", "--schema", schema]
    )
    assert some.exit_code == 0, some.output
    assert sorted(os.listdir(only)) == ["products.yaml", "team-roles.yaml"]
    assert (
        (only / "products.yaml")
        .read_text(encoding="utf-8")
        .startswith(f"# yaml-language-server: $schema={schema}\n")
    )


GITOPS = Path(__file__).resolve().parents[2] / "examples" / "gitops"


def test_the_gitops_example_manifests_are_an_export() -> None:
    desired, diagnostics = load_manifests([GITOPS / "manifests"], KINDS, environ={})
    assert diagnostics == []
    assert desired.objects
    assert sorted(p.name for p in (GITOPS / "manifests").iterdir()) == sorted(EXPORT_FILES)
    for path in (GITOPS / "manifests").iterdir():
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=https://")


def test_the_gitops_example_workflow_passes_the_action_checks(tmp_path: Path) -> None:
    workflow = GITOPS / ".github" / "workflows" / "jsm.yml"
    tools = Path(sys.executable).parent
    schema = [str(tools / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)]
    assert subprocess.run(schema, capture_output=True, check=False).returncode == 0
    # The policy of the action's own checks: every action pinned to a commit, except the example's `uses:`
    # of this action, a placeholder that the workflow's comment says to pin.
    config = tmp_path / "zizmor.yml"
    config.write_text(
        "rules:\n  unpinned-uses:\n    config:\n      policies:\n"
        '        "jsm-reconciler/jsm-reconciler": ref-pin\n        "*": hash-pin\n',
        encoding="utf-8",
    )
    audit = [str(tools / "zizmor"), "--offline", "--min-severity", "medium", "--config", str(config)]
    result = subprocess.run([*audit, str(workflow)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
