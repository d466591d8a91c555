"""The command line (CLI.md). Thin: parse options, call the library, map the outcome to an exit code.

Every error reaches the user as a message with an address or a file:line:col, never as a traceback
(`--debug` shows one for developers). Output passes through a filter that blanks the credentials.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, ParamSpec

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler import __version__
from reconciler.address import Address, Target
from reconciler.apply import ApplyEvent, ApplyResult, Outcome, apply_plan
from reconciler.errors import (
    ConfigError,
    Diagnostic,
    ReconcilerError,
    Severity,
)
from reconciler.export import (
    SCHEMA_URL,
    check_destination,
    check_schema_reference,
    render_export,
    write_export,
)
from reconciler.exposure import assess, needs_project_map
from reconciler.files import write_atomically
from reconciler.journal import DEFAULT_JOURNAL, Journal
from reconciler.kinds import KINDS, get_kind
from reconciler.kinds.project import count_visible_projects, project_schemes, unadministered_warning
from reconciler.manifest import DesiredState, load_manifests
from reconciler.plan import Plan, build_plan, kinds_for, kinds_to_read
from reconciler.policies import judge, judges_grants
from reconciler.policy_rules import kinds_judged, lookups_named
from reconciler.redaction import basic_auth_secrets, redactor
from reconciler.render.diagnostics import github_annotations, render_diagnostics
from reconciler.render.markdown import visible
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.render.workflow_commands import in_github_actions, inert
from reconciler.safety import check_applicable, check_fresh
from reconciler.sandbox import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
    SandboxSite,
    SeedError,
    StateFileError,
    reset_state,
    serve_forever,
    serve_in_thread,
)
from reconciler.schema import write_schemas
from reconciler.site.api import SiteApi
from reconciler.site.config import Credentials, config_from_env
from reconciler.site.http import ClientSettings, SiteClient
from reconciler.site.live import NO_HOLDERS, LiveState, holders_to_check, lookup_reads, read_live_state

P = ParamSpec("P")
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


class _CtrlC:
    """The SIGINT handler while a command runs. The first Ctrl-C stops the waits of the site clients in
    use, in every thread (reconciler/interruption.py), and raises KeyboardInterrupt in the main thread; the
    tool then stops within about a second, and ignores another Ctrl-C meanwhile, so that the journal gets
    its last lines."""

    def __init__(self) -> None:
        self.stops: list[Callable[[], None]] = []
        self.pressed = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.pressed:
            return
        self.pressed = True
        for stop in self.stops:
            stop()
        raise KeyboardInterrupt


@contextmanager
def _handling_ctrl_c(handler: _CtrlC) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set one
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class Ui:
    """Where output goes. Every line passes `redact`, so a credential can never be printed.

    `color` is False (--no-color, NO_COLOR), True (FORCE_COLOR), or None: colour on a terminal only.
    With `github` (GitHub Actions), what is printed cannot be a workflow command; only `annotate` makes some.
    """

    color: bool | None = None
    quiet: bool = False
    debug: bool = False
    secrets: list[str] = field(default_factory=list)
    github: bool = False
    redact: Callable[[str], str] = field(init=False, repr=False)
    ctrl_c: _CtrlC = field(default_factory=_CtrlC, repr=False)

    def __post_init__(self) -> None:
        self.redact = redactor(self.secrets)

    def shown(self, text: str) -> str:
        redacted = self.redact(text)
        return inert(redacted) if self.github else redacted

    def out(self, text: str) -> None:
        click.echo(self.shown(text), nl=not text.endswith("\n"), color=self.color)

    def stdout_color(self) -> bool:
        return self.color if self.color is not None else sys.stdout.isatty()

    def info(self, text: str) -> None:
        if not self.quiet:
            click.echo(self.shown(text), err=True)

    def fail(self, text: str) -> None:
        click.secho(self.shown(text), err=True, fg=None if self.color is False else "red", color=self.color)

    def annotate(self, diagnostics: Sequence[Diagnostic], *, err: bool) -> None:
        """Under GitHub Actions, the diagnostics as annotations on the files of a pull request."""
        if self.github:
            for annotation in github_annotations(diagnostics):
                click.echo(self.redact(annotation), err=err)

    def console(self) -> Console:
        return Console(stderr=True, no_color=self.color is False, force_terminal=self.color, highlight=False)


class _RedactingFilter(logging.Filter):
    def __init__(self, ui: Ui) -> None:
        super().__init__()
        self.ui = ui

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.ui.redact(record.getMessage())
        record.args = None
        return True


class _ShownFormatter(logging.Formatter):
    """A log line as `Ui.shown` prints text: a file name or a site's message in it starts no command."""

    def __init__(self, ui: Ui, layout: str) -> None:
        super().__init__(layout)
        self.ui = ui

    def format(self, record: logging.LogRecord) -> str:
        return self.ui.shown(super().format(record))


