"""Which files a manifest set is: the paths given walked (hidden files and directories left out), each file
once, a symbolic link whose target is outside the paths, a path given through a linked directory of the
working directory whose target is outside it, or a name that is not UTF-8 refused at its path, the
whole set measured against MAX_SET_BYTES before any file is read; with no paths, the working directory's
files that look like manifests.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import Diagnostic, SourceSpan, error
from reconciler.files import resolved
from reconciler.kind_names import ADDRESS_FORMS

MANIFEST_SUFFIXES = (".yaml", ".yml")
# The largest site the benchmark models (ten times an enterprise site) exports 4.4 MB of manifests. A set is
# never read whole beyond this: hostile YAML costs up to 2 s and 350 MB per megabyte (measured: a 4.6 MB
# list of 2.4 million numbers, 7 s and 1.6 GB).
MAX_SET_BYTES = 20 * 1024 * 1024
MANIFEST_SECTIONS = ("settings", *ADDRESS_FORMS)
# For a file that does not parse: a manifest section key or `version: 1` at the start of a line.
_MANIFEST_LINE = re.compile(
    "^(?:(?:" + "|".join(MANIFEST_SECTIONS) + r""")\s*:|version\s*:\s*['"]?1['"]?\s*(?:#.*)?$)""",
    re.MULTILINE,
)


def working_directory_files(diagnostics: list[Diagnostic]) -> list[Path]:
    """The working directory's own `*.yaml` and `*.yml` files, not its subdirectories (no paths given)."""
    roots = _Roots([Path(".")])
    return sorted(
        entry
        for entry in Path(".").iterdir()
        if entry.name.endswith(MANIFEST_SUFFIXES)
        and not entry.name.startswith(".")
        and _named_in_utf8(entry, diagnostics)
        and roots.admits(entry, entry.as_posix(), diagnostics)
        and entry.is_file()
    )


def looks_like_manifest(data: Any) -> bool:
    """Whether a file found without being named is meant as a manifest.

    A key that is, or nearly is, a manifest section counts, so a manifest with a mistake in it is
    still read and its mistakes reported; `version` counts only as 1, since tool configurations have
    versions too (`version: 2`, `version: "3.8"`).
    """
    if not isinstance(data, dict):
        return False
    if data.get("version") in (1, "1"):
        return True
    sections = {section.casefold() for section in MANIFEST_SECTIONS}
    return any(difflib.get_close_matches(str(key).casefold(), sections, n=1, cutoff=0.8) for key in data)


def manifest_files(paths: Sequence[Path], diagnostics: list[Diagnostic]) -> Iterator[tuple[Path, str]]:
    """Files under `paths`, each once, with the name diagnostics show (as given, never resolved)."""
    roots = _Roots(paths)
    seen: set[Path] = set()
    for given in paths:
        if (
            not _named_in_utf8(given, diagnostics)
            or not _stays_inside_through_links(given, diagnostics)
            or not roots.admits(given, given.as_posix(), diagnostics)
        ):
            continue
        if given.is_file():
            found = [given]
        elif given.is_dir():
            found = sorted(_walk(given, roots, diagnostics), key=lambda p: p.parts)
            if not found:
                diagnostics.append(
                    error("manifest.read", f"{given}: no *.yaml or *.yml files in this directory")
                )
        else:
            diagnostics.append(error("manifest.read", f"{given}: no such file or directory"))
            continue
        for path in found:
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                yield path, path.as_posix()


def _walk(directory: Path, roots: _Roots, diagnostics: list[Diagnostic]) -> Iterator[Path]:
    # Hidden files and directories (.git, .github workflows, .venv) are never manifests. A linked directory
    # is not walked: when it is admitted, its target is inside the paths given and read there.
    for root, dirs, files in os.walk(directory):
        dirs[:] = [
            name
            for name in dirs
            if not name.startswith(".")
            and _named_in_utf8(Path(root, name), diagnostics)
            and roots.admits(Path(root, name), Path(root, name).as_posix(), diagnostics)
            and not Path(root, name).is_symlink()
        ]
        for name in files:
            path = Path(root, name)
            if (
                name.endswith(MANIFEST_SUFFIXES)
                and not name.startswith(".")
                and _named_in_utf8(path, diagnostics)
                and roots.admits(path, path.as_posix(), diagnostics)
            ):
                yield path


