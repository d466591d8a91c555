"""GitHub Actions workflow commands: the tool's own (annotations, notices) escaped as GitHub documents, and
everything else the tool prints made unable to be one.

The runner reads every line a step prints. A line that starts with `::` (after spaces) is a command, and so
is a line with `##[` anywhere in it (the runner's older form). File names, object names and the site's
messages can hold both, and a command such as `::stop-commands::x` would even switch the tool's own
annotations off. So under GitHub Actions a printed text that could hold a command goes between
`::stop-commands::TOKEN` and `::TOKEN::`, TOKEN random and fresh each time: the runner then shows it, and
nothing in it can end the pause (GitHub's "Stopping and starting workflow commands"). Texts that cannot are
printed as they are, so that output redirected to a file stays the same; JSON never needs the pause.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping

_LINES = re.compile(r"\r\n|\r|\n")  # where the runner's reader ends a line


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def command(name: str, data: str, properties: Mapping[str, str | int] | None = None) -> str:
    """`::name key=value,...::data`, the values and the data escaped so that they end neither the line nor
    their field."""
    fields = ",".join(f"{key}={_property(str(value))}" for key, value in (properties or {}).items())
    return f"::{name}{' ' + fields if fields else ''}::{_data(data)}"


def inert(text: str) -> str:
    """`text` as the runner will only show it: unchanged when no line of it can be a command, else between
    `::stop-commands::TOKEN` and `::TOKEN::`. Ends with a line break when `text` does."""
    if "##[" not in text and not any(line.lstrip().startswith("::") for line in _LINES.split(text)):
        return text
    token = secrets.token_hex(16)
    ending = "\n" if text.endswith("\n") else ""
    return f"::stop-commands::{token}\n{text.removesuffix(ending)}\n::{token}::{ending}"


def json_inert(text: str) -> str:
    """JSON text (json.dumps's) that no line of can be a command, with the same value: none of its lines
    starts with `::`, and `##[`, only ever inside a string, is written `#\\u0023[`."""
    return text.replace("##[", "#\\u0023[")


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
