"""One concurrency limit for every request to a site, shrinking when the site says it is overloaded.

Additive increase, multiplicative decrease (the TCP rule): a 429 halves the limit, and each run of
successes as long as the limit grows it back by one, never above the configured maximum.

Threads (`slot`) and the client's event loop (`acquire`, `release`) share the limit, each waiting in a
queue, first come first served. Threads go first: a thread's request is usually the next page of a list, on
the plan's critical path, while the loop's are many GETs known in advance, which lose nothing by waiting.
(First come first served across both had each page wait behind every queued GET: the scale-1 plan at
parallelism 10 took 1.15 times its bound instead of 1.08.) A freed slot is handed to the next waiter
directly, so no one can take it in between and no wake-up is wasted.

After `interrupt` (Ctrl-C) nobody gets a slot any more: a thread waiting in the queue raises Interrupted
within POLL_S, and a task on the event loop is cancelled (KeyboardInterrupt must not reach the loop itself,
whose thread it would end).
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from threading import Event, Lock

from reconciler.interruption import POLL_S, Interrupted


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.maximum = maximum
        self._limit = maximum
        self._in_flight = 0
        self._successes = 0
        self._interrupted = False  # set from a signal handler: a plain flag, no lock
        self._lock = Lock()
        self._threads: deque[Event] = deque()
        self._tasks: deque[tuple[asyncio.Future[None], Callable[[], None]]] = deque()  # and what grants each

    @property
    def limit(self) -> int:
        return self._limit

    def interrupt(self) -> None:
        """Ctrl-C: every wait for a slot, now or later, raises Interrupted. Safe in a signal handler."""
        self._interrupted = True

    @contextmanager
    def slot(self) -> Iterator[None]:
        granted: Event | None = None
        with self._lock:
            if self._interrupted:
                raise Interrupted
            if not self._take():
                granted = Event()
                self._threads.append(granted)
        if granted is not None:
            try:
                while not granted.wait(POLL_S):
                    if self._interrupted:
                        break
                if self._interrupted:  # granted or not: no request goes after Ctrl-C
                    raise Interrupted
            except BaseException:  # a Ctrl-C while waiting: the slot must not be granted to no one
                self._withdraw(granted)
                raise
        try:
            yield
        finally:
            self.release()

    async def acquire(self) -> None:
        """Waits on the event loop for a slot; `release` gives it back."""
        granted: asyncio.Future[None] | None = None
        with self._lock:
            if self._interrupted:
                raise asyncio.CancelledError
            if not self._take():
                loop = asyncio.get_running_loop()
                granted = loop.create_future()
                self._tasks.append((granted, functools.partial(_grant_soon, loop, granted)))
        if granted is not None:
            try:
                await granted
                if self._interrupted:  # granted after Ctrl-C
                    raise asyncio.CancelledError
            except asyncio.CancelledError:
                self._withdraw(granted)
                raise

    def _take(self) -> bool:
        """Takes a free slot, unless others wait for one. Call with the lock held."""
        if self._in_flight < self._limit and not self._threads and not self._tasks:
            self._in_flight += 1
            return True
        return False

    def _withdraw(self, granted: Event | asyncio.Future[None]) -> None:
        """A waiter stops waiting: it leaves its queue, or gives back the slot granted meanwhile."""
        with self._lock:
            if isinstance(granted, Event):
                if granted in self._threads:
                    self._threads.remove(granted)
                    return
            else:
                for waiter in self._tasks:
                    if waiter[0] is granted:
                        self._tasks.remove(waiter)
                        return
        self.release()

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._grant_waiting()

    def _grant_waiting(self) -> None:
        while self._in_flight < self._limit and (self._threads or self._tasks):
            self._in_flight += 1
            if self._threads:
                self._threads.popleft().set()
            else:
                _, grant = self._tasks.popleft()
                grant()

    def throttled(self) -> None:
        with self._lock:
            self._limit = max(1, self._limit // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._lock:
            if self._limit >= self.maximum:
                return
            self._successes += 1
            if self._successes >= self._limit:
                self._limit += 1
                self._successes = 0
                self._grant_waiting()


def _grant_soon(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Grants from any thread: the future is resolved on its own loop, unless it was cancelled meanwhile."""
    if asyncio._get_running_loop() is loop:
        loop.call_soon(_resolve, future)  # no need to wake the loop through its pipe: it is running this
    else:
        loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
