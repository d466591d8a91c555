"""Composing a manifest's YAML text with libyaml (through PyYAML), refusing first what composing would hide
or multiply. Only anchors, aliases and tags need that care: a text with `&` or `!`, or one the composer
refuses, is judged on its parser events (_judge).

ruamel.yaml's parser, which read manifests before, still judges two kinds of text, to keep their documented
diagnostics: texts libyaml refuses, and texts with a tab (libyaml reads `[x<TAB>y]` where ruamel refuses it).
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import Diagnostic, SourceSpan, error, shortened

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"
_TOO_MANY = f"aliases expand to more than {MAX_ALIAS_NODES} nodes; the document is refused"


def compose(text: str, file: str, *, libyaml: bool = True) -> tuple[yaml.Node | None, list[Diagnostic]]:
    """The text's one document as nodes (an empty one as an empty scalar), or why it is refused.
    `libyaml=False` uses PyYAML's pure-Python loader, which stands in for libyaml."""
    loader = _LIBYAML if libyaml else _PURE_PYTHON
    try:
        if "\t" in text and (refusal := _ruamel_refusal(text, file)):
            return None, [refusal]
        if ("&" in text or "!" in text) and (refusals := _judge(text, loader, file)):
            return None, refusals
        return yaml.compose(text, Loader=loader) or yaml.ScalarNode("", ""), []
    except yaml.composer.ComposerError as exc:  # _judge, reading as far, words it as manifests do
        return None, _judge(text, loader, file) or [_refusal(exc, file)]
    except yaml.YAMLError as exc:
        refusal = _refusal(exc, file)
        if "maximum nesting depth" in refusal.message:  # libyaml's own limit, which `[[[...` meets first
            return None, [error("manifest.too_large", TOO_DEEP, source=refusal.source)]
        return None, [_ruamel_refusal(text, file) or refusal]
    except RecursionError:  # PyYAML's pure-Python composer recurses as deep as the text nests
        return None, [error("manifest.too_large", TOO_DEEP, source=SourceSpan(file, 1, 1))]


def at(mark: Any) -> tuple[int, int]:
    """A parser's mark (0-based) as a 1-based line and column."""
    return mark.line + 1, mark.column + 1


