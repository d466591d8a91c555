"""The command line (CLI.md). Thin: parse options, call the library, map the outcome to an exit code.

Every error reaches the user as a message with an address or a file:line:col, never as a traceback
(`--debug` shows one for developers). Output passes through a filter that blanks the credentials.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler import __version__
from reconciler.address import KIND_NAMES, Address
from reconciler.apply import ApplyEvent, ApplyResult, Outcome, apply_plan
from reconciler.errors import (
    ConfigError,
    Diagnostic,
    PlanMismatchError,
    ReconcilerError,
    Severity,
    UnsafePlanError,
)
from reconciler.export import FILE_NAMES as EXPORT_FILE_NAMES
from reconciler.export import (
    SCHEMA_URL,
    check_destination,
    check_schema_reference,
    render_export,
    write_export,
)
from reconciler.journal import DEFAULT_JOURNAL, Journal
from reconciler.manifest import DesiredState, load_manifests
from reconciler.plan import Plan, build_plan, kinds_for
from reconciler.render.diagnostics import in_github_actions, render_diagnostics
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.sandbox import SANDBOX_EMAIL, SandboxSite, SeedError, reset_state, serve_forever
from reconciler.schema import write_schemas
from reconciler.site.config import config_from_env
from reconciler.site.http import ClientSettings, SiteClient
from reconciler.site.live import LiveState, read_live_state
from reconciler.site.session import open_site

P = ParamSpec("P")
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130
SECRET_VARIABLES = ("JSM_API_TOKEN", "JSM_OAUTH_TOKEN")


@dataclass
class Ui:
    """Where output goes. Every line passes `redact`, so a credential can never be printed."""

    color: bool = True
    quiet: bool = False
    debug: bool = False
    secrets: list[str] = field(default_factory=list)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def out(self, text: str) -> None:
        click.echo(self.redact(text), nl=not text.endswith("\n"))

    def info(self, text: str) -> None:
        if not self.quiet:
            click.echo(self.redact(text), err=True)

    def fail(self, text: str) -> None:
        click.secho(self.redact(text), err=True, fg="red" if self.color else None)

    def console(self) -> Console:
        return Console(stderr=True, no_color=not self.color, highlight=False)


class _RedactingFilter(logging.Filter):
    def __init__(self, ui: Ui) -> None:
        super().__init__()
        self.ui = ui

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.ui.redact(record.getMessage())
        record.args = None
        return True


def _ui() -> Ui:
    ui: Ui = click.get_current_context().obj
    return ui


def _handle_errors(command: Callable[P, int]) -> Callable[P, None]:
    """The one place that turns outcomes into exit codes and errors into messages."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        ui = _ui()
        try:
            code = command(*args, **kwargs)
        except ReconcilerError as exc:
            ui.fail(f"Error: {exc.message}")
            if exc.diagnostics:
                ui.fail(render_diagnostics(exc.diagnostics, github=in_github_actions()))
            code = EXIT_ERROR
        except KeyboardInterrupt:
            ui.fail("Interrupted.")
            code = EXIT_INTERRUPTED
        except Exception as exc:
            if ui.debug:
                raise
            ui.fail(f"Internal error: {type(exc).__name__}: {exc}. Run again with --debug for details.")
            code = EXIT_ERROR
        sys.exit(code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jsm-reconciler")
@click.option("--no-color", is_flag=True, help="Plain output.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request (never headers or tokens).")
@click.option("-q", "--quiet", is_flag=True, help="Only the result.")
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, no_color: bool, verbose: bool, quiet: bool, debug: bool) -> None:
    """Configuration as code for Jira Service Management Cloud."""
    secrets = [value for name in SECRET_VARIABLES if (value := os.environ.get(name, ""))]
    ui = Ui(color=not no_color and "NO_COLOR" not in os.environ, quiet=quiet, debug=debug, secrets=secrets)
    ctx.obj = ui
    if verbose or debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_RedactingFilter(ui))
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        for name in ("reconciler", "urllib3"):
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.DEBUG)


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
site_option = click.option("--site", help="https://NAME.atlassian.net or `sandbox` (default: JSM_SITE).")
target_option = click.option(
    "--target", "targets", multiple=True, metavar="ADDRESS", help="Only this object (repeatable)."
)
force_option = click.option("--force", is_flag=True, help="Go past settings.thresholds.")
# Reads default to more requests at once than writes (README, "Performance"): Atlassian limits API-token
# traffic by a per-second burst limit per endpoint and method, answered with a 429 and Retry-After that
# the client honours while halving its limit; writes keep CLI.md's default of 4.
READ_PARALLELISM, WRITE_PARALLELISM = 10, 4


