"""The apply journal: one JSON line per change event, appended and synced to disk as it happens, so
that even a killed apply leaves a true record of what it started and what the site confirmed.

Each line: time (UTC, ISO 8601), run (one id per apply), site, change (the plan key), address, action,
event (started | applied | failed | skipped), and where there is one, error and requestIds. It never
holds a credential: only what the plan and the site's answers say.
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
# Never through a symbolic link: the default journal is in the working directory, which in CI is a pull
# request's checkout, and a link there could point at any file the job may write. Readable by its owner only.
_OPEN_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)


class Journal:
    def __init__(self, path: Path, site: str) -> None:
        self.path = path
        self.site = site
        self.run = uuid.uuid4().hex[:12]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = os.fdopen(os.open(path, _OPEN_FLAGS, 0o600), "a", encoding="utf-8")
        except OSError as exc:
            why = "it is a symbolic link" if path.is_symlink() else exc.strerror or str(exc)
            raise ConfigError(
                f"{path}: cannot open the journal ({why}), so nothing was applied; "
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
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
