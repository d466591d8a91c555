"""The command line end to end: exit codes, refusals before any write, saved plans, credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.site.api import Api
from tests.e2e.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-token-7f3e9b2c"


def run(harness: Harness, *args: str, token: str = SANDBOX_API_TOKEN, **env: str) -> Result:
    environment = {
        "JSM_SITE": harness.url,
        "JSM_API_BASE": harness.url,
        "JSM_EMAIL": SANDBOX_EMAIL,
        "JSM_API_TOKEN": token,
        "JSM_OAUTH_TOKEN": "",
        "GITHUB_ACTIONS": "",
        **env,
    }
    return CliRunner().invoke(cli, ["--no-color", *args], env=environment, catch_exceptions=False)


@pytest.fixture
def products(harness_factory: Any) -> Harness:
    harness: Harness = harness_factory({"products": [{"name": "Keep"}, {"name": "Old"}]})
    harness.write("settings:\n  prune: [products]\nproducts:\n  - name: Keep\n  - name: New\n")
    return harness


def test_plan_exit_codes(products: Harness) -> None:
    assert run(products, "plan", str(products.manifests)).exit_code == 0
    detailed = run(products, "plan", "--detailed-exitcode", str(products.manifests))
    assert detailed.exit_code == 2
    assert "Plan: 1 to create, 0 to update, 0 to rename, 0 to replace, 1 to delete." in detailed.output
    products.converge()
    assert run(products, "plan", "--detailed-exitcode", str(products.manifests)).exit_code == 0


def test_plan_json_follows_the_contract(products: Harness) -> None:
    result = run(products, "plan", "--format", "json", str(products.manifests))
    data = json.loads(result.stdout)
    assert data["formatVersion"] == 1
    assert data["summary"] == {"create": 1, "update": 0, "rename": 0, "replace": 0, "delete": 1}
    assert [(c["action"], c["address"], c["destructive"]) for c in data["changes"]] == [
        ("delete", "products/Old", True),
        ("create", "products/New", False),
    ]
    assert data["changes"][1]["after"] == {"name": "New"} and data["changes"][1]["before"] is None


def test_invalid_manifest_stops_before_any_request(products: Harness) -> None:
    products.write("products:\n  - nmae: Typo\n", name="bad.yaml")
    products.site.calls.clear()
    result = run(products, "plan", str(products.manifests))
    assert result.exit_code == 1
    assert "bad.yaml:3:5: error[manifest.unknown_key]" in result.stderr
    assert products.site.calls == []
    assert run(products, "validate", str(products.manifests)).exit_code == 1


def test_apply_refuses_deletes_without_allow_delete_before_any_write(products: Harness) -> None:
    products.site.calls.clear()
    result = run(products, "apply", "--auto-approve", str(products.manifests))
    assert result.exit_code == 1
    assert "--allow-delete" in result.stderr and "- products/Old" in result.stderr
    assert products.writes() == []


def test_apply_refuses_when_not_interactive_without_auto_approve(products: Harness) -> None:
    result = run(products, "apply", "--allow-delete", str(products.manifests))
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert products.writes() == []


def test_apply_then_converged(products: Harness) -> None:
    result = run(products, "apply", "--auto-approve", "--allow-delete", str(products.manifests))
    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 applied, 0 failed, 0 skipped." in result.stdout
    assert run(products, "plan", "--detailed-exitcode", str(products.manifests)).exit_code == 0


def test_target_limits_plan_and_apply(products: Harness) -> None:
    result = run(products, "plan", "--format", "json", "--target", "products/New", str(products.manifests))
    assert [c["address"] for c in json.loads(result.stdout)["changes"]] == ["products/New"]
    applied = run(products, "apply", "--auto-approve", "--target", "products/New", str(products.manifests))
    assert applied.exit_code == 0, applied.output
    names = sorted(p["name"] for p in products.site.snapshot()["products"])
    assert names == ["Keep", "New", "Old"]
    assert run(products, "plan", "--target", "nonsense", str(products.manifests)).exit_code == 1


def test_a_target_that_matches_nothing_is_an_error_once(products: Harness) -> None:
    result = run(products, "plan", "--target", "products/Nwe", str(products.manifests))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "products/Nwe" in line]
    assert lines == [
        "error[plan.target]: products/Nwe: --target matches no object in the manifests or on the site;"
        " did you mean 'products/New'?"
    ]
    applied = run(products, "apply", "--auto-approve", "--target", "products/Nwe", str(products.manifests))
    assert applied.exit_code == 1
    assert sorted(p["name"] for p in products.site.snapshot()["products"]) == ["Keep", "Old"]


def test_a_target_without_changes_is_fine(products: Harness) -> None:
    result = run(
        products, "plan", "--detailed-exitcode", "--target", "products/Keep", str(products.manifests)
    )
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output and "plan.target" not in result.output


def test_a_whole_kind_is_a_target(products: Harness) -> None:
    result = run(products, "plan", "--format", "json", "--target", "products", str(products.manifests))
    assert [c["address"] for c in json.loads(result.stdout)["changes"]] == ["products/Old", "products/New"]
    assert run(products, "plan", "--target", "customRoles", str(products.manifests)).exit_code == 0


def test_saved_plan_applies_exactly_and_refuses_when_stale(products: Harness, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run(products, "plan", "--out", str(saved), str(products.manifests)).exit_code == 0
    assert CANARY not in saved.read_text() and SANDBOX_API_TOKEN not in saved.read_text()
    # Someone renames the product the plan deletes: the plan no longer describes the site.
    old = next(p for p in products.site.snapshot()["products"] if p["name"] == "Old")
    with products.client() as client:
        client.request(Api.CSM, "PUT", f"/product/{old['id']}", json_body={"name": "Old renamed"})
    products.site.calls.clear()
    stale = run(products, "apply", "--plan", str(saved), "--auto-approve", "--allow-delete")
    assert stale.exit_code == 1
    assert "the site changed since the plan was made" in stale.stderr and "products/Old" in stale.stderr
    assert products.writes() == []

    fresh = tmp_path / "fresh.json"
    assert run(products, "plan", "--out", str(fresh), str(products.manifests)).exit_code == 0
    applied = run(products, "apply", "--plan", str(fresh), "--auto-approve", "--allow-delete")
    assert applied.exit_code == 0, applied.output
    assert run(products, "plan", "--detailed-exitcode", str(products.manifests)).exit_code == 0

    products.site.calls.clear()
    again = run(products, "apply", "--plan", str(fresh), "--auto-approve", "--allow-delete")
    assert again.exit_code == 1
    assert "the plan was probably applied already" in again.stderr
    assert products.writes() == []


def test_edited_saved_plan_is_refused(products: Harness, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    run(products, "plan", "--out", str(saved), str(products.manifests))
    data = json.loads(saved.read_text())
    data["changes"][1]["after"]["name"] = "Sneaky"
    saved.write_text(json.dumps(data))
    result = run(products, "apply", "--plan", str(saved), "--auto-approve", "--allow-delete")
    assert result.exit_code == 1 and "checksum" in result.stderr
    saved.write_text("{not json")
    assert "not a plan saved by" in run(products, "apply", "--plan", str(saved)).stderr


def test_wrong_token_is_a_clear_error_and_never_printed(products: Harness) -> None:
    result = run(products, "-v", "plan", str(products.manifests), token=CANARY)
    assert result.exit_code == 1
    assert "401" in result.stderr and "JSM_API_TOKEN" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert CANARY not in result.output + result.stderr


def test_http_to_a_remote_host_is_refused(products: Harness) -> None:
    result = run(products, "plan", str(products.manifests), JSM_SITE="http://example.com")
    assert result.exit_code == 1 and "plain http:// is refused" in result.stderr


def test_embedded_sandbox_persists_across_processes(tmp_path: Path) -> None:
    """The README's path: no JSM_SITE, state in a file, separate processes for each command."""
    env = {
        **os.environ,
        "JSM_SANDBOX_STATE": str(tmp_path / "state.json"),
        "JSM_JOURNAL": str(tmp_path / "journal.jsonl"),  # not in the repository, where this runs
        "NO_COLOR": "1",
    }
    for name in (
        "JSM_SITE",
        "JSM_API_BASE",
        "JSM_EMAIL",
        "JSM_API_TOKEN",
        "JSM_OAUTH_TOKEN",
        "GITHUB_ACTIONS",
    ):
        env.pop(name, None)

    def cli_process(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "reconciler", *args]
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert cli_process("sandbox", "reset", "--seed", "examples/sandbox-seed.yaml").returncode == 0
    first = cli_process("plan", "--detailed-exitcode", "examples/manifests")
    assert first.returncode == 2, first.stderr
    assert "Using the embedded sandbox site" in first.stderr
    applied = cli_process("apply", "--auto-approve", "--allow-delete", "examples/manifests")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = cli_process("plan", "--detailed-exitcode", "examples/manifests")
    assert again.returncode == 0, again.stdout
    assert "No changes." in again.stdout


