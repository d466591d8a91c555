"""Manifest loading time on the benchmark's enterprise manifests: `python -m bench.loading [--rounds N]`.

Builds the two manifest sets the plan measurements read (the export of the enterprise site, and a copy
where 10% of the objects differ), then loads both with `load_manifests` N times and prints the best and
the median CPU and wall times. Run it on two commits to compare them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.run import Mix, export_manifests, mutate, served_site
from bench.site import ENTERPRISE
from reconciler.manifest.load import load_manifests
from reconciler.registry import KINDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        unchanged, differing = Path(tmp) / "unchanged", Path(tmp) / "differing"
        unchanged.mkdir()
        with served_site(ENTERPRISE, 0.0, subprocess_server=False) as url:
            export_manifests(url, unchanged, ENTERPRISE.declared_projects)
        shutil.copytree(unchanged, differing)
        mutate(differing, Mix.share(ENTERPRISE, 0.10))
        cpu, wall = [], []
        for _ in range(rounds):
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            for manifests in (unchanged, differing):
                state, diagnostics = load_manifests([manifests], KINDS, environ={})
                if diagnostics or not state.objects:
                    raise RuntimeError(f"the manifests do not load cleanly: {diagnostics[:3]}")
            cpu.append(time.process_time() - cpu_start)
            wall.append(time.perf_counter() - wall_start)
    for name, times in (("CPU", cpu), ("wall", wall)):
        best, median = min(times) * 1000, statistics.median(times) * 1000
        print(
            f"load_manifests, both sets ({rounds} rounds), {name}: best {best:.0f} ms, median {median:.0f} ms"
        )


if __name__ == "__main__":
    main()
