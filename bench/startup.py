"""Start-up time of the command line: `python -m bench.startup [--runs N]`.

Runs `python -c pass`, `jsm-reconciler --version` and `jsm-reconciler validate examples/manifests` N times
each, interleaved so that a busy machine weighs on all three alike, and prints each one's median wall time
and its ratio to `python -c pass`; then the total of `python -X importtime -c 'import reconciler.cli'`
(the import's own cumulative microseconds, the median of N). Run it on two commits to compare them.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [str(Path(sys.executable).with_name("jsm-reconciler"))]  # the console script, as users run it
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "jsm-reconciler --version": [*CLI, "--version"],
    "jsm-reconciler validate examples/manifests": [*CLI, "validate", "examples/manifests"],
}
# The last line of -X importtime for a module: "import time: self | cumulative | name".
_IMPORT_LINE = re.compile(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+reconciler\.cli$")


def wall_time(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def import_time_us() -> int:
    command = [sys.executable, "-X", "importtime", "-c", "import reconciler.cli"]
    lines = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stderr
    return max(int(found.group(1)) for line in lines.splitlines() if (found := _IMPORT_LINE.search(line)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    imports: list[int] = []
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command))
        imports.append(import_time_us())
    base = statistics.median(times["python -c pass"])
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:<45} median {median * 1000:7.1f} ms  ratio {median / base:5.2f}")
    print(f"{'import reconciler.cli (-X importtime)':<45} median {statistics.median(imports) / 1000:7.1f} ms")


if __name__ == "__main__":
    main()
