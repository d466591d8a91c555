from __future__ import annotations

import json
import re

import pytest

from reconciler.render.workflow_commands import command, inert, json_inert
from tests.github.runner_commands import Command, commands_in

HOSTILE = [
    "::warning file=a.yaml,line=1::a fake annotation",
    "  ::error::indented",
    "::stop-commands::x",
    "::add-mask::secret",
    "name ##[error]the older form, anywhere in a line",
    "##[stop-commands]y",
    "a\r::warning::after a carriage return",
    "a\n::set-output name=x::y",
    "::endgroup::",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_an_inert_text_runs_no_command_and_reads_the_same(text: str) -> None:
    shown = inert(text)
    [stop, resume] = commands_in(shown)
    assert stop.name == "stop-commands" and re.fullmatch("[0-9a-f]{32}", stop.data)
    assert resume == Command(stop.data, "")
    assert shown.split("\n")[1:-1] == text.split("\n")


def test_only_a_text_that_could_hold_a_command_is_wrapped_and_line_ends_are_kept() -> None:
    assert inert("Plan: 1 to create, 0 to update.") == "Plan: 1 to create, 0 to update."
    assert inert("a: b\n") == "a: b\n"
    assert inert("  + products/A::B ::warning::x\n") == "  + products/A::B ::warning::x\n"  # not at a start
    assert inert("::x\n").endswith("::\n") and not inert("::x").endswith("\n")
    # After the wrapping, commands run again: the tool's own annotations are not switched off.
    found = commands_in(inert("::error::a") + "\n::warning::after")
    assert [c.name for c in found[:1]] == ["stop-commands"] and found[2:] == [Command("warning", "after")]


def test_json_shows_in_a_log_as_it_is_with_the_same_value() -> None:
    value = {"names": ["##[error]x", "\\##[warning]y", "::error::z", "a\n::warning::b", "##["]}
    text = json_inert(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(text) == value
    assert commands_in(text) == []


def test_each_wrapping_has_a_token_of_its_own() -> None:
    assert inert("::a::") != inert("::a::")


def test_a_command_keeps_its_data_and_properties_whatever_they_hold() -> None:
    data = "50% of a,b:c\r\n::warning::x ##[error]y %0A"
    file = "dir/a,b:c\n::error::.yaml"
    [parsed] = commands_in(command("error", data, {"file": file, "line": 3, "title": "t %25"}))
    assert parsed == Command("error", data, {"file": file, "line": "3", "title": "t %25"})
