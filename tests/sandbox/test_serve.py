"""`sandbox serve` as users run it, with its output going to a log file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_logs_plain_lines_of_our_own(tmp_path: Path) -> None:
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
        finally:
            process.terminate()
            _, rest = process.communicate(timeout=10)
    output = first + rest.decode() + log.read_text()
    assert first.startswith("Serving the sandbox site on http://127.0.0.1:")
    assert '"GET /rest/api/3/myself HTTP/1.1" 401' in output
    assert "\x1b[" not in output
    assert "development server" not in output
