"""The apply journal: one JSON line per change event, appended and synced to disk as it happens, so
that even a killed apply leaves a true record of what it started and what the site confirmed.

Each line: time (UTC, ISO 8601), run (one id per apply), site, change (the plan key), address, action,
event (started | applied | failed | skipped), and where there are some, error, warnings and requestIds. It
never holds a credential: only what the plan and the site's answers say.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyEvent
from reconciler.errors import ConfigError

DEFAULT_JOURNAL = Path(".jsm-journal.jsonl")


class Journal:
    def __init__(self, path: Path, site: str) -> None:
        self.path = path
        self.site = site
        self.run = uuid.uuid4().hex[:12]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{path}: cannot open the journal ({exc.strerror or exc}), so nothing was applied; "
                "choose another file with --journal or JSM_JOURNAL"
            ) from None

    def record(self, event: ApplyEvent) -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "run": self.run,
            "site": self.site,
            "change": event.change.key,
            "address": str(event.change.address),
            "action": event.change.action.value,
            "event": event.outcome.value,
        }
        if event.diagnostic is not None:
            entry["error"] = event.diagnostic.message
        if event.request_ids:
            entry["requestIds"] = list(event.request_ids)
        if event.warnings:
            entry["warnings"] = [warning.message for warning in event.warnings]
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
