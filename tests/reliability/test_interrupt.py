"""Ctrl-C (SIGINT) while `python -m reconciler` waits: on a long Retry-After in a worker thread, in the
queue for the shared limit, on the event loop's per-object reads, in apply's thread pool, or on an answer
that never comes. Each time the process ends within a second or two, with exit code 1, "Interrupted." as
the last line and no traceback, nothing announced after it, and (apply) a journal where every started
change has its end: applied, failed, or interrupted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reconciler.sandbox.app import Knobs, SandboxSite
from tests.reliability.conftest import ROOT, check_entries, read_journal, serve_wsgi, site_env, write_world
from tests.reliability.world import make_world

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

LONG_RETRY_AFTER_S = 40  # announced ("retrying in 40 s"), and far longer than the bound below
EXIT_BOUND_S = 5.0  # generous: the tool promises a second or two; this is a behaviour test, not a benchmark
START_BOUND_S = 60.0
HANG_BOUND_S = 30.0  # a hung answer is released when the test ends, or after this long at most
ROLE_READ = r"/jsm/ops/api/[^/]+/v1/roles/[^/]+$"  # one custom role's rights: read on the event loop


@dataclass
class Stall:
    """In front of the sandbox: a request matching (method, path regex) is answered with a 429 asking to wait
    `retry_after_s`, or (`hang`) not answered at all until the test ends. `hits`: when each came."""

    inner: SandboxSite
    method: str
    path: str
    retry_after_s: int = LONG_RETRY_AFTER_S
    hang: bool = False
    hits: list[float] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if not (re.fullmatch(self.method, method) and re.search(self.path, path)):
            return self.inner(environ, start_response)
        self.hits.append(time.monotonic())
        if self.hang:
            self.released.wait(HANG_BOUND_S)
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message": "released"}']
        headers = [("Content-Type", "application/json"), ("Retry-After", str(self.retry_after_s))]
        start_response("429 Too Many Requests", headers)
        return [b'{"message": "Rate limit exceeded."}']


@contextmanager
def stalled(seed: dict[str, Any], method: str, path: str, **stalls: Any) -> Iterator[tuple[Stall, str]]:
    stall = Stall(SandboxSite(seed=seed, knobs=Knobs()), method, path, **stalls)
    try:
        with serve_wsgi(stall) as url:
            yield stall, url
    finally:
        stall.released.set()


@dataclass(frozen=True)
class Interrupted:
    code: int
    sent: float  # when SIGINT was sent (time.monotonic)
    seconds: float  # from SIGINT to the end of the process
    stderr: str


def interrupt_when(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    ready: Callable[[], bool],
    *,
    stdin: int = subprocess.DEVNULL,
) -> Interrupted:
    """Runs the CLI as its own process, its output in cwd/stdout.txt and cwd/stderr.txt; once `ready()`, sends
    SIGINT and waits for it to end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JSM_")} | env
    errors = cwd / "stderr.txt"
    with errors.open("wb") as sink, (cwd / "stdout.txt").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "--no-color", *args],
            cwd=cwd,
            env={**environment, "PYTHONPATH": str(ROOT)},
            stdin=stdin,
            stdout=out,
            stderr=sink,
        )
        try:
            deadline = time.monotonic() + START_BOUND_S
            while not ready():
                assert process.poll() is None, errors.read_text(errors="replace")
                assert time.monotonic() < deadline, "the process never reached the wait"
                time.sleep(0.01)
            time.sleep(0.3)  # into the wait itself
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=EXIT_BOUND_S * 4)
            except subprocess.TimeoutExpired:
                code = -1
            seconds = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    return Interrupted(code, sent, seconds, errors.read_text(encoding="utf-8", errors="replace"))


def check_interrupted(ran: Interrupted, stall: Stall) -> None:
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.code == 1, ran.stderr  # CLI.md: 0, 1 or 2, never anything else
    assert ran.seconds < EXIT_BOUND_S, f"{ran.seconds:.1f} s from SIGINT to exit\n{ran.stderr}"
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert lines and lines[-1] == "Interrupted.", ran.stderr  # nothing announced after it
    assert all(hit < ran.sent for hit in stall.hits), "no request is sent after Ctrl-C"


