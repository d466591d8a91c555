"""Ctrl-C in a run of many threads.

Python raises KeyboardInterrupt in the main thread only: a worker thread waiting on a Retry-After, in the
queue for the shared limit, or for the event loop would go on waiting, and the main thread would wait for
it before it could exit. So the CLI's SIGINT handler tells the site client, which sets a flag every wait of
the client looks at a few times a second (a plain flag: a signal handler that took a lock could deadlock
the very thread it interrupted), and a waiter that sees it raises `Interrupted`. A thread blocked in a
socket read or a name lookup cannot be woken at all, so a pool of threads is not waited for once Ctrl-C
came (`thread_pool`); the CLI ends the process without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

POLL_S = 0.1  # how often a wait looks whether Ctrl-C came


class Interrupted(KeyboardInterrupt):
    """Raised in any thread by a wait that Ctrl-C cut short; handled as Ctrl-C itself is."""


def pause(seconds: float, interrupted: Callable[[], bool]) -> None:
    """Sleeps `seconds`, unless `interrupted()` comes true meanwhile: then raises Interrupted."""
    deadline = time.monotonic() + seconds
    while not interrupted():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, POLL_S))
    raise Interrupted


@contextmanager
def thread_pool(max_workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of threads, waited for when the block ends, except after Ctrl-C: then the tasks not started
    are cancelled and the threads still running are left behind (see the module's docstring)."""
    pool = ThreadPoolExecutor(max_workers=max_workers)
    interrupted = False
    try:
        yield pool
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=interrupted)
