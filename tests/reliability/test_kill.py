"""SIGKILL at random points: `python -m reconciler apply` runs as its own process against a sandbox served
by this one, and is killed after the k-th write the site committed (k drawn from a fixed seed, 20 distinct
points, plus a few before any write). After each kill: every journal line is complete JSON and true (but
the last, which the kill may cut short: the next apply removes it and says so), nothing is duplicated or
touched outside the plan, a fresh plan shows what remains, and apply converges."""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.reliability.conftest import (
    ROOT,
    Ledger,
    Ran,
    Served,
    baseline,
    check_after_fault,
    check_entries,
    converge,
    read_journal_lines,
    site_env,
    write_world,
)
from tests.reliability.world import make_world

KILL_SEED = 20240817
KILLS_AFTER_WRITES = 20  # distinct write counts to kill at
KILLS_BEFORE_WRITES = 2  # while the process is still reading the site
PROCESS_TIMEOUT_S = 30.0


def apply_process(env: dict[str, str], manifests: Path, journal: Path, cwd: Path) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JSM_")} | env
    command = [sys.executable, "-m", "reconciler", "--no-color", "apply", "--auto-approve", "--allow-delete"]
    return subprocess.Popen(
        [*command, "--journal", str(journal), str(manifests)],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def has_written(served: Served, since: int, count: int) -> bool:
    return len(served.writes(since)) >= count


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], extra_s: float) -> bool:
    """SIGKILL the process once `ready()` (then `extra_s` later); False if it finished first."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while not ready():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the apply process made no progress"
        time.sleep(0.001)
    time.sleep(extra_s)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return True


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path, ledger: Ledger
) -> None:
    rng = random.Random(KILL_SEED)
    world = make_world(3)
    points: list[tuple[int, float]] = [(0, rng.uniform(0.05, 0.3)) for _ in range(KILLS_BEFORE_WRITES)]
    points += [(k, rng.uniform(0, 0.01)) for k in sorted(rng.sample(range(1, 95), KILLS_AFTER_WRITES))]
    killed_at: list[int] = []
    in_flight_total = 0
    started = time.monotonic()
    for index, (after_writes, extra_s) in enumerate(points):
        assert time.monotonic() - started < 150, "the kill loop is bounded in time too"
        served = serve(world.seed)
        env = site_env(served.url)
        manifests = write_world(world, tmp_path / f"m{index}")
        journal = tmp_path / f"journal{index}.jsonl"
        base = baseline(served, run_cli, env, manifests)
        # A little latency per request, so that a kill lands between writes as well as on them.
        served.reset_knobs(latency_s=0.005)
        since = len(served.site.calls)
        process = apply_process(env, manifests, journal, tmp_path)
        try:
            if after_writes:
                killed = kill_when(
                    process, functools.partial(has_written, served, since, after_writes), extra_s
                )
            else:
                time.sleep(extra_s)
                killed = kill_when(process, lambda: True, 0)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            assert process.stderr is not None
            stderr = process.stderr.read().decode(errors="replace")
            process.stderr.close()
        assert killed, f"the apply finished before write {after_writes}: {stderr}"
        assert process.returncode == -signal.SIGKILL
        assert "Traceback" not in stderr
        done = len([w for w in served.writes(since) if w[2] < 300])
        killed_at.append(done)

        # Every line complete JSON but the last, which the kill may have cut in the middle of its write.
        journal_lines = read_journal_lines(journal)
        entries = journal_lines.entries
        check_entries(entries, served.url)
        events = {(e["change"], e["event"]) for e in entries}
        started_keys = {key for key, event in events if event == "started"}
        finished = {key for key, event in events if event != "started"}
        in_flight = started_keys - finished
        assert finished <= started_keys | {k for k, e in events if e == "skipped"}
        in_flight_total += len(in_flight)

        check_after_fault(served, run_cli, env, manifests, base, journal, in_flight=in_flight)
        second = converge(served, run_cli, env, manifests, base, journal)
        if journal_lines.cut is not None:  # the second apply removed it, and said so
            assert f"{journal}:{journal_lines.cut}:1: warning[journal.cut_line]" in second.stderr

    assert len({k for k, _ in points if k}) >= 20
    ledger.record(
        "sigkill",
        order="2",
        fault="apply process killed with SIGKILL (after 0 to 95 committed writes)",
        changes=len(base.planned) * len(points),
        applied_before_kill=sum(killed_at),
        faults_injected=len(points),
        distinct_kill_targets=len({k for k, _ in points}),
        distinct_kill_points=len(set(killed_at)),
        kill_points=sorted(killed_at),
        in_flight_at_kill=in_flight_total,
        first_apply_completed=0,
        first_apply_failed_cleanly=0,
        killed=len(points),
        converged=len(points),
        duplicates=0,
        untouched_changed=0,
        runs=len(points),
    )