def test_a_saved_plan_with_errors_stays_refused(harness_factory: Any, tmp_path: Path) -> None:
    products = [{"name": f"Product {i:02}"} for i in range(10)]
    harness: Harness = harness_factory({"products": products})
    harness.write("settings:\n  prune: [products]\n  thresholds: {maxDeletePercent: 10}\nproducts: []\n")
    saved = tmp_path / "plan.json"
    assert run(harness, "plan", "--out", str(saved), str(harness.manifests)).exit_code == 1
    result = run(harness, "apply", "--plan", str(saved), "--auto-approve", "--allow-delete")
    assert result.exit_code == 1 and "plan.threshold" in result.output + result.stderr
    assert harness.writes() == []


def test_apply_refuses_a_replace_without_allow_delete(harness_factory: Any) -> None:
    """A TEXT field that becomes a SELECT is replaced, erasing its values: no delete in the plan, and still
    nothing is written without --allow-delete."""
    harness: Harness = harness_factory({"detailFields": {"customer": [{"name": "Tier", "type": "TEXT"}]}})
    harness.write("detailFields:\n  customer:\n    - {name: Tier, type: SELECT, options: [Gold, Silver]}\n")
    harness.site.calls.clear()
    refused = run(harness, "apply", "--auto-approve", str(harness.manifests))
    assert refused.exit_code == 1
    assert "--allow-delete" in refused.stderr and "-/+ detailFields.customer/Tier" in refused.stderr
    assert harness.writes() == []
    applied = run(harness, "apply", "--auto-approve", "--allow-delete", str(harness.manifests))
    assert applied.exit_code == 0, applied.output
    assert run(harness, "plan", "--detailed-exitcode", str(harness.manifests)).exit_code == 0