def parallelism_option(default: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--parallelism",
        type=click.IntRange(1, 32),
        default=default,
        show_default=True,
        help="Requests at once.",
    )


@cli.command()
@paths_argument
@_handle_errors
def validate(paths: tuple[Path, ...]) -> int:
    """Check manifests offline; print every problem as file:line:col."""
    desired, diagnostics = load_manifests(list(paths) or [Path(".")])
    if diagnostics:
        _ui().out(render_diagnostics(diagnostics, github=in_github_actions()))
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    if errors:
        _ui().fail(f"{errors} error(s).")
        return EXIT_ERROR
    _ui().info(f"{len(desired.files)} file(s), {len(desired.objects)} object(s): valid.")
    return EXIT_OK


@cli.command()
@paths_argument
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="Save the plan for apply --plan.")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown", "json"]), default="text")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 = no changes, 2 = changes, 1 = error.")
@target_option
@force_option
@parallelism_option(READ_PARALLELISM)
@site_option
@_handle_errors
def plan(
    paths: tuple[Path, ...],
    out_file: Path | None,
    output_format: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    force: bool,
    parallelism: int,
    site: str | None,
) -> int:
    """Read the live site and show the ordered plan."""
    ui = _ui()
    wanted = _parse_targets(targets)
    desired, warnings = _load(paths)
    with _site(site, parallelism) as (client, name):
        live = _read(client, name, _target_kinds(wanted))
    result = _plan(desired, live, wanted, force, warnings)
    if output_format == "json":
        ui.out(render_json(result))
    elif output_format == "markdown":
        ui.out(render_markdown(result))
    else:
        ui.out(render_text(result, color=ui.color and sys.stdout.isatty()))
    if out_file is not None:
        _write_atomically(out_file, render_json(result))
        ui.info(f"Saved the plan to {out_file}; apply it with: jsm-reconciler apply --plan {out_file}")
    if result.has_errors:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.changes else EXIT_OK


@cli.command()
@paths_argument
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Apply exactly this saved plan.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-delete", is_flag=True, help="Allow deletes and replaces.")
@click.option(
    "--journal",
    "journal_file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="JSM_JOURNAL",
    default=DEFAULT_JOURNAL,
    show_default=True,
    help="Append a JSON line per change event here (env JSM_JOURNAL).",
)
@target_option
@force_option
@parallelism_option(WRITE_PARALLELISM)
@site_option
@_handle_errors
def apply(
    paths: tuple[Path, ...],
    plan_file: Path | None,
    auto_approve: bool,
    allow_delete: bool,
    journal_file: Path,
    targets: tuple[str, ...],
    force: bool,
    parallelism: int,
    site: str | None,
) -> int:
    """Plan, show the plan, confirm, then apply it in order."""
    ui = _ui()
    if plan_file is not None and (paths or targets):
        raise ConfigError(
            "apply --plan FILE applies exactly the saved plan: give no manifests and no --target"
        )
    with _site(site, parallelism) as (client, name):
        if plan_file is not None:
            saved = _load_plan_file(plan_file)
            the_plan = _check_saved_plan(saved, _read(client, name, saved.kinds))
        else:
            wanted = _parse_targets(targets)
            desired, warnings = _load(paths)
            the_plan = _plan(desired, _read(client, name, _target_kinds(wanted)), wanted, force, warnings)
        ui.out(render_text(the_plan, color=ui.color and sys.stdout.isatty()))
        if the_plan.has_errors:
            raise ConfigError("the plan has errors (above); nothing was applied")
        if not the_plan.changes:
            return EXIT_OK
        if the_plan.destructive and not allow_delete:
            listing = "\n".join(f"  {c.action.symbol} {c.address}" for c in the_plan.destructive)
            raise UnsafePlanError(
                "the plan deletes or replaces objects, so nothing was applied. "
                f"Review them and pass --allow-delete:\n{listing}"
            )
        _confirm(auto_approve, len(the_plan.changes), name)
        journal = Journal(journal_file, name)
        try:
            result = _apply_with_progress(the_plan, client, parallelism, journal)
        finally:
            journal.close()
    _report(result)
    return EXIT_OK if result.ok else EXIT_ERROR


