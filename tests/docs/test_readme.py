"""The README is the short way in: the two commands first, a manifest that validates, a link to every page.
The long explanations live in docs/."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.errors import Severity
from reconciler.manifest.load import load_manifests
from reconciler.registry import KINDS
from tests.docs.test_links import _links

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_BYTES = 6_000  # it was 29 KB, read before anything else


def _blocks(text: str, info: str) -> list[str]:
    return re.findall(rf"^```{info}\n(.*?)^```$", text, re.M | re.S)


def test_the_two_commands_come_first_and_ci_runs_the_second() -> None:
    text = README.read_text(encoding="utf-8")
    first = _blocks(text, "sh")[0]
    assert text.index("```sh") < text.index("\n## ")
    commands = [line.split("#")[0].strip() for line in first.splitlines()]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert all((ROOT / command.split()[1]).is_file() for command in commands)
    assert "exec bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_stays_short() -> None:
    assert len(README.read_bytes()) <= MAX_BYTES


def test_the_readme_links_every_page_of_the_docs() -> None:
    links = set(_links(README))
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages - links == set()


def test_the_readme_manifest_is_valid(tmp_path: Path) -> None:
    [manifest] = _blocks(README.read_text(encoding="utf-8"), "yaml")
    assert len(manifest.splitlines()) <= 15
    (tmp_path / "site.yaml").write_text(manifest, encoding="utf-8")
    _desired, diagnostics = load_manifests([tmp_path / "site.yaml"], KINDS, environ={})
    assert [d for d in diagnostics if d.severity is Severity.ERROR] == []
