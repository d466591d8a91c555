"""Hostile input through the CLI: YAML bombs, huge and deeply nested documents fail fast with a clear
error and no request to the site; export writes only its own files, whatever the site's objects are named."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.registry import KINDS
from tests.reliability.conftest import Ran, Served, plan_keys, site_env

EXPORT_FILES = [kind.export_file for kind in KINDS]

FAST_S = 5.0


def alias_bomb() -> str:
    lines = ["version: 1", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def deep(levels: int) -> str:
    return "version: 1\nproducts: " + "[" * levels + "]" * levels + "\n"


def huge() -> str:
    row = "  - name: Product number {:07d} with a long enough name to fill the line\n"
    return "version: 1\nproducts:\n" + "".join(row.format(i) for i in range(150_000))  # > 10 MB


HOSTILE = {
    "alias-bomb": (alias_bomb, "aliases expand to more than"),
    "deep-nesting": (lambda: deep(5000), "nested more than"),
    "ten-megabytes": (huge, "larger than"),
}


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_yaml_fails_fast_with_a_clear_error_and_no_request(
    name: str,
    command: str,
    serve: Callable[[dict[str, Any]], Served],
    run_cli: Callable[..., Ran],
    tmp_path: Path,
) -> None:
    make, message = HOSTILE[name]
    served = serve({})
    manifests = tmp_path / "m"
    manifests.mkdir()
    text = make()
    (manifests / "bad.yaml").write_text(text, encoding="utf-8")
    if name == "ten-megabytes":
        assert len(text.encode()) > 10 * 1024 * 1024
    started = time.monotonic()
    ran = run_cli(site_env(served.url), command, str(manifests))
    elapsed = time.monotonic() - started
    ran.assert_clean()
    assert ran.code == 1, ran.output
    assert "bad.yaml:" in ran.output and message in ran.output, ran.output
    assert elapsed < FAST_S, elapsed
    assert served.site.calls == []


HOSTILE_NAMES = [
    "../../escaped",
    "/etc/passwd",
    "..",
    "C:\\Windows\\system32",
    "name\u202ereversed",
    "zero\u200bwidth",
    "ｆｕｌｌｗｉｄｔｈ",
    "emoji 🚀 launch",
    "new\nline",
    "tab\tand ${HOME} and $${x}",
    "&anchor *alias !!python/object",
    "- list looking",
    "yes",
    "0x1F",
]


def test_export_writes_only_its_own_files_whatever_the_names_on_the_site(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    seed = {
        "products": [{"name": n} for n in HOSTILE_NAMES],
        "customRoles": [
            {"name": n.replace("\n", " "), "grantedRights": ["alert-action"]} for n in HOSTILE_NAMES
        ],
        # Project names land in YAML comments: a line break there must not end the comment.
        "permissionSchemes": [{"name": "Scheme"}],
        "projects": [{"key": f"P{i}", "name": n} for i, n in enumerate(HOSTILE_NAMES)],
    }
    served = serve(seed)
    env = site_env(served.url)
    work = tmp_path / "work"
    out = work / "out"
    work.mkdir()
    ran = run_cli(env, "export", "--out", str(out))
    ran.assert_clean()
    assert ran.code == 0, ran.output
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert everything == [
        "work",
        "work/out",
        "work/out/custom-roles.yaml",
        "work/out/detail-fields.yaml",
        "work/out/permission-schemes.yaml",
        "work/out/products.yaml",
        "work/out/projects.yaml",
        "work/out/team-roles.yaml",
    ]
    # The names land inside YAML and come back exactly. A name with a line break or a control character
    # cannot be declared, so validate points at each of those; without them, plan has nothing to do.
    refused = run_cli(env, "validate", str(out))
    assert refused.code == 1
    assert sorted(re.findall(r"error\[([a-z_.]+)\]", refused.output)) == ["manifest.control_character"] * 3
    products = yaml.safe_load((out / "products.yaml").read_text(encoding="utf-8"))
    roles = yaml.safe_load((out / "custom-roles.yaml").read_text(encoding="utf-8"))
    for document, kind in ((products, "products"), (roles, "customRoles")):
        document[kind] = [item for item in document[kind] if not re.search(r"[\x00-\x1f]", item["name"])]
    assert len(products["products"]) + len(roles["customRoles"]) == 2 * len(HOSTILE_NAMES) - 3
    (out / "products.yaml").write_text(yaml.safe_dump(products, allow_unicode=True), encoding="utf-8")
    (out / "custom-roles.yaml").write_text(yaml.safe_dump(roles, allow_unicode=True), encoding="utf-8")
    assert plan_keys(run_cli, env, out) == []


@pytest.mark.parametrize("schema", ["../../outside.json", "/etc/schema.json", "sub/../../x.json"])
def test_export_schema_reference_cannot_point_out_of_the_tree(
    schema: str, serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    served = serve({})
    ran = run_cli(site_env(served.url), "export", "--out", str(tmp_path / "out"), "--schema", schema)
    ran.assert_clean()
    # Refused, or accepted only as text inside the files: never a file written elsewhere.
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(w.startswith("out/") for w in written), written
    if ran.code == 0:
        assert len(written) == len(EXPORT_FILES)
