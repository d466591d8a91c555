"""Reading manifest YAML safely, into plain Python data (yamlscalars gives scalars their values) plus the
position of every node. libyaml composes the text (through PyYAML) and one walk over the nodes gives the data
and a SourceMap, refusing duplicate keys and nesting deeper than MAX_DEPTH. Only anchors, aliases and tags
need more care: a text with `&` or `!`, or one the composer refuses, is judged on its parser events first.

ruamel.yaml's parser, which read manifests before, still judges two kinds of text, to keep their documented
diagnostics: texts libyaml refuses, and texts with a tab (libyaml reads `[x<TAB>y]` where ruamel refuses it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, SourceSpan, error
from reconciler.yamlscalars import interpolate, scalar_value

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

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
    loader = _LIBYAML if libyaml else _PURE_PYTHON
    with cycle_collection_paused():  # what is read here makes no cycles
        try:
            if "\t" in text and (refusal := _ruamel_refusal(text, file)):
                return None, [refusal]
            if ("&" in text or "!" in text) and (refusals := _judge(text, loader, file)):
                return None, refusals
            root = yaml.compose(text, Loader=loader) or yaml.ScalarNode("", "")
            walk = _Walk(text, file, os.environ if environ is None else environ)
            root_at = _at(root.start_mark) if isinstance(root, yaml.CollectionNode) else (1, 1)
            data = walk.convert(root, (), root_at, 0)
            if walk.refusals:
                return None, [walk.refusals[place] for place in sorted(walk.refusals)]
            return LoadedYaml(data, SourceMap(file, walk.values, walk.keys)), walk.diagnostics
        except yaml.composer.ComposerError as exc:  # _judge, reading as far, words it as manifests do
            return None, _judge(text, loader, file) or [_refusal(exc, file)]
        except yaml.YAMLError as exc:
            refusal = _refusal(exc, file)
            if "maximum nesting depth" in refusal.message:  # libyaml's own limit, which `[[[...` meets first
                return None, [error("manifest.too_large", _TOO_DEEP, source=refusal.source)]
            return None, [_ruamel_refusal(text, file) or refusal]
        except RecursionError:  # PyYAML's pure-Python composer recurses as deep as the text nests
            return None, [error("manifest.too_large", _TOO_DEEP, source=start)]
        except (ValueError, TypeError, OverflowError) as exc:
            return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=start)]


class _Untyped:
    """scalar_value gives scalars their types (YAML 1.2); PyYAML's YAML 1.1 resolver would only cost time."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return ""


