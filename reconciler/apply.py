"""Carrying out a plan: the only stage that writes to the site.

Changes run in plan order as far as their dependencies allow, up to `parallelism` at once. A failed
change skips everything that depends on it; independent changes still run. The applier never
re-diffs: it executes exactly the changes it is given.

After Ctrl-C no change starts; the changes in flight have INTERRUPT_GRACE_S to end with the site's answer,
the others end as interrupted (they may or may not have landed), and KeyboardInterrupt goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.errors import Diagnostic, SiteError, error
from reconciler.interruption import thread_pool
from reconciler.kinds.kind import Change
from reconciler.plan.model import Plan
from reconciler.registry import get_kind
from reconciler.site.api import SiteApi

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    STARTED = "started"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"  # Ctrl-C came before the site's answer


INTERRUPT_GRACE_S = 1.0


@dataclass(frozen=True)
class ApplyEvent:
    change: Change
    outcome: Outcome
    diagnostic: Diagnostic | None = None
    request_ids: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # an applied change the site did not keep all of


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, Diagnostic]] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    warnings: list[tuple[Change, Diagnostic]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


Listener = Callable[[ApplyEvent], None]


def apply_plan(
    plan: Plan, client: SiteApi, *, parallelism: int = 4, listener: Listener | None = None
) -> ApplyResult:
    notify = listener or (lambda _event: None)
    result = ApplyResult()
    pending = list(plan.changes)
    done: set[str] = set()
    broken: set[str] = set()  # failed or skipped
    started: dict[str, Change] = {}  # announced as started, and not ended yet
    running: dict[Future[_Outcome], Change] = {}

    def end(change: Change, outcome: _Outcome) -> None:
        problem, request_ids, warnings = outcome
        del started[change.key]
        if problem is None:
            done.add(change.key)
            result.applied.append(change)
            result.warnings += [(change, warning) for warning in warnings]
            notify(ApplyEvent(change, Outcome.APPLIED, request_ids=request_ids, warnings=warnings))
        else:
            broken.add(change.key)
            result.failed.append((change, problem))
            notify(ApplyEvent(change, Outcome.FAILED, problem, request_ids))

    with thread_pool(max(1, parallelism)) as pool:
        try:
            while pending or running:
                for change in list(pending):
                    if change.depends_on & broken:
                        pending.remove(change)
                        broken.add(change.key)
                        result.skipped.append(change)
                        notify(ApplyEvent(change, Outcome.SKIPPED))
                    elif change.depends_on <= done and len(running) < parallelism:
                        pending.remove(change)
                        started[change.key] = change
                        notify(ApplyEvent(change, Outcome.STARTED))
                        running[pool.submit(_apply_one, client, change)] = change
                if not running:
                    # What is left waits for keys that are not in the plan: nothing can start it.
                    for change in pending:
                        result.skipped.append(change)
                        notify(ApplyEvent(change, Outcome.SKIPPED))
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    change = running.pop(future)
                    end(change, future.result())  # a Ctrl-C in the change's thread is raised here
        except KeyboardInterrupt:
            wait(running, timeout=INTERRUPT_GRACE_S)
            for future, change in running.items():
                if future.done() and future.exception() is None:
                    end(change, future.result())
            for change in list(started.values()):
                notify(ApplyEvent(change, Outcome.INTERRUPTED))
            raise
    return result


# A change's problem (None when applied), the request ids of the answers it got, and its warnings.
_Outcome = tuple[Diagnostic | None, tuple[str, ...], tuple[Diagnostic, ...]]


def _apply_one(client: SiteApi, change: Change) -> _Outcome:
    with client.recording_request_ids() as request_ids:
        try:
            warnings = tuple(get_kind(change.kind).apply(client, change) or ())
        except SiteError as exc:
            problem = str(exc)
            source = exc.source or change.source
        except Exception as exc:  # a bug or an unexpected answer must not stop the other changes
            log.debug("change %s failed", change.key, exc_info=True)
            where = client.last_endpoint() or "applying"
            problem = f"{where}: unexpected answer ({type(exc).__name__}: {exc})"
            source = change.source
        else:
            return None, tuple(request_ids), warnings
    problem_found = error("apply.failed", problem, source=source, address=str(change.address))
    return problem_found, tuple(request_ids), ()
