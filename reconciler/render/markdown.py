"""Markdown in which names stay text, for the markdown plan, the pull request comment and the job summary.

Names and values come from manifests in a pull request and from the live site, and the Action posts them
under its own name. They appear only inside code spans (`code`) and fenced blocks (`fenced`), where markdown
makes no links, images, HTML, headings or @mentions; `visible` removes what could end those early: line
breaks (which end a line, and with it a fence or a blockquote) and, in code spans, backtick runs (handled by a
longer fence). Invisible characters (bidi controls, zero-width spaces) are shown as escapes, so that a
reviewer sees the name the site will get.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BACKTICKS = re.compile(r"`+")
# GitHub colours the lines of a ```diff block by their first character: + green, - red, ! orange.
_DIFF_SYMBOLS = {"+": "+", "-": "-", "~": "!", "-/+": "-"}


def _hidden(char: str) -> bool:
    """Control, format (bidi, zero-width) and line/paragraph separator characters."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def visible(text: str) -> str:
    """The text on one line, with every invisible or line-breaking character written as an escape."""
    if not any(_hidden(char) for char in text):
        return text
    return "".join(
        _SHORT_ESCAPES.get(char, f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        if _hidden(char)
        else char
        for char in text
    )


def code(text: str, *, in_table: bool = False) -> str:
    """An inline code span that shows `text` literally, whatever it holds.

    The fence is one backtick longer than the longest run inside, and a space pads text that starts or ends
    with a backtick or a space (markdown strips one space on each side). In a table cell a pipe must be
    escaped even inside code, or it ends the cell.
    """
    shown = visible(text)
    if in_table:
        shown = shown.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    if not shown.strip(" ") or shown[0] in "` " or shown[-1] in "` ":
        shown = f" {shown} "
    return f"{fence}{shown}{fence}"


def fenced(lines: Sequence[str], info: str = "") -> list[str]:
    """A fenced code block of `lines` (each made `visible`), with a fence no line can close."""
    shown = [visible(line) for line in lines]
    longest = max((len(run) for line in shown for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *shown, fence]


def diff_symbol(symbol: str) -> str:
    """The first character of a ```diff line for a change's symbol (+, -, ~, -/+)."""
    return _DIFF_SYMBOLS.get(symbol, " ")
