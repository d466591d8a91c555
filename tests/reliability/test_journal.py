"""The apply journal (`--journal FILE`, env JSM_JOURNAL, default .jsm-journal.jsonl): one JSON line per
change event — started, then applied, failed or skipped — with the site's request ids and a timestamp.
(After a SIGKILL: see test_kill.py, which reads the journal of every killed run, and below, a kill in the
middle of writing a line.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.apply import ApplyEvent, Outcome
from reconciler.errors import ConfigError
from reconciler.journal import Journal
from reconciler.kinds.kind import Action, Change
from reconciler.registry import get_kind
from tests.reliability.conftest import (
    ROOT,
    Ran,
    Served,
    check_entries,
    plan_keys,
    read_journal,
    read_journal_lines,
    site_env,
    write_world,
)
from tests.reliability.world import make_world


def test_a_normal_apply_records_every_change_started_then_applied(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(7)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "audit" / "journal.jsonl"
    env = site_env(served.url) | {"JSM_JOURNAL": str(journal)}  # the environment variable names the path
    planned = plan_keys(run_cli, env, manifests)
    ran = run_cli(env, "apply", "--auto-approve", "--allow-delete", str(manifests))
    assert ran.code == 0, ran.output

    entries = read_journal(journal)
    check_entries(entries, served.url)
    assert len({e["run"] for e in entries}) == 1
    assert [e["change"] for e in entries if e["event"] == "started"] != []
    by_change: dict[str, list[str]] = {}
    for entry in entries:
        by_change.setdefault(entry["change"], []).append(entry["event"])
    assert set(by_change) == set(planned)
    assert all(events == ["started", "applied"] for events in by_change.values()), by_change
    # Every applied change carries the request ids of the site's answers, as the site sent them.
    for entry in entries:
        if entry["event"] == "applied":
            assert entry["requestIds"], entry
            assert all(i.startswith("sandbox-") for i in entry["requestIds"]), entry
    times = [e["time"] for e in entries]
    assert times == sorted(times)

    # A second apply with nothing to do appends nothing; one with work appends a new run.
    assert run_cli(env, "apply", "--auto-approve", str(manifests)).code == 0
    assert read_journal(journal) == entries


def test_a_partial_failure_records_the_failure_with_the_apis_words(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(8)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "journal.jsonl"
    env = site_env(served.url)
    planned = plan_keys(run_cli, env, manifests)
    served.reset_knobs(fail_on={("POST", "/product"): 400})
    ran = run_cli(env, "apply", "--auto-approve", "--allow-delete", "--journal", str(journal), str(manifests))
    assert ran.code == 1 and "Apply incomplete" in ran.stderr

    entries = read_journal(journal)
    check_entries(entries, served.url)
    outcome = {e["change"]: e["event"] for e in entries if e["event"] != "started"}
    counts = Counter(outcome.values())
    failed = [e for e in entries if e["event"] == "failed"]
    assert counts["failed"] == sum(1 for k in planned if k.startswith("products/") and "New product" in k)
    assert all("Simulated failure" in e["error"] and e["address"].startswith("products/") for e in failed)
    assert all(e["requestIds"] for e in failed)
    assert counts["applied"] + counts["failed"] + counts["skipped"] == len(planned)
    # The record is true: what it calls applied is done; the rest is exactly what a new plan shows.
    served.reset_knobs()
    remaining = set(plan_keys(run_cli, env, manifests))
    assert remaining == {k for k, event in outcome.items() if event != "applied"}


SITE = "https://acme.atlassian.net"

# A process that records one event, then is killed in the middle of writing the next line: half the line
# reaches the file, then SIGKILL. That is what the kernel leaves when the signal arrives while a write
# crosses a page boundary (it copies page by page, and stops once the signal is pending).
KILLED_WHILE_WRITING = f"""
import os, signal, sys
from pathlib import Path
from tests.reliability.test_journal import change
from reconciler.apply import ApplyEvent, Outcome
from reconciler.errors import ConfigError
from reconciler.journal import Journal

journal = Journal(Path(sys.argv[1]), {SITE!r})
journal.record(ApplyEvent(change(), Outcome.STARTED))
write = os.write

def killed_mid_write(fd, data):
    write(fd, data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)

os.write = killed_mid_write
journal.record(ApplyEvent(change(), Outcome.APPLIED, request_ids=("sandbox-1",)))
"""


def change(name: str = "Widget") -> Change:
    return Change(
        key=f"products/{name}",
        address=Address("products", "", name),
        action=Action.CREATE,
        before=None,
        after={"name": name},
        context=get_kind("products").write_data.model_validate({}),
    )


def kill_while_writing(journal: Path) -> None:
    """Run KILLED_WHILE_WRITING: the journal holds one complete line, then half of the next."""
    child = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_WRITING, str(journal)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode(errors="replace")


def test_a_line_cut_by_a_kill_is_the_last_and_the_next_journal_removes_it(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    kill_while_writing(journal)
    cut = read_journal_lines(journal)
    assert [(e["change"], e["event"]) for e in cut.entries] == [("products/Widget", "started")]
    assert cut.cut == 2 and not journal.read_bytes().endswith(b"\n")
    with pytest.raises(AssertionError, match=r"journal\.jsonl:2: the last line is incomplete"):
        read_journal(journal)

    again = Journal(journal, SITE)
    assert again.cut_line is not None and again.cut_line.source is not None
    assert (again.cut_line.source.file, again.cut_line.source.line) == (str(journal), 2)
    assert "an earlier apply was killed while writing it" in again.cut_line.message
    again.record(ApplyEvent(change(), Outcome.APPLIED))
    again.close()
    entries = read_journal(journal)
    assert [e["event"] for e in entries] == ["started", "applied"]
    complete = Journal(journal, SITE)
    complete.close()
    assert complete.cut_line is None


def test_an_incomplete_line_before_the_last_is_corruption(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    kill_while_writing(journal)
    with journal.open("ab") as glued:  # appended as the journal did before it removed a cut line
        glued.write(journal.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(AssertionError, match=r"journal\.jsonl:2: not complete JSON, yet not the last line"):
        read_journal_lines(journal)


def test_apply_after_a_kill_mid_line_says_so_and_keeps_every_line_complete(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    served = serve({})
    manifests = tmp_path / "m"
    manifests.mkdir()
    (manifests / "site.yaml").write_text("version: 1\nproducts:\n  - name: Widget\n", encoding="utf-8")
    journal = tmp_path / "journal.jsonl"
    kill_while_writing(journal)
    ran = run_cli(site_env(served.url), "apply", "--auto-approve", "--journal", str(journal), str(manifests))
    assert ran.code == 0, ran.output
    assert f"{journal}:2:1: warning[journal.cut_line]: the journal's last line was incomplete" in ran.stderr
    entries = read_journal(journal)
    assert [e["event"] for e in entries] == ["started", "started", "applied"]
    check_entries(entries[1:], served.url)
    assert plan_keys(run_cli, site_env(served.url), manifests) == []


def test_a_cut_line_that_cannot_be_removed_stops_apply_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append-only journal (chattr +a) cannot be shortened: nothing is appended after the cut line."""
    journal = tmp_path / "journal.jsonl"
    kill_while_writing(journal)
    before = journal.read_bytes()

    def refused(fd: int, length: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "ftruncate", refused)
    with pytest.raises(ConfigError, match=r"journal\.jsonl:2: the journal's last line is incomplete"):
        Journal(journal, SITE)
    assert journal.read_bytes() == before
