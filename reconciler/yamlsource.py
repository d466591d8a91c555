"""Reading manifest YAML safely, into plain Python data plus the position of every node.

libyaml composes a text once (through PyYAML); an alias composes to its anchor's very node, so the nodes are
as few as the text is long. One walk over them gives plain data and a SourceMap, and refuses explicit tags,
duplicate keys, nesting deeper than MAX_DEPTH and aliases that expand to themselves or to more than
MAX_ALIAS_NODES nodes (the "billion laughs"), measuring each alias before expanding it. The composer refuses
a second document, an anchor defined twice and an alias before its anchor. Files above MAX_FILE_BYTES are
never parsed. Plain scalars follow YAML 1.2 (`yes`, `on` and `0755` are text, text and 755). Text values may
use `${NAME}` for the environment variable NAME (`$${` is a literal `${`). Nothing here raises for bad input.

ruamel.yaml's parser, which read manifests before, still judges two kinds of text, to keep their documented
diagnostics: texts libyaml refuses, and texts with a tab (libyaml reads `[x<TAB>y]` where ruamel refuses it).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NoReturn

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
    with cycle_collection_paused():  # what is read here makes no cycles
        try:
            refusal = _ruamel_refusal(text, file) if "\t" in text else None
            if refusal:
                return None, [refusal]
            root = yaml.compose(text, Loader=_LIBYAML if libyaml else _PURE_PYTHON) or yaml.ScalarNode("", "")
            walk = _Walk(text, file, os.environ if environ is None else environ)
            data = walk.read(root)
            if walk.refusals:
                return None, walk.refusals
            return LoadedYaml(data, SourceMap(file, walk.values, walk.keys)), walk.diagnostics
        except yaml.YAMLError as exc:
            return None, [_libyaml_refusal(exc, text, file)]
        except RecursionError:  # PyYAML's pure-Python composer recurses as deep as the text nests
            return None, [error("manifest.too_large", _TOO_DEEP, source=start)]
        except (ValueError, TypeError, OverflowError) as exc:
            return None, [error("manifest.yaml", f"invalid YAML: {exc}", source=start)]


class _Untyped:
    """Scalars get their types from _resolve (YAML 1.2); PyYAML's YAML 1.1 resolver would only cost time."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return ""


# libyaml is optional in PyYAML builds; PyYAML's pure-Python loader composes the same nodes.
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


def _libyaml_refusal(exc: yaml.YAMLError, text: str, file: str) -> Diagnostic:
    refusal = _refusal(exc, file)
    said = f"{getattr(exc, 'context', '')} {getattr(exc, 'problem', '')}"
    words = next((words for problem, words in _COMPOSER_PROBLEMS.items() if problem in said), None)
    if isinstance(exc, yaml.composer.ComposerError) and exc.problem_mark and words:
        found = _NAME.search(text, exc.problem_mark.index)  # the alias, or the anchor defined again
        return error("manifest.yaml", words.format(found.group(1) if found else ""), source=refusal.source)
    # libyaml has a nesting limit of its own, which `[[[...` meets before any node is composed
    if "maximum nesting depth" in refusal.message:
        return error("manifest.too_large", _TOO_DEEP, source=refusal.source)
    return _ruamel_refusal(text, file) or refusal


# What PyYAML's composer refuses, as the manifest diagnostics word it ({0}: the anchor's name)
_COMPOSER_PROBLEMS = {
    "undefined alias": "alias *{0} has no anchor &{0} before it",
    "duplicate anchor": "anchor &{0} is defined twice; give each anchor its own name",
    "single document": "one YAML document per file, please",
}
_TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"
_TOO_MANY = f"aliases expand to more than {MAX_ALIAS_NODES} nodes; the document is refused"
_CORE_TAG = "tag:yaml.org,2002:"
_NAME = re.compile(r"[&*]([0-9A-Za-z_-]+)")  # an anchor's or an alias's name, as libyaml reads it
_ALIAS_OR_COMMENT = re.compile(r"#.*|\*([0-9A-Za-z_-]+)")
_BARE_TAG = re.compile(r"(?:&[0-9A-Za-z_-]+[ \t]+)?!(?![^\s,\[\]{}])")  # `!` alone: the composer forgets it

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


