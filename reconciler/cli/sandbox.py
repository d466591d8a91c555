"""What `sandbox serve` and `sandbox reset` do, and what serve says first. Their options are in
commands.py."""

from __future__ import annotations

import errno
from pathlib import Path

from reconciler.cli.ui import EXIT_OK, current_ui
from reconciler.errors import ConfigError
from reconciler.files import check_output
from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.auth import SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET
from reconciler.sandbox.common import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
)
from reconciler.sandbox.seed import SeedError
from reconciler.sandbox.server import reset_state, serve_forever
from reconciler.sandbox.state import StateFileError
from reconciler.site.config import config_from_env

STATE_VARIABLE = "JSM_SANDBOX_STATE"


def state_path(state_file: Path | None) -> tuple[Path, str]:
    """The state file, and what named it (the option or the variable), for messages."""
    if state_file is not None:
        return state_file, "--state"
    return config_from_env(site="sandbox").sandbox_state, STATE_VARIABLE


def sandbox_site(state: Path, named_by: str) -> SandboxSite:
    """The sandbox site kept in `state`. A path that cannot be its state file (under a file, a directory, a
    symbolic link, not a state file) is the user's to change: one line, before anything is served."""
    check_output(state, named_by, directory=False)
    try:
        return SandboxSite(state_file=state)
    except StateFileError as exc:
        raise ConfigError(f"{named_by} {exc}") from None


def run_serve(*, port: int, state_file: Path | None) -> int:
    state, named_by = state_path(state_file)
    site = sandbox_site(state, named_by)
    try:
        serve_forever(site, port, started=lambda url: current_ui().info(serve_banner(url, state)))
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise ConfigError(
            f"sandbox serve: cannot listen on port {port} ({exc.strerror}); choose another with --port"
        ) from None
    except KeyboardInterrupt:  # Ctrl+C is how serving ends: no error
        current_ui().info("Stopped serving the sandbox site.")
    return EXIT_OK


def serve_banner(url: str, state: Path) -> str:
    """What `sandbox serve` says first: where, and every credential the sandbox accepts (docs/cli.md)."""
    email = f"JSM_EMAIL={SANDBOX_EMAIL}"
    return (
        f"Serving the sandbox site on {url} (state in {state}) until Ctrl+C.\n"
        "Point the tool at it with the sandbox's own credentials, in any of the four forms:\n"
        f"  export JSM_SITE={url} JSM_API_BASE={url}\n"
        f"  export {email} JSM_API_TOKEN={SANDBOX_API_TOKEN}  # classic API token\n"
        f"  export {email} JSM_API_TOKEN={SANDBOX_SCOPED_TOKEN} JSM_SCOPED_TOKEN=1  # token with scopes\n"
        f"  export JSM_OAUTH_TOKEN={SANDBOX_OAUTH_TOKEN}  # OAuth 2.0 access token (Bearer)\n"
        f"  export JSM_OAUTH_CLIENT_ID={SANDBOX_OAUTH_CLIENT_ID}"
        f" JSM_OAUTH_CLIENT_SECRET={SANDBOX_OAUTH_CLIENT_SECRET}"
        f" JSM_AUTH_BASE={url}  # a service account's OAuth client credentials"
    )


def run_reset(*, state_file: Path | None, seed_file: Path | None) -> int:
    state, named_by = state_path(state_file)
    check_output(state, named_by, directory=False)
    try:
        reset_state(state, seed_file)
    except SeedError as exc:
        raise ConfigError(f"sandbox reset: {exc}") from None
    except StateFileError as exc:
        raise ConfigError(f"{named_by} {exc}") from None
    except OSError as exc:  # a directory we may not write, a full disk
        raise ConfigError(
            f"{named_by} {state}: cannot write it ({exc.strerror or exc}); choose another {named_by}"
        ) from None
    current_ui().info(
        f"Sandbox site reset{' from ' + str(seed_file) if seed_file else ''} (state in {state})."
    )
    return EXIT_OK
