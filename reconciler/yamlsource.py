"""Reading manifest YAML safely, into plain Python data plus the position of every node.

ruamel.yaml's round-trip loader gives every mapping and sequence `.lc` positions. The loaded tree is turned
into plain dicts, lists and scalars (which pydantic validates) and a SourceMap (data path -> position), so
nothing downstream holds on to ruamel objects.

Hostile input is stopped before anything is built: a first pass over the parser's events rejects explicit
tags, duplicate keys, nesting deeper than MAX_DEPTH and aliases that would expand to more than
MAX_ALIAS_NODES nodes (the "billion laughs"), and files above MAX_FILE_BYTES are never parsed at all.
Every problem, including ones nobody foresaw, comes back as a Diagnostic; nothing here raises for bad input.

String values may use `${NAME}` to read the environment variable NAME; `$${` stands for a literal `${`.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)

from reconciler.errors import Diagnostic, SourceSpan, error

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

PathSegment = str | int
DataPath = tuple[PathSegment, ...]

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")


@dataclass(frozen=True)
class SourceMap:
    """Positions (1-based line, column) of the nodes of one file, by data path.

    `values` holds the position of every value (the root is the empty path); `keys` that of every mapping
    key, under the path of its value.
    """

    file: str
    values: Mapping[DataPath, tuple[int, int]] = field(default_factory=dict)
    keys: Mapping[DataPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: DataPath, *, key: bool = False) -> SourceSpan:
        """The node at `path`, or the deepest existing node along it; with `key`, the mapping key if any."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if key and end == len(path) and prefix in self.keys:
                return SourceSpan(self.file, *self.keys[prefix])
            if prefix in self.values:
                return SourceSpan(self.file, *self.values[prefix])
        return SourceSpan(self.file, 1, 1)


@dataclass(frozen=True)
class LoadedYaml:
    """One file's data as plain Python (dict, list, str, int, float, bool, None, dates) and its positions."""

    data: Any
    source_map: SourceMap


