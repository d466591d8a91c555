"""The command line imports what a command uses, when it uses it (docs/architecture.md, "The command line"):
which modules a command loads, read from sys.modules in a subprocess as it exits. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from tests.e2e.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
# Runs the console script's `main` and writes the names of the modules loaded by the time the process exits.
SCRIPT = """
import atexit, json, sys

def dump(path):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(sorted(sys.modules), out)

atexit.register(dump, sys.argv[1])
from reconciler.cli import main
sys.argv = ["jsm-reconciler", *sys.argv[2:]]
main()
"""
# Never loaded on the way to a real site: the embedded sandbox (and its web framework), the Action's code,
# rich's progress bars (drawn on a terminal only).
NEVER = ("reconciler.sandbox", "werkzeug", "reconciler.github", "rich.progress")


def _loaded(tmp_path: Path, *args: str, **env: str) -> set[str]:
    dump = tmp_path / "modules.json"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JSM_")},
        "GITHUB_ACTIONS": "",
        **env,
    }
    command = [sys.executable, "-c", SCRIPT, str(dump), *args]
    subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, check=False, timeout=60)
    return set(json.loads(dump.read_text(encoding="utf-8")))


def _among(loaded: set[str], packages: Iterable[str]) -> list[str]:
    return sorted(m for m in loaded for p in packages if m == p or m.startswith(f"{p}."))


def test_help_and_version_load_no_command(tmp_path: Path) -> None:
    heavy = (*NEVER, "reconciler.manifest", "reconciler.kinds", "reconciler.plan", "reconciler.site")
    for args in (["--help"], ["--version"], ["plan", "--help"]):
        loaded = _loaded(tmp_path, *args)
        assert "reconciler.cli.commands" in loaded
        assert _among(loaded, (*heavy, "pydantic", "urllib3", "rich")) == [], args


def test_validate_loads_no_site_client_and_no_planner(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "validate", "examples/manifests")
    assert "reconciler.manifest.load" in loaded
    client = ("reconciler.site.http", "reconciler.live", "urllib3")  # the kinds' SiteApi seam is stdlib only
    assert _among(loaded, (*NEVER, *client, "reconciler.plan", "deepdiff")) == []


def test_a_plan_against_a_real_site_loads_no_sandbox(tmp_path: Path, harness: Harness) -> None:
    harness.write("products:\n  - name: Acme\n")
    site = {"JSM_SITE": harness.url, "JSM_API_BASE": harness.url}
    credentials = {"JSM_EMAIL": SANDBOX_EMAIL, "JSM_API_TOKEN": SANDBOX_API_TOKEN}
    loaded = _loaded(tmp_path, "plan", str(harness.manifests), **site, **credentials)
    assert "reconciler.plan.build" in loaded and "reconciler.site.http" in loaded
    assert _among(loaded, NEVER) == []
