"""Reading manifest YAML safely, into plain Python data plus the position of every node.

libyaml (through PyYAML) reads a text twice: its events are judged first, refusing explicit tags, duplicate
keys, a second document, anchors defined twice, nesting deeper than MAX_DEPTH and aliases that would expand
to more than MAX_ALIAS_NODES nodes (the "billion laughs"); only then does libyaml's own composer build the
nodes, which carry their positions, and a walk over them gives plain data and a SourceMap. Files above
MAX_FILE_BYTES are never parsed. Plain scalars follow YAML 1.2: `yes`, `on` and `0755` are not YAML 1.1's
booleans and octals. String values may use `${NAME}` to read the environment variable NAME (`$${` is a
literal `${`). Every problem comes back as a Diagnostic; nothing here raises for bad input.

ruamel.yaml's parser, which read manifests before, still judges two kinds of text, to keep their documented
diagnostics: texts libyaml refuses, and texts with a tab (libyaml reads `[x<TAB>y]` where ruamel refuses it).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.allocation import cycle_collection_paused
from reconciler.errors import Diagnostic, SourceSpan, error

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
            refusal = _ruamel_refusal(text, file) if "\t" in text else None
            problems = [refusal] if refusal else _judge(text, file, loader)
            if problems:
                return None, problems
            root = yaml.compose(text, Loader=loader) or yaml.ScalarNode("", "")
            walk = _Walk(text, file, os.environ if environ is None else environ)
            position = _at(root.start_mark) if isinstance(root, yaml.CollectionNode) else (1, 1)
            data = walk.convert(root, (), position)
            return LoadedYaml(data, SourceMap(file, walk.values, walk.keys)), walk.diagnostics
        except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
            return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=start)]


class _Untyped:
    """Scalars get their types from _resolve (YAML 1.2); PyYAML's YAML 1.1 resolver would only cost time."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return ""


