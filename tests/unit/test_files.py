from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.files import check_output, resolved, write_atomically, write_output


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


def test_a_path_that_cannot_be_written_is_the_users_to_correct(tmp_path: Path) -> None:
    # Too long a name: an OSError that no check before the write foresees.
    path = tmp_path / ("x" * 300)
    with pytest.raises(
        ConfigError, match=r"--out .*x: cannot write it \(File name too long\); choose another --out"
    ):
        write_output(path, "{}", "--out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("directory", [False, True])
@pytest.mark.parametrize("target", ["nowhere", "there"])
def test_a_symbolic_link_is_refused_as_an_output(tmp_path: Path, target: str, directory: bool) -> None:
    """A dangling link ended in "Internal error: FileExistsError", after the site was read."""
    if directory:
        (tmp_path / "there").mkdir()
    else:
        (tmp_path / "there").write_text("x", encoding="utf-8")
    link = tmp_path / "out"
    link.symlink_to(tmp_path / target)
    with pytest.raises(ConfigError, match=r"^--out .*out: a symbolic link; outputs are not written through"):
        check_output(link, "--out", directory=directory)


def test_a_link_to_nowhere_on_the_way_is_no_directory(tmp_path: Path) -> None:
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"gone is not a directory; choose another --out"):
        check_output(tmp_path / "gone" / "plan.json", "--out", directory=False)


def test_only_a_loop_resolves_to_nothing(tmp_path: Path) -> None:
    """A path under a file, or not there yet, is resolved as it stands: it is no loop, and is said as what
    it is where it is used."""
    (tmp_path / "f.yaml").write_text("x")
    (tmp_path / "loop").symlink_to("loop")
    assert resolved(tmp_path / "loop") is None
    assert resolved(tmp_path / "loop" / "x.yaml") is None
    assert resolved(tmp_path / "f.yaml" / "x" / "y") == tmp_path.resolve() / "f.yaml" / "x" / "y"
    assert resolved(tmp_path / "new" / "plan.json") == tmp_path.resolve() / "new" / "plan.json"
