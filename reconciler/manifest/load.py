"""Loading a manifest set (MANIFEST.md) into a DesiredState, with every problem as a positioned Diagnostic.

Each file is read by yamlsource, validated as a whole manifest document (for the diagnostics), and its objects
are validated one by one (so that one bad object does not hide the cross-object problems of the others).
Cross-object rules (duplicate addresses, renamedFrom collisions, the 50-fields limit, one settings block)
run once every file has been read. Nothing here raises for bad input.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.address import Address, form_of
from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, Severity, SourceSpan, error, warning
from reconciler.kinds.kind import Declaration, ResourceKind, valid_spec
from reconciler.manifest.document import manifest_document
from reconciler.manifest.paths import (
    looks_like_manifest,
    manifest_files,
    text_looks_like_manifest,
    within_set_limit,
    working_directory_files,
)
from reconciler.manifest.policies import offline_checks
from reconciler.manifest.validation import describe, diagnostics_from
from reconciler.spec import Spec
from reconciler.state import DesiredState, Settings
from reconciler.yamlsource import DataPath, SourceMap, load_yaml_file

log = logging.getLogger(__name__)

# A person fixes the first problems of a file and validates again; past a hundred they are one mistake
# repeated (an item per line of a generated list), and collecting them all is what costs: a 1 MB list of
# 500,000 wrong items took 11 s, 1.2 GB and 135 MB of output. The set's limit bounds many such files.
# Errors and warnings are limited apart: only errors stop the reading, since a warning never fails a set.
PROBLEMS_PER_FILE = 100
PROBLEMS_PER_SET = 1000


@cycle_collection_paused()
def load_manifests(
    paths: Sequence[Path], kinds: Sequence[ResourceKind], *, environ: Mapping[str, str] | None = None
) -> tuple[DesiredState, list[Diagnostic]]:
    """Read every manifest under `paths`, with the sections of `kinds`; all problems come back as
    diagnostics, sorted by position.

    No paths means the working directory, like Terraform: its own `*.yaml` and `*.yml` files only, not
    its subdirectories, and only those that look like manifests (`looks_like_manifest`), since a
    repository's root also holds tool configurations. Paths that are given are read whole.

    Nothing is read from outside the paths given (MANIFEST.md, "Where files may be"): a symbolic link whose
    target is elsewhere is refused at its path. A set of more than MAX_SET_BYTES is not read at all.
    """
    loader = _Loader(os.environ if environ is None else environ, kinds)
    if paths:
        files = list(manifest_files(paths, loader.diagnostics))
        if within_set_limit([path for path, _ in files], loader.diagnostics):
            for path, shown in files:
                if loader.full:
                    break
                _load_file(loader, path, shown, only_manifests=False)
    else:
        _load_working_directory(loader)
    return loader.finish()


def _load_file(loader: _Loader, path: Path, shown: str, *, only_manifests: bool) -> None:
    try:
        loader.load_file(path, shown, only_manifests=only_manifests)
    except _Full:
        pass  # close() writes the line that says so
    except Exception as exc:  # the loader boundary: no input may end in a traceback
        loader.file_problems.append(
            error(
                "manifest.internal",
                f"could not read this file ({type(exc).__name__}: {exc}); please report this",
                source=SourceSpan(shown, 1, 1),
            )
        )
    loader.close()


def _load_working_directory(loader: _Loader) -> None:
    candidates = working_directory_files(loader.diagnostics)
    if not within_set_limit(candidates, loader.diagnostics):
        return
    for path in candidates:
        if loader.full:
            break
        _load_file(loader, path, path.as_posix(), only_manifests=True)
    if not loader.files:
        skipped = len(candidates)
        why = f"; {skipped} YAML file(s) there are not manifests (-v lists them)" if skipped else ""
        loader.diagnostics.append(
            error(
                "manifest.read",
                f"no manifests found in . (a manifest is a *.yaml or *.yml file with `version: 1`){why}. "
                "Give the directory of your manifests, e.g. `jsm-reconciler validate jsm/`",
            )
        )


class _Full(Exception):
    """The file, or the whole set, has more errors than it may report: reading it stops."""


class _Loader:
    def __init__(self, environ: Mapping[str, str], kinds: Sequence[ResourceKind]) -> None:
        self.environ = environ
        self.kinds = tuple(kinds)
        self.document = manifest_document(self.kinds)
        self.diagnostics: list[Diagnostic] = []
        self.files: list[str] = []
        self.declared: dict[tuple[str, str, str], Declaration] = {}
        self.settings: Settings | None = None
        self.settings_span: SourceSpan | None = None
        self.settings_source: SourceMap | None = None
        self.sections: set[str] = set()
        self.file = ""  # the file being read; "" for the set's own problems
        self.file_problems: list[Diagnostic] = []  # held until close(), which sorts and cuts them
        self.file_errors = 0
        self.errors = 0  # of the set, in self.diagnostics
        self.warnings = 0
        self.full = False

    def load_file(self, path: Path, shown: str, *, only_manifests: bool) -> None:
        """Read one file; with `only_manifests`, skip it unless it looks like a manifest."""
        loaded, problems = load_yaml_file(path, shown, self.environ)
        if only_manifests and not (
            looks_like_manifest(loaded.data) if loaded is not None else text_looks_like_manifest(path)
        ):
            log.info("skipping %s: not a manifest (no `version: 1` and no manifest section)", shown)
            return
        log.info("reading %s", shown)
        self.files.append(shown)
        self.file = shown
        self.report(problems)
        if loaded is None:
            return
        data, source_map = loaded.data, loaded.source_map
        # Every problem goes through report(), so that the limits count it: empty files cost no bytes.
        if data is None:
            self.report(
                [
                    error(
                        "manifest.version",
                        "the file is empty; every manifest file starts with `version: 1`",
                        source=source_map.locate(()),
                    )
                ]
            )
            return
        if not isinstance(data, dict):
            self.report(
                [
                    error(
                        "manifest.invalid",
                        f"a manifest file is a mapping (version, settings, ...), not {describe(data)}",
                        source=source_map.locate(()),
                    )
                ]
            )
            return
        validated: dict[int, Spec] = {}
        try:
            _pair_validated(data, self.document.model_validate(data, by_name=False), validated)
        except ValidationError as exc:
            self.report(self._first_problems(exc, data, source_map))
        for kind in self.kinds:
            self.report(kind.unlisted(data.get(kind.name), source_map))
        if "settings" in data:
            self._take_settings(valid_spec(Settings, data["settings"] or {}), source_map)
            self.report(offline_checks(data["settings"], source_map))
        for kind in self.kinds:
            if kind.name in data:
                self.sections.add(kind.name)
            for declared in kind.declarations(data.get(kind.name), source_map, validated):
                self._declare(declared)

    def _take_settings(self, settings: Settings | None, source_map: SourceMap) -> None:
        span = source_map.locate(("settings",), key=True)
        if self.settings_span is not None:
            self.report(
                [
                    error(
                        "manifest.settings",
                        f"settings are already given at {self.settings_span}; keep them in one file of the "
                        "set",
                        source=span,
                    )
                ]
            )
            return
        self.settings_span = span
        self.settings = settings
        self.settings_source = source_map

    def _declare(self, declared: Declaration) -> None:
        address = declared.address
        first = self.declared.setdefault(address.key, declared)
        if first is declared:
            return
        here = declared.span()
        noun = form_of(address.kind).noun
        same = (
            f" (the same {noun} as {first.address}: names compare without case)"
            if first.address != address
            else ""
        )
        message = f"{address} is declared more than once: at {first.span()} and at {here}{same}"
        self.report([error("manifest.duplicate", message, source=here, address=str(address))])

    def _first_problems(
        self, exc: ValidationError, data: dict[str, Any], source_map: SourceMap
    ) -> list[Diagnostic]:
        """The problems of `exc`, sorted by position, so that the errors the limit keeps are the first by
        position, not pydantic's first. For a file with more errors than it may report, those of its data
        with every list cut to PROBLEMS_PER_FILE + 1 items (pydantic's `errors()` of 500,000 list items took
        2 s and 470 MB); the cut keeps each item's index, so the errors are at the same paths. The cut is
        used only when an error past the limit comes before the first item it dropped, so that the items it
        judges are the file's first (a check across a list and a key before it may still see less of the
        list). Otherwise the file's own errors are used."""

        def problems(found: ValidationError) -> list[Diagnostic]:
            return sorted(diagnostics_from(found, data, source_map, self.document, self.kinds), key=_position)

        if exc.error_count() <= PROBLEMS_PER_FILE:
            return problems(exc)
        dropped: list[DataPath] = []
        try:
            self.document.model_validate(_lists_cut(data, (), dropped), by_name=False)
        except ValidationError as cut:
            found = problems(cut)
            errors = [problem for problem in found if problem.severity is Severity.ERROR]
            first_dropped = min((_span_position(source_map.locate(path)) for path in dropped), default=None)
            if len(errors) > PROBLEMS_PER_FILE and (
                first_dropped is None or _position(errors[PROBLEMS_PER_FILE]) <= first_dropped
            ):
                return found
        return problems(exc)

    def report(self, problems: Iterable[Diagnostic]) -> None:
        """Holds problems of the file being read (or of the set, in finish) for close(). Once it holds one
        error more than it may report, _Full stops the reading: the problems left are never made, which is
        what bounds the time and memory a file full of mistakes costs. Warnings never stop it."""
        limit = self._error_limit()
        for problem in problems:
            self.file_problems.append(problem)
            if problem.severity is Severity.ERROR:
                self.file_errors += 1
                if self.file_errors > limit:
                    raise _Full

    def _error_limit(self) -> int:
        left = PROBLEMS_PER_SET - self.errors
        return min(PROBLEMS_PER_FILE, left) if self.file else left

    def close(self) -> None:
        """Adds the problems held, the first by position: up to the limit of errors, then one line that says
        there are more; up to the limit of warnings, then one line that counts the others."""
        problems = sorted(self.file_problems, key=_position)
        self.file_problems, self.file_errors = [], 0
        left = PROBLEMS_PER_SET - self.errors
        set_limited = not self.file or left <= PROBLEMS_PER_FILE
        limit = left if set_limited else PROBLEMS_PER_FILE
        errors = [index for index, problem in enumerate(problems) if problem.severity is Severity.ERROR]
        more_errors = len(errors) > limit
        if more_errors:
            problems = problems[: errors[limit]]
        room = PROBLEMS_PER_SET - self.warnings
        if self.file:
            room = min(room, PROBLEMS_PER_FILE)
        kept: list[Diagnostic] = []
        dropped = 0
        for problem in problems:
            if problem.severity is Severity.ERROR:
                kept.append(problem)
                self.errors += 1
            elif room > 0:
                kept.append(problem)
                room -= 1
                self.warnings += 1
            else:
                dropped += 1
        self.diagnostics.extend(kept)
        # At the last problem shown, so that the lines close the file's problems once they are sorted.
        spans = [problem.source for problem in kept if problem.source]
        last = spans[-1] if spans and self.file else None
        if dropped:
            where = "in this file" if self.file else "of the set"
            message = f"{dropped} more warning(s) {where} are not shown"
            self.diagnostics.append(warning("manifest.too_many_problems", message, source=last))
        if more_errors:
            if set_limited:
                self.full = True
                stopped = ", and no more files were read" if self.file else ""  # finish() checks a read set
                what = f"only the first {PROBLEMS_PER_SET} of the set are shown{stopped}"
                source = None
            else:
                what = f"only the first {PROBLEMS_PER_FILE} in this file are shown"
                source = last or SourceSpan(self.file, 1, 1)
            message = f"… and more errors: {what}; fix these and validate again"
            self.diagnostics.append(error("manifest.too_many_problems", message, source=source))

    def finish(self) -> tuple[DesiredState, list[Diagnostic]]:
        objects = list(self.declared.values())
        self.file = ""
        if not self.full:  # the set was not read whole: its objects are not all there to compare
            with contextlib.suppress(_Full):  # close() writes the line that says so
                for kind in self.kinds:
                    own = [item for item in objects if item.address.kind == kind.name]
                    self.report(kind.declared_problems(own))
                self.report(_renamed_from_problems(objects))
            self.close()
        settings = self.settings or Settings()
        state = DesiredState(
            objects={item.address: item.spec for item in objects},
            settings=settings,
            protected=frozenset(Address.parse(entry) for entry in settings.protect),
            prune=frozenset(settings.prune),
            files=tuple(self.files),
            origins={item.address: item.origin for item in objects},
            named_kinds=frozenset(self.sections | set(settings.prune)),
            settings_source=self.settings_source,
        )
        return state, sorted(self.diagnostics, key=_position)


