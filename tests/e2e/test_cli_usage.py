"""Usage mistakes exit 1 with click's own message: 2 means "changes present" under --detailed-exitcode."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler.cli import EXIT_ERROR, cli


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--taget", "products/X"], "Did you mean one of: '--site', '--target'?"),
        (["plna"], "Did you mean 'plan'?"),
        (["plan", "--format", "yaml"], "'yaml' is not one of 'text', 'markdown', 'json'"),
        (["plan", "--parallelism", "0"], "0 is not in the range 1<=x<=32"),
        (["apply", "--plan"], "Option '--plan' requires an argument"),
        (["--bogus", "plan"], "No such option '--bogus'"),
        (["sandbox", "bogus"], "No such command 'bogus'"),
        (["export", "--kind", "prodcts"], "'prodcts' is not one of"),
        ([], "Commands:"),
        (["sandbox"], "Commands:"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_usage_mistake_exits_1_with_clicks_message(args: list[str], said: str) -> None:
    result = CliRunner().invoke(cli, args, env={"JSM_SITE": ""})
    assert result.exit_code == EXIT_ERROR, result.output
    assert said in result.output


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["plan", "--help"], ["sandbox", "--help"], ["--version"]):
        assert CliRunner().invoke(cli, args).exit_code == 0, args


def test_debug_is_in_the_help() -> None:
    assert "--debug" in CliRunner().invoke(cli, ["--help"]).output
