"""What `plan` and `apply` do: load the manifests, read the site, build the plan and have it judged, then
show it, and for apply confirm and carry it out with the journal. Their options are in commands.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from reconciler.access import access_diff
from reconciler.address import Address, Target
from reconciler.apply import ApplyEvent, ApplyResult, Outcome, apply_plan
from reconciler.cli.site import open_site, read_site
from reconciler.cli.ui import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, current_ui
from reconciler.errors import ConfigError, Diagnostic, Severity, error_count
from reconciler.exposure import assess, deletes_schemes, needs_project_map
from reconciler.files import check_output, write_output
from reconciler.journal import Journal
from reconciler.kind_names import PROJECTS
from reconciler.kinds.permission_scheme import UNLISTED_PERMISSION
from reconciler.kinds.project import administered_schemes, project_schemes, schemes_read
from reconciler.live import LiveState
from reconciler.manifest.load import load_manifests
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.plan.targets import select_targets
from reconciler.policies import judge, judges_grants
from reconciler.registry import KINDS, get_kind
from reconciler.render.diagnostics import render_diagnostics
from reconciler.render.markdown import visible
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.safety import check_applicable, check_fresh, check_schemes_unused, judge_thresholds
from reconciler.site.api import SiteApi
from reconciler.state import DesiredState


def run_plan(
    *,
    paths: tuple[Path, ...],
    out_file: Path | None,
    output_format: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    force: bool,
    parallelism: int,
    site: str | None,
) -> int:
    """`plan` (its options: commands.py)."""
    ui = current_ui()
    wanted = _parse_targets(targets)
    if out_file is not None:  # refused before reading: a large site takes a while to read
        check_output(out_file, "--out", directory=False)
    desired, warnings = load_desired(paths)
    with open_site(site, parallelism) as (client, name):
        live = read_site(client, name, _target_kinds(wanted), desired)
        result = _plan(client, desired, live, wanted, force, warnings)
    if output_format == "json":
        ui.out(render_json(result))
    elif output_format == "markdown":
        ui.out(render_markdown(result))
    else:
        ui.out(render_text(result, color=ui.stdout_color()))
    if out_file is not None:
        write_output(out_file, render_json(result), "--out")
        ui.info(f"Saved the plan to {out_file}; apply it with: jsm-reconciler apply --plan {out_file}")
    if result.has_errors:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.changes else EXIT_OK


def run_apply(
    *,
    paths: tuple[Path, ...],
    plan_file: Path | None,
    auto_approve: bool,
    allow_delete: bool,
    expect_digest: str | None,
    journal_file: Path,
    targets: tuple[str, ...],
    force: bool,
    parallelism: int,
    site: str | None,
) -> int:
    """`apply` (its options: commands.py)."""
    ui = current_ui()
    if plan_file is not None and (paths or targets):
        raise ConfigError(
            "apply --plan FILE applies exactly the saved plan: give no manifests and no --target"
        )
    saved = _load_plan_file(plan_file) if plan_file is not None else None
    wanted = _parse_targets(targets)
    # The manifests are read before the site is opened: with none, or with mistakes, nothing is written.
    desired, warnings = load_desired(paths) if saved is None else (DesiredState.empty(), [])
    with open_site(site, parallelism) as (client, name):
        if saved is not None:
            touched = frozenset(change.address for change in saved.changes)
            live = read_site(client, name, saved.kinds, declared=touched)
            check_fresh(saved, live, KINDS)
            if deletes_schemes(saved) and allow_delete and not saved.has_errors:
                # Which projects use a scheme is no object the plan touches: read every project's scheme
                # again (the moved ones were just read). A plain apply checks it while planning, just now.
                # A plan that will be refused anyway (errors, or a delete without --allow-delete) is shown
                # and refused below, without those reads.
                known = schemes_read(live.of(PROJECTS.kind))
                check_schemes_unused(saved, administered_schemes(client, known)[0])
            the_plan = saved
        else:
            live = read_site(client, name, _target_kinds(wanted), desired)
            the_plan = _plan(client, desired, live, wanted, force, warnings)
        ui.out(render_text(the_plan, color=ui.stdout_color()))
        if expect_digest is not None:
            _check_digest(the_plan, expect_digest)
        check_applicable(the_plan, allow_delete=allow_delete)
        if not the_plan.changes:
            return EXIT_OK
        _confirm(auto_approve, len(the_plan.changes), name)
        journal = Journal(journal_file, name)
        if journal.cut_line is not None:
            ui.fail(render_diagnostics([journal.cut_line]))
            ui.annotate([journal.cut_line], err=True)
        try:
            result = _apply_with_progress(the_plan, client, parallelism, journal)
        finally:
            journal.close()
    _report(result)
    return EXIT_OK if result.ok else EXIT_ERROR


def load_desired(paths: Sequence[Path]) -> tuple[DesiredState, list[Diagnostic]]:
    """The desired state and its warnings; errors stop the command before any request."""
    desired, diagnostics = load_manifests(paths, KINDS)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise ConfigError(
            f"{error_count(diagnostics)} in the manifests; nothing was read from the site", diagnostics
        )
    return desired, diagnostics


def _check_digest(the_plan: Plan, expected: str) -> None:
    digest = the_plan.changes_digest
    if not digest.startswith(expected):
        raise ConfigError(
            f"the plan has changed since it was reviewed: its changesDigest {digest} does not start "
            f"with {expected} (--expect-digest); nothing was applied"
        )


def _parse_targets(targets: Sequence[str]) -> list[Target]:
    parsed = []
    for target in targets:
        try:
            parsed.append(Target.parse(target))
        except ValueError as exc:
            raise ConfigError(f"--target: {exc}") from None
    return parsed


def _target_kinds(targets: Sequence[Target]) -> list[str] | None:
    """The kinds to read for targets: theirs, the kinds that refer to them (a delete waits for the changes
    that stop naming the object, such as a scheme's for the projects moved off it, and takes them along),
    and the kinds all those refer to."""
    if not targets:
        return None
    targeted = {t.kind for t in targets}
    kinds = targeted | {kind.name for kind in KINDS if kind.refers_to & targeted}
    return sorted(kinds.union(*(get_kind(kind).refers_to for kind in kinds)))


def _plan(
    client: SiteApi,
    desired: DesiredState,
    live: LiveState,
    targets: Sequence[Target],
    force: bool,
    warnings: Sequence[Diagnostic],
) -> Plan:
    built = build_plan(desired, live, KINDS)
    # The safety gate and the exposure check read the finished plan; thresholds weigh it before --target.
    judged = judge_thresholds(built, live, desired, force)
    targeted = select_targets(judged, targets, desired, live)
    # Every project's scheme costs a search and a GET per project: read once, if exposure, policies or the
    # access diff need it.
    every_project = needs_project_map(targeted) or judges_grants(desired)
    project_map, unread = project_schemes(client, live.of(PROJECTS.kind), every=every_project)
    assessed = judge(assess(targeted, desired, live, project_map), desired, live, project_map)
    assessed = replace(assessed, access=access_diff(assessed, live, project_map))
    # Offline checks against lists the site knows better: the plan checks again against what it read
    # (the rights live roles hold, the site's own permission keys), so the offline warnings go.
    # A rule's permission has no address: the site's own keys, read for the rules, decide it.
    rules_decided = {f"manifest.{UNLISTED_PERMISSION}"} if live.lookups.permission_keys else set()
    warnings = [
        w
        for w in warnings
        if not (w.address and w.code in _site_decides(Address.parse(w.address).kind, live))
        and not (w.address is None and w.code in rules_decided)
    ]
    return replace(assessed, diagnostics=(*warnings, *assessed.diagnostics, *unread))


def _site_decides(kind: str, live: LiveState) -> frozenset[str]:
    """The offline warnings a plan replaces with what the site says, for a kind it read."""
    return get_kind(kind).site_decides if kind in live.objects else frozenset()


def _confirm(auto_approve: bool, count: int, site: str) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ConfigError("apply is not interactive here: review the plan and pass --auto-approve")
    question = f"Apply these {count} change(s) to {site}? Only 'yes' is accepted"
    if click.prompt(question, default="", show_default=False).strip() != "yes":
        raise ConfigError("apply cancelled; nothing was changed")


def _apply_with_progress(the_plan: Plan, client: SiteApi, parallelism: int, journal: Journal) -> ApplyResult:
    ui = current_ui()
    lines: list[str] = []

    def record(event: ApplyEvent) -> None:
        journal.record(event)
        if event.outcome is not Outcome.STARTED:
            change = event.change
            lines.append(visible(f"{event.outcome.value:>8}  {change.action.symbol} {change.address}"))

    if not ui.shows_progress():
        result = apply_plan(the_plan, client, parallelism=parallelism, listener=record)
    else:
        from reconciler.cli.progress import progress_bar  # noqa: PLC0415 - drawn on a terminal only

        with progress_bar(ui, "Applying", "apply", len(the_plan.changes)) as advance:

            def show(event: ApplyEvent) -> None:
                record(event)
                if event.outcome is not Outcome.STARTED:
                    advance()

            result = apply_plan(the_plan, client, parallelism=parallelism, listener=show)
    for line in lines:
        ui.out(line)
    return result


def _report(result: ApplyResult) -> None:
    ui = current_ui()
    for _change, problem in result.failed:
        ui.fail(problem.format())
    for change in result.skipped:
        ui.fail(f"skipped {change.address}: it depends on a change that failed")
    for _change, warning in result.warnings:
        ui.fail(warning.format())
    summary = f"{len(result.applied)} applied, {len(result.failed)} failed, {len(result.skipped)} skipped."
    if result.ok:
        ui.out(f"Apply complete: {summary}")
    else:
        ui.fail(f"Apply incomplete: {summary} Run plan to see what remains; apply again to finish.")


def _load_plan_file(path: Path) -> Plan:
    not_a_plan = f"{path}: not a plan saved by `plan --out`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: not a plan saved by `plan --out`: not JSON ({exc.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the plan: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{not_a_plan}: a plan is one JSON object")
    try:
        return Plan.from_json(data, KINDS)
    except KeyError as exc:
        raise ConfigError(f"{not_a_plan}: the key {exc.args[0]!r} is missing") from None
    except ValueError as exc:
        raise ConfigError(f"{not_a_plan}: {exc}") from None
    except (TypeError, AttributeError):
        raise ConfigError(f"{not_a_plan}: a value has the wrong type; save the plan again") from None
