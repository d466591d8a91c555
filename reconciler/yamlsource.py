"""Reading manifest YAML safely, into plain Python data plus the position of every node.

yamlcompose composes the text, refusing what must not be composed; one walk over the nodes gives the data
and a SourceMap, refusing duplicate keys and nesting deeper than MAX_DEPTH. Files above MAX_FILE_BYTES are
never parsed. Plain scalars follow YAML 1.2 (`yes`, `on` and `0755` are text, text and 755). Text values may
use `${JSM_VAR_NAME}` for that environment variable (`$${` is a literal `${`); no other variable is ever read,
so a manifest cannot reach a credential. Nothing here raises for bad input.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, SourceSpan, error, shortened
from reconciler.yamlcompose import MAX_ALIAS_NODES, MAX_DEPTH, TOO_DEEP, at, compose

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "DataPath",
    "LoadedYaml",
    "PathSegment",
    "Position",
    "SourceMap",
    "load_yaml_file",
    "load_yaml_text",
]

MAX_FILE_BYTES = 5 * 1024 * 1024

PathSegment = str | int
DataPath = tuple[PathSegment, ...]
Position = tuple[int, int]


@dataclass(frozen=True)
class SourceMap:
    """Positions (1-based line, column) of the nodes of one file, by data path.

    `values` holds the position of every value (the root is the empty path); `keys` that of every mapping
    key, under the path of its value.
    """

    file: str
    values: Mapping[DataPath, Position] = field(default_factory=dict)
    keys: Mapping[DataPath, Position] = field(default_factory=dict)

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
        message = f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into several files"
        return None, [error("manifest.too_large", message, source=start)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [error("manifest.yaml", f"the file is not UTF-8 text (byte {exc.start})", source=start)]
    return load_yaml_text(text, file, environ)


def load_yaml_text(
    text: str, file: str, environ: Mapping[str, str] | None = None, *, libyaml: bool = True
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Parse one document; `libyaml=False` uses PyYAML's pure-Python loader, which stands in for libyaml."""
    start = SourceSpan(file, 1, 1)
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [error("manifest.too_large", "the document is too large", source=start)]
    with cycle_collection_paused():  # what is read here makes no cycles
        try:
            root, refusals = compose(text, file, libyaml=libyaml)
            if root is None:
                return None, refusals
            walk = _Walk(text, file, os.environ if environ is None else environ)
            data = walk.convert(
                root, (), at(root.start_mark) if isinstance(root, yaml.CollectionNode) else (1, 1), 0
            )
            if walk.refusals:
                return None, [walk.refusals[place] for place in sorted(walk.refusals)]
            return LoadedYaml(data, SourceMap(file, walk.values, walk.keys)), list(walk.diagnostics)
        except (ValueError, TypeError, OverflowError) as exc:
            return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=start)]


# The YAML 1.2 core schema as ruamel.yaml's round-trip loader (the reference) reads it, tried in this order.
_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_NUMBER_START = frozenset("-+0123456789.")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_TIMESTAMPS = yaml.constructor.SafeConstructor()

VARIABLE_PREFIX = "JSM_VAR_"
# `$${`, then `${JSM_VAR_NAME}`, then any other `${...}`, then a `${` that is never closed.
_VARIABLE = re.compile(r"\$\$\{|\$\{(JSM_VAR_[A-Za-z0-9_]*)\}|\$\{([^}]*)\}|\$\{")
_ALLOWED = (
    "a manifest reads only environment variables whose names start with JSM_VAR_, as ${JSM_VAR_NAME}; "
    "write $${ for a literal ${"
)


def _resolve(node: yaml.ScalarNode) -> Any:
    """A scalar's value: quoted and block scalars are text, plain ones follow the YAML 1.2 core schema."""
    value: str = node.value
    if node.style:
        return value
    if value[:1] not in _NUMBER_START:
        return _CONSTANTS.get(value, value) if value else None
    if _FLOAT.match(value):
        return float(value.replace("_", "").lower().replace(".inf", "inf").replace(".nan", "nan"))
    if _INT.match(value):
        digits = value.replace("_", "")
        return int(digits, 0) if digits.lstrip("+-")[:2] in ("0b", "0o", "0x") else int(digits)
    if _TIMESTAMPS.timestamp_regexp.match(value):
        return _TIMESTAMPS.construct_yaml_timestamp(node)
    return value


