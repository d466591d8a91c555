"""AdaptiveLimit: a concurrency limit that halves on 429 and grows back one step per run of successes."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.site.limiter import AdaptiveLimit


def test_the_maximum_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimit(0)


def _run(limit: AdaptiveLimit, workers: int, hold_s: float = 0.01) -> int:
    """Many threads take a slot each; returns the most that were ever inside at once."""
    lock = threading.Lock()
    inside = 0
    most = 0

    def work() -> None:
        nonlocal inside, most
        with limit.slot():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(hold_s)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    return most


def test_concurrency_never_exceeds_the_limit() -> None:
    limit = AdaptiveLimit(4)
    assert _run(limit, workers=24) == 4


def test_concurrency_never_exceeds_a_throttled_limit() -> None:
    limit = AdaptiveLimit(8)
    limit.throttled()
    assert limit.limit == 4
    assert _run(limit, workers=24) == 4


def test_throttled_halves_down_to_one() -> None:
    limit = AdaptiveLimit(8)
    seen = []
    for _ in range(5):
        limit.throttled()
        seen.append(limit.limit)
    assert seen == [4, 2, 1, 1, 1]


def test_successes_grow_the_limit_back_one_step_per_run_never_above_the_maximum() -> None:
    limit = AdaptiveLimit(4)
    limit.throttled()
    limit.throttled()
    assert limit.limit == 1
    seen = []
    for _ in range(12):
        limit.succeeded()
        seen.append(limit.limit)
    # A run as long as the limit grows it by one: 1 success -> 2, 2 more -> 3, 3 more -> 4, then stays.
    assert seen == [2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]


def test_a_429_restarts_the_run_of_successes() -> None:
    limit = AdaptiveLimit(8)
    limit.throttled()  # 4
    for _ in range(3):
        limit.succeeded()
    limit.throttled()  # 2, and the three successes no longer count
    limit.succeeded()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 3


class _WatchedCondition(threading.Condition):
    """Says when a thread starts waiting, so a test knows a waiter is blocked without sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_a_waiter_gets_in_when_the_limit_grows() -> None:
    limit = AdaptiveLimit(2)
    limit.throttled()
    assert limit.limit == 1
    watched = _WatchedCondition()
    limit._cond = watched
    held = threading.Event()
    release = threading.Event()
    entered = threading.Event()

    def holder() -> None:
        with limit.slot():
            held.set()
            release.wait(timeout=10)

    def waiter() -> None:
        with limit.slot():
            entered.set()

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(timeout=5)
    second = threading.Thread(target=waiter)
    second.start()
    assert watched.waiting.wait(timeout=5)  # the limit is 1 and the slot is taken: the waiter waits
    assert not entered.is_set()
    limit.succeeded()  # the limit grows to 2 and wakes the waiter
    assert entered.wait(timeout=5)
    release.set()
    first.join(timeout=5)
    second.join(timeout=5)


def test_a_slot_is_given_back_when_the_work_fails() -> None:
    limit = AdaptiveLimit(1)
    with pytest.raises(RuntimeError), limit.slot():
        raise RuntimeError("boom")
    done = threading.Event()

    def again() -> None:
        with limit.slot():
            done.set()

    thread = threading.Thread(target=again)
    thread.start()
    assert done.wait(timeout=5)
    thread.join(timeout=5)