def _lists_cut(data: Any, path: DataPath, dropped: list[DataPath]) -> Any:
    """`data` with every list cut to one item more than a file may report (so that the line saying there are
    more is written); the path of each list's first dropped item goes into `dropped`."""
    if isinstance(data, dict):
        return {key: _lists_cut(value, (*path, key), dropped) for key, value in data.items()}
    if isinstance(data, list):
        kept = PROBLEMS_PER_FILE + 1
        if len(data) > kept:
            dropped.append((*path, kept))
        return [_lists_cut(item, (*path, index), dropped) for index, item in enumerate(data[:kept])]
    return data


def _span_position(span: SourceSpan) -> tuple[str, int, int]:
    return (span.file, span.line, span.column)


def _position(diagnostic: Diagnostic) -> tuple[str, int, int]:
    source = diagnostic.source
    return (source.file, source.line, source.column) if source else ("", 0, 0)


def _pair_validated(raw: Any, value: Any, known: dict[int, Spec]) -> None:
    """Records, by the identity of its data, each model that validating the whole document built, so
    that its objects are not validated a second time one by one: the same model on the same data."""
    if isinstance(value, Spec) and isinstance(raw, dict):
        known[id(raw)] = value
        for name, key in _field_keys(type(value)):
            item = getattr(value, name)
            if isinstance(item, Spec | list) and key in raw:  # text and numbers hold no models
                _pair_validated(raw[key], item, known)
    elif isinstance(value, list) and isinstance(raw, list) and len(value) == len(raw):
        for raw_item, item in zip(raw, value, strict=True):
            if isinstance(item, Spec | list):
                _pair_validated(raw_item, item, known)


@functools.cache
def _field_keys(model: type[Spec]) -> tuple[tuple[str, str], ...]:
    """A model's fields, each with its key in the manifest."""
    return tuple((name, info.alias or name) for name, info in model.model_fields.items())


def _renamed_from_problems(objects: list[Declaration]) -> Iterator[Diagnostic]:
    claims: dict[tuple[str, str, str], Declaration] = {}
    for item in objects:
        earlier_names: list[str] = getattr(item.spec, "renamed_from", [])
        for index, earlier in enumerate(earlier_names):
            claim = item.address.renamed(earlier).key
            span = item.span("renamedFrom", index)
            if claim == item.address.key:
                yield error(
                    "manifest.renamed_from",
                    f"renamedFrom lists the object's own name {earlier!r}",
                    source=span,
                    address=str(item.address),
                )
                continue
            first = claims.setdefault(claim, item)
            if first is not item:
                yield error(
                    "manifest.renamed_from",
                    f"{item.address.renamed(earlier)} is already renamed into {first.address} "
                    f"(renamedFrom at {first.span('renamedFrom')}); an earlier name becomes one object only",
                    source=span,
                    address=str(item.address),
                )
