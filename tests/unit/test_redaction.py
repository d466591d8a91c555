"""One redaction rule for every output: the CLI's, HTTP error texts, the GitHub Action's log."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

from reconciler.cli.ui import Ui
from reconciler.github.runner import Runner
from reconciler.redaction import MIN_SECRET_LENGTH, PLACEHOLDER, basic_auth_secrets, redactor

TOKEN = "canary-token-4b7e1f0a9c"
TEXT = f"Plan: 3 object(s) to create; token {TOKEN}; again {TOKEN}."


def _all_redactors(secret: str) -> dict[str, object]:
    return {
        "redactor": redactor([secret]),
        "cli": Ui(secrets=[secret]).redact,
        "github": Runner({"JSM_API_TOKEN": secret}).redact,
    }


@pytest.mark.parametrize("where", ["redactor", "cli", "github"])
def test_every_redactor_blanks_a_token_the_same_way(where: str) -> None:
    redact = _all_redactors(TOKEN)[where]
    assert callable(redact)
    assert redact(TEXT) == f"Plan: 3 object(s) to create; token {PLACEHOLDER}; again {PLACEHOLDER}."


@pytest.mark.parametrize("where", ["redactor", "cli", "github"])
@pytest.mark.parametrize("placeholder_token", ["t", "ct", "object", "x" * (MIN_SECRET_LENGTH - 1)])
def test_a_value_too_short_to_be_a_token_never_garbles_output(where: str, placeholder_token: str) -> None:
    redact = _all_redactors(placeholder_token)[where]
    assert callable(redact)
    text = "Apply complete: 3 applied (object(s) created), 0 failed."
    assert redact(text) == text


def test_the_basic_header_value_is_blanked_too() -> None:
    header = base64.b64encode(f"me@example.com:{TOKEN}".encode()).decode()
    redact = redactor(basic_auth_secrets("me@example.com", TOKEN))
    assert redact(f"Authorization: Basic {header}") == f"Authorization: Basic {PLACEHOLDER}"


def test_the_longest_secret_goes_first() -> None:
    """A token that is part of a longer secret must not leave the rest of that secret behind."""
    longer = TOKEN + "-and-more"
    assert redactor([TOKEN, longer])(f"[{longer}]") == f"[{PLACEHOLDER}]"


def test_under_github_actions_output_to_a_file_is_not_wrapped_but_output_the_runner_reads_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`access --format csv > access.csv` in a workflow: a name with `##[` from the site stays one cell, with
    no ::stop-commands:: lines in the file; on a pipe, which the runner may read, it is wrapped."""
    csv = "project,holder\nSD,Eve ##[group]x\n"
    with (tmp_path / "access.csv").open("w", encoding="utf-8") as file:
        monkeypatch.setattr(sys, "stdout", file)
        Ui(github=True).out(csv)
    assert (tmp_path / "access.csv").read_text(encoding="utf-8") == csv
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, encoding="utf-8") as reader, os.fdopen(write_end, "w", encoding="utf-8") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        Ui(github=True).out(csv)
        pipe.close()
        piped = reader.read()
    assert piped.startswith("::stop-commands::") and "Eve ##[group]x" in piped
