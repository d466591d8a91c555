"""One concurrency limit for every request to a site, shrinking when the site says it is overloaded.

Additive increase, multiplicative decrease (the TCP rule): a 429 halves the limit, and each run of
successes as long as the limit grows it back by one, never above the configured maximum.

Threads (`slot`) and the client's event loop (`async_slot`) wait in one queue, first come first served. A
freed slot is handed to the first waiter directly, so no one can take it in between and no wake-up is
wasted.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.maximum = maximum
        self._limit = maximum
        self._in_flight = 0
        self._successes = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[object, Callable[[], None]]] = deque()  # (waiter, what grants it a slot)

    @property
    def limit(self) -> int:
        return self._limit

    @contextmanager
    def slot(self) -> Iterator[None]:
        granted: threading.Event | None = None
        with self._lock:
            if not self._take():
                granted = threading.Event()
                self._waiters.append((granted, granted.set))
        if granted is not None:
            granted.wait()
        try:
            yield
        finally:
            self._release()

    @asynccontextmanager
    async def async_slot(self) -> AsyncIterator[None]:
        granted: asyncio.Future[None] | None = None
        with self._lock:
            if not self._take():
                loop = asyncio.get_running_loop()
                granted = loop.create_future()
                self._waiters.append((granted, functools.partial(_grant_soon, loop, granted)))
        if granted is not None:
            try:
                await granted
            except asyncio.CancelledError:
                self._withdraw(granted)
                raise
        try:
            yield
        finally:
            self._release()

    def _take(self) -> bool:
        """Takes a free slot, unless others wait for one. Call with the lock held."""
        if self._in_flight < self._limit and not self._waiters:
            self._in_flight += 1
            return True
        return False

    def _withdraw(self, granted: asyncio.Future[None]) -> None:
        """A waiting task was cancelled: it leaves the queue, or gives back the slot granted meanwhile."""
        with self._lock:
            for waiter in self._waiters:
                if waiter[0] is granted:
                    self._waiters.remove(waiter)
                    return
        self._release()

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._grant_waiting()

    def _grant_waiting(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            self._in_flight += 1
            _, grant = self._waiters.popleft()
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
    loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
