"""How a site client behaves: how many requests at once, its timeouts and retries, where it says that a long
wait begins, and how it waits and tells the time (tests wait for nothing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.site.config import DEFAULT_MAX_RETRY_AFTER_S


@dataclass(frozen=True)
class ClientSettings:
    concurrency: int = 4
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_retries: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_max_s: int = DEFAULT_MAX_RETRY_AFTER_S
    # Where a long wait is announced (the CLI's stderr), and how to wait (tests wait for nothing).
    notify: Callable[[str], None] | None = field(default=None, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)  # when a token runs out
