"""Writing manifest YAML that the loader reads back exactly: safe quoting, flow lists, visible escapes.

Plain (unquoted) output is kept to text that every YAML reader takes as the same string; the rest is quoted.
Flow lists and the loader's `${...}` (read or refused, never literal) make ruamel's choice too lenient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.@/()+:-]*\Z")
_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))


def entry(essence: Mapping[str, Any], keys: Sequence[str]) -> CommentedMap:
    """The essence's fields in manifest order: text quoted safely, lists on one line."""
    entry = CommentedMap()
    for key in keys:
        if key in essence:
            value = essence[key]
            entry[key] = flow([text(v) for v in value]) if isinstance(value, list) else text(value)
    return entry


def text(value: str) -> str:
    """A string value as the manifest loader will read it back: `${` is its interpolation, `$${` a literal."""
    return _quoted(value.replace("${", "$${"))


def key(value: str) -> str:
    return _quoted(value)  # keys are never interpolated


def _quoted(value: str) -> str:
    if not value.isprintable():
        # Line breaks, bidirectional overrides and zero-width characters become visible escapes, so that a
        # reviewer sees them in a pull request (see _Emitter).
        quoted: str = DoubleQuotedScalarString(value)
        return quoted
    plain = (
        _PLAIN.match(value)
        and not value.endswith((" ", ":"))
        and ": " not in value
        and all(r.resolve(ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str" for r in _RESOLVERS)
    )
    if plain:
        return value
    quoted = SingleQuotedScalarString(value)
    return quoted


def flow(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def flow_map(items: Mapping[str, Any]) -> CommentedMap:
    mapping = CommentedMap(items)
    mapping.fa.set_flow_style()
    return mapping


class _Emitter(RoundTripEmitter):
    """Escapes every character of a double-quoted string that is not printable, including those that
    ruamel writes raw when unicode is allowed (U+202E, U+200B, U+2028), and only in such strings, so
    that other non-ASCII text stays readable."""

    def write_double_quoted(self, text: Any, split: Any = True) -> None:
        if str(text).isprintable():
            super().write_double_quoted(text, split)
            return
        allow_unicode, self.allow_unicode = self.allow_unicode, False
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = allow_unicode


def dump(document: Mapping[str, Any]) -> str:
    yaml = YAML(typ="rt")
    yaml.Emitter = _Emitter
    yaml.width = 4096  # never fold a long name over two lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    out = StringIO()
    yaml.dump(document, out)
    return out.getvalue()
