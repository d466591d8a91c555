"""docs/access.md shows what the tool prints: its `access` samples are the demo site's report, and its
access diff sample is part of the demo's plan (tests/golden/demo)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.commands import cli
from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.seed import load_seed_file
from reconciler.sandbox.server import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
SAMPLES = re.findall(r"```text\n\$ jsm-reconciler (access [^\n]*)\n(.*?)```", PAGE, re.S)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    site = SandboxSite(seed=load_seed_file(ROOT / "examples" / "sandbox-seed.yaml"))
    with serve_in_thread(site) as url:
        yield url


def test_the_page_has_samples() -> None:
    assert [command for command, _ in SAMPLES] == ["access --project SD", "access --project SD --users"]


@pytest.mark.parametrize(("command", "shown"), SAMPLES, ids=[command for command, _ in SAMPLES])
def test_each_sample_is_what_the_command_prints(demo_url: str, command: str, shown: str) -> None:
    environment = {"JSM_SITE": demo_url, "JSM_API_BASE": demo_url, "JSM_EMAIL": SANDBOX_EMAIL}
    environment |= {"JSM_API_TOKEN": SANDBOX_API_TOKEN, "JSM_OAUTH_TOKEN": "", "GITHUB_ACTIONS": ""}
    result = CliRunner().invoke(cli, ["--no-color", *command.split()], env=environment)
    assert result.exit_code == 0, result.stderr
    printed = result.stdout + "".join(
        line + "\n" for line in result.stderr.splitlines() if "--users:" in line
    )
    assert printed == shown


def test_the_access_diff_sample_is_from_the_demo_plan() -> None:
    sample = PAGE.split("```text\nAccess: ", 1)[1].split("```", 1)[0]
    plan = (ROOT / "tests" / "golden" / "demo" / "plan.txt").read_text(encoding="utf-8")
    lines = [line for line in ("Access: " + sample).splitlines() if line.strip() != "…"]
    assert lines[0] in plan and all(f"\n{line}\n" in plan for line in lines[1:])