def load_yaml_file(
    path: Path, file: str, environ: Mapping[str, str] | None = None
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Read and parse one file; `file` is the name diagnostics use. None when the file cannot be used."""
    start = SourceSpan(file, 1, 1)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [error("manifest.read", f"cannot read the file: {exc.strerror or exc}", source=start)]
    if len(raw) > MAX_FILE_BYTES:
        return None, [
            error(
                "manifest.too_large",
                f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into several files",
                source=start,
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [error("manifest.yaml", f"the file is not UTF-8 text (byte {exc.start})", source=start)]
    return load_yaml_text(text, file, environ)


def load_yaml_text(
    text: str, file: str, environ: Mapping[str, str] | None = None
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [error("manifest.too_large", "the document is too large", source=SourceSpan(file, 1, 1))]
    try:
        problems = _scan(text, file)
        if problems:
            return None, problems
        with warnings.catch_warnings():
            # ruamel warns about re-used anchors; the scan has already judged every anchor.
            warnings.simplefilter("ignore")
            tree = YAML(typ="rt").load(text)
        converter = _Converter(file, os.environ if environ is None else environ)
        data = converter.convert(tree, (), _root_position(tree))
        return LoadedYaml(data, SourceMap(file, converter.values, converter.keys)), converter.diagnostics
    except MarkedYAMLError as exc:
        return None, [_yaml_error(exc, file)]
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=SourceSpan(file, 1, 1))]


def _yaml_error(exc: MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    span = SourceSpan(file, mark.line + 1, mark.column + 1) if mark else SourceSpan(file, 1, 1)
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context and exc.context_mark:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return error("manifest.yaml", message, source=span)


@dataclass
class _Frame:
    is_mapping: bool
    anchor: str | None
    start_total: int
    height: int = 1
    expecting_key: bool = True
    keys: dict[str, int] = field(default_factory=dict)


def _scan(text: str, file: str) -> list[Diagnostic]:
    """Judge the event stream before anything is built: tags, duplicate keys, depth and alias expansion."""
    problems: list[Diagnostic] = []
    frames: list[_Frame] = []
    sizes: dict[str, int] = {}
    heights: dict[str, int] = {}
    total = 0
    expanded = 0
    documents = 0

    def at(event: Event) -> SourceSpan:
        return SourceSpan(file, event.start_mark.line + 1, event.start_mark.column + 1)

    try:
        for event in YAML(typ="rt").parse(io.StringIO(text)):
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.append(
                        error("manifest.yaml", "one YAML document per file, please", source=at(event))
                    )
                    break
                continue
            if isinstance(event, CollectionEndEvent):
                if frames:
                    frame = frames.pop()
                    if frame.anchor is not None:
                        sizes[frame.anchor] = total - frame.start_total
                        heights[frame.anchor] = frame.height
                    if frames:
                        frames[-1].height = max(frames[-1].height, frame.height + 1)
                continue
            if not isinstance(event, NodeEvent):
                continue
            parent = frames[-1] if frames else None
            if parent is not None and parent.is_mapping:
                if parent.expecting_key and isinstance(event, ScalarEvent) and event.value != "<<":
                    first = parent.keys.get(event.value)
                    if first is None:
                        parent.keys[event.value] = event.start_mark.line + 1
                    else:
                        problems.append(
                            error(
                                "manifest.yaml",
                                f"duplicate key {event.value!r} (first given at line {first})",
                                source=at(event),
                            )
                        )
                parent.expecting_key = not parent.expecting_key
            tag = getattr(event, "tag", None)
            if tag is not None:
                shown = str(tag).replace("tag:yaml.org,2002:", "!!")
                problems.append(
                    error("manifest.yaml", f"YAML tags such as {shown} are not allowed", source=at(event))
                )
            if isinstance(event, AliasEvent):
                anchor = str(event.anchor)
                if any(frame.anchor == anchor for frame in frames):
                    problems.append(
                        error("manifest.yaml", f"alias *{anchor} refers to itself", source=at(event))
                    )
                    break
                if anchor not in sizes:
                    problems.append(
                        error(
                            "manifest.yaml",
                            f"alias *{anchor} has no anchor &{anchor} before it",
                            source=at(event),
                        )
                    )
                    continue
                expanded += sizes[anchor]
                total += sizes[anchor]
                if expanded > MAX_ALIAS_NODES:
                    problems.append(
                        error(
                            "manifest.too_large",
                            f"aliases expand to more than {MAX_ALIAS_NODES} nodes; the document is refused",
                            source=at(event),
                        )
                    )
                    break
                if len(frames) + heights[anchor] > MAX_DEPTH:
                    problems.append(_too_deep(at(event)))
                    break
                if parent is not None:
                    parent.height = max(parent.height, heights[anchor] + 1)
                continue
            total += 1
            anchor_name = None if event.anchor is None else str(event.anchor)
            if isinstance(event, CollectionStartEvent):
                if len(frames) + 1 > MAX_DEPTH:
                    problems.append(_too_deep(at(event)))
                    break
                frames.append(_Frame(isinstance(event, MappingStartEvent), anchor_name, total - 1))
            elif anchor_name is not None:
                sizes[anchor_name] = 1
                heights[anchor_name] = 0
    except MarkedYAMLError as exc:
        problems.append(_yaml_error(exc, file))
    return problems


def _too_deep(span: SourceSpan) -> Diagnostic:
    return error(
        "manifest.too_large", f"the document is nested more than {MAX_DEPTH} levels deep", source=span
    )


def _root_position(tree: Any) -> tuple[int, int]:
    lc = getattr(tree, "lc", None)
    if lc is None or lc.line is None:
        return (1, 1)
    return (lc.line + 1, lc.col + 1)


class _Converter:
    """Turns a ruamel round-trip tree into plain data, recording positions and interpolating `${VAR}`."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.values: dict[DataPath, tuple[int, int]] = {}
        self.keys: dict[DataPath, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []

    def convert(self, node: Any, path: DataPath, position: tuple[int, int]) -> Any:
        self.values[path] = position
        if isinstance(node, Mapping):
            return self._mapping(node, path, position)
        if isinstance(node, list):
            positions: dict[Any, list[int]] = node.lc.data if hasattr(node, "lc") else {}
            items = []
            for index, item in enumerate(node):
                item_position = _one_based(positions.get(index), 0) or position
                items.append(self.convert(item, (*path, index), item_position))
            return items
        if isinstance(node, str):
            return self._interpolate(str(node), position)
        if isinstance(node, bool) or node is None or isinstance(node, datetime.date):
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node

    def _mapping(self, node: Mapping[Any, Any], path: DataPath, position: tuple[int, int]) -> dict[str, Any]:
        positions: dict[Any, list[int]] = node.lc.data if hasattr(node, "lc") else {}
        result: dict[str, Any] = {}
        for key, value in node.items():
            recorded = positions.get(key)
            key_position = _one_based(recorded, 0) or position
            if not isinstance(key, str):
                self.diagnostics.append(
                    error(
                        "manifest.invalid",
                        f"keys must be text; write {str(key)!r} in quotes",
                        source=SourceSpan(self.file, *key_position),
                    )
                )
                continue
            child = (*path, str(key))
            self.keys[child] = key_position
            result[str(key)] = self.convert(value, child, _one_based(recorded, 2) or position)
        return result

    def _interpolate(self, text: str, position: tuple[int, int]) -> str:
        if "$" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            span = SourceSpan(self.file, *position)
            if name is None:
                self.diagnostics.append(
                    error(
                        "manifest.env",
                        "malformed ${...}: write ${NAME} for an environment variable, $${ for a literal ${",
                        source=span,
                    )
                )
                return match.group(0)
            if name not in self.environ:
                self.diagnostics.append(
                    error(
                        "manifest.env",
                        f"environment variable {name} is not set (used as ${{{name}}})",
                        source=span,
                    )
                )
                return match.group(0)
            return self.environ[name]

        return _VARIABLE.sub(replace, text)


def _one_based(recorded: list[int] | None, offset: int) -> tuple[int, int] | None:
    if recorded is None or len(recorded) < offset + 2:
        return None
    return (recorded[offset] + 1, recorded[offset + 1] + 1)
