#!/usr/bin/env python3
"""The sample pull request comments in docs/github-action.md, made by the tool and the Action's own code.

    .venv/bin/python scripts/sample-comment.py           # prints every sample
    .venv/bin/python scripts/sample-comment.py --write   # replaces them in docs/github-action.md

The demo site (examples/sandbox-seed.yaml, in a temporary state file) is planned with `plan --out`, as the
Action plans, and the plan file is rendered by reconciler.github.comment. Nothing depends on the time or the
machine: the base commit and the workflow run are fixed.

Each sample sits in the page between its two markers; tests/docs/test_sample_comment.py fails when one no
longer matches what this script renders. Another sample is one function that returns its comment, one entry
in SAMPLES, and its markers in the page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.github.apply import Review, refusal_report, review_banner
from reconciler.github.comment import (
    COMMENT_BUDGET,
    Links,
    Report,
    ReviewMark,
    changed_marker,
    marker,
    render_report,
    split_drift,
)
from reconciler.github.run import drift_note
from reconciler.plan.model import Plan
from reconciler.registry import KINDS
from reconciler.yamlwrite import dump

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "github-action.md"
SEED = ROOT / "examples" / "sandbox-seed.yaml"
MANIFESTS = Path("examples/manifests")  # relative, as the Action's `path` input is
BASE_SHA = "3f9c2a7d41e85b06c1d2e3f4a5b6c7d8e9f00112"
HEAD_SHA = "eade54f22142a9c0d31b7e6f58a4c2d10b9e8f37"  # the pull request's final head commit
MERGE_SHA = "9b41c07e5d2f8a3b6c1e0d9f7a8b5c4d3e2f1a06"  # the commit that merged it
PULL_REQUEST = 42
LINKS = Links(
    run_url="https://github.com/acme/jsm-config/actions/runs/1234567890/attempts/1",
    artifact="jsm-reconciler-plan-plan-sandbox-examples-manifests",
)
# The pull request of the sample adds these objects; its base branch has the rest of examples/manifests.
ADDED_BY_THE_PULL_REQUEST = {
    "permission-schemes.yaml": ("permissionSchemes", "name", "Engineering scheme"),
    "projects.yaml": ("projects", "key", "ENG"),
}


def _sandbox_env(state: Path) -> dict[str, str]:
    """The embedded sandbox in `state`, whatever this shell has exported for a real site."""
    return {
        "JSM_SITE": "",
        "JSM_SANDBOX_STATE": str(state),
        "JSM_JOURNAL": str(state.with_suffix(".journal.jsonl")),
        "GITHUB_ACTIONS": "",
        "JSM_EMAIL": "",
        "JSM_API_TOKEN": "",
        "JSM_OAUTH_TOKEN": "",
    }


def _plan(manifests: Path, state: Path) -> Plan:
    """`plan PATH --out FILE --detailed-exitcode` on the embedded sandbox, as the Action runs it."""
    out = state.parent / f"{manifests.name}.plan.json"
    args = ["--no-color", "plan", str(manifests), "--out", str(out), "--detailed-exitcode"]
    result = CliRunner().invoke(cli, args, env=_sandbox_env(state))
    if result.exit_code not in (0, 2):
        raise SystemExit(f"plan {manifests} failed:\n{result.output}")
    return Plan.from_json(json.loads(out.read_text(encoding="utf-8")), KINDS)


def _base_branch(into: Path) -> Path:
    """examples/manifests without what the sample's pull request adds."""
    shutil.copytree(ROOT / MANIFESTS, into)
    for name, (section, key, value) in ADDED_BY_THE_PULL_REQUEST.items():
        document: dict[str, Any] = yaml.safe_load((into / name).read_text(encoding="utf-8"))
        document[section] = [item for item in document[section] if item[key] != value]
        (into / name).write_text(dump(document), encoding="utf-8")
    return into


def _seeded(temp: str) -> Path:
    state = Path(temp) / "sandbox.json"
    reset = CliRunner().invoke(cli, ["sandbox", "reset", "--state", str(state), "--seed", str(SEED)])
    if reset.exit_code != 0:
        raise SystemExit(f"sandbox reset failed:\n{reset.output}")
    return state


def _key() -> str:
    return f"sandbox {MANIFESTS.as_posix()}"


def _pull_request_report(state: Path, temp: str) -> Report:
    plan = _plan(MANIFESTS, state)
    base = _plan(_base_branch(Path(temp) / "base"), state)
    split = split_drift(plan, base, note=drift_note(BASE_SHA))
    banner = review_banner(ReviewMark(HEAD_SHA, plan.changes_digest))
    return Report(plan, plan.diagnostics, split, MANIFESTS.as_posix(), "main", LINKS, banner)


def pull_request() -> str:
    """A pull request that adds a permission scheme and moves project ENG to it, on the demo site, whose
    base branch already plans the rest: the exposure block, and this pull request's changes told apart from
    pre-existing drift."""
    # From the repository's root, as the action plans from the checkout's: paths show as in the repository.
    with tempfile.TemporaryDirectory() as temp, contextlib.chdir(ROOT):
        report = _pull_request_report(_seeded(temp), temp)
    hidden = f"{marker(_key())}\n{ReviewMark(HEAD_SHA, report.plan.changes_digest).hidden()}"
    return render_report(report, budget=COMMENT_BUDGET, marker_line=hidden)


def changed_since_review() -> str:
    """The same pull request, merged after someone created a product on the site by hand: the plan of the
    merged commit now deletes it (products are pruned), so the action applies nothing and says why."""
    with tempfile.TemporaryDirectory() as temp, contextlib.chdir(ROOT):
        state = _seeded(temp)
        reviewed = _pull_request_report(state, temp).plan
        by_hand = Path(temp) / "by-hand"
        by_hand.mkdir()
        (by_hand / "products.yaml").write_text("version: 1\nproducts:\n  - name: Made by hand\n")
        applied = CliRunner().invoke(cli, ["apply", str(by_hand), "--auto-approve"], env=_sandbox_env(state))
        if applied.exit_code != 0:
            raise SystemExit(f"the change by hand failed:\n{applied.output}")
        merged = _plan(MANIFESTS, state)
    review = Review(PULL_REQUEST, HEAD_SHA, ReviewMark(HEAD_SHA, reviewed.changes_digest))
    report = Report(merged, merged.diagnostics, None, MANIFESTS.as_posix(), "main", LINKS)
    refused = refusal_report(report, review, MERGE_SHA, LINKS)
    return render_report(refused, budget=COMMENT_BUDGET, marker_line=changed_marker(_key()))


SAMPLES: Mapping[str, Callable[[], str]] = {
    "pull-request": pull_request,
    "changed-since-review": changed_since_review,
}


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- sample-comment:{name}:start (generated by scripts/sample-comment.py; do not edit) -->",
        f"<!-- sample-comment:{name}:end -->",
    )


def replace_sample(page: str, name: str, comment: str) -> str:
    start, end = markers(name)
    before, found, rest = page.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"{PAGE.relative_to(ROOT)} has no markers for the sample {name!r}: {start}")
    return f"{before}{start}\n{comment.rstrip()}\n{end}{rest.split(end, 1)[1]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write", action="store_true", help=f"replace the samples in {PAGE.relative_to(ROOT)}"
    )
    args = parser.parse_args(argv)
    page = PAGE.read_text(encoding="utf-8")
    for name, render in SAMPLES.items():
        comment = render()
        if args.write:
            page = replace_sample(page, name, comment)
        else:
            print(comment)
    if args.write:
        PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