def test_a_saved_plan_is_refused_on_another_site(harness_factory: Any, tmp_path: Path) -> None:
    """Two sites alike, and a plan that only creates: no fingerprint can disagree, the site check refuses."""
    staging: Harness = harness_factory({"products": [{"name": "Keep"}]})
    production: Harness = harness_factory({"products": [{"name": "Keep"}]})
    staging.write("products:\n  - name: Keep\n  - name: New\n")
    saved = tmp_path / "plan.json"
    assert run(staging, "plan", "--out", str(saved), str(staging.manifests)).exit_code == 0
    production.site.calls.clear()
    refused = run(production, "apply", "--plan", str(saved), "--auto-approve")
    assert refused.exit_code == 1
    assert f"the plan was made for {staging.url}, not {production.url}; nothing was applied" in refused.stderr
    assert production.writes() == []
    applied = run(staging, "apply", "--plan", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert run(staging, "plan", "--detailed-exitcode", str(staging.manifests)).exit_code == 0


PYTHON_NAMES = ("KeyError", "JSONDecodeError", "AttributeError", "TypeError", "ValidationError", "Traceback")


def run_local(tmp_path: Path, *args: str) -> Result:
    """The CLI on the embedded sandbox, with its state file in tmp_path."""
    environment = {"JSM_SITE": "", "JSM_SANDBOX_STATE": str(tmp_path / "state.json"), "GITHUB_ACTIONS": ""}
    return CliRunner().invoke(cli, ["--no-color", *args], env=environment, catch_exceptions=False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"formatVersion": 1}', "plan.json: not a plan saved by `plan --out`: the key 'changes' is missing"),
        ("nope", "plan.json:1:1: not a plan saved by `plan --out`: not JSON (Expecting value)"),
        ("[1]", "plan.json: not a plan saved by `plan --out`: a plan is one JSON object"),
        (
            '{"formatVersion": 2}',
            "plan.json: not a plan saved by `plan --out`: unsupported plan formatVersion 2",
        ),
        (
            '{"formatVersion": 1, "site": "sandbox", "changes": 7, "kinds": [], "touches": {}}',
            "plan.json: not a plan saved by `plan --out`: a value has the wrong type",
        ),
    ],
)
def test_a_broken_plan_file_is_named_without_python_names(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "plan.json").write_text(content, encoding="utf-8")
    result = run_local(tmp_path, "apply", "--plan", str(tmp_path / "plan.json"), "--auto-approve")
    assert result.exit_code == 1
    assert message in result.stderr
    assert not [name for name in PYTHON_NAMES if name in result.output]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("garbage", "state.json: not a sandbox state file (the whole file: Invalid JSON"),
        ('{"cloudId": 3}', "state.json: not a sandbox state file (cloudId: Extra inputs are not permitted)"),
    ],
)
def test_a_broken_sandbox_state_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "state.json").write_text(content, encoding="utf-8")
    (tmp_path / "m.yaml").write_text("version: 1\n", encoding="utf-8")
    result = run_local(tmp_path, "plan", str(tmp_path / "m.yaml"))
    assert result.exit_code == 1
    assert message in result.stderr and "sandbox reset" in result.stderr
    assert not [name for name in PYTHON_NAMES if name in result.output]


