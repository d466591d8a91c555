"""One concurrency limit for every request to a site, shrinking when the site says it is overloaded.

Additive increase, multiplicative decrease (the TCP rule): a 429 halves the limit, and each run of
successes as long as the limit grows it back by one, never above the configured maximum.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.maximum = maximum
        self._limit = maximum
        self._in_flight = 0
        self._successes = 0
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()

    def throttled(self) -> None:
        with self._cond:
            self._limit = max(1, self._limit // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._cond:
            if self._limit >= self.maximum:
                return
            self._successes += 1
            if self._successes >= self._limit:
                self._limit += 1
                self._successes = 0
                self._cond.notify()
