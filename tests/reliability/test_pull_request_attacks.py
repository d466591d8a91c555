"""The attacks of a hostile pull request on the files the tool reads and writes (issue 20), each rerun as
stated: a manifest that reads a credential, symbolic links out of the checkout, a journal that is a symbolic
link, and manifest sets too large to read. Each is refused, or harmless."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.github.runner_commands import commands_in, meant_commands
from tests.reliability.conftest import Ran, Served, plan_keys, site_env, write_world
from tests.reliability.test_security import CANARY, CANARY_EMAIL, leaks
from tests.reliability.world import make_world

OTHER_SECRET = "other-SECRET-0f3c9a7e5b1d"


def test_a_manifest_cannot_read_a_credential_from_the_environment(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(3)
    served = serve(world.seed)
    served.front.accept = (CANARY_EMAIL, CANARY)
    manifests = write_world(world, tmp_path / "m")
    (manifests / "leak.yaml").write_text(
        'version: 1\nproducts:\n  - name: "leak ${JSM_API_TOKEN}"\n'
        "  - name: x ${JSM_EMAIL} ${OTHER_SECRET}\n",
        encoding="utf-8",
    )
    env = site_env(served.front_url, token=CANARY, email=CANARY_EMAIL) | {"OTHER_SECRET": OTHER_SECRET}
    plan_file, journal = tmp_path / "plan.json", tmp_path / "journal.jsonl"
    where = f"{manifests.as_posix()}/leak.yaml"
    outputs: dict[str, str] = {}
    commands: dict[str, list[str]] = {
        "validate": ["validate", str(manifests)],
        "plan": ["-v", "plan", str(manifests)],
        "plan json": ["plan", "--format", "json", str(manifests)],
        "plan markdown": ["plan", "--format", "markdown", str(manifests)],
        "plan --out": ["plan", "--out", str(plan_file), str(manifests)],
        "apply": ["-v", "apply", "--auto-approve", "--journal", str(journal), str(manifests)],
    }
    for github in ("", "true"):
        for label, args in commands.items():
            ran = run_cli(env | {"GITHUB_ACTIONS": github}, *args)
            ran.assert_clean()
            assert ran.code == 1, (label, ran.output)
            for position in ("3:17", "4:13", "4:26"):
                assert f"{where}:{position}: error[manifest.variable_not_allowed]" in ran.output, label
            assert ran.output.count("error[manifest.variable_not_allowed]") == 3, label
            outputs[f"{label} {github}"] = ran.output
    assert not plan_file.exists() and not journal.exists()
    assert served.writes() == []
    assert leaks(outputs) == []
    assert not [label for label, text in outputs.items() if OTHER_SECRET in text or CANARY_EMAIL in text]


GITHUB_TOKEN = "ghs_" + "7Qx2Lm9Pz4Vb8Nc1Kd6Rf3Tg5Hj0Ws2Ya9Ue"
CREDENTIALS = f"https://x-access-token:{GITHUB_TOKEN}@github.com\n"


def _checkout_with_links(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout whose jsm/ links to a credential file and to a directory outside it: (checkout, outside)."""
    outside = tmp_path / "home"
    (outside / "secrets").mkdir(parents=True)
    (outside / ".git-credentials").write_text(CREDENTIALS, encoding="utf-8")
    (outside / "secrets" / "token.yaml").write_text(f"token: {GITHUB_TOKEN}\n", encoding="utf-8")
    checkout = tmp_path / "checkout"
    jsm = checkout / "jsm"
    jsm.mkdir(parents=True)
    (jsm / "products.yaml").write_text("version: 1\nproducts:\n  - name: Acme Widget\n", encoding="utf-8")
    (jsm / "credentials.yaml").symlink_to(outside / ".git-credentials")
    (jsm / "more").symlink_to(outside / "secrets", target_is_directory=True)
    (jsm / "same.yaml").symlink_to("products.yaml")  # inside: harmless, read once
    (checkout / "root.yaml").symlink_to(outside / ".git-credentials")
    return checkout, outside


