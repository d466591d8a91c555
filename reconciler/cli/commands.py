"""The command line (CLI.md): the command group, its global options, every command's options and help, and
`main`. Thin: parse options, call the command's module, map the outcome to an exit code (cli/ui.py).

Each command takes its options as keywords and hands them to the function that does its work, whose
signature types them; it imports that function when it runs (the one import in each body), so `--help`,
`--version` and `validate` load neither the site client, the planner, the sandbox nor rich's progress bars
(docs/architecture.md, "The command line").
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.ui import (
    EXIT_ERROR,
    InterruptedExit,
    Ui,
    color_choice,
    handle_errors,
    log_to_stderr,
    secrets,
    usage_errors_exit_1,
)
from reconciler.kind_names import ADDRESS_FORMS
from reconciler.render.workflow_commands import in_github_actions

# Reads default to more requests at once than writes (docs/performance.md): Atlassian limits API-token
# traffic by a per-second burst limit per endpoint and method, answered with a 429 and Retry-After that
# the client honours while halving its limit; writes keep CLI.md's default of 4.
READ_PARALLELISM, WRITE_PARALLELISM = 10, 4
DEFAULT_JOURNAL = Path(".jsm-journal.jsonl")


class _Commands(click.Group):
    """The command group. A mistyped command, option or value exits 1 (CLI.md), with click's own message
    and did-you-mean: click's code for it, 2, means "changes present" to a CI job that plans with
    --detailed-exitcode."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with usage_errors_exit_1():
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
        color=color_choice(no_color, os.environ),
        quiet=quiet,
        debug=debug,
        secrets=secrets(),
        github=in_github_actions(),
    )
    ctx.obj = ui
    if verbose or debug:
        log_to_stderr(ui)


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
@handle_errors
def validate(**options: Any) -> int:
    """Check manifests offline; print every problem as file:line:col."""
    from reconciler.cli.offline import run_validate  # noqa: PLC0415 - loaded when the command runs

    return run_validate(**options)


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
@handle_errors
def plan(**options: Any) -> int:
    """Read the live site and show the ordered plan."""
    from reconciler.cli.plan_apply import run_plan  # noqa: PLC0415 - loaded when the command runs

    return run_plan(**options)


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
@handle_errors
def apply(**options: Any) -> int:
    """Plan, show the plan, confirm, then apply it in order."""
    from reconciler.cli.plan_apply import run_apply  # noqa: PLC0415 - loaded when the command runs

    return run_apply(**options)


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
    type=click.Choice(list(ADDRESS_FORMS)),
    help="Only this kind (repeatable).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files; unchanged ones are kept as they are.")
@click.option(
    "--schema",
    metavar="URL|PATH",
    help="The yaml-language-server $schema: default the published schema; or a path relative to --out.",
)
@parallelism_option(READ_PARALLELISM)
@site_option
@handle_errors
def export_command(**options: Any) -> int:
    """Write manifests that describe the live site (then plan on them reports no changes)."""
    from reconciler.cli.export import run_export  # noqa: PLC0415 - loaded when the command runs

    return run_export(**options)


@cli.command("access")
@paths_argument
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "csv", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for a page, csv for a spreadsheet, json for programs (docs/access.md).",
)
@click.option(
    "--project", "project_keys", multiple=True, metavar="KEY", help="Only this project (repeatable)."
)
@click.option(
    "--permission", "permission_keys", multiple=True, metavar="KEY", help="Only this permission (repeatable)."
)
@click.option("--planned", is_flag=True, help="The site as the plan of PATH would leave it.")
@click.option(
    "--users",
    is_flag=True,
    help="Expand groups and project roles to the accounts in them (more requests, counted on stderr).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when the site (with --planned: as the plan leaves it) breaks an error-level rule of the "
    "manifests' settings.policies.",
)
@parallelism_option(READ_PARALLELISM)
@site_option
@handle_errors
def access_command(**options: Any) -> int:
    """Who can do what in which project: every grant and the scheme it comes from."""
    from reconciler.cli.access import run_access  # noqa: PLC0415 - loaded when the command runs

    return run_access(**options)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("schemas"), show_default=True)
@handle_errors
def schema(**options: Any) -> int:
    """Write the manifest JSON Schema."""
    from reconciler.cli.offline import run_schema  # noqa: PLC0415 - loaded when the command runs

    return run_schema(**options)


@cli.group()
def sandbox() -> None:
    """The embedded sandbox site."""


state_option = click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path),
    help="State file (default: JSM_SANDBOX_STATE, else .jsm-sandbox.json).",
)


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@state_option
@handle_errors
def sandbox_serve(**options: Any) -> int:
    """Serve the sandbox site over HTTP on 127.0.0.1 until interrupted."""
    from reconciler.cli.sandbox import run_serve  # noqa: PLC0415 - loaded when the command runs

    return run_serve(**options)


@sandbox.command("reset")
@state_option
@click.option(
    "--seed", "seed_file", type=click.Path(path_type=Path), help="Start from this seed (YAML or JSON)."
)
@handle_errors
def sandbox_reset(**options: Any) -> int:
    """Empty the sandbox site, or seed it."""
    from reconciler.cli.sandbox import run_reset  # noqa: PLC0415 - loaded when the command runs

    return run_reset(**options)


def main() -> None:
    try:
        cli(prog_name="jsm-reconciler")
    except InterruptedExit:
        # Threads may still be blocked in a socket read or a name lookup that nothing can cut short (their
        # changes are journaled as interrupted): the process does not wait for them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_ERROR)