def _secrets() -> list[str]:
    """The credentials in the environment, in every form output could carry them."""
    token = os.environ.get("JSM_API_TOKEN", "").strip()
    found = [os.environ.get(name, "").strip() for name in ("JSM_OAUTH_TOKEN", "JSM_OAUTH_CLIENT_SECRET")]
    if token:
        found += basic_auth_secrets(os.environ.get("JSM_EMAIL", "").strip(), token)
    return found


def _ui() -> Ui:
    ui: Ui = click.get_current_context().obj
    return ui


def _handle_errors(command: Callable[P, int]) -> Callable[P, None]:
    """The one place that turns outcomes into exit codes and errors into messages."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        ui = _ui()
        try:
            with _handling_ctrl_c(ui.ctrl_c):
                code = command(*args, **kwargs)
        except ReconcilerError as exc:
            ui.fail(f"Error: {exc.message}")
            if exc.diagnostics:
                ui.fail(render_diagnostics(exc.diagnostics))
                ui.annotate(exc.diagnostics, err=True)
            code = EXIT_ERROR
        except (KeyboardInterrupt, click.Abort):  # click.prompt turns Ctrl-C into Abort
            ui.fail("Interrupted.")
            code = EXIT_INTERRUPTED
        except Exception as exc:
            if ui.debug:
                raise
            ui.fail(f"Internal error: {type(exc).__name__}: {exc}. Run again with --debug for details.")
            code = EXIT_ERROR
        sys.exit(code)

    return wrapper


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        exc.show()
        raise click.exceptions.Exit(EXIT_ERROR) from None


class _Commands(click.Group):
    """The command group. A mistyped command, option or value exits 1 (CLI.md), with click's own message
    and did-you-mean: click's code for it, 2, means "changes present" to a CI job that plans with
    --detailed-exitcode."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jsm-reconciler")
@click.option(
    "--no-color",
    is_flag=True,
    help="Plain output (also NO_COLOR; FORCE_COLOR colours output to a file or pipe).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every request (never headers or tokens).")
@click.option("-q", "--quiet", is_flag=True, help="Only the result.")
@click.option("--debug", is_flag=True, help="As --verbose, and show the traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, no_color: bool, verbose: bool, quiet: bool, debug: bool) -> None:
    """Configuration as code for Jira Service Management Cloud."""
    ui = Ui(
        color=_color_choice(no_color, os.environ),
        quiet=quiet,
        debug=debug,
        secrets=_secrets(),
        github=in_github_actions(),
    )
    ctx.obj = ui
    if verbose or debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_RedactingFilter(ui))
        handler.setFormatter(_ShownFormatter(ui, "%(levelname)s %(name)s: %(message)s"))
        for name in ("reconciler", "urllib3"):
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.DEBUG)


def _color_choice(no_color: bool, environ: Mapping[str, str]) -> bool | None:
    """--no-color and NO_COLOR (no-color.org) turn colour off; FORCE_COLOR (force-color.org) turns it
    on where output is not a terminal, as in CI logs; FORCE_COLOR=0 is read as off, as Node tools do."""
    if no_color or environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force:
        return force != "0"
    return None


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
site_option = click.option("--site", help="https://NAME.atlassian.net or `sandbox` (default: JSM_SITE).")
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDRESS",
    help="Only this object and what it depends on (repeatable): an address such as "
    "'products/Acme Widget' or 'teamRoles/TEAM/ROLE', a kind such as 'products', "
    "'detailFields.organization', or 'teamRoles/TEAM'.",
)
force_option = click.option("--force", is_flag=True, help="Go past settings.thresholds.")
# Reads default to more requests at once than writes (docs/performance.md): Atlassian limits API-token
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


