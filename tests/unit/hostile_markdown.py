"""Hostile names, a plan full of them, and a check that markdown shows them only as text.

Shared by the markdown plan's tests and the pull request comment's tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.access import Access, AccessDiff, GrantHolder
from reconciler.address import Address
from reconciler.errors import SourceSpan, error, warning
from reconciler.kinds.kind import Action, Change, FieldDiff
from reconciler.plan.model import Plan, Violation
from reconciler.render.markdown import visible

HOSTILE_NAMES = (
    "a\n```\n# Injected heading @org/admins\n```diff",
    "b\n````\n## four\n````",
    "c\n~~~\n# tilde fence",
    "``````````",
    "`",
    "a`b``c",
    "`lead and trail`",
    "[x](http://evil.example/)",
    "![img](http://evil.example/i.png)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</details><details open><summary>forged</summary>",
    "<!-- hidden -->",
    "@org/admins",
    "hi @someone please",
    "#123",
    "see #1 and GH-2",
    "&amp; &lt;b&gt; &#64;org/team &#x40;",
    "http://bare.example www.bare.example",
    "<http://angle.example>",
    "**bold** _em_ ~~strike~~",
    "| a | b |",
    "back\\slash\\`",
    "right\u202eleft",
    "\u2066isolate\u2069",
    "zero\u200bwidth\u200d",
    "line\u2028separator",
    "carriage\rreturn",
    "tab\tand\x07bell",
    "a\n> quote\n- item\n1. item\n<div>",
    "x" * 300 + "`" * 20 + "y",
)
# Every name is unique and carries a marker, so each one can be found in the rendered markdown.
NAMES = tuple(f"n{index}:{name}" for index, name in enumerate(HOSTILE_NAMES))

_PARSER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
# The only HTML blocks the renderers write: collapsible sections and their ends.
_OUR_HTML = re.compile(
    r"<details( open)?><summary>(<b>\w+</b>: [\w ,()+-]+|[\w :-]+: \d+)</summary>\n|</details>\n"
)
_ALERT = re.compile(r"\[!(NOTE|WARNING|CAUTION|IMPORTANT)\]")
# What would be markup, a mention, an issue reference or a bare link if it reached plain text, and the
# marker that starts every name.
_MARKUP = re.compile(r"[@#<>\[\]`&\\|!*_~]|://|www\.|\bn\d+:")


def hostile_plan() -> Plan:
    """Every place a name can appear: addresses, diffs, reasons, unmanaged objects, diagnostics, broken
    policies, and the access diff's projects, permissions, holders and schemes."""
    changes: list[Change] = []
    for index, name in enumerate(NAMES):
        kind = ("products", "customRoles", "permissionSchemes")[index % 3]
        address = Address(kind, "", name)
        changes.append(Change(f"c{index}", address, Action.CREATE, None, {"name": name, "note": name}))
        changes.append(
            Change(
                f"u{index}",
                address,
                Action.UPDATE,
                {"description": name},
                {"description": "x"},
                diffs=(FieldDiff("change", ("description",), name, "x"),),
            )
        )
        names = ({"name": "old"}, {"name": name})
        changes.append(Change(f"r{index}", address, Action.RENAME, *names, reason=f"from {name}"))
        changes.append(Change(f"d{index}", address, Action.DELETE, {"name": name}, None))
        field = Address("detailFields", "organization", name)
        types = ({"type": "TEXT"}, {"type": "DATE"})
        changes.append(Change(f"x{index}", field, Action.REPLACE, *types, reason=name))
    diagnostics = tuple(
        (error if index % 2 else warning)(
            "plan.unknown_holder",
            f"no group {name}",
            source=SourceSpan(f"{name}.yaml", 1, 1) if index % 3 else None,
            address=f"products/{name}",
        )
        for index, name in enumerate(NAMES)
    )
    unmanaged = tuple(f"products/{name} (unmanaged)" for name in NAMES)
    policy = tuple(
        Violation(name, "error", f"permissionSchemes/{name}", grant=f"BROWSE_PROJECTS: group:{name}")
        for name in NAMES
    )
    access = AccessDiff(
        added=tuple(Access(name, name, GrantHolder("group", None, f"group:{name}"), name) for name in NAMES),
        removed=(Access("SD", "BROWSE_PROJECTS", GrantHolder("anyone", None, "anyone"), NAMES[0]),),
    )
    return Plan(
        "https://acme.atlassian.net",
        tuple(changes),
        unmanaged=unmanaged,
        diagnostics=diagnostics,
        policy=policy,
        access=access,
    )


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def assert_names_stay_text(markdown: str, *, headings: int, names: tuple[str, ...] = NAMES) -> None:
    """The markdown holds each name only inside code: no links, images, HTML of its own, headings, fences
    beyond the expected ones, and no plain text in which a mention or an issue reference could start."""
    tokens = list(_walk(_PARSER.parse(markdown)))
    types = {token.type for token in tokens}
    assert not types & {"link_open", "image"}, types
    assert sum(token.type == "heading_open" for token in tokens) == headings
    for token in tokens:
        if token.type == "html_inline":
            assert token.content in ("<sub>", "</sub>"), token.content
        if token.type == "html_block":
            assert _OUR_HTML.fullmatch(token.content), token.content
        if token.type == "fence":
            assert token.info in ("diff", "text"), token.info
        if token.type == "text":
            assert not _MARKUP.search(_ALERT.sub("", token.content)), token.content
        if token.type in ("strong_open", "em_open", "s_open"):
            assert token.markup in ("**", "_"), token.markup
    assert not any(char in markdown for char in "\r\x07\u202e\u2066\u2069\u200b\u200d\u2028")
    code = "\n".join(token.content for token in tokens if token.type in ("code_inline", "fence"))
    for name in names:
        assert visible(name) in code or visible(name).replace("|", "\\|") in code, name
