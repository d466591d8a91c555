"""The attacks of a hostile pull request on the files the tool reads and writes (issue 20), each rerun as
stated: a manifest that reads a credential, symbolic links out of the checkout, a journal that is a symbolic
link, and manifest sets too large to read. Each is refused, or harmless."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.reliability.conftest import Ran, Served, site_env, write_world
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