class _Walk:
    """Turns the composed nodes into plain data, recording positions, interpolating `${VAR}` and refusing
    duplicate keys and nesting too deep. An alias's node, which yamlcompose has measured, is read again."""

    def __init__(self, text: str, file: str, environ: Mapping[str, str]) -> None:
        self.text, self.file, self.environ = text, file, environ
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        self.diagnostics: dict[Diagnostic, None] = {}  # a node read twice (an alias) is reported once
        self.refusals: dict[tuple[Position, str], Diagnostic] = {}  # a node read twice is refused once

    def convert(self, node: Any, path: DataPath, position: Position, depth: int) -> Any:
        """A node's value; `depth`: the number of collections around it."""
        self.values[path] = position
        if type(node) is yaml.ScalarNode:
            value = _resolve(node)
            if type(value) is str and "$" in value:
                value = self._interpolate(value, node, position)
            return value
        if depth >= MAX_DEPTH:
            self._refuse(TOO_DEEP, at(node.start_mark), "manifest.too_large")
            return None
        if type(node) is yaml.SequenceNode:
            items = enumerate(node.value)
            return [
                self.convert(item, (*path, index), at(item.start_mark), depth + 1) for index, item in items
            ]
        result: dict[str, Any] = {}
        self._fill(result, path, node, depth + 1)
        return result

    def _fill(
        self, result: dict[str, Any], path: DataPath, node: Any, depth: int, merged: bool = False
    ) -> None:
        """Adds a mapping's entries to `result`, then those its `<<` keys merge in that `result` lacks;
        entries `merged` into `result` are placed where it is."""
        sources: list[Any] = []
        first_keys: dict[str, Any] = {}  # an alias is its anchor's very node, so no duplicate of it
        for index, (key_node, value_node) in enumerate(node.value):
            scalar, name = type(key_node) is yaml.ScalarNode, key_node.value
            if not scalar:
                self._aside(key_node, depth)
            elif first_keys.setdefault(name, key_node) is not key_node:
                line = first_keys[name].start_mark.line + 1
                self._refuse(
                    f"duplicate key {shortened(name)!r} (first given at line {line})", at(key_node.start_mark)
                )
            if scalar and name == "<<" and not key_node.style:
                sources.extend(value_node.value if type(value_node) is yaml.SequenceNode else [value_node])
                continue
            key_position, value_position = at(key_node.start_mark), at(value_node.start_mark)
            if merged:
                key_position = value_position = self.values[path]
            elif not value_node.value and type(value_node) is yaml.ScalarNode and not value_node.style:
                value_position = self._empty_value_at(node, index)
            key = _resolve(key_node) if scalar else None
            if type(key) is not str:
                message = (
                    f"keys must be text; write {shortened(name)!r} in quotes"
                    if scalar and name
                    else "keys must be text"
                )
                self._report("manifest.invalid", message, key_position)
            if type(key) is not str or (merged and key in result):
                self._aside(value_node, depth)
            else:
                self.keys[(*path, key)] = key_position
                result[key] = self.convert(value_node, (*path, key), value_position, depth)
        for source in sources:
            if type(source) is yaml.MappingNode:
                self._fill(result, path, source, depth, merged=True)
            else:
                message = "invalid YAML: `<<` can only merge a mapping or a list of mappings"
                self._report("manifest.yaml", message, at(source.start_mark))
                self._aside(source, depth)

    def _aside(self, node: Any, depth: int) -> None:
        """Checks a node the data leaves out (a key that is a collection, a value under a key that is not
        text, what `<<` merges but the data does not take) by reading it into nothing."""
        aside = _Walk(self.text, self.file, self.environ)
        aside.refusals = self.refusals
        aside.convert(node, (), (1, 1), depth)

    def _empty_value_at(self, mapping: Any, index: int) -> Position:
        """Where ruamel.yaml placed an entry's empty value: after the `:` in a flow mapping or when a comment
        or the end of a text without a final line break follows, else at the next token."""
        after_colon, pairs = mapping.value[index][1].start_mark, mapping.value
        line_end = self.text.find("\n", after_colon.index)
        rest_of_line = self.text[after_colon.index : line_end].lstrip(" ")
        if mapping.flow_style or line_end < 0 or rest_of_line[:1] == "#":
            return at(after_colon)
        return at(pairs[index + 1][0].start_mark if index + 1 < len(pairs) else mapping.end_mark)

    def _report(self, code: str, message: str, position: Position) -> None:
        self.diagnostics[error(code, message, source=SourceSpan(self.file, *position))] = None

    def _refuse(self, message: str, position: Position, code: str = "manifest.yaml") -> None:
        self.refusals[position, message] = error(code, message, source=SourceSpan(self.file, *position))

    def _interpolate(self, text: str, node: yaml.ScalarNode, position: Position) -> str:
        occurrences: dict[str, int] = {}

        def replace(match: re.Match[str]) -> str:
            whole, allowed, other = match.group(0), match.group(1), match.group(2)
            if whole == "$${":
                return "${"
            if allowed is not None and allowed in self.environ:
                return self.environ[allowed]
            if allowed is not None:
                code, problem = "manifest.env", f"environment variable {allowed} is not set (used as {whole})"
            elif other is not None:
                shown = f"${{{shortened(other)}}}"
                code, problem = "manifest.variable_not_allowed", f"{shown} is not allowed: {_ALLOWED}"
            else:
                code, problem = "manifest.env", f"malformed ${{...}}: no closing }}; {_ALLOWED}"
            occurrences[whole] = occurrences.get(whole, 0) + 1
            self._report(code, problem, self._source_position(node, whole, occurrences[whole], position))
            return whole

        return _VARIABLE.sub(replace, text)

    def _source_position(self, node: yaml.ScalarNode, written: str, nth: int, fallback: Position) -> Position:
        """Where the `nth` `written` of a scalar's value is in the text: the same `nth` one in the scalar's
        source, unless escapes or folding make the source differ from the value (then `fallback`)."""
        start, end = node.start_mark, node.end_mark
        source = self.text[start.index : end.index]
        found = (match.start() for match in _VARIABLE.finditer(source) if match.group(0) == written)
        offset = next(itertools.islice(found, nth - 1, None), -1)
        if offset < 0:
            return fallback
        last_break = source.rfind("\n", 0, offset)
        if last_break < 0:
            return start.line + 1, start.column + 1 + offset
        return start.line + 1 + source.count("\n", 0, offset), offset - last_break
