"""The YAML parser's messages that people meet get one sentence they understand, before the parser's own
words, at the parser's position."""

from __future__ import annotations

import pytest

from reconciler.yamlsource import load_yaml_text

CASES = [
    (
        "products:\n  - name: A\n   - name: B\n",
        (3, 4),
        "the indentation of this line does not match the lines above it",
        "expected <block end>, but found '<block sequence start>'",
    ),
    (
        "version: 1\nproducts:\n  - name: A\n renamedFrom: [x]\n",
        (4, 2),
        "the indentation of this line does not match the lines above it",
        "expected <block end>, but found '<block mapping start>'",
    ),
    (
        "products:\n  - name: A\n    - name: B\n",
        (3, 5),
        "the indentation of this line does not match the lines above it",
        "expected <block end>, but found '-'",
    ),
    (
        'products:\n  - name: "Acme\n  - name: B\n',
        (4, 1),
        "the quote opened at line 2 is never closed: add the closing quote",
        "found unexpected end of stream, while scanning a quoted scalar at line 2",
    ),
    (
        "products:\n\t- name: A\n",
        (2, 1),
        "a tab: YAML indents with spaces only; replace it with spaces",
        "found character '\\t' that cannot start any token",
    ),
    (
        "products:\n  - name: Acme: Widget\n",
        (2, 15),
        "a ': ' inside a value, or a key indented unlike those above",
        "mapping values are not allowed here",
    ),
    (
        "products:\n  - name: A\n      renamedFrom: [x]\n",
        (3, 18),
        "a ': ' inside a value, or a key indented unlike those above",
        "mapping values are not allowed here",
    ),
    (
        "version: 1\nproducts\n  - name: A\n",
        (3, 9),
        "line 2 is neither 'key: value' nor a list item: it lacks a ':'",
        "could not find expected ':'",
    ),
    (
        "products:\n  - name: [A\n",
        (3, 1),
        "the list opened with '[' at line 2 lacks its ']', or a ',' between items",
        "expected ',' or ']', but got '<stream end>'",
    ),
    (
        "products:\n  - {name: A\n",
        (3, 1),
        "the mapping opened with '{' at line 2 lacks its '}', or a ',' between entries",
        "expected ',' or '}', but got '<stream end>'",
    ),
    (
        'products:\n  - name: "A" B\n',
        (2, 15),
        "more text after the value on this line: put the whole value in quotes",
        "expected <block end>, but found '<scalar>'",
    ),
    (
        "products:\n  - name: @acme\n",
        (2, 11),
        "YAML reserves this character at the start of a value (@ and `): put the value in quotes",
        "found character '@' that cannot start any token",
    ),
]


@pytest.mark.parametrize(
    ("text", "position", "plain", "parser"),
    CASES,
    ids=lambda v: v if isinstance(v, str) and " " in v and len(v) < 60 else None,
)
@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_a_common_yaml_mistake_is_said_in_plain_words(
    text: str, position: tuple[int, int], plain: str, parser: str, libyaml: bool
) -> None:
    _, diagnostics = load_yaml_text(text, "m.yaml", {}, libyaml=libyaml)
    [diagnostic] = diagnostics
    assert diagnostic.code == "manifest.yaml"
    assert diagnostic.source is not None and (diagnostic.source.line, diagnostic.source.column) == position
    assert diagnostic.message.startswith(f"invalid YAML: {plain}")
    assert f"(YAML parser: {parser}" in diagnostic.message


def test_a_message_without_plain_words_keeps_the_parsers_own() -> None:
    _, [diagnostic] = load_yaml_text("%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "m.yaml", {})
    assert diagnostic.message == "invalid YAML: found duplicate YAML directive"