def _digest_prefix(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{12,64}", value.strip()):
        raise click.BadParameter(
            f"{value!r} is not a changesDigest: give its first 12 to 64 hex digits (plan --out FILE "
            "saves it in FILE as changesDigest)"
        )
    return value.strip().lower()


@cli.command()
@paths_argument
@_handle_errors
def validate(paths: tuple[Path, ...]) -> int:
    """Check manifests offline; print every problem as file:line:col."""
    desired, diagnostics = load_manifests(paths)
    if diagnostics:
        _ui().out(render_diagnostics(diagnostics))
        _ui().annotate(diagnostics, err=False)
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    if errors:
        _ui().fail(f"{errors} error(s).")
        return EXIT_ERROR
    _ui().info(f"{len(desired.files)} file(s), {len(desired.objects)} object(s): valid.")
    return EXIT_OK


@cli.command()
@paths_argument
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="Save the plan for apply --plan.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for a pull request comment, json for programs (CLI.md).",
)
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
        live = _read(client, name, _target_kinds(wanted), desired)
        result = _plan(client, desired, live, wanted, force, warnings)
    if output_format == "json":
        ui.out(render_json(result))
    elif output_format == "markdown":
        ui.out(render_markdown(result))
    else:
        ui.out(render_text(result, color=ui.stdout_color()))
    if out_file is not None:
        write_atomically(out_file, render_json(result))
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
    "--expect-digest",
    metavar="HEX",
    callback=_digest_prefix,
    help="Apply only if the plan's changesDigest starts with HEX (12 to 64 hex digits): the plan a "
    "reviewer saw. Otherwise write nothing and exit 1.",
)
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
    expect_digest: str | None,
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
    saved = _load_plan_file(plan_file) if plan_file is not None else None
    wanted = _parse_targets(targets)
    # The manifests are read before the site is opened: with none, or with mistakes, nothing is written.
    desired, warnings = _load(paths) if saved is None else (DesiredState.empty(), [])
    with _site(site, parallelism) as (client, name):
        if saved is not None:
            touched = frozenset(change.address for change in saved.changes)
            check_fresh(saved, _read(client, name, saved.kinds, declared=touched))
            the_plan = saved
        else:
            live = _read(client, name, _target_kinds(wanted), desired)
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
    "--kind",
    "kind_names",
    multiple=True,
    type=click.Choice([kind.name for kind in KINDS]),
    help="Only this kind (repeatable).",
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
    kinds = kinds_for(kind_names or None)
    # Refuse before reading: a large site takes a while to read.
    check_schema_reference(schema)
    check_destination(out_dir, [kind.export_file for kind in kinds], force=force)
    with _site(site, parallelism) as (client, name):
        live = _read(client, name, [kind.name for kind in kinds])
        # Export reads the projects the account administers: the others are counted, not read.
        unadministered = (
            count_visible_projects(client) - len(live.of("projects")) if "projects" in live.objects else 0
        )
    exported = render_export(live, exported_at=datetime.now(UTC), schema=schema)
    if unadministered > 0:
        ui.fail(f"Warning: {unadministered_warning(unadministered, 'the export')}")
    for warning in exported.warnings:
        ui.fail(f"Warning: {warning}")
    for path, outcome in write_export(exported.files, out_dir, force=force):
        ui.out(f"{outcome.value:>9}  {path}  ({exported.counts[path.name]} object(s))")
    total = sum(exported.counts.values())
    ui.info(f"Exported {total} object(s) from {name}; check them with: jsm-reconciler plan {out_dir}")
    return EXIT_OK


