"""Writing a file so that a reader, or a crash, sees the old content or the new one, never half of either;
refusing an output path that cannot be written; resolving a path whose symbolic links may loop."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from reconciler.errors import ConfigError


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` (text as UTF-8, line breaks as given) to a temporary file beside `path`, sync it to
    disk, then rename it over `path`. Creates the parent directories."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_output(path: Path, option: str, *, directory: bool) -> None:
    """Refuse, before any work, an output path that cannot be what `option` wants: a symbolic link, a file
    where a directory is wanted or the reverse, or a file where the path needs a directory on the way. Left to
    the write, these end as an OSError long after the site was read."""
    try:
        problem = _output_problem(path, directory=directory)
    except OSError as exc:  # a name too long, a directory we may not search
        problem = _cannot_write(exc)
    if problem is not None:
        raise ConfigError(f"{option} {path}: {problem}; choose another {option}")


def _output_problem(path: Path, *, directory: bool) -> str | None:
    # Writing replaces a link at the output path, not what it leads to, which is never what a user who named
    # a link meant; and a dangling one made the write fail late. Refused alike, whether it leads anywhere.
    if path.is_symlink():
        return "a symbolic link; outputs are not written through links"
    if path.is_dir() and not directory:
        return "a directory, not a file"
    if path.exists() and not path.is_dir() and directory:
        return "not a directory (a file is there)"
    for parent in path.parents:
        if os.path.lexists(parent):  # a link that leads nowhere is there, and is no directory
            return None if parent.is_dir() else f"{parent} is not a directory"
    return None


def _cannot_write(exc: OSError) -> str:
    return f"cannot write it ({exc.strerror or exc})"


def write_output(path: Path, content: str | bytes, option: str) -> None:
    """`write_atomically` for a file the user named with `option`: a path that cannot be written is their
    mistake to correct, said in one line, not an internal error."""
    check_output(path, option, directory=False)
    try:
        write_atomically(path, content)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: {_cannot_write(exc)}; choose another {option}") from None


def resolved(path: Path) -> Path | None:
    """`path` absolute with its symbolic links resolved, or None when they loop (`a -> a`), which a pull
    request can commit. A strict resolve says so on every version (Python 3.11 raises RuntimeError, later
    ones OSError; a lenient resolve on 3.13 and later returns the loop as it stands); a path that does not
    exist yet is resolved leniently."""
    try:
        return path.resolve(strict=True)
    except RuntimeError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
    try:  # not there yet, or not a directory on the way: said where it is used
        return path.resolve()
    except (RuntimeError, OSError):
        return None
