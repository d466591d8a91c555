"""The workflow commands the GitHub runner finds in what a step prints, read as the runner reads them
(actions/runner, src/Runner.Common/ActionCommand.cs and src/Runner.Worker/ActionCommandManager.cs):

- `::name key=value,...::data`: a line that starts with `::` after leading white space;
- `##[name key=value;...]data`: anywhere in a line (the older form, tried when the first fails);
- the name must be a registered command, compared without case;
- `::stop-commands::TOKEN` ignores every command until one named TOKEN (`::TOKEN::`, or `##[TOKEN]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED = frozenset(
    {
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "warning",
        "error",
        "notice",
        "group",
        "endgroup",
        "echo",
        "stop-commands",
    }
)
_LINES = re.compile(r"\r\n|\r|\n")  # .NET's ReadLine


@dataclass(frozen=True)
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


def commands_in(output: str) -> list[Command]:
    """The commands the runner runs for one stream of a step, in order; stop-commands and its resume
    command included."""
    found: list[Command] = []
    stop_token: str | None = None
    for line in _LINES.split(output):
        registered = {name.casefold() for name in REGISTERED | ({stop_token} if stop_token else set())}
        parsed = _modern(line, registered) or _legacy(line, registered)
        if parsed is None:
            continue
        if stop_token is not None:
            if parsed.name.casefold() == stop_token.casefold():
                found.append(parsed)
                stop_token = None
            continue
        found.append(parsed)
        if parsed.name.casefold() == "stop-commands" and parsed.data:
            stop_token = parsed.data
    return found


def meant_commands(output: str) -> list[Command]:
    """The commands in one stream but the tool's pauses, each checked to be the tool's own: a fresh random
    token, then resumed."""
    found = commands_in(output)
    meant = []
    while found:
        first = found.pop(0)
        if first.name == "stop-commands":
            assert re.fullmatch("[0-9a-f]{32}", first.data), first
            assert found.pop(0) == Command(first.data, "")
        else:
            meant.append(first)
    return meant


def _modern(line: str, registered: set[str]) -> Command | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, _, rest = info.partition(" ")
    if name.casefold() not in registered:
        return None
    properties = {}
    for item in rest.strip().split(","):
        key, equals, value = item.partition("=")
        if item and equals and key and value:
            properties[key] = _unescape(value, ("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","))
    return Command(name, _unescape(message[end + 2 :], ("%0D", "\r"), ("%0A", "\n")), properties)


def _legacy(line: str, registered: set[str]) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    name, _, rest = info.partition(" ")
    if name.casefold() not in registered:
        return None
    escapes = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"))
    properties = {}
    for item in rest.split(";"):
        key, equals, value = item.partition("=")
        if item and equals and key and value:
            properties[key] = _unescape(value, *escapes)
    return Command(name, _unescape(line[close + 1 :], *escapes), properties)


def _unescape(text: str, *escapes: tuple[str, str]) -> str:
    for escaped, character in (*escapes, ("%25", "%")):
        text = text.replace(escaped, character)
    return text
