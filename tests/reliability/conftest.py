"""Reliability harness: sandboxes served over real HTTP (optionally behind a tampering front), the CLI run
in-process or as a killable process, the checks every fault case ends with, and the ledger whose JSON
summary becomes the table of docs/reliability.md (`scripts/reliability-table.py`)."""

from __future__ import annotations

import base64
import fcntl
import functools
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import WSGIRequestHandler, make_server

from reconciler.cli import cli
from reconciler.cli import site as cli_site
from reconciler.kinds import kind as kind_module
from reconciler.sandbox.app import Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.site.settings import ClientSettings
from tests.reliability.world import World, duplicates, untouched, untouched_ids

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "build" / "reliability" / "summary.json"
# Retries wait for Retry-After (0 here) or back off; the suite keeps the backoff small to stay fast.
FAST: dict[str, Any] = {"backoff_s": 0.02, "backoff_max_s": 0.5}
WSGIApp = Callable[..., Iterable[bytes]]


# --- serving ---------------------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_wsgi(app: WSGIApplication) -> Iterator[str]:
    """Any WSGI app on 127.0.0.1, a free port, in a daemon thread that stops when the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


Mutation = Callable[[bytes], bytes]


@dataclass
class Front:
    """A WSGI middleware in front of the sandbox, as a hostile or broken network would be:

    - `tamper`: (method, path regex, mutation): the first matching rule rewrites the answer's body;
    - `echo`: every request gets a 500 whose body echoes the request, Authorization header included;
    - `accept`: a Basic credential (email, token) that the front swaps for the sandbox's own, so any
      token (a canary) can sign in to the sandbox.
    """

    inner: WSGIApp
    tamper: list[tuple[str, str, Mutation]] = field(default_factory=list)
    echo: bool = False
    accept: tuple[str, str] | None = None
    tampered: list[str] = field(default_factory=list)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.echo:
            headers = {
                k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
            }
            body = json.dumps(
                {
                    "errorMessages": [
                        f"Bad request {environ['REQUEST_METHOD']} {environ['PATH_INFO']}: {headers}"
                    ]
                }
            ).encode()
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [body]
        if self.accept is not None and environ.get("HTTP_AUTHORIZATION", "") == basic(*self.accept):
            environ["HTTP_AUTHORIZATION"] = basic(SANDBOX_EMAIL, SANDBOX_API_TOKEN)
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        rule = next((m for (mm, rx, m) in self.tamper if mm == method and re.search(rx, path)), None)
        if rule is None:
            return self.inner(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.inner(environ, capture))
        if not captured["status"].startswith("2"):
            start_response(captured["status"], captured["headers"])
            return [body]
        new = rule(body)
        self.tampered.append(f"{method} {path}")
        kept: list[tuple[str, str]] = [
            (k, v) for k, v in captured["headers"] if k.lower() != "content-length"
        ]
        start_response(captured["status"], [*kept, ("Content-Length", str(len(new)))])
        return [new]


def basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


@dataclass
class Served:
    site: SandboxSite
    url: str  # the sandbox itself
    front: Front
    front_url: str  # the sandbox behind the front

    def reset_knobs(self, **knobs: Any) -> None:
        self.site.knobs = Knobs(record_calls=True, **knobs)

    def writes(self, since: int = 0) -> list[tuple[str, str, int]]:
        return [(c.method, c.path, c.status) for c in self.site.calls[since:] if c.method != "GET"]


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Any]], Served]]:
    """serve(seed) -> a sandbox and a front for it, both served until the test ends."""
    stack: list[Any] = []

    def make(seed: dict[str, Any]) -> Served:
        site = SandboxSite(seed=seed, knobs=Knobs(record_calls=True))
        front = Front(site)
        plain, fronted = serve_wsgi(site), serve_wsgi(front)
        stack.extend([plain, fronted])
        return Served(site, plain.__enter__(), front, fronted.__enter__())

    try:
        yield make
    finally:
        for server in reversed(stack):
            server.__exit__(None, None, None)


# --- the CLI ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def assert_clean(self) -> None:
        """Whatever happened, the user got a message and no traceback."""
        assert "Traceback" not in self.output, self.output
        assert "Internal error" not in self.output, self.output


def site_env(url: str, *, token: str = SANDBOX_API_TOKEN, email: str = SANDBOX_EMAIL) -> dict[str, str]:
    return {
        "JSM_SITE": url,
        "JSM_API_BASE": url,
        "JSM_EMAIL": email,
        "JSM_API_TOKEN": token,
        "JSM_OAUTH_TOKEN": "",
        "JSM_CLOUD_ID": "",
        "JSM_JOURNAL": "",
        "GITHUB_ACTIONS": "",
        "NO_COLOR": "1",
    }


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """run_cli(env, *args, create_pause=..., **settings): the CLI in this process (click's runner), with
    the client's backoff kept small and any other ClientSettings (a short read timeout) as keywords."""

    def run(env: dict[str, str], *args: str, create_pause: float = 0.1, **settings: Any) -> Ran:
        monkeypatch.setattr(cli_site, "ClientSettings", functools.partial(ClientSettings, **FAST, **settings))
        # The pause before looking whether a create whose answer was lost landed (1 s by default).
        monkeypatch.setattr(kind_module, "CREATE_RETRY_PAUSE_S", create_pause)
        # -v adds a log handler on the runner's stderr; take it off again afterwards.
        loggers = [logging.getLogger(name) for name in ("reconciler", "urllib3")]
        saved = [(log, list(log.handlers), log.level) for log in loggers]
        try:
            result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        finally:
            for log, handlers, level in saved:
                log.handlers[:] = handlers
                log.setLevel(level)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run


# --- the checks every fault case ends with ---------------------------------------------------------------


def plan_keys(run_cli: Callable[..., Ran], env: dict[str, str], manifests: Path) -> list[str]:
    ran = run_cli(env, "plan", "--format", "json", str(manifests))
    assert ran.code == 0, ran.output
    return [c["key"] for c in json.loads(ran.stdout)["changes"]]


@dataclass(frozen=True)
class JournalLines:
    entries: list[dict[str, Any]]
    cut: int | None  # the number of the last line when it is incomplete


def read_journal_lines(path: Path) -> JournalLines:
    """Each complete line (with its line end) is one JSON object. Only the last line may be incomplete
    (no line end): an apply was killed while writing it. A line that is not JSON anywhere else means the
    journal is corrupt, and fails the test naming it."""
    if not path.exists():
        return JournalLines([], None)
    *complete, last = path.read_bytes().split(b"\n")
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(complete, 1):
        try:
            entries.append(json.loads(line))
        except ValueError as exc:
            raise AssertionError(
                f"{path}:{number}: not complete JSON, yet not the last line: {exc}"
            ) from None
    return JournalLines(entries, len(complete) + 1 if last else None)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every line is one complete JSON object: no apply was killed while writing it."""
    lines = read_journal_lines(path)
    assert lines.cut is None, f"{path}:{lines.cut}: the last line is incomplete, and no apply was killed"
    return lines.entries


@dataclass
class Baseline:
    planned: list[str]
    untouched: str
    untouched_ids: set[str]


def baseline(served: Served, run_cli: Callable[..., Ran], env: dict[str, str], manifests: Path) -> Baseline:
    snapshot = served.site.snapshot()
    planned = plan_keys(run_cli, env, manifests)
    return Baseline(planned, untouched(snapshot), untouched_ids(snapshot))


def check_after_fault(
    served: Served,
    run_cli: Callable[..., Ran],
    env: dict[str, str],
    manifests: Path,
    base: Baseline,
    journal: Path,
    *,
    in_flight: set[str] | None = None,
) -> list[str]:
    """After a faulty (or killed) apply: no duplicate, nothing outside the plan touched, every journal
    line complete and true, and a fresh plan lists exactly the changes not recorded as applied — except
    that a change in flight when the process was killed (started, never finished) may have landed, and
    the journal's last line may be incomplete."""
    served.reset_knobs()
    snapshot = served.site.snapshot()
    assert duplicates(snapshot) == []
    assert untouched(snapshot) == base.untouched
    remaining = plan_keys(run_cli, env, manifests)
    entries = read_journal(journal) if in_flight is None else read_journal_lines(journal).entries
    applied = {e["change"] for e in entries if e["event"] == "applied"}
    assert not applied & set(remaining), f"recorded as applied but still planned: {applied & set(remaining)}"
    assert set(remaining) <= set(base.planned), set(remaining) - set(base.planned)
    unsure = in_flight or set()
    assert set(base.planned) - applied - set(remaining) <= unsure, "the plan must show exactly what remains"
    return remaining


def converge(
    served: Served,
    run_cli: Callable[..., Ran],
    env: dict[str, str],
    manifests: Path,
    base: Baseline,
    journal: Path,
) -> Ran:
    """A second apply finishes the job: the site equals the manifests, nothing outside them changed, and
    every journal line is complete JSON."""
    served.reset_knobs()
    second = run_cli(
        env, "apply", "--auto-approve", "--allow-delete", "--journal", str(journal), str(manifests)
    )
    assert second.code == 0, second.output
    check_entries(read_journal(journal), served.url)
    assert plan_keys(run_cli, env, manifests) == []
    snapshot = served.site.snapshot()
    assert duplicates(snapshot) == []
    assert untouched(snapshot) == base.untouched
    touched = [
        path for method, path, _ in served.writes() for i in base.untouched_ids if i in path.split("/")
    ]
    assert touched == [], touched
    return second


def write_world(world: World, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(world.manifest_yaml(), encoding="utf-8")
    return directory


# --- the ledger: the suite's own figures for the reliability table ---------------------------------------


@dataclass
class Ledger:
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, case: str, runs: int = 1, **figures: Any) -> None:
        """Add figures to `case` (counts are summed, lists extended, the rest kept)."""
        row = self.rows.setdefault(case, {"case": case, "runs": 0})
        row["runs"] += runs
        for key, value in figures.items():
            if isinstance(value, bool):
                row[key] = row.get(key, True) and value
            elif isinstance(value, int | float):
                row[key] = row.get(key, 0) + value
            elif isinstance(value, list):
                row.setdefault(key, []).extend(value)
            else:
                row[key] = value


@pytest.fixture(scope="session")
def ledger(pytestconfig: pytest.Config) -> Iterator[Ledger]:
    book = Ledger()
    started = time.monotonic()
    yield book
    if not book.rows or os.environ.get("RELIABILITY_NO_SUMMARY"):
        return
    # pytest-xdist workers of one run share its testrunuid; a run without xdist is a run of its own.
    workerinput = getattr(pytestconfig, "workerinput", {})
    run = workerinput.get("testrunuid") or uuid.uuid4().hex
    write_summary(book, run, time.monotonic() - started)


def write_summary(book: Ledger, run: str, seconds: float, path: Path = SUMMARY) -> None:
    """Merge `book` into the summary at `path`. A run of part of the suite updates only its own rows;
    the workers of one parallel run each hold part of a case's figures, so theirs add up (under a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous: dict[str, Any] = {}
        if path.exists():
            try:
                previous = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                previous = {}
        same_run = previous.get("run") == run
        rows = {row["case"]: row for row in previous.get("cases", [])}
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for case, row in book.rows.items():
            if same_run and case in rows:
                merged = Ledger({case: rows[case]})
                merged.record(case, **{k: v for k, v in row.items() if k != "case"})
                rows[case] = {**merged.rows[case], "recorded": stamp}
            else:
                rows[case] = {**row, "recorded": stamp}
        summary = {
            "format": 1,
            "generated": stamp,
            "run": run,
            "seconds": round(max(seconds, previous.get("seconds", 0) if same_run else 0), 1),
            "cases": sorted(rows.values(), key=lambda r: str(r.get("order", "")) + r["case"]),
        }
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
        ) as tmp:
            tmp.write(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
        Path(tmp.name).replace(path)


JOURNAL_EVENTS = {"started", "applied", "failed", "skipped", "interrupted"}


def check_entries(entries: list[dict[str, Any]], site: str) -> None:
    """Every journal line has the documented fields (reconciler/journal.py) and nothing else."""
    for entry in entries:
        assert set(entry) <= {
            "time",
            "run",
            "site",
            "change",
            "address",
            "action",
            "event",
            "error",
            "requestIds",
        }
        assert {"time", "run", "site", "change", "address", "action", "event"} <= set(entry), entry
        assert datetime.fromisoformat(entry["time"]).tzinfo is not None
        assert entry["site"] == site and entry["event"] in JOURNAL_EVENTS
        assert ("error" in entry) == (entry["event"] == "failed"), entry
        assert all(isinstance(i, str) and i for i in entry.get("requestIds", [])), entry
