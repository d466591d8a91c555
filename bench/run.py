"""The performance benchmark (README, "Performance"): `python -m bench.run`.

It serves the sandbox site with an enterprise-sized seed and a fixed latency per request in a separate
process (so its CPU is not the tool's), then measures, in this process, the tool's own library path:
  1. a plan with no changes; 2. a plan where 10% of the objects differ; 3. an apply of 500 mixed changes
at parallelism 4 and 10. For each it prints the wall time, the requests made, the minimum the APIs allow,
the round-trip lower bound of the wall time at the parallelism used, their ratio, CPU time and peak memory,
and what a per-object read strategy would have cost. The last line is the summary other tools read.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bench.site import ENTERPRISE, SMALL, Scale, enterprise_seed
from reconciler.apply import apply_plan
from reconciler.errors import Severity
from reconciler.export import render_export
from reconciler.exposure import assess
from reconciler.kinds import KINDS
from reconciler.kinds.kind import write_data_of
from reconciler.kinds.permission_scheme import SchemeWrite
from reconciler.manifest import load_manifests
from reconciler.plan import Plan, build_plan
from reconciler.render.plan import render_text
from reconciler.sandbox import SANDBOX_API_TOKEN, SANDBOX_EMAIL, Knobs, SandboxSite, serve_in_thread
from reconciler.site.config import Credentials
from reconciler.site.http import ClientSettings, SiteClient
from reconciler.site.live import holders_to_check, read_live_state

# The APIs' default page sizes (API-FACTS.md, section 4): the client asks for these.
PRODUCTS_PAGE, ROLES_PAGE, GROUPS_PAGE = 100, 100, 50
SERVER_LIFETIME_S = 1800


@dataclass(frozen=True)
class Measurement:
    name: str
    wall_s: float
    requests: int
    minimal_requests: int
    critical_path: int  # dependent round trips that cannot overlap
    parallelism: int
    latency_s: float
    cpu_s: float
    per_object_requests: int | None = None

    @property
    def lower_bound_s(self) -> float:
        return self.latency_s * max(
            self.critical_path, 1 + math.ceil((self.minimal_requests - 1) / self.parallelism)
        )

    @property
    def ratio(self) -> float:
        return self.wall_s / self.lower_bound_s if self.lower_bound_s else 0.0


def plan_requests(scale: Scale) -> tuple[int, int, dict[str, int]]:
    """The fewest requests a full read allows, the longest chain of dependent ones, and the breakdown."""
    parts = {
        "tenant_info": 1,
        "detail field lists (3 entities)": 3,
        f"product pages ({scale.products}/{PRODUCTS_PAGE}, cursor)": max(
            1, math.ceil(scale.products / PRODUCTS_PAGE)
        ),
        f"custom role pages ({scale.custom_roles}/{ROLES_PAGE})": max(
            1, math.ceil(scale.custom_roles / ROLES_PAGE)
        ),
        "custom role GETs (rights are only on the single-role GET)": scale.custom_roles,
        "team list": 1,
        "team role lists (one per team)": scale.teams,
        "permission schemes with expand=permissions": 1,
        "permission keys": 1,
        "project roles": 1,
        f"group pages ({scale.groups}/{GROUPS_PAGE})": max(1, math.ceil(scale.groups / GROUPS_PAGE)),
        # The site's grants name no applicationRole:KEY, custom field or user holders, so plan reads
        # none of /applicationrole, /field or /user/bulk (it would read each only when a grant names one).
        # No project search: a plan reads the map of every project's scheme only for an exposure change.
        "project scheme GETs (one per declared project)": scale.declared_projects,
    }
    product_chain = max(1, math.ceil(scale.products / PRODUCTS_PAGE))
    role_chain = max(1, math.ceil(scale.custom_roles / ROLES_PAGE)) + 1
    group_chain = max(1, math.ceil(scale.groups / GROUPS_PAGE))
    critical = 1 + max(product_chain, role_chain, group_chain, 2)  # tenant_info comes first
    return sum(parts.values()), critical, parts


def per_object_requests(scale: Scale) -> int:
    """Listing, then one GET per object, as Terraform providers refresh."""
    minimal, _, _ = plan_requests(scale)
    objects = 3 * scale.detail_fields_per_entity + scale.products + scale.teams * scale.roles_per_team
    objects += scale.permission_schemes
    return minimal + objects  # custom roles already take one GET each


# --- the site --------------------------------------------------------------------------------------


@contextmanager
def served_site(scale: Scale, latency_s: float, *, subprocess_server: bool) -> Iterator[str]:
    if not subprocess_server:
        site = SandboxSite(seed=enterprise_seed(scale), knobs=Knobs(latency_s=latency_s))
        with serve_in_thread(site) as url:
            yield url
        return
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "serve",
        "--scale",
        _scale_name(scale),
        "--latency",
        str(latency_s),
    ]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None and server.stdin is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the sandbox server did not start: {url!r}")
        try:
            yield url
        finally:
            server.stdin.close()  # the server stops when its stdin closes
            server.wait(timeout=30)


def _scale_name(scale: Scale) -> str:
    return "small" if scale == SMALL else "enterprise"


def serve(scale: Scale, latency_s: float) -> None:
    site = SandboxSite(seed=enterprise_seed(scale), knobs=Knobs(latency_s=latency_s))
    with serve_in_thread(site) as url:
        print(url, flush=True)
        deadline = time.monotonic() + SERVER_LIFETIME_S
        # Bounded: stop when the benchmark closes our stdin, or after the lifetime at the latest.
        while time.monotonic() < deadline and sys.stdin.readline():
            pass


def client(url: str, parallelism: int) -> SiteClient:
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    return SiteClient(url, url, credentials, settings=ClientSettings(concurrency=parallelism))


# --- manifests -------------------------------------------------------------------------------------


def export_manifests(url: str, directory: Path, declared_projects: int) -> None:
    with client(url, 4) as site:
        live = read_live_state(site, KINDS, site="sandbox")
    exported = render_export(live, exported_at=datetime(2026, 1, 1, tzinfo=UTC))
    for name, text in exported.files.items():
        (directory / name).write_text(text, encoding="utf-8")
    _keep_declared_projects(directory / "projects.yaml", declared_projects)


def _keep_declared_projects(path: Path, declared: int) -> None:
    """The export lists every project; the manifests declare only the first `declared`."""
    yaml = YAML(typ="rt")
    data = yaml.load(path.read_text(encoding="utf-8"))
    del data["projects"][declared:]
    out = StringIO()
    yaml.dump(data, out)
    path.write_text(out.getvalue(), encoding="utf-8")


@dataclass(frozen=True)
class Mix:
    """How many objects of each kind to change in the exported manifests, in ways each API writes."""

    renamed_products: int = 0
    new_products: int = 0
    pruned_products: int = 0
    custom_roles: int = 0
    team_roles: int = 0
    permission_schemes: int = 0  # one grant removed and one added each
    detail_fields: int = 0  # an option added

    @property
    def changes(self) -> int:
        return sum(self.__dict__.values())

    @classmethod
    def share(cls, scale: Scale, share: float) -> Mix:
        return cls(
            renamed_products=round(scale.products * share),
            custom_roles=round(scale.custom_roles * share),
            team_roles=round(scale.teams * scale.roles_per_team * share),
            permission_schemes=round(scale.permission_schemes * share),
            detail_fields=round(3 * scale.detail_fields_per_entity * share * 2 / 9),  # SELECTs only
        )


def mutate(directory: Path, mix: Mix) -> None:
    yaml = YAML(typ="rt")

    def edit(name: str, change: Any) -> None:
        path = directory / name
        data = yaml.load(path.read_text(encoding="utf-8"))
        change(data)
        out = StringIO()
        yaml.dump(data, out)
        path.write_text(out.getvalue(), encoding="utf-8")

    def products(data: Any) -> None:
        for product in data["products"][: mix.renamed_products]:
            product["renamedFrom"] = [product["name"]]
            product["name"] = f"{product['name']} v2"
        del data["products"][len(data["products"]) - mix.pruned_products :]
        data["products"].extend({"name": f"New product {n:04}"} for n in range(mix.new_products))
        if mix.pruned_products:
            data["settings"] = {"prune": ["products"]}

    def roles(data: Any) -> None:
        for role in data["customRoles"][: mix.custom_roles]:
            role["grantedRights"] = sorted(set(role.get("grantedRights", [])) ^ {"incident-create"})
            role["disallowedRights"] = sorted(set(role.get("disallowedRights", [])) - {"incident-create"})

    def team_roles(data: Any) -> None:
        flat = [role for block in data["teamRoles"] for role in block["roles"]]
        for role in flat[: mix.team_roles]:
            role["granted"] = sorted(set(role.get("granted", [])) ^ {"edit-heartbeats"})

    def schemes(data: Any) -> None:
        for scheme in data["permissionSchemes"][: mix.permission_schemes]:
            grants = scheme["grants"]
            first = sorted(grants)[0]
            grants[first] = grants[first][1:]
            if not grants[first]:
                del grants[first]
            grants.setdefault("VIEW_READONLY_WORKFLOW", [])
            if "reporter" not in grants["VIEW_READONLY_WORKFLOW"]:
                grants["VIEW_READONLY_WORKFLOW"].append("reporter")

    def fields(data: Any) -> None:
        selects = [f for entity in data["detailFields"].values() for f in entity if "options" in f]
        if len(selects) < mix.detail_fields:
            raise ValueError(f"only {len(selects)} fields have options; {mix.detail_fields} wanted")
        for field in selects[: mix.detail_fields]:
            field["options"].append("Extra option")

    edit("products.yaml", products)
    edit("custom-roles.yaml", roles)
    edit("team-roles.yaml", team_roles)
    edit("permission-schemes.yaml", schemes)
    edit("detail-fields.yaml", fields)


# The apply measurement: 500 mixed changes on the enterprise site, 60 on the small one.
APPLY_MIX = {
    ENTERPRISE: Mix(150, 100, 50, custom_roles=100, team_roles=50, permission_schemes=25, detail_fields=25),
    SMALL: Mix(20, 10, 5, custom_roles=10, team_roles=5, permission_schemes=5, detail_fields=5),
}


# --- measurements ----------------------------------------------------------------------------------


def measure_plan(url: str, manifests: Path, parallelism: int) -> tuple[Plan, float, float, int]:
    cpu = time.process_time()
    start = time.perf_counter()
    desired, diagnostics = load_manifests([manifests])
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise RuntimeError([d.format() for d in diagnostics][:5])
    with client(url, parallelism) as site:
        live = read_live_state(
            site,
            KINDS,
            site="sandbox",
            holders=holders_to_check(KINDS, desired),
            declared=frozenset(desired.objects),
        )
        plan = assess(build_plan(desired, live), desired, live, site)
        requests = site.request_count
    render_text(plan)
    return plan, time.perf_counter() - start, time.process_time() - cpu, requests


def apply_requests(plan: Plan) -> tuple[int, int]:
    """Requests an apply of this plan makes, and its longest chain of dependent requests."""
    total, chain = 1, 1  # a new client reads the cloud id first
    for change in plan.changes:
        if change.kind == "permissionSchemes" and change.action.value in ("update", "rename"):
            data = write_data_of(change, SchemeWrite)
            removes, adds = len(data.grant_ids), len(data.grant_bodies)
            heading = int(any(d.path[0] in ("name", "description") for d in change.diffs))
            total += heading + removes + adds
            chain = max(chain, heading + bool(removes) + bool(adds))
        else:
            total += 2 if change.action.value == "replace" else 1
    return total, chain


def run(scale: Scale, latency_s: float, *, subprocess_server: bool, apply_mix: Mix) -> list[Measurement]:
    minimal, critical, _ = plan_requests(scale)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as tmp:
        unchanged, differing, applying = (Path(tmp) / name for name in ("unchanged", "differing", "apply"))
        unchanged.mkdir()
        with served_site(scale, latency_s, subprocess_server=subprocess_server) as url:
            # Read the site once; the other sets start as copies.
            export_manifests(url, unchanged, scale.declared_projects)
            for directory in (differing, applying):
                shutil.copytree(unchanged, directory)
            mutate(differing, Mix.share(scale, 0.10))
            for manifests in (unchanged, differing):
                plan, wall, cpu, requests = measure_plan(url, manifests, 4)
                if manifests is unchanged and plan.changes:
                    raise RuntimeError(f"the no-change plan has {len(plan.changes)} changes")
                name = (
                    "plan, no changes"
                    if manifests is unchanged
                    else f"plan, {len(plan.changes)} changes (10%)"
                )
                results.append(
                    Measurement(
                        name, wall, requests, minimal, critical, 4, latency_s, cpu, per_object_requests(scale)
                    )
                )
        mutate(applying, apply_mix)
        for parallelism in (4, 10):
            with served_site(scale, latency_s, subprocess_server=subprocess_server) as url:
                plan, *_ = measure_plan(url, applying, parallelism)
                needed, chain = apply_requests(plan)
                cpu = time.process_time()
                with client(url, parallelism) as site:
                    start = time.perf_counter()
                    result = apply_plan(plan, site, parallelism=parallelism)
                    wall = time.perf_counter() - start
                    requests = site.request_count
                if not result.ok:
                    raise RuntimeError(f"apply failed: {[d.message for _, d in result.failed][:3]}")
                results.append(
                    Measurement(
                        f"apply, {len(plan.changes)} changes",
                        wall,
                        requests,
                        needed,
                        chain,
                        parallelism,
                        latency_s,
                        time.process_time() - cpu,
                    )
                )
                replan, *_ = measure_plan(url, applying, parallelism)
                if replan.changes:
                    raise RuntimeError(f"{len(replan.changes)} changes remain after the apply")
    return results


def report(results: list[Measurement], scale: Scale) -> None:
    _, _, parts = plan_requests(scale)
    print(f"site: {scale.objects} objects ({scale})")
    print("minimal requests of a full read, from the page sizes and object counts:")
    for what, count in parts.items():
        print(f"  {count:>6}  {what}")
    for m in results:
        print(f"{m.name}:")
        print(f"  wall {m.wall_s:.2f} s, {m.requests} requests (minimum {m.minimal_requests})")
        print(
            f"  lower bound {m.lower_bound_s:.2f} s = {m.latency_s * 1000:.0f} ms x max(critical path "
            f"{m.critical_path}, 1 + ceil(({m.minimal_requests} - 1) / {m.parallelism})); ratio {m.ratio:.2f}"
        )
        print(f"  cpu {m.cpu_s:.2f} s")
        if m.per_object_requests:
            print(f"  a per-object read strategy would make {m.per_object_requests} requests")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:.0f} MB")
    first, apply10 = results[0], results[-1]
    print(
        f"bench: plan_ratio={first.ratio:.2f} apply_ratio={apply10.ratio:.2f} plan_requests={first.requests} "
        f"minimal_requests={first.minimal_requests} plan_cpu_s={first.cpu_s:.2f} peak_rss_mb={peak_mb:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["run", "serve"], default="run")
    parser.add_argument("--scale", choices=["enterprise", "small"], default="enterprise")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request (default 0.05)")
    parser.add_argument("--in-process-server", action="store_true", help="serve the sandbox in this process")
    args = parser.parse_args()
    scale = SMALL if args.scale == "small" else ENTERPRISE
    if args.mode == "serve":
        serve(scale, args.latency)
        return
    os.environ.setdefault("NO_COLOR", "1")
    results = run(
        scale, args.latency, subprocess_server=not args.in_process_server, apply_mix=APPLY_MIX[scale]
    )
    report(results, scale)


if __name__ == "__main__":
    main()
