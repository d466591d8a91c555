"""A pull request's base branch: the commit to plan it at, and its manifests extracted from Git without a
checkout, so that a plan can tell the pull request's changes from drift on the site."""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.render.markdown import code

GIT_TIMEOUT = 120


def _git(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False)


def _commit_exists(sha: str) -> bool:
    return bool(sha) and _git(["cat-file", "-e", f"{sha}^{{commit}}"]).returncode == 0


def base_commit(pr: Mapping[str, Any]) -> tuple[str, str]:
    """The base branch's commit to plan: (sha, how it was found), or ("", why not)."""
    if _git(["rev-parse", "--is-inside-work-tree"]).returncode != 0:
        return "", "the working directory is not a git checkout"
    sha = str((pr.get("base") or {}).get("sha") or "")
    if _commit_exists(sha):
        return sha, ""
    if (
        sha
        and _git(["fetch", "--no-tags", "--depth=1", "origin", sha]).returncode == 0
        and _commit_exists(sha)
    ):
        return sha, ""
    # actions/checkout of a pull request checks out GitHub's merge commit; its first parent is the base.
    parents = _git(["rev-list", "--parents", "-n", "1", "HEAD"]).stdout.decode().split()
    if len(parents) == 3 and _commit_exists(parents[1]):
        return parents[1], "first parent of the merge commit"
    advice = "use actions/checkout with fetch-depth: 2"
    return "", f"the base commit {code(sha[:12])} is not in the checkout ({advice})"


def extract_base(sha: str, path: str, into: Path) -> Path | None:
    """Write the base commit's files under `path` (relative to the working directory) into `into`.

    Returns the path to plan there, or None when `path` does not exist on the base commit."""
    top = Path(_git(["rev-parse", "--show-toplevel"]).stdout.decode().strip())
    target = (Path.cwd() / path).resolve()
    try:
        relative = target.relative_to(top.resolve())
    except ValueError:
        return None
    spec = relative.as_posix() if str(relative) != "." else "."
    archive = _git(["-C", str(top), "archive", "--format=tar", sha, "--", spec])
    if archive.returncode != 0:
        return None
    into.mkdir(parents=True, exist_ok=True)
    tar_path = into.parent / f"{into.name}.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    tar_path.unlink()
    planned = into / relative
    return planned if planned.exists() else None
