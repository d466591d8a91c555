"""What every test shares: nothing. Commands write `.jsm-journal.jsonl` and `.jsm-sandbox.json` into the
working directory by default, so each test runs in a directory of its own: tests can run in parallel
(pytest-xdist) and the repository stays clean."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