def test_a_sandbox_state_path_that_cannot_be_a_file_is_named_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    (tmp_path / "m.yaml").write_text("version: 1\n", encoding="utf-8")
    state = tmp_path / "afile" / "s.json"
    environment = {"JSM_SITE": "", "JSM_SANDBOX_STATE": str(state), "GITHUB_ACTIONS": ""}
    planned = CliRunner().invoke(
        cli, ["plan", str(tmp_path / "m.yaml")], env=environment, catch_exceptions=False
    )
    assert planned.exit_code == 1
    assert planned.stderr == (
        f"Error: JSM_SANDBOX_STATE {state}: {tmp_path / 'afile'} is not a directory; "
        "choose another JSM_SANDBOX_STATE\n"
    )

    def served(*_: object, **__: object) -> None:
        raise AssertionError("served a site whose state file cannot be written")

    monkeypatch.setattr("reconciler.cli.sandbox.serve_forever", served)
    serve = run_local(tmp_path, "sandbox", "serve", "--port", "0", "--state", str(state))
    assert serve.exit_code == 1
    assert f"Error: --state {state}: {tmp_path / 'afile'} is not a directory; choose another --state" in (
        serve.stderr
    )


def test_sandbox_reset_names_a_state_path_that_cannot_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    state = tmp_path / "afile" / "x.json"
    result = run_local(tmp_path, "sandbox", "reset", "--state", str(state))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: --state {state}: {tmp_path / 'afile'} is not a directory; choose another --state\n"
    )


