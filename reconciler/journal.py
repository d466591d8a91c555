"""The apply journal: one JSON line per change event, appended and synced to disk as it happens, so
that even a killed apply leaves a true record of what it started and what the site confirmed.

Each line: time (UTC, ISO 8601), run (one id per apply), site, change (the plan key), address, action,
event (started | applied | failed | skipped | interrupted), and where there are some, error, warnings and
requestIds. `interrupted` ends a started change that Ctrl-C cut short before the site's answer came: it may
or may not have landed. It never holds a credential: only what the plan and the site's answers say.

Each line goes to the end of the file in one write. Even so, a write is not atomic against SIGKILL: the
kernel copies it page by page and stops at a page boundary once the signal is pending, so an apply killed
while writing can leave its last line incomplete (no line end). The next apply removes that line before it
appends, and says so: the journal then reads as if the killed apply had stopped just before that line, and
every line stays complete JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyEvent
from reconciler.errors import ConfigError, Diagnostic, SourceSpan, warning

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
            # A journal that exists already (an older version's, or one in the checkout) may be 0644.
            with contextlib.suppress(PermissionError):  # someone else's file that we may write
                os.fchmod(self._file.fileno(), 0o600)
        except OSError as exc:
            why = "it is a symbolic link" if path.is_symlink() else exc.strerror or str(exc)
            raise ConfigError(
                f"{path}: cannot open the journal ({why}), so nothing was applied; "
                "choose another file with --journal or JSM_JOURNAL"
            ) from None
        try:
            self.cut_line = _remove_cut_last_line(path, self._file.fileno())
        except ConfigError:
            self._file.close()
            raise

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
        _write_line(self._file.fileno(), (json.dumps(entry, ensure_ascii=False) + "\n").encode())
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def _write_line(fd: int, line: bytes) -> None:
    """The whole line in one write: the file is open for appending, so it lands at the end in one piece."""
    written = os.write(fd, line)
    while written < len(line):  # a write cut short by a signal the process survives, or a full disk
        written += os.write(fd, line[written:])


def _remove_cut_last_line(path: Path, appending: int) -> Diagnostic | None:
    """When the journal's last line is incomplete, remove it before this run appends, and say so.

    Only the last line can be incomplete: a line is written whole, so a line end in the file means every
    byte before it was written. `appending` is the journal, open for appending; it is read through a second
    descriptor, and only when that is the same file."""
    try:
        reading = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # not readable: nothing to check, the journal is only appended to
    try:
        status, appended = os.fstat(reading), os.fstat(appending)
        if (
            (status.st_dev, status.st_ino) != (appended.st_dev, appended.st_ino)
            or not stat.S_ISREG(status.st_mode)
            or status.st_size == 0
            or os.pread(reading, 1, status.st_size - 1) == b"\n"
        ):
            return None
        complete_lines, complete_size = _complete_lines(reading)
    finally:
        os.close(reading)
    line = complete_lines + 1
    try:
        os.ftruncate(appending, complete_size)
    except OSError as exc:
        raise ConfigError(
            f"{path}:{line}: the journal's last line is incomplete (an earlier apply was killed while "
            f"writing it) and cannot be removed ({exc.strerror or exc}), so nothing was applied; remove "
            "that line, or choose another file with --journal or JSM_JOURNAL"
        ) from None
    return warning(
        "journal.cut_line",
        f"the journal's last line was incomplete: an earlier apply was killed while writing it. Its "
        f"{status.st_size - complete_size} bytes are removed, so the journal reads as if that apply had "
        "stopped just before it, and every line is complete JSON",
        source=SourceSpan(str(path), line, 1),
    )


def _complete_lines(fd: int) -> tuple[int, int]:
    """How many lines of the file end with a line end, and the size of the file up to the last one."""
    count, size, offset = 0, 0, 0
    while chunk := os.pread(fd, 1 << 20, offset):
        count += chunk.count(b"\n")
        last = chunk.rfind(b"\n")
        if last >= 0:
            size = offset + last + 1
        offset += len(chunk)
    return count, size