def _named_in_utf8(path: Path, diagnostics: list[Diagnostic]) -> bool:
    """False, with the refusal, for a path whose name is not UTF-8: it could be neither shown in a message nor
    written to a plan, and a pull request can add such a file. The name is shown with its bytes escaped."""
    try:
        path.as_posix().encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path.as_posix()).decode("utf-8", errors="backslashreplace")
        why = "the name is not UTF-8 text, so it is not read; rename it"
        if path.is_dir():
            diagnostics.append(error("manifest.read", f"{shown}: {why}"))
        else:
            diagnostics.append(error("manifest.read", why, source=SourceSpan(shown, 1, 1)))
        return False
    return True


def _stays_inside_through_links(given: Path, diagnostics: list[Diagnostic]) -> bool:
    """False, with the refusal, for a path given whose directories go through a symbolic link in the working
    directory (the checkout) to outside it: `deploy/jsm`, where a pull request made `deploy` a link to
    `../outside`, would read the outside directory. Links met outside the working directory, on a path the
    user wrote out (absolute, or up through `..`), are the machine's own and allowed. The link's target is
    neither read nor named."""
    checkout = Path.cwd().resolve()
    real = checkout  # the directory walked to so far, its links resolved; an absolute path's "/" resets it
    for index, part in enumerate(given.parts[:-1]):
        step = real / part
        target = resolved(step)
        link = Path(*given.parts[: index + 1]).as_posix()
        if target is None:
            message = f"the path goes through the symbolic link {link}, which loops, so it is not read"
            _refuse_link(given, given.as_posix(), message, diagnostics)
            return False
        real = target
        if step.is_symlink() and step.parent.is_relative_to(checkout) and not real.is_relative_to(checkout):
            message = (
                f"the path goes through the symbolic link {link}, whose target is outside the working "
                "directory, so it is not read (a manifest set is read only from inside the checkout); "
                "give the path without the link"
            )
            _refuse_link(given, given.as_posix(), message, diagnostics)
            return False
    return True


def _refuse_link(path: Path, shown: str, message: str, diagnostics: list[Diagnostic]) -> None:
    """The refusal of a linked path: at the path itself for a directory, at its first line for a file."""
    if path.is_dir():
        diagnostics.append(error("manifest.symlink", f"{shown}: {message}"))
    else:
        diagnostics.append(error("manifest.symlink", message, source=SourceSpan(shown, 1, 1)))


class _Roots:
    """The paths given, as absolute paths whose directories are resolved but whose own name is kept: a path
    given that is itself a symbolic link is one more link to check."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [_anchored(path) for path in paths]

    def admits(self, path: Path, shown: str, diagnostics: list[Diagnostic]) -> bool:
        """False, with the refusal, for a symbolic link whose target is outside every path given. The
        target is neither read nor named: it may be a credential file."""
        if not path.is_symlink():
            return True
        target = resolved(path)
        if target is None:
            _refuse_link(path, shown, "a symbolic link that loops is not read", diagnostics)
            return False
        if any(target.is_relative_to(root) for root in self.paths):
            return True
        problem = "a symbolic link to outside the manifests given is not read"
        why = "a manifest set is read only from inside the directories given"
        _refuse_link(path, shown, f"{problem} ({why})", diagnostics)
        return False


def _anchored(path: Path) -> Path:
    # A path whose links loop is kept as written: _stays_inside_through_links refuses it.
    absolute = Path.cwd() / path
    if absolute.name in ("", ".", ".."):
        return resolved(absolute) or absolute
    return (resolved(absolute.parent) or absolute.parent) / absolute.name


def within_set_limit(files: Sequence[Path], diagnostics: list[Diagnostic]) -> bool:
    """Whether the files, measured before any is read, hold at most MAX_SET_BYTES."""
    total = 0
    for path in files:
        with contextlib.suppress(OSError):  # reading it says why it cannot be read
            total += path.stat().st_size
    if total <= MAX_SET_BYTES:
        return True
    megabytes, limit = total / (1024 * 1024), MAX_SET_BYTES // (1024 * 1024)
    message = (
        f"the manifests hold {megabytes:.1f} MB in {len(files)} file(s), more than the {limit} MB a manifest "
        "set may hold, so none was read; give the directory of your manifests only"
    )
    diagnostics.append(error("manifest.too_large", message))
    return False


def text_looks_like_manifest(path: Path) -> bool:
    """For a file that does not parse: whether a line reads like the start of a manifest section."""
    try:
        with path.open("rb") as stream:
            text = stream.read(1024 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return True  # say why it cannot be read rather than pass over it in silence
    return _MANIFEST_LINE.search(text) is not None