# libyaml is optional in PyYAML builds; PyYAML's pure-Python loader gives the same events and nodes.
_LIBYAML: type[Any] = type("_Libyaml", (_Untyped, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {})
_PURE_PYTHON: type[Any] = type("_PurePython", (_Untyped, yaml.SafeLoader), {})
_TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"
_TOO_MANY = f"aliases expand to more than {MAX_ALIAS_NODES} nodes; the document is refused"


def _ruamel_refusal(text: str, file: str) -> Diagnostic | None:
    try:
        for _ in YAML(typ="rt").parse(io.StringIO(text)):
            pass
    except YAMLError as exc:
        return _refusal(exc, file)
    return None


def _refusal(exc: Any, file: str) -> Diagnostic:
    """A parser's exception (ruamel.yaml's or PyYAML's: they share their shape) as a diagnostic."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return error("manifest.yaml", f"invalid YAML: {exc}", source=SourceSpan(file, 1, 1))
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context and exc.context_mark:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return error("manifest.yaml", message, source=SourceSpan(file, *_at(mark)))


def _judge(text: str, loader: type[Any], file: str) -> list[Diagnostic]:
    """Refuses, on the parser's events, every explicit tag (the composer forgets `!` alone), then the first
    second document, anchor defined twice, alias before its anchor or inside what it stands for, or alias
    that brings the nodes aliases add past MAX_ALIAS_NODES (the "billion laughs")."""
    refusals: list[Diagnostic] = []
    opened: list[tuple[str | None, int]] = []  # the collections not closed yet: anchor, nodes before them
    sizes: dict[str, int | None] = {}  # anchor -> the nodes it stands for; None while it is open
    nodes = expanded = documents = 0

    def refuse(message: str, code: str = "manifest.yaml") -> list[Diagnostic]:
        return [*refusals, error(code, message, source=SourceSpan(file, *_at(event.start_mark)))]

    for event in iter(loader(text).get_event, None):
        kind, anchor = type(event), getattr(event, "anchor", None)
        documents += kind is yaml.DocumentStartEvent
        if documents > 1:
            return refuse("one YAML document per file, please")
        if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            name, before = opened.pop()
            if name is not None:
                sizes[name] = nodes - before
        elif kind is yaml.AliasEvent:
            if anchor not in sizes:
                return refuse(f"alias *{anchor} has no anchor &{anchor} before it")
            size = sizes[event.anchor]
            if size is None:
                return refuse(f"alias *{anchor} refers to itself")
            nodes, expanded = nodes + size, expanded + size
            if expanded > MAX_ALIAS_NODES:
                return refuse(_TOO_MANY, "manifest.too_large")
        elif kind is yaml.ScalarEvent or kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            nodes += 1
            if event.tag:
                refusals = refuse(
                    f"YAML tags such as {event.tag.replace('tag:yaml.org,2002:', '!!')} are not allowed"
                )
            if anchor in sizes:
                return refuse(f"anchor &{anchor} is defined twice; give each anchor its own name")
            if anchor is not None:
                sizes[anchor] = 1 if kind is yaml.ScalarEvent else None
            if kind is not yaml.ScalarEvent:
                opened.append((anchor, nodes - 1))
    return refusals


def _at(mark: Any) -> Position:
    return mark.line + 1, mark.column + 1


class _Walk:
    """Turns the composed nodes into plain data, recording positions, interpolating `${VAR}` and refusing
    duplicate keys and nesting too deep. An alias's node, which _judge has measured, is read again."""

    def __init__(self, text: str, file: str, environ: Mapping[str, str]) -> None:
        self.text, self.file, self.environ = text, file, environ
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        self.diagnostics: list[Diagnostic] = []
        self.refusals: dict[tuple[Position, str], Diagnostic] = {}  # a node read twice is refused once

    def convert(self, node: Any, path: DataPath, position: Position, depth: int) -> Any:
        """A node's value; `depth`: the number of collections around it."""
        self.values[path] = position
        if type(node) is yaml.ScalarNode:
            value = scalar_value(node)
            if type(value) is str and "$" in value:
                value, problems = interpolate(value, self.environ)
                for problem in problems:
                    self._report("manifest.env", problem, position)
            return value
        if depth >= MAX_DEPTH:
            self._refuse(_TOO_DEEP, _at(node.start_mark), "manifest.too_large")
            return None
        if type(node) is yaml.SequenceNode:
            items = enumerate(node.value)
            return [self.convert(item, (*path, at), _at(item.start_mark), depth + 1) for at, item in items]
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
            if scalar and first_keys.setdefault(name, key_node) is not key_node:
                line = first_keys[name].start_mark.line + 1
                self._refuse(f"duplicate key {name!r} (first given at line {line})", _at(key_node.start_mark))
            if scalar and name == "<<" and not key_node.style:
                sources.extend(value_node.value if type(value_node) is yaml.SequenceNode else [value_node])
                continue
            key_position, value_position = _at(key_node.start_mark), _at(value_node.start_mark)
            if merged:
                key_position = value_position = self.values[path]
            elif not value_node.value and type(value_node) is yaml.ScalarNode and not value_node.style:
                value_position = self._empty_value_at(node, index)
            key = scalar_value(key_node) if scalar else None
            if type(key) is not str:
                message = (
                    f"keys must be text; write {name!r} in quotes" if scalar and name else "keys must be text"
                )
                self._report("manifest.invalid", message, key_position)
            elif not (merged and key in result):
                self.keys[(*path, key)] = key_position
                result[key] = self.convert(value_node, (*path, key), value_position, depth)
        for source in sources:
            if type(source) is yaml.MappingNode:
                self._fill(result, path, source, depth, merged=True)
            else:
                message = "invalid YAML: `<<` can only merge a mapping or a list of mappings"
                self._report("manifest.yaml", message, _at(source.start_mark))

    def _empty_value_at(self, mapping: Any, index: int) -> Position:
        """Where ruamel.yaml placed an entry's empty value: after the `:` in a flow mapping or when a comment
        or the end of a text without a final line break follows, else at the next token."""
        after_colon, pairs = mapping.value[index][1].start_mark, mapping.value
        line_end = self.text.find("\n", after_colon.index)
        rest_of_line = self.text[after_colon.index : line_end].lstrip(" ")
        if mapping.flow_style or line_end < 0 or rest_of_line[:1] == "#":
            return _at(after_colon)
        return _at(pairs[index + 1][0].start_mark if index + 1 < len(pairs) else mapping.end_mark)

    def _report(self, code: str, message: str, position: Position) -> None:
        self.diagnostics.append(error(code, message, source=SourceSpan(self.file, *position)))

    def _refuse(self, message: str, position: Position, code: str = "manifest.yaml") -> None:
        self.refusals[position, message] = error(code, message, source=SourceSpan(self.file, *position))