def test_broken_seeds_are_named(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"products": [{"nam": 1}]}', encoding="utf-8")
    invalid = run_local(tmp_path, "sandbox", "reset", "--seed", str(seed))
    assert invalid.exit_code == 1
    assert "seed.json: invalid sandbox seed: products.0.name: Field required" in invalid.stderr
    missing = run_local(tmp_path, "sandbox", "reset", "--seed", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "nope.yaml: no such seed file" in missing.stderr
    for result in (invalid, missing):
        assert not [name for name in PYTHON_NAMES if name in result.output]
        assert "pydantic" not in result.output and "Errno" not in result.output


def test_a_manifest_given_as_a_seed_is_named_as_such(tmp_path: Path) -> None:
    seed = tmp_path / "site.yaml"
    seed.write_text("version: 1\nproducts: [{name: A}]\n", encoding="utf-8")
    result = run_local(tmp_path, "sandbox", "reset", "--seed", str(seed))
    assert result.exit_code == 1
    assert f"{seed}: invalid sandbox seed: unknown top-level key(s) 'version': a seed" in result.stderr
    assert "not manifests" in result.stderr and "Extra inputs" not in result.stderr
    seed.write_text("ghs_7Qx2Lm9Pz4Vb8Nc1Kd6Rf3Tg5: 1\n", encoding="utf-8")  # a credential file as a seed
    quoted = run_local(tmp_path, "sandbox", "reset", "--seed", str(seed))
    assert "unknown top-level key(s) 'ghs_7Qx2Lm9Pz4Vb8Nc…': a seed" in quoted.stderr


def test_a_journal_that_cannot_be_opened_is_named_before_any_write(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("version: 1\nproducts: [{name: A}]\n", encoding="utf-8")
    (tmp_path / "file").write_text("", encoding="utf-8")
    journal = tmp_path / "file" / "journal.jsonl"  # under a file: cannot be created
    result = run_local(
        tmp_path, "apply", "--auto-approve", "--journal", str(journal), str(tmp_path / "m.yaml")
    )
    assert result.exit_code == 1
    assert f"{journal}: cannot open the journal" in result.stderr and "Internal error" not in result.output
    assert "Plan: 1 to create" in run_local(tmp_path, "plan", str(tmp_path / "m.yaml")).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "--out", "dir", "m.yaml"), "--out dir: a directory, not a file; choose another --out"),
        (
            ("plan", "--out", "file/p.json", "m.yaml"),
            "--out file/p.json: file is not a directory; choose another",
        ),
        (("export", "--out", "file/jsm"), "--out file/jsm: file is not a directory; choose another --out"),
        (("schema", "--out", "file"), "--out file: not a directory (a file is there); choose another --out"),
        (("schema", "--out", "file/s"), "--out file/s: file is not a directory; choose another --out"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text("version: 1\nproducts: [{name: A}]\n", encoding="utf-8")
    Path("dir").mkdir()
    Path("file").write_text("", encoding="utf-8")
    result = run_local(tmp_path, *args)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.stderr
    assert "Internal error" not in result.output and ".tmp" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dir",
        "file",
        "m.yaml",
    ]  # nothing written, no state


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "0"}, False),
        ((), {}, False),  # not a terminal
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (("--no-color",), {"FORCE_COLOR": "1"}, False),
    ],
)
def test_force_color_and_no_color(
    products: Harness, flags: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    environment = {
        "JSM_SITE": products.url,
        "JSM_API_BASE": products.url,
        "JSM_EMAIL": SANDBOX_EMAIL,
        "JSM_API_TOKEN": SANDBOX_API_TOKEN,
        "FORCE_COLOR": "",
        "NO_COLOR": "",
        **env,
    }
    result = CliRunner().invoke(cli, [*flags, "plan", str(products.manifests)], env=environment)
    assert result.exit_code == 0, result.output
    assert ("\x1b[32m" in result.stdout) is coloured
    assert "products/New" in result.stdout


def test_every_option_of_plan_and_apply_has_help() -> None:
    for command in ("plan", "apply"):
        result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        assert "'products/Acme Widget'" in result.output and "'teamRoles/TEAM'" in result.output
        option_params = [p for p in cli.commands[command].params if isinstance(p, click.Option)]
        assert [p.name for p in option_params if not p.help] == []
    plan_help = CliRunner().invoke(cli, ["plan", "--help"], terminal_width=200).output
    assert "markdown for a pull request comment" in plan_help


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`jsm-reconciler plan | head`, the pipe closed already: exit 1, no "Internal error", no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JSM_", "GITHUB_"))}
    env["JSM_SANDBOX_STATE"] = str(tmp_path / "state.json")
    (tmp_path / "site.yaml").write_text("version: 1\nproducts:\n  - name: Widget\n", encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        ran = subprocess.run(
            [sys.executable, "-I", "-m", "reconciler", "plan", "site.yaml"],
            cwd=tmp_path,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert ran.returncode == 1
    assert "Internal error" not in ran.stderr and "Traceback" not in ran.stderr
    assert "BrokenPipe" not in ran.stderr, ran.stderr