class _Refused(Exception):
    """A refusal after which reading on would only repeat it."""


class _Walk:
    """Turns the composed nodes into plain data, recording positions, interpolating `${VAR}` and refusing
    hostile input. A node is checked where the text defines it, at its `depth` (the number of collections
    around it); where an alias repeats it, the alias is measured and the node copied unchecked (depth None).
    """

    def __init__(self, text: str, file: str, environ: Mapping[str, str]) -> None:
        self.text, self.file, self.environ = text, file, environ
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        self.diagnostics: list[Diagnostic] = []
        self.refusals: list[Diagnostic] = []
        self.may_tag, self.may_alias = "!" in text, "&" in text
        self.plain = not (self.may_tag or self.may_alias)  # only explicit tags and depth to check
        self.met: set[int] = set()  # the nodes checked, by identity
        self.measured: dict[int, tuple[int, int] | None] = {}  # size and height; None while measuring
        self.expanded = 0
        self.cursor = 0  # where the last node checked starts (a collection) or ends (a scalar or an alias)

    def read(self, root: Any) -> Any:
        try:
            position = _at(root.start_mark) if isinstance(root, yaml.CollectionNode) else (1, 1)
            return self.convert(root, (), position, 0)
        except _Refused:
            return None

    def convert(self, node: Any, path: DataPath, position: Position, depth: int | None) -> Any:
        if depth is not None and not (self.plain and not node.tag and depth < MAX_DEPTH):
            depth = depth if self._admit(node, depth) else None
        self.values[path] = position
        if type(node) is yaml.ScalarNode:
            value = _resolve(node)
            return self._interpolate(value, position) if type(value) is str and "$" in value else value
        inner = None if depth is None else depth + 1
        if type(node) is yaml.SequenceNode:
            items = enumerate(node.value)
            return [self.convert(item, (*path, index), _at(item.start_mark), inner) for index, item in items]
        result: dict[str, Any] = {}
        self._fill(result, path, node, inner, None)
        return result

    def _fill(
        self, result: dict[str, Any], path: DataPath, node: Any, depth: int | None, taken: set[Any] | None
    ) -> None:
        """Adds a mapping's entries to `result`, then those its `<<` keys merge in that it lacks. `taken`: the
        keys `result` has, when the mapping is merged into it; its entries are then placed at `result`'s."""
        sources: list[Any] = []
        first_lines: dict[str, int] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            scalar = type(key_node) is yaml.ScalarNode
            if depth is not None and scalar:
                self._check_key(key_node, depth, first_lines)
            elif depth is not None:
                self._check(key_node, depth)
            if scalar and key_node.value == "<<" and not key_node.style:
                if depth is not None:
                    self._check(value_node, depth)
                sources.extend(value_node.value if type(value_node) is yaml.SequenceNode else [value_node])
                continue
            if taken is None:
                key_position, value_position = _at(key_node.start_mark), _at(value_node.start_mark)
                if not value_node.value and type(value_node) is yaml.ScalarNode and not value_node.style:
                    value_position = self._empty_value_at(node, index)
            elif (key_node.value if scalar else key_node) in taken:
                continue
            else:
                taken.add(key_node.value if scalar else key_node)
                key_position = value_position = self.values[path]
            key = _resolve(key_node) if scalar else None
            if type(key) is not str:
                shown = key_node.value if scalar else ""
                message = f"keys must be text; write {shown!r} in quotes" if shown else "keys must be text"
                self._report("manifest.invalid", message, key_position)
                if depth is not None:
                    self._check(value_node, depth)
                continue
            self.keys[(*path, key)] = key_position
            result[key] = self.convert(value_node, (*path, key), value_position, depth)
        if sources:
            taken = set() if taken is None else taken
            taken.update(key.value for key, _ in node.value if type(key) is yaml.ScalarNode)
        for source in sources:
            if type(source) is yaml.MappingNode:
                self._fill(result, path, source, None, taken)
            else:
                message = "invalid YAML: `<<` can only merge a mapping or a list of mappings"
                self._report("manifest.yaml", message, _at(source.start_mark))

    def _check_key(self, key: Any, depth: int, first_lines: dict[str, int]) -> None:
        """Checks a scalar key: that no key before it in its mapping is the same (an alias is not compared),
        then the key itself."""
        if id(key) not in self.met:
            if key.value in first_lines:
                message = f"duplicate key {key.value!r} (first given at line {first_lines[key.value]})"
                self._refuse(message, _at(key.start_mark))
            first_lines.setdefault(key.value, key.start_mark.line + 1)
        if not self.plain or key.tag:
            self._admit(key, depth)

    def _check(self, node: Any, depth: int) -> None:
        """Checks, reading them aside, nodes the data leaves out or takes otherwise: keys that are
        collections, values under keys that are not text, and what `<<` merges."""
        kept = self.values, self.keys, self.diagnostics
        self.values, self.keys, self.diagnostics = {}, {}, []
        self.convert(node, (), (1, 1), depth)
        self.values, self.keys, self.diagnostics = kept

    def _admit(self, node: Any, depth: int) -> bool:
        """Checks a node where the text defines it; False for an alias, which is measured instead."""
        if self.may_alias:
            if id(node) in self.met:
                self._measure_alias(node, depth)
                return False
            self.met.add(id(node))
            self.cursor = (node.end_mark if type(node) is yaml.ScalarNode else node.start_mark).index
        tag = node.tag or ("!" if self.may_tag and _BARE_TAG.match(self.text, node.start_mark.index) else "")
        if tag:
            self._refuse(
                f"YAML tags such as {tag.replace(_CORE_TAG, '!!')} are not allowed", _at(node.start_mark)
            )
        if depth >= MAX_DEPTH and type(node) is not yaml.ScalarNode:
            self._stop(_TOO_DEEP, _at(node.start_mark))
        return True

    def _measure_alias(self, node: Any, depth: int) -> None:
        """Accounts for an alias where the text has it: after the node checked last, past any comment."""
        found = next((m for m in _ALIAS_OR_COMMENT.finditer(self.text, self.cursor) if m.group(1)), None)
        if found:
            self.cursor = found.end()
        name, index = (found.group(1), found.start()) if found else ("", node.start_mark.index)
        position = (self.text.count("\n", 0, index) + 1, index - self.text.rfind("\n", 0, index))
        measured = self._measure(node)
        if measured is None:
            self._stop(f"alias *{name} refers to itself", position, "manifest.yaml")
        self.expanded += measured[0]
        if self.expanded > MAX_ALIAS_NODES:
            self._stop(_TOO_MANY, position)
        if depth + measured[1] > MAX_DEPTH:
            self._stop(_TOO_DEEP, position)

    def _measure(self, node: Any) -> tuple[int, int] | None:
        """A node's size with its aliases expanded, and its height; None if it contains itself."""
        if type(node) is yaml.ScalarNode:
            return 1, 0
        if id(node) not in self.measured:
            self.measured[id(node)] = None
            size, height = 1, 1
            children = node.value if type(node) is yaml.SequenceNode else chain.from_iterable(node.value)
            for child in children:
                measured = self._measure(child)
                if measured is None:
                    return None
                size, height = size + measured[0], max(height, measured[1] + 1)
            self.measured[id(node)] = size, height
        return self.measured[id(node)]

    def _empty_value_at(self, mapping: Any, index: int) -> Position:
        """Where ruamel.yaml placed an entry's empty value: after the `:` in a flow mapping or when a comment
        or the end of a text without a final line break follows, else at the next token."""
        after_colon, pairs = mapping.value[index][1].start_mark, mapping.value
        line_end = self.text.find("\n", after_colon.index)
        if (
            mapping.flow_style
            or line_end < 0
            or self.text[after_colon.index : line_end].lstrip(" ")[:1] == "#"
        ):
            return _at(after_colon)
        return _at(pairs[index + 1][0].start_mark if index + 1 < len(pairs) else mapping.end_mark)

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

    def _refuse(self, message: str, position: Position, code: str = "manifest.yaml") -> None:
        self.refusals.append(error(code, message, source=SourceSpan(self.file, *position)))

    def _stop(self, message: str, position: Position, code: str = "manifest.too_large") -> NoReturn:
        self._refuse(message, position, code)
        raise _Refused
