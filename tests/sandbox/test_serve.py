"""`sandbox serve` as users run it, with its output going to a log file."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_VARIABLES = (
    *("JSM_EMAIL", "JSM_API_TOKEN", "JSM_OAUTH_TOKEN", "JSM_SCOPED_TOKEN"),
    *("JSM_OAUTH_CLIENT_ID", "JSM_OAUTH_CLIENT_SECRET", "JSM_AUTH_BASE"),
)


def test_serve_logs_plain_lines_of_our_own_and_ctrl_c_ends_it_without_error(tmp_path: Path) -> None:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("JSM_", "FORCE_COLOR", "NO_COLOR"))
    }
    environment |= {"JSM_SANDBOX_STATE": str(tmp_path / "state.json"), "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "reconciler", "sandbox", "serve", "--port", "0"],
            env=environment,
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        try:
            assert process.stderr is not None
            first = process.stderr.readline().decode()  # blocks until the server has bound its port
            url = re.search(r"on (http://127\.0\.0\.1:\d+) ", first)
            assert url, first
            try:
                urllib.request.urlopen(f"{url.group(1)}/rest/api/3/myself", timeout=10)
            except urllib.error.HTTPError as exc:
                assert exc.code == 401  # no credentials: its status shows in the access log
            taken = CliRunner().invoke(cli, ["sandbox", "serve", "--port", url.group(1).rsplit(":", 1)[1]])
            assert taken.exit_code == 1 and "Traceback" not in taken.output, taken.output
            assert "cannot listen on port" in taken.output and "--port" in taken.output
        finally:
            process.send_signal(signal.SIGINT)
            _, rest = process.communicate(timeout=10)
    assert process.returncode == 0
    output = first + rest.decode() + log.read_text()
    assert "Stopped serving the sandbox site." in output and "Interrupted" not in output
    assert first.startswith("Serving the sandbox site on http://127.0.0.1:")
    assert '"GET /rest/api/3/myself HTTP/1.1" 401' in output
    assert "\x1b[" not in output
    assert "development server" not in output


def test_serve_prints_every_credential_the_sandbox_accepts_and_each_works(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JSM_")}
    environment |= {"JSM_SANDBOX_STATE": str(tmp_path / "state.json"), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "reconciler", "--no-color", "sandbox", "serve", "--port", "0"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        bufsize=0,  # unbuffered, so that select sees every line not read yet
    )
    try:
        assert process.stderr is not None
        exports = []
        for _ in range(10):
            if not select.select([process.stderr], [], [], 10)[0]:
                break  # the banner is printed at once: nothing more is coming
            line = process.stderr.readline().decode()
            if line.startswith("  export "):
                exports.append(dict(word.split("=", 1) for word in line.split("#")[0].split()[1:]))
            if "JSM_OAUTH_CLIENT_ID" in line:
                break
        site, *forms = exports
        manifest = tmp_path / "site.yaml"
        manifest.write_text("version: 1\nproducts:\n  - name: Widget\n")
        assert [sorted(form) for form in forms] == [
            ["JSM_API_TOKEN", "JSM_EMAIL"],
            ["JSM_API_TOKEN", "JSM_EMAIL", "JSM_SCOPED_TOKEN"],
            ["JSM_OAUTH_TOKEN"],
            ["JSM_AUTH_BASE", "JSM_OAUTH_CLIENT_ID", "JSM_OAUTH_CLIENT_SECRET"],
        ]
        for form in forms:
            env = dict.fromkeys(CREDENTIAL_VARIABLES, "")
            result = CliRunner().invoke(cli, ["plan", str(manifest)], env=env | site | form)
            assert result.exit_code == 0, (form, result.output)
            assert "Plan: 1 to create" in result.output
    finally:
        process.terminate()
        process.communicate(timeout=10)