def _load(paths: Sequence[Path]) -> tuple[DesiredState, list[Diagnostic]]:
    """The desired state and its warnings; errors stop the command before any request."""
    desired, diagnostics = load_manifests(paths)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ConfigError(
            f"{len(errors)} problem(s) in the manifests; nothing was read from the site", diagnostics
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
    """The kinds to read for targets: theirs, and the kinds those refer to."""
    if not targets:
        return None
    kinds = {t.kind for t in targets}
    return sorted(kinds.union(*(get_kind(kind).refers_to for kind in kinds)))


@contextmanager
def _site(site: str | None, parallelism: int) -> Iterator[tuple[SiteClient, str]]:
    """The configured site and its name as plans show it: a real Atlassian Cloud site, or the embedded
    sandbox served over real HTTP on 127.0.0.1 for the length of one command (one client code path)."""
    ui = _ui()
    config = config_from_env(site=site)
    settings = ClientSettings(
        concurrency=parallelism, retry_after_max_s=config.max_retry_after_s, notify=ui.info
    )
    if config.credentials is not None and not config.is_embedded_sandbox:
        with SiteClient(
            config.site, config.api_base, config.credentials, cloud_id=config.cloud_id, settings=settings
        ) as client:
            ui.ctrl_c.stops.append(client.interrupt)
            yield client, config.site
        return
    try:
        sandbox_site = SandboxSite(state_file=config.sandbox_state)
    except StateFileError as exc:
        raise ConfigError(str(exc)) from None
    ui.info(
        f"Using the embedded sandbox site (state in {config.sandbox_state}); "
        "set JSM_SITE to work on an Atlassian Cloud site."
    )
    if config.ignored_credentials:
        ui.info(
            f"Ignored {', '.join(config.ignored_credentials)}: the sandbox site uses its own "
            "credentials, and yours are never sent to it."
        )
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    with serve_in_thread(sandbox_site) as url, SiteClient(url, url, credentials, settings=settings) as client:
        ui.ctrl_c.stops.append(client.interrupt)
        yield client, "sandbox"


def _read(
    client: SiteApi,
    name: str,
    kind_names: Sequence[str] | None,
    desired: DesiredState | None = None,
    declared: frozenset[Address] | None = None,
) -> LiveState:
    """The live site. With `desired`, also the holders its manifests name that the site checks, and the
    objects of kinds read one by one are those it declares (or those in `declared`)."""
    ui = _ui()
    kinds = kinds_for(kind_names)
    holders = NO_HOLDERS
    if desired is not None:
        named = kinds_to_read(desired)
        # Policies judge the whole end state: what they need is read under --target too.
        judged = kinds_judged(desired.settings.policies)
        kinds = tuple(kind for kind in KINDS if kind.name in named and (kind in kinds or kind.name in judged))
        holders = holders_to_check(kinds, desired) | lookups_named(desired.settings.policies)
        declared = declared or frozenset(desired.objects)
    if ui.quiet or not sys.stderr.isatty():
        return read_live_state(client, kinds, site=name, holders=holders, declared=declared)
    columns = (
        TextColumn("Reading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=ui.console(), transient=True) as progress:
        task = progress.add_task(name, total=len(kinds) + len(lookup_reads(kinds, holders)))
        return read_live_state(
            client,
            kinds,
            site=name,
            progress=lambda _what: progress.advance(task),
            holders=holders,
            declared=declared,
        )


def _plan(
    client: SiteApi,
    desired: DesiredState,
    live: LiveState,
    targets: Sequence[Target],
    force: bool,
    warnings: Sequence[Diagnostic],
) -> Plan:
    built = build_plan(desired, live, targets=targets, force=force)
    # Every project's scheme costs a search and a GET per project: read once, if exposure or policies need it.
    every_project = needs_project_map(built) or judges_grants(desired)
    project_map, unread = project_schemes(client, live.of("projects"), every=every_project)
    built = judge(assess(built, desired, live, project_map), desired, live, project_map)
    # Offline checks against lists the site knows better: the plan checks again against what it read
    # (the rights live roles hold, the site's own permission keys), so the offline warnings go.
    warnings = [
        w
        for w in warnings
        if not (w.address and w.code in _site_decides(Address.parse(w.address).kind, live))
    ]
    return replace(built, diagnostics=(*warnings, *built.diagnostics, *unread))


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
    ui = _ui()
    lines: list[str] = []

    def record(event: ApplyEvent) -> None:
        journal.record(event)
        if event.outcome is not Outcome.STARTED:
            change = event.change
            lines.append(visible(f"{event.outcome.value:>8}  {change.action.symbol} {change.address}"))

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
        return Plan.from_json(data)
    except KeyError as exc:
        raise ConfigError(f"{not_a_plan}: the key {exc.args[0]!r} is missing") from None
    except ValueError as exc:
        raise ConfigError(f"{not_a_plan}: {exc}") from None
    except (TypeError, AttributeError):
        raise ConfigError(f"{not_a_plan}: a value has the wrong type; save the plan again") from None


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
    try:
        site = SandboxSite(state_file=state)
    except StateFileError as exc:
        raise ConfigError(str(exc)) from None

    serve_forever(site, port, started=lambda url: _ui().info(serve_banner(url, state)))
    return EXIT_OK


def serve_banner(url: str, state: Path) -> str:
    """What `sandbox serve` says first: where, and every credential the sandbox accepts (docs/cli.md)."""
    email = f"JSM_EMAIL={SANDBOX_EMAIL}"
    return (
        f"Serving the sandbox site on {url} (state in {state}) until Ctrl+C.\n"
        "Point the tool at it with the sandbox's own credentials, in any of the three forms:\n"
        f"  export JSM_SITE={url} JSM_API_BASE={url}\n"
        f"  export {email} JSM_API_TOKEN={SANDBOX_API_TOKEN}  # classic API token\n"
        f"  export {email} JSM_API_TOKEN={SANDBOX_SCOPED_TOKEN} JSM_SCOPED_TOKEN=1  # token with scopes\n"
        f"  export JSM_OAUTH_TOKEN={SANDBOX_OAUTH_TOKEN}  # OAuth 2.0 access token (Bearer)"
    )


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
    try:
        cli(prog_name="jsm-reconciler")
    except SystemExit as done:
        if done.code != EXIT_INTERRUPTED:
            raise
        # Threads may still be blocked in a socket read or a name lookup that nothing can cut short (their
        # changes are journaled as interrupted): the process does not wait for them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