def _spy_on_opens(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The resolved paths of every file opened from now on."""
    opened: list[Path] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.resolve())
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    return opened


def test_symbolic_links_out_of_the_manifests_are_refused_unread(
    run_cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout, outside = _checkout_with_links(tmp_path)
    opened = _spy_on_opens(monkeypatch)
    monkeypatch.chdir(checkout)
    env = {"GITHUB_ACTIONS": "true", "JSM_SITE": ""}
    ran = run_cli(env, "validate", "jsm")
    assert ran.code == 1, ran.output
    assert "jsm/credentials.yaml:1:1: error[manifest.symlink]" in ran.stdout
    assert "::error file=jsm/credentials.yaml,line=1,col=1,title=manifest.symlink::" in ran.stdout
    assert "error[manifest.symlink]: jsm/more: a symbolic link to outside the manifests given" in ran.stdout
    assert "manifest.duplicate" not in ran.output  # same.yaml is products.yaml, read once
    ran_here = run_cli(env, "validate")  # the working directory: the link there too
    assert "root.yaml:1:1: error[manifest.symlink]" in ran_here.stdout
    given_link = run_cli(env, "validate", "jsm/credentials.yaml")  # even when it is the path given
    assert "jsm/credentials.yaml:1:1: error[manifest.symlink]" in given_link.stdout
    for output in (ran.output, ran_here.output, given_link.output):
        assert GITHUB_TOKEN[:12] not in output and "x-access-token" not in output
        assert str(outside) not in output and "home" not in output
    assert [path for path in opened if path.is_relative_to(outside)] == []


def test_a_path_through_a_linked_directory_to_outside_the_checkout_is_refused_unread(
    run_cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request makes a directory of the path given a link: `deploy/jsm` with deploy -> ../outside."""
    checkout, outside = _checkout_with_links(tmp_path)
    (outside / "jsm").mkdir()
    (outside / "jsm" / "creds.yaml").write_text(f"version: 1\nproducts:\n  - name: {GITHUB_TOKEN}\n")
    (checkout / "deploy").symlink_to(outside, target_is_directory=True)
    (checkout / "jsm" / "dirlink").symlink_to(outside / "jsm", target_is_directory=True)
    (checkout / "inside").symlink_to("jsm", target_is_directory=True)  # a link inside the checkout: read
    opened = _spy_on_opens(monkeypatch)
    monkeypatch.chdir(checkout)
    env = {"GITHUB_ACTIONS": "true", "JSM_SITE": ""}
    through_parent = run_cli(env, "validate", "deploy/jsm")
    assert "error[manifest.symlink]: deploy/jsm: the path goes through the symbolic link deploy," in (
        through_parent.stdout
    )
    to_a_file = run_cli(env, "validate", "jsm/dirlink/creds.yaml")
    refused = "jsm/dirlink/creds.yaml:1:1: error[manifest.symlink]: the path goes through the symbolic link "
    assert refused in to_a_file.stdout
    back_in = run_cli(env, "validate", "deploy/../checkout/jsm/products.yaml")
    assert "the path goes through the symbolic link deploy," in back_in.stdout
    for ran in (through_parent, to_a_file, back_in):
        assert ran.code == 1, ran.output
        assert GITHUB_TOKEN[:12] not in ran.output and str(outside) not in ran.output
    assert [path for path in opened if path.is_relative_to(outside)] == []
    assert run_cli(env, "validate", "inside/products.yaml").code == 0


NOT_MANIFESTS = {  # files a pull request could link to or add, each holding the token
    "git-credentials.yaml": CREDENTIALS,
    "token.yaml": f"{GITHUB_TOKEN}\n",
    "key.yaml": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{GITHUB_TOKEN}\n-----END OPENSSH PRIVATE KEY-----\n",
    "npmrc.yaml": f"//registry.npmjs.org/:_authToken={GITHUB_TOKEN}\n",
    "alias.yaml": f"a: *{GITHUB_TOKEN}\n",
    "anchor.yaml": f"a: &{GITHUB_TOKEN} x\nb: &{GITHUB_TOKEN} y\n",
    "tag.yaml": f"!{GITHUB_TOKEN} x\n",
    "duplicate.yaml": f"{GITHUB_TOKEN}: 1\n{GITHUB_TOKEN}: 2\n",
    "key-not-text.yaml": f"[{GITHUB_TOKEN}]: 1\n? {{a: 1}}\n: 2\n",
    "unknown-key.yaml": f"{GITHUB_TOKEN}: 1\n",
    "version.yaml": f"version: {GITHUB_TOKEN}\n",
    "variable.yaml": f"version: 1\nproducts: [{{name: '${{{GITHUB_TOKEN}}}'}}]\n",
}


def test_no_message_quotes_more_than_a_short_excerpt_of_a_file_that_is_not_a_manifest(
    run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    for name, text in NOT_MANIFESTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ran = run_cli({"GITHUB_ACTIONS": "true"}, "validate", str(tmp_path))
    assert ran.code == 1
    assert {line.split(":")[0].rsplit("/", 1)[-1] for line in ran.stdout.splitlines()} >= set(NOT_MANIFESTS)
    assert GITHUB_TOKEN[:20] not in ran.output, ran.output


def test_a_manifest_set_too_large_to_read_is_refused_before_any_file_is_read(
    run_cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's ten 4.9 MB files (42 s and 4.7 GB to validate before), and one file of 10 GB: sparse
    files, measured and never read."""
    opened: list[Path] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    ten = tmp_path / "ten"
    ten.mkdir()
    for number in range(10):
        with (ten / f"part-{number}.yaml").open("wb") as part:
            part.truncate(4_900_000)
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(10 * 1024**3)
    opened.clear()
    for given, shown in ((ten, "46.7 MB in 10 file(s)"), (huge, "10240.0 MB in 1 file(s)")):
        ran = run_cli({"GITHUB_ACTIONS": ""}, "validate", str(given))
        assert ran.code == 1
        assert f"error[manifest.too_large]: the manifests hold {shown}, more than the 20 MB" in ran.output
    assert opened == []
    # One file above 5 MB in a set that is not too large: refused after reading 5 MB of it.
    large = tmp_path / "large.yaml"
    with large.open("wb") as stream:
        stream.truncate(6 * 1024**2)
    ran = run_cli({"GITHUB_ACTIONS": ""}, "validate", str(large))
    assert f"{large.as_posix()}:1:1: error[manifest.too_large]: the file is larger than 5 MB" in ran.output


def test_the_journal_is_never_written_through_a_symbolic_link(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(4)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    env = site_env(served.url)
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    link = tmp_path / ".jsm-journal.jsonl"
    link.symlink_to(victim)
    args = ("apply", "--auto-approve", "--allow-delete", str(manifests))
    ran = run_cli(env, "--no-color", *args, "--journal", str(link))
    assert ran.code == 1
    assert f"{link}: cannot open the journal (it is a symbolic link), so nothing was applied" in ran.output
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert served.writes() == []
    journal = tmp_path / "journal.jsonl"
    journal.touch(mode=0o644)  # an older version's journal, or one in the checkout
    journal.chmod(0o644)
    ran = run_cli(env, *args, "--journal", str(journal))
    assert ran.code == 0, ran.output
    assert journal.stat().st_mode & 0o777 == 0o600
    assert plan_keys(run_cli, env, manifests) == []


def test_the_sandbox_state_file_is_never_read_or_written_through_a_symbolic_link(
    run_cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = tmp_path / "home" / "credential.json"
    credential.parent.mkdir()
    product = {"id": "1", "name": "A", "seq": 1, GITHUB_TOKEN: "0123456789"}
    secret_json = json.dumps({"products": [product]})
    credential.write_text(secret_json, encoding="utf-8")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "m.yaml").write_text("version: 1\n", encoding="utf-8")
    (checkout / ".jsm-sandbox.json").symlink_to(credential)
    monkeypatch.chdir(checkout)
    env = {"GITHUB_ACTIONS": "", "JSM_SITE": "", "JSM_SANDBOX_STATE": ""}
    planned = run_cli(env, "plan", "m.yaml")
    reset = run_cli(env, "sandbox", "reset")
    for ran in (planned, reset):
        ran.assert_clean()
        assert ran.code == 1, ran.output
        assert "JSM_SANDBOX_STATE .jsm-sandbox.json: a symbolic link;" in ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
        assert "credential" not in ran.output and GITHUB_TOKEN[:12] not in ran.output
    assert credential.read_text(encoding="utf-8") == secret_json
    # The same file copied in: read, and its keys quoted only as a short excerpt.
    (checkout / ".jsm-sandbox.json").unlink()
    (checkout / ".jsm-sandbox.json").write_text(secret_json, encoding="utf-8")
    copied = run_cli(env, "plan", "m.yaml")
    assert copied.code == 1, copied.output
    assert f"products.0.{GITHUB_TOKEN[:19]}…: Extra inputs are not permitted" in copied.stderr
    assert GITHUB_TOKEN[:20] not in copied.output


HOSTILE_FILE_NAMES = [
    "a\n::warning file=evil.yaml,line=1::a fake annotation.yaml",
    "b\n::stop-commands::x\n.yaml",
    "c\r::add-mask::everything.yaml",
    "d ##[error]the older form.yaml",
]
HOSTILE_OBJECT_NAMES = ["::warning::from a name", "##[stop-commands]z", "x ##[error]older form"]


def test_file_and_object_names_start_no_workflow_command(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    served = serve(make_world(5).seed)
    env = site_env(served.url) | {"GITHUB_ACTIONS": "true"}
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in HOSTILE_FILE_NAMES:
        (broken / name).write_text("version: 1\nproducts:\n  - name: A\n    colour: red\n", encoding="utf-8")
    for args in (("validate", str(broken)), ("-v", "plan", str(broken))):
        ran = run_cli(env, *args)
        assert ran.code == 1
        annotations = meant_commands(ran.stdout) + meant_commands(ran.stderr)
        assert [(c.name, c.properties["file"]) for c in annotations] == [
            ("error", f"{broken.as_posix()}/{name}") for name in sorted(HOSTILE_FILE_NAMES)
        ]
    named = tmp_path / "named"
    named.mkdir()
    products = "".join(f"  - name: {json.dumps(name)}\n" for name in HOSTILE_OBJECT_NAMES)
    (named / "products.yaml").write_text(f"version: 1\nproducts:\n{products}", encoding="utf-8")
    # JSON, which a workflow may redirect to a file, is never wrapped: it holds no command as it is.
    ran = run_cli(env, "plan", "--format", "json", str(named))
    addresses = [change["address"] for change in json.loads(ran.stdout)["changes"]]
    assert sorted(addresses) == sorted(f"products/{name}" for name in HOSTILE_OBJECT_NAMES)
    assert commands_in(ran.stdout) == []
    plan_then_apply: list[tuple[str, ...]] = [
        ("-v", "plan", str(named)),
        ("apply", "--auto-approve", "--journal", str(tmp_path / "j"), str(named)),
    ]
    for command_line in plan_then_apply:
        ran = run_cli(env, *command_line)
        assert ran.code == 0, ran.output
        assert all(name in ran.stdout for name in HOSTILE_OBJECT_NAMES)
        assert meant_commands(ran.stdout) == meant_commands(ran.stderr) == []
    assert plan_keys(run_cli, site_env(served.url), named) == []


def test_a_file_name_that_is_not_utf8_fails_the_plan_with_a_clear_message(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    world = make_world(6)
    served = serve(world.seed)
    manifests = write_world(world, tmp_path / "m")
    (manifests / os.fsdecode(b"perm\xff.yaml")).write_text("version: 1\n", encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    for github in ("", "true"):
        for args in (["validate", str(manifests)], ["plan", "--out", str(plan_file), str(manifests)]):
            ran = run_cli(site_env(served.url) | {"GITHUB_ACTIONS": github}, *args)
            ran.assert_clean()
            assert ran.code == 1, ran.output
            assert (
                f"{manifests.as_posix()}/perm\\xff.yaml:1:1: error[manifest.read]: the name is not UTF-8"
                in (ran.output)
            )
            assert "\udcff" not in ran.output and "\xff" not in ran.output
    assert not plan_file.exists()
    assert served.writes() == []
