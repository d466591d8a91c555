"""The embedded sandbox site: a stateful simulation of the Jira platform, JSM CSM and JSM Ops APIs.

It serves the URL layout of docs/CLI.md from one HTTP/1.1 server that keeps connections open, so the
real client talks to it over HTTP exactly as it talks to Atlassian Cloud.
"""

from reconciler.sandbox.app import Call, Knobs, SandboxSite
from reconciler.sandbox.auth import SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET
from reconciler.sandbox.common import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
)
from reconciler.sandbox.seed import SeedError, load_seed_file
from reconciler.sandbox.server import reset_state, serve_forever, serve_in_thread
from reconciler.sandbox.state import StateFileError

__all__ = [
    "SANDBOX_API_TOKEN",
    "SANDBOX_EMAIL",
    "SANDBOX_OAUTH_CLIENT_ID",
    "SANDBOX_OAUTH_CLIENT_SECRET",
    "SANDBOX_OAUTH_TOKEN",
    "SANDBOX_SCOPED_TOKEN",
    "Call",
    "Knobs",
    "SandboxSite",
    "SeedError",
    "StateFileError",
    "load_seed_file",
    "reset_state",
    "serve_forever",
    "serve_in_thread",
]
