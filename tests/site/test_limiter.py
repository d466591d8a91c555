"""AdaptiveLimit: a concurrency limit that halves on 429 and grows back one step per run of successes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from reconciler.interruption import Interrupted
from reconciler.site import limiter
from reconciler.site.limiter import AdaptiveLimit
from tests.site.conftest import until


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


def test_a_waiter_gets_in_when_the_limit_grows() -> None:
    limit = AdaptiveLimit(2)
    limit.throttled()
    assert limit.limit == 1
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
    assert until(lambda: len(limit._threads) == 1)  # the limit is 1 and the slot is taken: the waiter waits
    assert not entered.is_set()
    limit.succeeded()  # the limit grows to 2 and lets the waiter in
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


def test_threads_and_the_event_loop_share_one_limit() -> None:
    limit = AdaptiveLimit(3)
    lock = threading.Lock()
    inside = most = 0

    def enter() -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)

    def leave() -> None:
        nonlocal inside
        with lock:
            inside -= 1

    def in_thread() -> None:
        with limit.slot():
            enter()
            time.sleep(0.005)
            leave()

    async def on_loop() -> None:
        async def one() -> None:
            await limit.acquire()
            enter()
            await asyncio.sleep(0.005)
            leave()
            limit.release()

        await asyncio.gather(*(one() for _ in range(30)))

    threads = [threading.Thread(target=in_thread) for _ in range(12)]
    for thread in threads:
        thread.start()
    asyncio.run(on_loop())
    for thread in threads:
        thread.join(timeout=10)
    assert most == 3
    assert limit._in_flight == 0 and not limit._tasks


def test_waiters_get_in_first_come_first_served() -> None:
    limit = AdaptiveLimit(1)
    order: list[int] = []

    async def run() -> None:
        async def one(index: int) -> None:
            await limit.acquire()
            order.append(index)
            await asyncio.sleep(0)
            limit.release()

        await asyncio.gather(*(one(index) for index in range(10)))

    asyncio.run(run())
    assert order == list(range(10))


async def _hold(limit: AdaptiveLimit, release: asyncio.Event) -> None:
    await limit.acquire()
    await release.wait()
    limit.release()


async def _pass(limit: AdaptiveLimit) -> None:
    await limit.acquire()
    limit.release()


def test_a_cancelled_waiter_leaves_the_queue_and_gives_its_slot_on() -> None:
    limit = AdaptiveLimit(1)

    async def run() -> bool:
        release = asyncio.Event()
        held = asyncio.create_task(_hold(limit, release))
        await asyncio.sleep(0)
        cancelled = asyncio.create_task(_pass(limit))
        later = asyncio.create_task(_pass(limit))
        await asyncio.sleep(0)
        assert len(limit._tasks) == 2
        cancelled.cancel()
        await asyncio.sleep(0)
        assert len(limit._tasks) == 1
        release.set()
        await asyncio.wait_for(later, timeout=5)
        await held
        return cancelled.cancelled()

    assert asyncio.run(run())
    assert limit._in_flight == 0 and not limit._tasks


def test_a_waiter_cancelled_just_after_its_grant_gives_the_slot_back() -> None:
    limit = AdaptiveLimit(1)

    async def run() -> None:
        release = asyncio.Event()
        held = asyncio.create_task(_hold(limit, release))
        await asyncio.sleep(0)
        granted_then_cancelled = asyncio.create_task(_pass(limit))
        await asyncio.sleep(0)
        release.set()
        await held  # the holder's release grants the waiter the slot ...
        granted_then_cancelled.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(granted_then_cancelled, return_exceptions=True)
        await limit.acquire()  # the slot was given back, not lost
        limit.release()

    asyncio.run(asyncio.wait_for(run(), timeout=5))
    assert limit._in_flight == 0


def test_a_waiting_thread_goes_before_waiting_tasks() -> None:
    limit = AdaptiveLimit(1)
    order: list[str] = []

    async def run() -> None:
        release = asyncio.Event()

        async def task(index: int) -> None:
            await limit.acquire()
            order.append(f"task {index}")
            limit.release()

        def thread() -> None:
            with limit.slot():
                order.append("thread")

        held = asyncio.create_task(_hold(limit, release))
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(task(index)) for index in range(3)]
        await asyncio.sleep(0)
        waiting = threading.Thread(target=thread)
        waiting.start()
        assert await asyncio.to_thread(until, lambda: len(limit._threads) == 1)
        release.set()
        await asyncio.wait_for(asyncio.gather(held, *tasks), timeout=5)
        waiting.join(timeout=5)

    asyncio.run(run())
    assert order == ["thread", "task 0", "task 1", "task 2"]


def test_a_thread_interrupted_while_waiting_leaves_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    limit = AdaptiveLimit(1)
    with limit.slot():
        monkeypatch.setattr(limiter, "Event", Interrupted)
        with pytest.raises(KeyboardInterrupt), limit.slot():
            pass
        monkeypatch.undo()
        assert not limit._threads
    assert limit._in_flight == 0
    with limit.slot():  # nothing was lost: the slot is free
        pass


def test_after_ctrl_c_a_thread_waiting_for_a_slot_stops_and_no_slot_is_given() -> None:
    limit = AdaptiveLimit(1)
    outcome: list[str] = []

    def wait_for_a_slot() -> None:
        try:
            with limit.slot():
                outcome.append("granted")
        except Interrupted:
            outcome.append("interrupted")

    with limit.slot():
        waiting = threading.Thread(target=wait_for_a_slot)
        waiting.start()
        assert until(lambda: len(limit._threads) == 1)
        limit.interrupt()
        waiting.join(timeout=5)  # a wait for the slot would last as long as this block
        assert outcome == ["interrupted"] and not limit._threads
    assert limit._in_flight == 0
    with pytest.raises(Interrupted), limit.slot():
        pass
