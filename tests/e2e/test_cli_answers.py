"""Every mistake gets one clear answer: usage mistakes exit 1 with click's own message (2 means "changes
present" under --detailed-exitcode), and a pasted token is refused before any request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.cli.ui import EXIT_ERROR
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from tests.e2e.conftest import Harness


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--taget", "products/X"], "Did you mean one of: '--site', '--target'?"),
        (["plna"], "Did you mean 'plan'?"),
        (["plan", "--format", "yaml"], "'yaml' is not one of 'text', 'markdown', 'json'"),
        (["plan", "--parallelism", "0"], "0 is not in the range 1<=x<=32"),
        (["apply", "--plan"], "Option '--plan' requires an argument"),
        (["--bogus", "plan"], "No such option '--bogus'"),
        (["sandbox", "bogus"], "No such command 'bogus'"),
        (["export", "--kind", "prodcts"], "'prodcts' is not one of"),
        ([], "Commands:"),
        (["sandbox"], "Commands:"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_usage_mistake_exits_1_with_clicks_message(args: list[str], said: str) -> None:
    result = CliRunner().invoke(cli, args, env={"JSM_SITE": ""})
    assert result.exit_code == EXIT_ERROR, result.output
    assert said in result.output


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["plan", "--help"], ["sandbox", "--help"], ["--version"]):
        assert CliRunner().invoke(cli, args).exit_code == 0, args


def test_debug_is_in_the_help() -> None:
    assert "--debug" in CliRunner().invoke(cli, ["--help"]).output


def _site_env(harness: Harness) -> dict[str, str]:
    return {
        "JSM_SITE": harness.url,
        "JSM_API_BASE": harness.url,
        "JSM_EMAIL": SANDBOX_EMAIL,
        "JSM_API_TOKEN": SANDBOX_API_TOKEN,
        "JSM_OAUTH_TOKEN": "",
        "GITHUB_ACTIONS": "",
    }


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("JSM_API_TOKEN", f'"{SANDBOX_API_TOKEN}"', 'JSM_API_TOKEN starts and ends with a double quote (")'),
        ("JSM_API_TOKEN", f"{SANDBOX_API_TOKEN} ", ""),  # a space around the value is not part of it
        ("JSM_API_TOKEN", f"sandbox api-token{'x' * 8}", "JSM_API_TOKEN contains a space at character 8"),
        ("JSM_EMAIL", f"'{SANDBOX_EMAIL}'", "JSM_EMAIL starts and ends with a single quote (')"),
    ],
)
def test_a_pasted_quote_or_space_is_refused_before_any_request(
    harness_factory: Any, variable: str, value: str, said: str
) -> None:
    harness: Harness = harness_factory({"products": [{"name": "Keep"}]})
    harness.write("products:\n  - name: Keep\n")
    env = _site_env(harness) | {variable: value}
    result = CliRunner().invoke(cli, ["plan", str(harness.manifests)], env=env)
    if not said:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == EXIT_ERROR
    assert said in result.stderr
    assert harness.site.calls == []
    assert "sandbox-api" not in result.output and "@sandbox.invalid" not in result.output


@pytest.mark.parametrize("output_format", ["text", "markdown"])
@pytest.mark.parametrize(
    ("manifest", "target"),
    [
        # Over a threshold: the plan has changes, and must not count them as a plan.
        (
            "settings:\n  prune: [products]\n  thresholds: {maxDeletePercent: 10, minExisting: 1}\n"
            "products:\n  - name: Keep\n",
            "products",
        ),
        # A target that names nothing: no changes, and must not say the site matches.
        ("products:\n  - name: Keep\n  - name: Old\n", "products/Olt"),
    ],
)
def test_after_an_error_no_summary_claims_a_plan(
    harness_factory: Any, manifest: str, target: str, output_format: str
) -> None:
    harness: Harness = harness_factory({"products": [{"name": "Keep"}, {"name": "Old"}]})
    harness.write(manifest)
    args = ["--no-color", "plan", "--format", output_format, "--target", target, str(harness.manifests)]
    result = CliRunner().invoke(cli, args, env=_site_env(harness))
    assert result.exit_code == EXIT_ERROR
    assert "No changes" not in result.stdout and "Plan: " not in result.stdout
    assert "Plan failed: 1 error(s). Nothing can be applied until they are resolved." in result.stdout


@pytest.mark.parametrize(
    ("target", "nearest"),
    [
        ("products/Acme Widgt", "products/Acme Widget"),
        ("products/Legacy Widge", "products/Legacy Widget"),  # on the site only
        ("teamRoles/Platform SR", "teamRoles/Platform SRE"),
        ("teamRoles/Platform SRE/respondr", "teamRoles/Platform SRE/responder"),
    ],
)
def test_an_unknown_target_address_gets_the_nearest_one(
    harness_factory: Any, target: str, nearest: str
) -> None:
    harness: Harness = harness_factory({"products": [{"name": "Legacy Widget"}]})
    harness.write(
        "products:\n  - name: Acme Widget\n"
        "teamRoles:\n  - team: Platform SRE\n    roles:\n"
        "      - {name: responder, granted: [edit-schedules]}\n"
    )
    args = ["--no-color", "plan", "--target", target, str(harness.manifests)]
    result = CliRunner().invoke(cli, args, env=_site_env(harness))
    assert result.exit_code == EXIT_ERROR
    assert (
        f"{target}: --target matches no object in the manifests or on the site; did you mean {nearest!r}?"
        in (result.stdout)
    )


@pytest.mark.parametrize("command", [["apply", "--auto-approve"], ["plan"]])
def test_with_no_manifests_the_error_comes_first_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, command, env={"JSM_SITE": "", "JSM_SANDBOX_STATE": ""})
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith("Error: 1 error(s) in the manifests")
    assert "no manifests found in ." in result.stderr
    assert "sandbox" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_reading_an_empty_sandbox_site_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jsm").mkdir()
    (tmp_path / "jsm" / "site.yaml").write_text("version: 1\nproducts:\n  - name: Widget\n")
    env = {"JSM_SITE": "", "JSM_SANDBOX_STATE": ""}
    assert CliRunner().invoke(cli, ["plan", "jsm"], env=env).exit_code == 0
    assert CliRunner().invoke(cli, ["export", "--out", "out"], env=env).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jsm", "out"]
    applied = CliRunner().invoke(cli, ["apply", "--auto-approve", "jsm"], env=env)
    assert applied.exit_code == 0, applied.output
    assert (tmp_path / ".jsm-sandbox.json").exists()  # a write keeps the site's state


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_file_cut_at_its_limit_does_not_claim_a_count_of_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """150 errors were summed up as "101 error(s)": the 100 shown and the line that says there are more."""
    monkeypatch.chdir(tmp_path)
    products = "".join(f"  - name: P{n}\n    bogus: 1\n" for n in range(150))
    (tmp_path / "m.yaml").write_text(f"version: 1\nproducts:\n{products}", encoding="utf-8")
    result = CliRunner().invoke(cli, [command, "m.yaml"], env={"JSM_SITE": "", "JSM_SANDBOX_STATE": ""})
    assert result.exit_code == EXIT_ERROR
    assert "100 error(s) (and more, not counted)" in result.stderr
    assert "101 error(s)" not in result.stderr
