"""What `access` does: every (project, permission, holder) and the scheme that grants it, from the live site
or as the plan of the manifests leaves it, filtered, with --users down to the accounts, and with --check the
rules of settings.policies that it breaks. Its options are in commands.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
from reconciler.cli.ui import EXIT_ERROR, EXIT_OK, current_ui
from reconciler.errors import ConfigError, Diagnostic, Severity
from reconciler.exposure import assess
from reconciler.interruption import thread_pool
from reconciler.kind_names import PERMISSION_SCHEMES, PROJECTS
from reconciler.kinds.project import SiteProjects, read_projects, schemes_read, unadministered_warning
from reconciler.live import LiveState
from reconciler.members import read_memberships
from reconciler.plan.build import build_plan
from reconciler.plan.model import Violation
from reconciler.policies import (
    POLICY_CODES,
    RULE_PROBLEM_CODES,
    judge,
    live_violations,
    rule_problems,
)
from reconciler.policy_rules import kinds_judged
from reconciler.registry import KINDS, kinds_to_read
from reconciler.render.access import report_csv, report_json, report_markdown, report_text
from reconciler.render.markdown import visible
from reconciler.render.policy import POLICY_HEAD
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
    check: bool,
    parallelism: int,
    site: str | None,
) -> int:
    ui = current_ui()
    desired = load_desired(paths)[0] if planned or check else None
    if desired is None and paths:
        ui.info("The manifests are read only with --planned or --check: this is the access the site has now.")
    if check and desired is not None and not desired.settings.policies:
        raise ConfigError("--check: the manifests have no settings.policies to check the site against")
    with open_site(site, parallelism) as (client, name):
        # A plan and the policies concern every project; the live report reads only the projects it shows.
        only = project_keys if project_keys and desired is None else None
        problems: list[Diagnostic] = []
        if desired is None:
            state, projects = _live_access(client, name, only)
            broken = None
        elif planned:
            state, projects, broken, problems = _planned_access(client, name, desired)
        else:
            state, projects, broken, problems = _checked_access(client, name, desired)
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
    for problem in problems:
        ui.fail(visible(problem.format()))
    report = report_rows(found, projects.names, memberships)
    if output_format == "csv":
        for piece in report_csv(report, users=users):
            ui.out(piece)
    elif output_format == "json":
        ui.out(report_json(list(report), users=users, site=name, planned=planned))
    elif output_format == "markdown":
        title = f"Access on {name}{' as the plan leaves it' if planned else ''}"
        ui.out(report_markdown(list(report), users=users, title=title))
    else:
        ui.out(report_text(list(report), users=users))
    ui.info(f"{len(found)} grant(s) in {len({row.project for row in found})} project(s) of {name}.")
    if broken is None:
        return EXIT_OK
    return _judged(broken, problems, planned=planned, check=check)


def _judged(
    broken: Sequence[Violation], problems: Sequence[Diagnostic], *, planned: bool, check: bool
) -> int:
    """The broken rules, on stderr. With --check, exit 1 when one of them is at error level, or when a rule
    names what the site does not have (`problems` at error level, shown before); without it (--planned
    alone), they are warnings."""
    ui = current_ui()
    unjudged = sum(problem.severity is Severity.ERROR for problem in problems)
    warned_rules = len(problems) > unjudged
    if broken:
        ui.fail(POLICY_HEAD if planned else POLICY_HEAD.replace("once this plan is applied", "now"))
        for item in broken:
            ui.fail(f"  {visible(item.line())}")
    errors = sum(item.level == "error" for item in broken)
    if not check:
        if errors:
            ui.fail(
                f"Warning: {errors} error-level rule violation(s): `plan` fails on them, `access --check` "
                "exits 1"
            )
        return EXIT_OK
    if errors:
        ui.fail(f"--check: {errors} error-level rule violation(s).")
    if unjudged:
        ui.fail(
            f"--check: error-level rules name {unjudged} holder(s) or permission(s) the site lacks (above)."
        )
    if not errors and not unjudged and not broken:
        warned = " (the rules' warnings are above)" if warned_rules else ""
        ui.info(f"--check: the site breaks no policy of the manifests{warned}.")
    return EXIT_ERROR if errors or unjudged else EXIT_OK


def _live_access(
    client: SiteClient, name: str, only: Sequence[str] | None
) -> tuple[AccessState, SiteProjects]:
    """The access the site has: its schemes, and meanwhile the map (they do not wait for each other)."""
    with thread_pool(1) as pool:
        map_read = pool.submit(read_projects, client, {}, only=only)
        live = read_site(client, name, [PERMISSION_SCHEMES.kind])
        projects = map_read.result()
    return live_access(live, projects.schemes), projects


def _read_judged(client: SiteClient, name: str, desired: DesiredState, kinds: Sequence[str]) -> LiveState:
    """`kinds` as a plan reads them, and the kinds the policies judge; the schemes always, for the report."""
    live = read_site(client, name, [*kinds, *kinds_judged(desired.settings.policies)], desired)
    if PERMISSION_SCHEMES.kind in live.objects:
        return live
    # No manifest names the schemes and no rule judges grants, so the plan read none.
    schemes = read_site(client, name, [PERMISSION_SCHEMES.kind])
    return replace(live, objects={**live.objects, **schemes.objects})


def _checked_access(
    client: SiteClient, name: str, desired: DesiredState
) -> tuple[AccessState, SiteProjects, list[Violation], list[Diagnostic]]:
    """The access the site has, the rules of `desired` it breaks (--check), and what keeps a rule from
    judging."""
    live = _read_judged(client, name, desired, [PERMISSION_SCHEMES.kind])
    projects = read_projects(client, schemes_read(live.of(PROJECTS.kind)))
    now = live_access(live, projects.schemes)
    return (
        now,
        projects,
        live_violations(desired, live, projects.schemes),
        rule_problems(desired, live.lookups, now),
    )


def _planned_access(
    client: SiteClient, name: str, desired: DesiredState
) -> tuple[AccessState, SiteProjects, list[Violation], list[Diagnostic]]:
    """The access the plan of `desired` leaves, and the rules that end state breaks. Thresholds are not
    judged: they gate applying, not what a plan does. A broken rule is no reason to refuse either: it is
    shown after the report, as --check shows it. Any other error of the plan is this command's."""
    if not kinds_to_read(desired) & {PERMISSION_SCHEMES.kind, PROJECTS.kind}:
        no_access = "The manifests manage no permission schemes or projects: the plan changes no access."
        current_ui().info(no_access)
    live = _read_judged(client, name, desired, [PERMISSION_SCHEMES.kind, PROJECTS.kind])
    projects = read_projects(client, schemes_read(live.of(PROJECTS.kind)))
    built = assess(build_plan(desired, live, KINDS), desired, live, projects.schemes)
    the_plan = judge(built, desired, live, projects.schemes)
    errors = [d for d in the_plan.diagnostics if d.severity is Severity.ERROR and d.code not in POLICY_CODES]
    if errors:
        raise ConfigError(
            f"the plan of the manifests has {len(errors)} error(s), so it would change nothing; "
            "`plan` shows it",
            errors,
        )
    problems = [d for d in the_plan.diagnostics if d.code in RULE_PROBLEM_CODES]
    return planned_access(the_plan, live, projects.schemes), projects, list(the_plan.policy), problems