@cli.command("export")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory for the manifests, one file per kind.",
)
@click.option(
    "--kind", "kind_names", multiple=True, type=click.Choice(KIND_NAMES), help="Only this kind (repeatable)."
)
@click.option("--force", is_flag=True, help="Overwrite existing files; unchanged ones are kept as they are.")
@click.option(
    "--schema",
    default=SCHEMA_URL,
    metavar="URL|PATH",
    help="The yaml-language-server $schema: default the published schema; or a path relative to --out.",
)
@parallelism_option(READ_PARALLELISM)
@site_option
@_handle_errors
def export_command(
    out_dir: Path, kind_names: tuple[str, ...], force: bool, schema: str, parallelism: int, site: str | None
) -> int:
    """Write manifests that describe the live site (then plan on them reports no changes)."""
    ui = _ui()
    kinds = [kind.name for kind in kinds_for(kind_names or None)]
    # Refuse before reading: a large site takes a while to read.
    check_schema_reference(schema)
    check_destination(out_dir, [EXPORT_FILE_NAMES[kind] for kind in kinds], force=force)
    with _site(site, parallelism) as (client, name):
        live = _read(client, name, kinds)
    exported = render_export(live, exported_at=datetime.now(UTC), schema=schema)
    for warning in exported.warnings:
        ui.fail(f"Warning: {warning}")
    for path, outcome in write_export(exported.files, out_dir, force=force):
        ui.out(f"{outcome.value:>9}  {path}  ({exported.counts[path.name]} object(s))")
    total = sum(exported.counts.values())
    ui.info(f"Exported {total} object(s) from {name}; check them with: jsm-reconciler plan {out_dir}")
    return EXIT_OK


def _load(paths: Sequence[Path]) -> tuple[DesiredState, list[Diagnostic]]:
    """The desired state and its warnings; errors stop the command before any request."""
    desired, diagnostics = load_manifests(list(paths) or [Path(".")])
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in the manifests; nothing was read from the site", diagnostics
        )
    return desired, diagnostics


def _parse_targets(targets: Sequence[str]) -> list[Address]:
    parsed = []
    for target in targets:
        try:
            parsed.append(Address.parse(target))
        except ValueError as exc:
            raise ConfigError(f"--target: {exc}") from None
    return parsed


def _target_kinds(targets: Sequence[Address]) -> list[str] | None:
    return sorted({t.kind for t in targets}) if targets else None


@contextmanager
def _site(site: str | None, parallelism: int) -> Iterator[tuple[SiteClient, str]]:
    config = config_from_env(site=site)
    with open_site(config, ClientSettings(concurrency=parallelism), announce=_ui().info) as opened:
        yield opened


