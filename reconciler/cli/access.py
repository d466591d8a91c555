"""What `access` does: every (project, permission, holder) and the scheme that grants it, from the live site
or as the plan of the manifests leaves it, filtered, with --users down to the accounts. Its options are in
commands.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.access import (
    AccessState,
    live_access,
    planned_access,
    report_rows,
    rows,
    select,
    to_expand,
)
from reconciler.cli.plan_apply import load_desired
from reconciler.cli.site import open_site, read_site
from reconciler.cli.ui import EXIT_OK, current_ui
from reconciler.errors import ConfigError, Severity
from reconciler.exposure import assess
from reconciler.interruption import thread_pool
from reconciler.kind_names import PERMISSION_SCHEMES, PROJECTS
from reconciler.kinds.project import SiteProjects, read_projects, unadministered_warning
from reconciler.live import LiveState
from reconciler.members import read_memberships
from reconciler.plan.build import build_plan
from reconciler.registry import KINDS, kinds_to_read
from reconciler.render.access import report_csv, report_json, report_markdown, report_text
from reconciler.site.http import SiteClient
from reconciler.state import DesiredState


def run_access(
    *,
    paths: tuple[Path, ...],
    output_format: str,
    project_keys: tuple[str, ...],
    permission_keys: tuple[str, ...],
    planned: bool,
    users: bool,
    parallelism: int,
    site: str | None,
) -> int:
    ui = current_ui()
    desired = load_desired(paths)[0] if planned else None
    if desired is None and paths:
        ui.info("The manifests are read only with --planned: this is the access the site has now.")
    with open_site(site, parallelism) as (client, name):
        # A plan is assessed against every project; the live report reads only the projects it shows.
        only = project_keys if project_keys and desired is None else None
        state, projects = _access_state(client, name, desired, only)
        try:
            found = select(rows(state), project_keys, permission_keys, known=projects.names)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        memberships = None
        if users:
            before = client.request_count
            groups, roles, accounts = to_expand(found)
            memberships = read_memberships(client, groups, roles, accounts)
            ui.info(
                f"--users: {client.request_count - before} more request(s), for the members of "
                f"{len(memberships.groups)} group(s), the actors of {len(roles)} project role(s) in "
                f"their projects and the names of {len(accounts)} user(s) that grants name"
            )
    if projects.unadministered and not only:
        ui.fail(f"Warning: {unadministered_warning(projects.unadministered, 'this report')}")
    report = report_rows(found, projects.names, memberships)
    if output_format == "csv":
        ui.out(report_csv(report, users=users))
    elif output_format == "json":
        ui.out(report_json(report, users=users, site=name, planned=planned))
    elif output_format == "markdown":
        title = f"Access on {name}{' as the plan leaves it' if planned else ''}"
        ui.out(report_markdown(report, users=users, title=title))
    else:
        ui.out(report_text(report, users=users))
    ui.info(f"{len(found)} grant(s) in {len({row.project for row in found})} project(s) of {name}.")
    return EXIT_OK


def _access_state(
    client: SiteClient, name: str, desired: DesiredState | None, only: Sequence[str] | None
) -> tuple[AccessState, SiteProjects]:
    """The access the site has (`desired` None), or that the plan of `desired` leaves, and the projects."""
    schemes, projects = PERMISSION_SCHEMES.kind, PROJECTS.kind
    managed = kinds_to_read(desired) & {schemes, projects} if desired is not None else set()
    if desired is not None and managed:  # as the plan reads them: schemes, and the projects it declares
        live = read_site(client, name, [schemes, projects], desired)
        declared = {obj.identity.name: obj.essence["permissionScheme"] for obj in live.of(projects)}
        found = read_projects(client, declared)
        return _planned_access(desired, live, found.schemes), found
    if desired is not None:
        current_ui().info(
            "The manifests manage no permission schemes or projects: the plan changes no access."
        )
    with thread_pool(1) as pool:  # the schemes and the map do not wait for each other
        map_read = pool.submit(read_projects, client, {}, only=only)
        live = read_site(client, name, [schemes])
        found = map_read.result()
    return live_access(live, found.schemes), found


def _planned_access(desired: DesiredState, live: LiveState, project_map: Mapping[str, str]) -> AccessState:
    """The access the plan of `desired` leaves. Thresholds are not judged: they gate applying, not what a
    plan does; any other error of the plan is this command's."""
    the_plan = assess(build_plan(desired, live, KINDS), desired, live, project_map)
    errors = [d for d in the_plan.diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(
            f"the plan of the manifests has {len(errors)} error(s), so it would change nothing; "
            "`plan` shows it",
            errors,
        )
    return planned_access(the_plan, live, project_map)
