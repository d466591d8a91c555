"""Reading manifest YAML safely, into plain Python data plus the position of every node.

libyaml (through PyYAML) turns the text into parser events; one pass over them judges the input and composes
a small node tree with 1-based positions, and a second walks that tree into plain dicts, lists and scalars
(which pydantic validates) and a SourceMap (data path -> position). Plain scalars follow YAML 1.2: `yes`,
`on` and `0755` are not YAML 1.1's booleans and octals.

The semantics are ruamel.yaml's round-trip loader, which this module used to run: when libyaml is missing
or refuses the text, ruamel's parser produces the same events instead, so syntax errors keep ruamel's
messages and positions, and the rare text the two parsers judge differently still loads as before.

Hostile input is judged on the events before anything is converted: explicit tags, duplicate keys, nesting
deeper than MAX_DEPTH and aliases that would expand to more than MAX_ALIAS_NODES nodes (the "billion laughs")
are refused, and files above MAX_FILE_BYTES are never parsed at all. Every problem, including ones nobody
foresaw, comes back as a Diagnostic; nothing here raises for bad input.

String values may use `${NAME}` to read the environment variable NAME; `$${` stands for a literal `${`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.events
from ruamel.yaml import YAML
from ruamel.yaml import events as ruamel_events
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.util import create_timestamp, timestamp_regexp

from reconciler.errors import Diagnostic, SourceSpan, error

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

PathSegment = str | int
DataPath = tuple[PathSegment, ...]

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")

# The scanners disagree on these: libyaml keeps a tab inside a plain scalar where ruamel ends the scalar,
# and counts lines and columns differently around NEL, LS, PS and a byte order mark inside the text.
_RUAMEL_ONLY = re.compile("[\t\x85\u2028\u2029\ufeff]")

# libyaml is optional in PyYAML builds; without it ruamel's pure-Python parser is the only event source.
_LIBYAML: type[Any] | None = getattr(yaml, "CSafeLoader", None)


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
    text: str, file: str, environ: Mapping[str, str] | None = None, *, libyaml: bool = True
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Parse one document; `libyaml=False` uses the pure-Python parser libyaml falls back to."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [error("manifest.too_large", "the document is too large", source=SourceSpan(file, 1, 1))]
    try:
        composed = None
        if libyaml and _LIBYAML is not None and not _RUAMEL_ONLY.search(text):
            # On refusal ruamel's parser below gives today's diagnostic for this text (or accepts it).
            with contextlib.suppress(yaml.YAMLError, ValueError, _Unsure):
                composed = _Composer(file, text, libyaml=True).compose(yaml.parse(text, Loader=_LIBYAML))
        if composed is None:
            composed = _Composer(file, text, libyaml=False).compose(YAML(typ="rt").parse(io.StringIO(text)))
        root, problems = composed
        if problems:
            return None, problems
        converter = _Converter(file, os.environ if environ is None else environ)
        position = (root.line, root.column) if isinstance(root, _Mapping | _Sequence) else (1, 1)
        data = converter.convert(root, (), position)
        return LoadedYaml(data, SourceMap(file, converter.values, converter.keys)), converter.diagnostics
    except MarkedYAMLError as exc:
        return None, [_yaml_error(exc, file)]
    except _ConstructionError as exc:
        return None, [exc.diagnostic]
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=SourceSpan(file, 1, 1))]


def _yaml_error(exc: MarkedYAMLError, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    span = SourceSpan(file, mark.line + 1, mark.column + 1) if mark else SourceSpan(file, 1, 1)
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.problem and exc.context and exc.context_mark:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return error("manifest.yaml", message, source=span)


class _Node:
    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class _Scalar(_Node):
    __slots__ = ("plain", "value")

    # The node classes set their attributes without calling up: a manifest set has tens of thousands of nodes.
    def __init__(self, value: str, plain: bool, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.value = value
        self.plain = plain


class _Sequence(_Node):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.items: list[_Node] = []


class _Mapping(_Node):
    __slots__ = ("pairs",)

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.pairs: list[tuple[_Node, _Node]] = []


_SCALAR, _ALIAS, _SEQUENCE, _MAPPING, _END, _DOCUMENT, _OTHER = range(7)
_KINDS: dict[type, int] = {}
for _module in (yaml.events, ruamel_events):
    _KINDS.update(
        {
            _module.ScalarEvent: _SCALAR,
            _module.AliasEvent: _ALIAS,
            _module.SequenceStartEvent: _SEQUENCE,
            _module.MappingStartEvent: _MAPPING,
            _module.SequenceEndEvent: _END,
            _module.MappingEndEvent: _END,
            _module.DocumentStartEvent: _DOCUMENT,
        }
    )


@dataclass
class _Frame:
    node: _Mapping | _Sequence
    flow: bool
    anchor: str | None
    start_total: int
    height: int = 1
    key: _Node | None = None
    keys: dict[str, int] = field(default_factory=dict)


class _Composer:
    """Judges the event stream (tags, duplicate keys, depth, alias expansion) while composing the tree."""

    def __init__(self, file: str, text: str, *, libyaml: bool) -> None:
        self.file = file
        self.text = text
        self.libyaml = libyaml

    def at(self, event: Any) -> SourceSpan:
        return SourceSpan(self.file, event.start_mark.line + 1, event.start_mark.column + 1)

    def compose(self, events: Iterable[Any]) -> tuple[_Node, list[Diagnostic]]:
        problems: list[Diagnostic] = []
        frames: list[_Frame] = []
        anchors: dict[str, _Node] = {}
        sizes: dict[str, int] = {}
        heights: dict[str, int] = {}
        total = 0
        expanded = 0
        documents = 0
        root: _Node | None = None
        pending: _Scalar | None = None
        try:
            for event in events:
                kind = _KINDS.get(type(event), _OTHER)
                if pending is not None:
                    self._place_empty_value(pending, event)
                    pending = None
                if kind == _DOCUMENT:
                    documents += 1
                    if documents > 1 and self.libyaml:
                        raise _Unsure  # ruamel's diagnostic is at the `---`, libyaml's at a directive
                    if documents > 1:
                        problems.append(
                            error(
                                "manifest.yaml", "one YAML document per file, please", source=self.at(event)
                            )
                        )
                        break
                    continue
                if kind == _END:
                    if frames:
                        frame = frames.pop()
                        if frame.anchor is not None:
                            sizes[frame.anchor] = total - frame.start_total
                            heights[frame.anchor] = frame.height
                        if frames:
                            frames[-1].height = max(frames[-1].height, frame.height + 1)
                    continue
                if kind == _OTHER:
                    continue
                mark = event.start_mark
                if self.libyaml and event.anchor is not None:
                    self._check_name(mark.index, event.anchor)
                parent = frames[-1] if frames else None
                as_key = parent is not None and isinstance(parent.node, _Mapping) and parent.key is None
                if as_key and kind == _SCALAR and event.value != "<<":
                    assert parent is not None
                    first = parent.keys.get(event.value)
                    if first is None:
                        parent.keys[event.value] = mark.line + 1
                    else:
                        problems.append(
                            error(
                                "manifest.yaml",
                                f"duplicate key {event.value!r} (first given at line {first})",
                                source=self.at(event),
                            )
                        )
                tag = getattr(event, "tag", None)
                if tag is not None and self.libyaml:
                    raise _Unsure  # refused either way, as ruamel reads it (libyaml reads some tags apart)
                if tag is not None:
                    shown = str(tag).replace("tag:yaml.org,2002:", "!!")
                    problems.append(
                        error(
                            "manifest.yaml",
                            f"YAML tags such as {shown} are not allowed",
                            source=self.at(event),
                        )
                    )
                node: _Node
                if kind == _ALIAS:
                    anchor = str(event.anchor)
                    if any(frame.anchor == anchor for frame in frames):
                        problems.append(
                            error("manifest.yaml", f"alias *{anchor} refers to itself", source=self.at(event))
                        )
                        break
                    if anchor not in sizes:
                        problems.append(
                            error(
                                "manifest.yaml",
                                f"alias *{anchor} has no anchor &{anchor} before it",
                                source=self.at(event),
                            )
                        )
                        node = _Scalar("", True, mark.line + 1, mark.column + 1)
                    else:
                        expanded += sizes[anchor]
                        total += sizes[anchor]
                        if expanded > MAX_ALIAS_NODES:
                            problems.append(
                                error(
                                    "manifest.too_large",
                                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes; "
                                    "the document is refused",
                                    source=self.at(event),
                                )
                            )
                            break
                        if len(frames) + heights[anchor] > MAX_DEPTH:
                            problems.append(_too_deep(self.at(event)))
                            break
                        if parent is not None:
                            parent.height = max(parent.height, heights[anchor] + 1)
                        node = anchors[anchor]
                else:
                    total += 1
                    anchor_name = None if event.anchor is None else str(event.anchor)
                    if kind == _SCALAR:
                        plain = tag is None and bool(event.implicit[0])
                        value = event.value
                        if event.style == ">" and not self.libyaml:
                            value = value.replace("\a", "")  # ruamel marks the folds of `>` scalars with BEL
                        node = scalar = _Scalar(value, plain, mark.line + 1, mark.column + 1)
                        if self.libyaml and plain and not event.value and anchor_name is None and parent:
                            pending = self._empty(scalar, parent, as_key, mark.index)
                        if anchor_name is not None:
                            sizes[anchor_name] = 1
                            heights[anchor_name] = 0
                    else:
                        if len(frames) + 1 > MAX_DEPTH:
                            problems.append(_too_deep(self.at(event)))
                            break
                        if (
                            self.libyaml
                            and kind == _MAPPING
                            and parent is not None
                            and parent.flow
                            and self.text[mark.index : mark.index + 1] != "{"
                        ):
                            raise _Unsure  # a single-pair mapping `[a: b]` starts elsewhere in ruamel
                        node = (_Mapping if kind == _MAPPING else _Sequence)(mark.line + 1, mark.column + 1)
                    if anchor_name is not None:
                        anchors[anchor_name] = node
                if parent is None:
                    root = node if root is None else root
                elif as_key:
                    parent.key = node
                elif parent.key is None:  # in a sequence (inlined: this runs for every node)
                    parent.node.items.append(node)  # type: ignore[union-attr]
                else:
                    parent.node.pairs.append((parent.key, node))  # type: ignore[union-attr]
                    parent.key = None
                if kind in (_MAPPING, _SEQUENCE):
                    assert isinstance(node, _Mapping | _Sequence)
                    frames.append(_Frame(node, bool(event.flow_style), anchor_name, total - 1))
        except MarkedYAMLError as exc:
            problems.append(_yaml_error(exc, self.file))
        return (root if root is not None else _Scalar("", True, 1, 1)), problems

    def _empty(self, scalar: _Scalar, parent: _Frame, as_key: bool, index: int) -> _Scalar | None:
        """An empty value from libyaml, when its position needs the next event to match ruamel's; or None.

        ruamel puts an empty block-mapping value at the next token, libyaml right after the `:`. Where a
        comment follows the `:`, empty keys and empty values in flow collections (all rare), ruamel's
        parser takes over.
        """
        if isinstance(parent.node, _Sequence) and not parent.flow:
            return None
        if as_key or parent.flow:
            raise _Unsure
        end = self.text.find("\n", index)
        if self.text[index : end if end >= 0 else len(self.text)].lstrip(" ").startswith("#"):
            raise _Unsure  # where ruamel puts it depends on how it attaches the comment
        return scalar

    def _check_name(self, index: int, name: str) -> None:
        """libyaml ends an anchor or alias name at characters that ruamel takes as part of it."""
        end = index + 1 + len(name)
        if self.text[index + 1 : end] != name or self.text[end : end + 1] not in (
            "",
            " ",
            "\r",
            "\n",
            ",",
            "]",
            "}",
            "[",
            "{",
        ):
            raise _Unsure

    def _place_empty_value(self, value: _Scalar, following: Any) -> None:
        kind = _KINDS.get(type(following), _OTHER)
        mark = following.start_mark
        if (
            kind in (_OTHER, _DOCUMENT)
            or (kind == _SCALAR and not following.value)
            or mark.index >= len(self.text)  # libyaml ends a text without a final line break on a new line
        ):
            raise _Unsure
        index = mark.index - 1
        while index >= 0 and self.text[index] in " \t":
            index -= 1
        if index >= 0 and self.text[index] == "?":
            raise _Unsure  # ruamel ends at the explicit key's `?`
        value.line, value.column = mark.line + 1, mark.column + 1


class _Unsure(Exception):
    """libyaml's events cannot give ruamel's positions here; ruamel's parser takes over."""