class _Untyped:
    """The reader types scalars itself (YAML 1.2); PyYAML's YAML 1.1 resolver would only cost time."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        return ""


# libyaml is optional in PyYAML builds; PyYAML's pure-Python loader gives the same events and nodes.
_LIBYAML: type[Any] = type("_Libyaml", (_Untyped, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {})
_PURE_PYTHON: type[Any] = type("_PurePython", (_Untyped, yaml.SafeLoader), {})


def _judge(text: str, loader: type[Any], file: str) -> list[Diagnostic]:
    """The refusals of a text's parser events: every explicit tag (the composer forgets `!` alone), and the
    first of these, where reading stops: a second document, an anchor defined twice, an alias before its
    anchor or inside what it stands for, an alias that takes the nodes aliases add past MAX_ALIAS_NODES (the
    "billion laughs"). An alias is measured where it is, before anything is expanded."""
    refusals: list[Diagnostic] = []
    opened: list[tuple[str | None, int]] = []  # the collections not closed yet: anchor, nodes before them
    sizes: dict[str | None, int | None] = {}  # anchor -> the nodes it stands for; None while it is open
    nodes = expanded = documents = 0

    def refuse(message: str, code: str = "manifest.yaml") -> list[Diagnostic]:
        refusals.append(error(code, message, source=SourceSpan(file, *at(event.start_mark))))
        return refusals

    for event in iter(loader(text).get_event, None):
        kind, anchor = type(event), getattr(event, "anchor", None)  # a name, or None
        documents += kind is yaml.DocumentStartEvent
        if documents > 1:
            return refuse("one YAML document per file, please")
        if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            name, before = opened.pop()
            if name is not None:
                sizes[name] = nodes - before
        elif kind is yaml.AliasEvent:
            if anchor not in sizes:
                return refuse(
                    f"alias *{shortened(str(anchor))} has no anchor &{shortened(str(anchor))} before it"
                )
            size = sizes[anchor]
            if size is None:
                return refuse(f"alias *{shortened(str(anchor))} refers to itself")
            nodes, expanded = nodes + size, expanded + size
            if expanded > MAX_ALIAS_NODES:
                return refuse(_TOO_MANY, "manifest.too_large")
        elif kind is yaml.ScalarEvent or kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            nodes += 1
            if event.tag:
                tag = shortened(event.tag.replace("tag:yaml.org,2002:", "!!"))
                refuse(f"YAML tags such as {tag} are not allowed")
            if anchor in sizes:
                return refuse(
                    f"anchor &{shortened(str(anchor))} is defined twice; give each anchor its own name"
                )
            if anchor is not None:
                sizes[anchor] = 1 if kind is yaml.ScalarEvent else None
            if kind is not yaml.ScalarEvent:
                opened.append((anchor, nodes - 1))
    return refusals


def _ruamel_refusal(text: str, file: str) -> Diagnostic | None:
    try:
        for _ in YAML(typ="rt").parse(io.StringIO(text)):
            pass
    except YAMLError as exc:
        return _refusal(exc, file)
    return None


def _quotes_shortened(words: str) -> str:
    """A parser's words with the file's text they quote ('!ghs_...!', a tag or a character) cut short; its
    own token names ('<block end>') are kept."""
    return re.sub(r"'([^'<][^']*)'", lambda quoted: f"'{shortened(quoted[1])}'", words)


def _refusal(exc: Any, file: str) -> Diagnostic:
    """A parser's exception (ruamel.yaml's or PyYAML's: they share their shape) as a diagnostic: what it
    means in plain words, where there are some, then the parser's own."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return error("manifest.yaml", f"invalid YAML: {exc}", source=SourceSpan(file, 1, 1))
    words = _quotes_shortened(exc.problem or exc.context or "syntax error")
    context = ""
    if exc.problem and exc.context and exc.context_mark:
        context = f"{_quotes_shortened(exc.context)} at line {exc.context_mark.line + 1}"
    plain = _in_plain_words(exc.problem or "", exc.context or "", (exc.context_mark or mark).line + 1)
    if plain:
        message = f"invalid YAML: {plain} (YAML parser: {words}{', ' + context if context else ''})"
    else:
        message = f"invalid YAML: {words}{f' ({context})' if context else ''}"
    return error("manifest.yaml", message, source=SourceSpan(file, *at(mark)))


# The parser's messages people meet, in the parser's words (problem, context), and what they mean there.
_PLAIN_WORDS = (
    (
        "found character '\\t'",
        "",
        "a tab: YAML indents with spaces only; replace it with spaces",
    ),
    (
        "that cannot start any token",
        "",
        "YAML reserves this character at the start of a value (@ and `): put the value in quotes",
    ),
    (
        "found unexpected end of stream",
        "quoted scalar",
        "the quote opened at line {line} is never closed: add the closing quote",
    ),
    (
        "expected ',' or ']'",
        "",
        "the list opened with '[' at line {line} lacks its ']', or a ',' between items",
    ),
    (
        "expected ',' or '}'",
        "",
        "the mapping opened with '{{' at line {line} lacks its '}}', or a ',' between entries",
    ),
    (
        "mapping values are not allowed here",
        "",
        "a ': ' inside a value, or a key indented unlike those above: quote the value or fix the indent",
    ),
    (
        "could not find expected ':'",
        "",
        "line {line} is neither 'key: value' nor a list item: it lacks a ':'",
    ),
    ("but found '<scalar>'", "", "more text after the value on this line: put the whole value in quotes"),
    ("expected <block end>", "", "the indentation of this line does not match the lines above it"),
    ("did not find expected", "", "the indentation of this line does not match the lines above it"),
)


def _in_plain_words(problem: str, context: str, line: int) -> str:
    for words, in_context, plain in _PLAIN_WORDS:
        if words in problem and in_context in context:
            return plain.format(line=line)
    return ""