def _read(client: SiteClient, name: str, kind_names: Sequence[str] | None) -> LiveState:
    ui = _ui()
    kinds = kinds_for(kind_names)
    if ui.quiet or not sys.stderr.isatty():
        return read_live_state(client, kinds, site=name)
    columns = (
        TextColumn("Reading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=ui.console(), transient=True) as progress:
        task = progress.add_task(name, total=len(kinds) + len({n for k in kinds for n in k.needs}))
        return read_live_state(client, kinds, site=name, progress=lambda _what: progress.advance(task))


def _plan(
    desired: DesiredState,
    live: LiveState,
    targets: Sequence[Address],
    force: bool,
    warnings: Sequence[Diagnostic],
) -> Plan:
    built = build_plan(desired, live, targets=targets, force=force)
    return replace(built, diagnostics=(*warnings, *built.diagnostics))


def _confirm(auto_approve: bool, count: int, site: str) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ConfigError("apply is not interactive here: review the plan and pass --auto-approve")
    question = f"Apply these {count} change(s) to {site}? Only 'yes' is accepted"
    if click.prompt(question, default="", show_default=False).strip() != "yes":
        raise ConfigError("apply cancelled; nothing was changed")


def _apply_with_progress(
    the_plan: Plan, client: SiteClient, parallelism: int, journal: Journal
) -> ApplyResult:
    ui = _ui()
    lines: list[str] = []

    def record(event: ApplyEvent) -> None:
        journal.record(event)
        if event.outcome is not Outcome.STARTED:
            lines.append(f"{event.outcome.value:>8}  {event.change.action.symbol} {event.change.address}")

    if ui.quiet or not sys.stderr.isatty():
        result = apply_plan(the_plan, client, parallelism=parallelism, listener=record)
    else:
        columns = (TextColumn("Applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=ui.console(), transient=True) as progress:
            task = progress.add_task("apply", total=len(the_plan.changes))

            def show(event: ApplyEvent) -> None:
                record(event)
                if event.outcome is not Outcome.STARTED:
                    progress.advance(task)

            result = apply_plan(the_plan, client, parallelism=parallelism, listener=show)
    for line in lines:
        ui.out(line)
    return result


def _report(result: ApplyResult) -> None:
    ui = _ui()
    for _change, problem in result.failed:
        ui.fail(problem.format())
    for change in result.skipped:
        ui.fail(f"skipped {change.address}: it depends on a change that failed")
    summary = f"{len(result.applied)} applied, {len(result.failed)} failed, {len(result.skipped)} skipped."
    if result.ok:
        ui.out(f"Apply complete: {summary}")
    else:
        ui.fail(f"Apply incomplete: {summary} Run plan to see what remains; apply again to finish.")


def _load_plan_file(path: Path) -> Plan:
    try:
        return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a plan saved by `plan --out` ({type(exc).__name__}: {exc})") from None


def _check_saved_plan(saved: Plan, live: LiveState) -> Plan:
    """A saved plan applies only to its own site, and only while what it touches is unchanged."""
    if saved.site != live.site:
        raise PlanMismatchError(f"the plan was made for {saved.site}, not {live.site}; nothing was applied")
    current = live.fingerprints()
    stale = sorted(
        {
            str(change.address)
            for change in saved.changes
            for key in saved.touches.get(change.key, ())
            if current.get(key) != saved.fingerprints.get(key)
        }
    )
    if stale:
        listing = "\n".join(f"  {address}" for address in stale)
        raise PlanMismatchError(
            f"the site changed since the plan was made, so nothing was applied; plan again.\n{listing}"
        )
    return saved


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
    ) as tmp:
        tmp.write(text)
    Path(tmp.name).replace(path)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("schemas"), show_default=True)
@_handle_errors
def schema(out_dir: Path) -> int:
    """Write the manifest JSON Schema."""
    for written in write_schemas(out_dir):
        _ui().info(f"wrote {written}")
    return EXIT_OK


@cli.group()
def sandbox() -> None:
    """The embedded sandbox site."""


state_option = click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path),
    help="State file (default: JSM_SANDBOX_STATE, else .jsm-sandbox.json).",
)


def _state_file(state_file: Path | None) -> Path:
    return state_file or config_from_env(site="sandbox").sandbox_state


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@state_option
@_handle_errors
def sandbox_serve(port: int, state_file: Path | None) -> int:
    """Serve the sandbox site over HTTP on 127.0.0.1 until interrupted."""
    state = _state_file(state_file)
    _ui().info(
        f"Serving the sandbox site (state in {state}). Point the tool at it with "
        f"JSM_SITE=http://127.0.0.1:{port} JSM_API_BASE=http://127.0.0.1:{port} "
        f"JSM_EMAIL={SANDBOX_EMAIL} and JSM_API_TOKEN=sandbox-api-token."
    )
    serve_forever(SandboxSite(state_file=state), port)
    return EXIT_OK


@sandbox.command("reset")
@state_option
@click.option(
    "--seed", "seed_file", type=click.Path(path_type=Path), help="Start from this seed (YAML or JSON)."
)
@_handle_errors
def sandbox_reset(state_file: Path | None, seed_file: Path | None) -> int:
    """Empty the sandbox site, or seed it."""
    state = _state_file(state_file)
    try:
        reset_state(state, seed_file)
    except (SeedError, OSError) as exc:
        raise ConfigError(f"sandbox reset: {exc}") from None
    _ui().info(f"Sandbox site reset{' from ' + str(seed_file) if seed_file else ''} (state in {state}).")
    return EXIT_OK


def main() -> None:
    cli(prog_name="jsm-reconciler")
