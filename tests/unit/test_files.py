from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.files import write_atomically


def test_writes_text_and_bytes_creating_the_directories(tmp_path: Path) -> None:
    text_file = tmp_path / "a" / "b" / "plan.json"
    write_atomically(text_file, "caf\u00e9\nline\n")
    assert text_file.read_bytes() == "caf\u00e9\nline\n".encode()
    write_atomically(text_file, b"\x00raw")
    assert text_file.read_bytes() == b"\x00raw"
    assert sorted(p.name for p in text_file.parent.iterdir()) == ["plan.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, "old")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "half \udc80")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