# libyaml is optional in PyYAML builds; PyYAML's pure-Python loader gives the same events and nodes.
_LIBYAML: type[Any] = type("_Libyaml", (_Untyped, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {})
_PURE_PYTHON: type[Any] = type("_PurePython", (_Untyped, yaml.SafeLoader), {})


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


@dataclass(slots=True)
class _Open:
    """A collection whose end event has not come yet."""

    anchor: str | None
    start_total: int
    keys: dict[str, int] | None  # a mapping's scalar keys so far, with their lines; None in a sequence
    children: int = 0
    height: int = 1


def _judge(text: str, file: str, loader: type[Any]) -> list[Diagnostic]:
    """The problems of the event stream, up to its end or to one that makes reading on pointless."""
    problems: list[Diagnostic] = []
    opened: list[_Open] = []
    # anchor -> the nodes it stands for (aliases expanded) and its height; None while its collection is open
    anchored: dict[str, tuple[int, int] | None] = {}
    total = expanded = documents = 0

    def refuse(event: yaml.Event, message: str, code: str = "manifest.yaml") -> None:
        problems.append(error(code, message, source=SourceSpan(file, *_at(event.start_mark))))

    try:
        for event in iter(loader(text).get_event, None):
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                done = opened.pop()
                if done.anchor is not None:
                    anchored[done.anchor] = (total - done.start_total, done.height)
                if opened:
                    opened[-1].height = max(opened[-1].height, done.height + 1)
                continue
            if kind not in _NODE_EVENTS:
                documents += kind is yaml.DocumentStartEvent
                if documents > 1:
                    refuse(event, "one YAML document per file, please")
                    break
                continue
            parent = opened[-1] if opened else None
            if parent is not None:
                keys = parent.keys
                if keys is not None and not parent.children % 2 and kind is yaml.ScalarEvent:
                    if event.value in keys:
                        refuse(
                            event, f"duplicate key {event.value!r} (first given at line {keys[event.value]})"
                        )
                    keys.setdefault(event.value, event.start_mark.line + 1)
                parent.children += 1
            anchor = event.anchor
            if kind is yaml.ScalarEvent and anchor is None and event.tag is None:
                total += 1  # the common case, kept short
                continue
            if kind is yaml.AliasEvent:
                if anchor not in anchored:
                    refuse(event, f"alias *{anchor} has no anchor &{anchor} before it")
                    continue
                found = anchored[anchor]
                if found is None:
                    refuse(event, f"alias *{anchor} refers to itself")
                    break
                size, height = found
                expanded += size
            else:
                size, height = 1, int(kind is not yaml.ScalarEvent)
                if event.tag is not None:
                    refuse(event, f"YAML tags such as {event.tag.replace(_CORE_TAG, '!!')} are not allowed")
                if anchor is not None and anchor in anchored:
                    refuse(event, f"anchor &{anchor} is defined twice; give each anchor its own name")
                if anchor is not None:
                    anchored[anchor] = None if height else (1, 0)
            total += size
            if expanded > MAX_ALIAS_NODES:
                message = f"aliases expand to more than {MAX_ALIAS_NODES} nodes; the document is refused"
                refuse(event, message, "manifest.too_large")
                break
            if len(opened) + height > MAX_DEPTH:
                refuse(event, _TOO_DEEP, "manifest.too_large")
                break
            if parent is not None:
                parent.height = max(parent.height, height + 1)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                opened.append(_Open(anchor, total - 1, {} if kind is yaml.MappingStartEvent else None))
    except yaml.YAMLError as exc:
        refusal = _refusal(exc, file)
        # libyaml has a nesting limit of its own, which `[[[...` meets before libyaml gives any event
        if "maximum nesting depth" in refusal.message:
            problems.append(error("manifest.too_large", _TOO_DEEP, source=refusal.source))
        else:
            problems.append(_ruamel_refusal(text, file) or refusal)
    return problems


_NODE_EVENTS = frozenset({yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent})
_TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"
_CORE_TAG = "tag:yaml.org,2002:"

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


def _at(mark: Any) -> Position:
    return mark.line + 1, mark.column + 1


_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_MALFORMED = "malformed ${...}: write ${NAME} for an environment variable, $${ for a literal ${"


class _Walk:
    """Turns the composed nodes into plain data, recording positions and interpolating `${VAR}`."""

    def __init__(self, text: str, file: str, environ: Mapping[str, str]) -> None:
        self.text = text
        self.file = file
        self.environ = environ
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        self.diagnostics: list[Diagnostic] = []

    def convert(self, node: Any, path: DataPath, position: Position) -> Any:
        self.values[path] = position
        if type(node) is yaml.ScalarNode:
            value = _resolve(node)
            return self._interpolate(value, position) if type(value) is str and "$" in value else value
        if type(node) is yaml.SequenceNode:
            items = enumerate(node.value)
            return [self.convert(item, (*path, index), _at(item.start_mark)) for index, item in items]
        result: dict[str, Any] = {}
        for key_node, value_node, key_position, value_position in self._entries(node, position):
            key = _resolve(key_node) if type(key_node) is yaml.ScalarNode else None
            if type(key) is not str:
                shown = key_node.value if type(key_node) is yaml.ScalarNode else ""
                message = f"keys must be text; write {shown!r} in quotes" if shown else "keys must be text"
                self._report("manifest.invalid", message, key_position)
                continue
            self.keys[(*path, key)] = key_position
            result[key] = self.convert(value_node, (*path, key), value_position)
        return result

    def _entries(self, node: Any, position: Position) -> Iterator[tuple[Any, Any, Position, Position]]:
        """A mapping's own entries, then those its `<<` keys merge in (at its position) that it lacks."""
        merged: list[Any] = []
        pairs = node.value
        for index, (key, value) in enumerate(pairs):
            if key.value == "<<" and type(key) is yaml.ScalarNode and not key.style:
                merged.extend(value.value if type(value) is yaml.SequenceNode else [value])
            elif (
                not value.value and type(value) is yaml.ScalarNode and not value.style and not node.flow_style
            ):
                following = pairs[index + 1][0].start_mark if index + 1 < len(pairs) else node.end_mark
                yield key, value, _at(key.start_mark), self._empty_value_at(value.start_mark, following)
            else:
                yield key, value, _at(key.start_mark), _at(value.start_mark)
        own: set[Any] = {key.value for key, _ in pairs if type(key) is yaml.ScalarNode}
        for source in merged:
            if type(source) is not yaml.MappingNode:
                message = "invalid YAML: `<<` can only merge a mapping or a list of mappings"
                self._report("manifest.yaml", message, _at(source.start_mark))
                continue
            for key, value, _, _ in self._entries(source, position):
                name = key.value if type(key) is yaml.ScalarNode else key
                if name not in own:
                    own.add(name)
                    yield key, value, position, position

    def _empty_value_at(self, after_colon: Any, following: Any) -> Position:
        """Where ruamel.yaml placed an empty value: at the next token, unless a comment or the end of a text
        without a final line break follows the `:`."""
        line_end = self.text.find("\n", after_colon.index)
        if line_end < 0 or self.text[after_colon.index : line_end].lstrip(" ").startswith("#"):
            return _at(after_colon)
        return _at(following)

    def _interpolate(self, text: str, position: Position) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if match.group(0) == "$${":
                return "${"
            if name and name in self.environ:
                return self.environ[name]
            problem = f"environment variable {name} is not set (used as ${{{name}}})" if name else _MALFORMED
            self._report("manifest.env", problem, position)
            return match.group(0)

        return _VARIABLE.sub(replace, text)

    def _report(self, code: str, message: str, position: Position) -> None:
        self.diagnostics.append(error(code, message, source=SourceSpan(self.file, *position)))