def _too_deep(span: SourceSpan) -> Diagnostic:
    return error(
        "manifest.too_large", f"the document is nested more than {MAX_DEPTH} levels deep", source=span
    )


class _ConstructionError(Exception):
    """A mapping ruamel's constructor refused (merge keys, keys equal as values); one diagnostic for all."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


# The YAML 1.2 resolvers of ruamel.yaml (its round-trip loader was the reference), tried in this order.
_FLOAT = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_NUMBER_START = frozenset("-+0123456789.")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}


def _resolve(node: _Scalar) -> Any:
    """A scalar's value: quoted and block scalars are text, plain ones follow the YAML 1.2 core schema."""
    value = node.value
    if not node.plain:
        return value
    if not value:
        return None
    if value[0] in _NUMBER_START:
        if _FLOAT.match(value):
            return _float(value)
        if _INT.match(value):
            return _int(value)
        if _TIMESTAMP.match(value):
            match = timestamp_regexp.match(value)
            assert match is not None  # its pattern accepts everything _TIMESTAMP does
            return create_timestamp(**match.groupdict())
        return value
    return _CONSTANTS.get(value, value)


def _int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(text: str) -> float:
    digits = text.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if digits == ".inf":
        return sign * float("inf")
    if digits == ".nan":
        return float("nan")
    return sign * float(digits)


