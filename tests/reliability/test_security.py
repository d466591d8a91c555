"""Credentials never leak, and hostile input is refused early.

A canary token is the credential of every command and every error path; every stdout, stderr, plan file,
export file, schema file, state file and journal is then searched for it, raw and in its encoded forms."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import pytest
import requests

from reconciler.cli import cli
from reconciler.registry import KINDS
from tests.reliability.conftest import ROOT, Ledger, Ran, Served, basic, site_env, write_world
from tests.reliability.world import make_world

EXPORT_FILES = [kind.export_file for kind in KINDS]

CANARY = "canary-TOKEN-5d1f0e7a9b3c"
CANARY_EMAIL = "canary.admin@example.com"
OAUTH_CANARY = "canary-OAUTH-8e2a6c4b0d9f"


def canary_forms() -> list[str]:
    pair = f"{CANARY_EMAIL}:{CANARY}".encode()
    return [
        CANARY,
        OAUTH_CANARY,
        base64.b64encode(pair).decode(),
        base64.b64encode(CANARY.encode()).decode(),
        quote(CANARY, safe=""),
        CANARY[4:-4],  # any long part of it
    ]


def leaks(texts: dict[str, str]) -> list[str]:
    return [f"{where}: {form!r}" for where, text in texts.items() for form in canary_forms() if form in text]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def test_a_canary_token_appears_in_no_output_file_or_journal(
    serve: Callable[[dict[str, Any]], Served], run_cli: Callable[..., Ran], tmp_path: Path, ledger: Ledger
) -> None:
    world = make_world(6)
    served = serve(world.seed)
    served.front.accept = (CANARY_EMAIL, CANARY)
    manifests = write_world(world, tmp_path / "m")
    env = site_env(served.front_url, token=CANARY, email=CANARY_EMAIL)
    journal = tmp_path / "journal.jsonl"
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}

    def run(label: str, expect: int, *args: str, environment: dict[str, str] | None = None) -> Ran:
        ran = run_cli(environment or env, *args)
        outputs[f"{label} stdout"], outputs[f"{label} stderr"] = ran.stdout, ran.stderr
        codes[label] = ran.code
        ran.assert_clean()
        assert ran.code == expect, (label, ran.output)
        return ran

    # Every command, on the happy path, verbose where it talks to the site.
    run("validate", 0, "validate", str(manifests))
    run("plan", 0, "-v", "plan", str(manifests))
    run("plan json", 0, "plan", "--format", "json", str(manifests))
    run("plan markdown", 0, "plan", "--format", "markdown", str(manifests))
    run("plan --out", 0, "-v", "plan", "--out", str(tmp_path / "plan.json"), str(manifests))
    run(
        "apply --plan",
        0,
        "-v",
        "apply",
        "--plan",
        str(tmp_path / "plan.json"),
        "--auto-approve",
        "--allow-delete",
        "--journal",
        str(journal),
    )
    (manifests / "more.yaml").write_text(
        '{"version": 1, "products": [{"name": "One more"}]}\n', encoding="utf-8"
    )
    run("apply", 0, "-v", "apply", "--auto-approve", "--journal", str(journal), str(manifests))
    run("export", 0, "-v", "export", "--out", str(tmp_path / "export"))
    run("schema", 0, "schema", "--out", str(tmp_path / "schemas"))
    sandbox_env = {
        **env,
        "JSM_SITE": "",
        "JSM_API_BASE": "",
        "JSM_SANDBOX_STATE": str(tmp_path / "state.json"),
    }
    run(
        "sandbox reset",
        0,
        "sandbox",
        "reset",
        "--seed",
        str(ROOT / "examples" / "sandbox-seed.yaml"),
        environment=sandbox_env,
    )

    # Every error path.
    (manifests / "more.yaml").write_text(
        '{"version": 1, "products": [{"name": "Refused"}]}\n', encoding="utf-8"
    )
    served.front.accept = None  # the sandbox sees the canary itself: 401
    run("401 plan", 1, "-v", "plan", str(manifests))
    run("401 apply", 1, "-v", "apply", "--auto-approve", "--journal", str(journal), str(manifests))
    served.front.accept = (CANARY_EMAIL, CANARY)
    served.reset_knobs(fail_on={("POST", "/product"): 403})
    run("403 apply", 1, "-v", "apply", "--auto-approve", "--journal", str(journal), str(manifests))
    served.reset_knobs()
    served.front.echo = True  # 500 whose body echoes the request, Authorization included
    # With the cloud id given, the first request is one that carries the credentials (tenant_info does not).
    env = {**env, "JSM_CLOUD_ID": served.site.cloud_id}
    echoed = run("500 echo plan", 1, "-v", "plan", str(manifests))
    assert "Authorization" in echoed.stderr and "[redacted]" in echoed.stderr, echoed.stderr
    run("500 echo apply", 1, "-v", "apply", "--auto-approve", "--journal", str(journal), str(manifests))
    bearer = {**env, "JSM_OAUTH_TOKEN": OAUTH_CANARY}
    run("500 echo bearer", 1, "-v", "plan", str(manifests), environment=bearer)
    served.front.echo = False
    nowhere = {**env, **dict.fromkeys(("JSM_SITE", "JSM_API_BASE"), f"http://127.0.0.1:{free_port()}")}
    run("network error", 1, "-v", "plan", str(manifests), environment=nowhere)
    run(
        "saved plan for another site",
        1,
        "apply",
        "--plan",
        str(tmp_path / "plan.json"),
        "--auto-approve",
        environment=nowhere,
    )
    run("bad manifest", 1, "-v", "plan", str(tmp_path / "missing-dir"), environment=env)

    # `sandbox serve` is a process of its own: start it, ask it something with the canary, stop it.
    outputs["sandbox serve"] = serve_briefly(tmp_path, env)

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert (
        journal in files
        and tmp_path / "plan.json" in files
        and len(list((tmp_path / "export").iterdir())) == len(EXPORT_FILES)
    )
    texts = {**outputs, **{str(p): p.read_text(encoding="utf-8", errors="replace") for p in files}}
    texts = {k: v for k, v in texts.items() if "/m/" not in k}  # the manifests are ours
    assert leaks(texts) == []
    ledger.record(
        "canary",
        order="5",
        fault="canary token through every command and error path "
        "(401, 403, 500 echoing the request, network error, -v)",
        faults_injected=sum(
            1 for label in codes if any(w in label for w in ("401", "403", "500", "network"))
        ),
        commands=len(codes) + 1,
        outputs_and_files_searched=len(texts),
        canary_found=0,
    )


def serve_briefly(tmp_path: Path, env: dict[str, str]) -> str:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JSM_")} | env
    environment |= {
        "JSM_SITE": "",
        "JSM_SANDBOX_STATE": str(tmp_path / "served.json"),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "reconciler", "-v", "sandbox", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline and process.poll() is None, "sandbox serve did not start"
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/rest/api/3/myself",
                    headers={"Authorization": basic(CANARY_EMAIL, CANARY)},
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer.status_code == 401
        assert CANARY not in answer.text
    finally:
        process.terminate()
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=10)
    return out.decode(errors="replace") + err.decode(errors="replace")


def test_no_command_takes_a_credential_as_an_option() -> None:
    """Secrets come only from the environment, so they never sit in a process list or a shell history."""

    def options(command: click.Command, prefix: str = "") -> list[str]:
        found = [f"{prefix}{command.name}: {p.name}" for p in command.params]
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                found += options(sub, f"{prefix}{command.name} ")
        return found

    every = options(cli)
    assert len(every) > 20
    assert [
        o for o in every if any(w in o.lower() for w in ("token", "secret", "password", "email", "auth"))
    ] == []


# --- plain http, export paths, YAML bombs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://10.0.0.8",
        "http://169.254.169.254",
        "http://127.0.0.1.nip.io",
        "http://localhost.example.com",
        "http://[::ffff:10.0.0.1]",
        "http://0x7f000001",
    ],
)
@pytest.mark.parametrize("variable", ["JSM_SITE", "JSM_API_BASE"])
def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(
    url: str, variable: str, run_cli: Callable[..., Ran], tmp_path: Path
) -> None:
    manifests = write_world(make_world(0), tmp_path / "m")
    env = site_env("https://example.atlassian.net") | {variable: url}
    ran = run_cli(env, "plan", str(manifests))
    ran.assert_clean()
    assert ran.code == 1 and "plain http:// is refused" in ran.stderr, ran.output