@pytest.mark.parametrize(
    ("command", "method", "path", "retry_after_s"),
    [
        # Every list read waits in a worker thread; at parallelism 1 the others queue for the limit.
        (["plan", "--parallelism", "1"], "GET", r"^/(?!_edge/)", LONG_RETRY_AFTER_S),
        # The roles' list is read; each role's rights, read on the event loop, waits there.
        (["plan"], "GET", ROLE_READ, LONG_RETRY_AFTER_S),
        # Every write waits in apply's thread pool, after its "started" line: a wait that would end while
        # apply gives the changes in flight their last second, and must not send the write again.
        (
            ["apply", "--auto-approve", "--allow-delete", "--parallelism", "3"],
            "POST|PUT|PATCH|DELETE",
            ".",
            1,
        ),
    ],
    ids=["list-reads-and-limit-queue", "event-loop-reads", "apply-writes"],
)
def test_ctrl_c_during_a_retry_after_ends_the_run_at_once(
    command: list[str], method: str, path: str, retry_after_s: int, tmp_path: Path
) -> None:
    world = make_world(11)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "journal.jsonl"
    with stalled(world.seed, method, path, retry_after_s=retry_after_s) as (stall, url):
        env = site_env(url) | {"JSM_JOURNAL": str(journal)}
        ran = interrupt_when([*command, str(manifests)], env, tmp_path, lambda: len(stall.hits) >= 1)
    check_interrupted(ran, stall)
    if retry_after_s == LONG_RETRY_AFTER_S:
        assert f"retrying in {LONG_RETRY_AFTER_S} s" in ran.stderr  # it was waiting on the Retry-After
    if command[0] == "apply":
        check_journal_ends_every_start(journal, url)


def test_ctrl_c_while_an_answer_never_comes_ends_the_run_at_once(tmp_path: Path) -> None:
    """The request is in flight in a worker thread, blocked in a socket read that nothing can cut short."""
    world = make_world(12)
    manifests = write_world(world, tmp_path / "m")
    journal = tmp_path / "journal.jsonl"
    with stalled(world.seed, "POST|PUT|PATCH|DELETE", ".", hang=True) as (stall, url):
        env = site_env(url) | {"JSM_JOURNAL": str(journal)}
        command = ["apply", "--auto-approve", "--allow-delete", str(manifests)]
        ran = interrupt_when(command, env, tmp_path, lambda: len(stall.hits) >= 1)
    check_interrupted(ran, stall)
    check_journal_ends_every_start(journal, url)


def check_journal_ends_every_start(journal: Path, site: str) -> None:
    entries = read_journal(journal)
    check_entries(entries, site)
    started = [e["change"] for e in entries if e["event"] == "started"]
    ended = [e["change"] for e in entries if e["event"] != "started"]
    assert started and sorted(started) == sorted(ended), entries
    assert {e["event"] for e in entries} <= {"started", "applied", "failed", "interrupted"}
    assert any(e["event"] == "interrupted" for e in entries)


def test_ctrl_c_at_the_confirmation_prompt_is_an_interruption(tmp_path: Path) -> None:
    world = make_world(13)
    manifests = write_world(world, tmp_path / "m")
    printed = tmp_path / "stdout.txt"
    terminal, keyboard = os.openpty()  # the prompt needs a terminal
    try:
        with stalled(world.seed, "NONE", "^$") as (stall, url):
            ran = interrupt_when(
                ["apply", "--allow-delete", str(manifests)],
                site_env(url),
                tmp_path,
                lambda: printed.exists() and "Only 'yes' is accepted" in printed.read_text(errors="replace"),
                stdin=keyboard,
            )
    finally:
        os.close(terminal)
        os.close(keyboard)
    check_interrupted(ran, stall)
    assert not (tmp_path / ".jsm-journal.jsonl").exists()  # nothing was started