# A mapping entry: key, key position, value node, value position; keys merged in with `<<` have no positions.
_Entry = tuple[Any, tuple[int, int] | None, _Node, tuple[int, int] | None]


class _Converter:
    """Turns the composed tree into plain data, recording positions and interpolating `${VAR}`."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.values: dict[DataPath, tuple[int, int]] = {}
        self.keys: dict[DataPath, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self._entries: dict[int, list[_Entry]] = {}

    def convert(self, node: _Node, path: DataPath, position: tuple[int, int]) -> Any:
        self.values[path] = position
        if isinstance(node, _Scalar):
            value = _resolve(node)
            return self._interpolate(value, position) if isinstance(value, str) and "$" in value else value
        if isinstance(node, _Sequence):
            return [
                self.convert(item, (*path, index), (item.line, item.column))
                for index, item in enumerate(node.items)
            ]
        assert isinstance(node, _Mapping)
        result: dict[str, Any] = {}
        for key, key_position, value, value_position in self._entries_of(node):
            if not isinstance(key, str):
                self.diagnostics.append(
                    error(
                        "manifest.invalid",
                        f"keys must be text; write {str(key)!r} in quotes",
                        source=SourceSpan(self.file, *(key_position or position)),
                    )
                )
                self._plain(value)  # ruamel built it all the same, and refused what it could not build
                continue
            child = (*path, key)
            self.keys[child] = key_position or position
            result[key] = self.convert(value, child, value_position or position)
        return result

    def _entries_of(self, node: _Mapping) -> list[_Entry]:
        """The entries of a mapping once its `<<` merges are applied: its own first, then merged ones."""
        known = self._entries.get(id(node))
        if known is not None:
            return known
        merged: list[_Mapping] = []
        merging = False
        for key_node, value_node in node.pairs:
            # The cheap test first: this runs for every key of every mapping.
            if getattr(key_node, "value", None) != "<<" or not _is_merge(key_node):
                continue
            if merged:
                raise self._refused(node, key_node, 'found duplicate merge key "<<"')
            if not isinstance(value_node, _Scalar):
                self._plain(value_node)  # ruamel built what is merged before judging it
            sources = value_node.items if isinstance(value_node, _Sequence) else [value_node]
            for source in sources:
                if not isinstance(source, _Mapping):
                    expected = "a mapping" if source is not value_node else "a mapping or list of mappings"
                    raise self._refused(
                        node, source, f"expected {expected} for merging, but found {_kind(source)}"
                    )
                merged.append(source)
            merging = True
        entries: list[_Entry] = []
        present: dict[Any, _Node] = {}
        for key_node, value_node in node.pairs:
            if merging and _is_merge(key_node):
                continue
            key = _resolve(key_node) if isinstance(key_node, _Scalar) else self._key(key_node)
            if key in present:
                raise self._refused(
                    node,
                    key_node,
                    f'found duplicate key "{key}" with value "{self._plain(value_node)}" '
                    f'(original value: "{self._plain(present[key])}")',
                )
            present[key] = value_node
            entries.append(
                (key, (key_node.line, key_node.column), value_node, (value_node.line, value_node.column))
            )
        for source in merged:
            for key, _, value_node, _ in self._entries_of(source):
                if key not in present:
                    present[key] = value_node
                    entries.append((key, None, value_node, None))
        self._entries[id(node)] = entries
        return entries

    def _key(self, node: _Node) -> Any:
        plain = self._plain(node)
        if isinstance(plain, dict):
            _check_hashable(plain.values())
            return _MappingKey(plain.items())
        if isinstance(plain, list):
            _check_hashable(plain)
            return tuple(plain)
        return plain

    def _plain(self, node: _Node) -> Any:
        """A node as data without positions or interpolation: what keys and ruamel's messages show."""
        if isinstance(node, _Scalar):
            return _resolve(node)
        if isinstance(node, _Sequence):
            return [self._plain(item) for item in node.items]
        assert isinstance(node, _Mapping)
        return {key: self._plain(value) for key, _, value, _ in self._entries_of(node)}

    def _refused(self, mapping: _Mapping, node: _Node, problem: str) -> _ConstructionError:
        return _ConstructionError(
            error(
                "manifest.yaml",
                f"invalid YAML: {problem} (while constructing a mapping at line {mapping.line})",
                source=SourceSpan(self.file, node.line, node.column),
            )
        )

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


class _MappingKey(tuple[tuple[Any, Any], ...]):
    """A mapping used as a key: hashable, and named in diagnostics the way ruamel.yaml named it."""

    def __repr__(self) -> str:
        return f"ordereddict({list(self)!r})"

    __str__ = __repr__


def _check_hashable(parts: Iterable[Any]) -> None:
    for part in parts:
        if isinstance(part, list | dict):
            name = "CommentedSeq" if isinstance(part, list) else "CommentedMap"
            raise TypeError(f"unhashable type: {name!r}")


def _is_merge(node: _Node) -> bool:
    return isinstance(node, _Scalar) and node.plain and node.value == "<<"


def _kind(node: _Node) -> str:
    return "scalar" if isinstance(node, _Scalar) else "sequence" if isinstance(node, _Sequence) else "mapping"
