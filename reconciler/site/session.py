"""Opening a connection to the configured site: a real Atlassian Cloud site, or the embedded sandbox
served over real HTTP on 127.0.0.1 for the length of one command, so both take the same code path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reconciler.errors import ConfigError
from reconciler.sandbox import SANDBOX_API_TOKEN, SANDBOX_EMAIL, SandboxSite, StateFileError, serve_in_thread
from reconciler.site.config import Credentials, SiteConfig
from reconciler.site.http import ClientSettings, SiteClient


@contextmanager
def open_site(
    config: SiteConfig, settings: ClientSettings, *, announce: Callable[[str], None] | None = None
) -> Iterator[tuple[SiteClient, str]]:
    """Yields the client and the site's name as plans show it."""
    if not config.is_embedded_sandbox:
        with SiteClient(
            config.site, config.api_base, _required(config), cloud_id=config.cloud_id, settings=settings
        ) as client:
            yield client, config.site
        return
    try:
        site = SandboxSite(state_file=config.sandbox_state)
    except StateFileError as exc:
        raise ConfigError(str(exc)) from None
    if announce:
        announce(
            f"Using the embedded sandbox site (state in {config.sandbox_state}); "
            "set JSM_SITE to work on an Atlassian Cloud site."
        )
        if config.ignored_credentials:
            announce(
                f"Ignored {', '.join(config.ignored_credentials)}: the sandbox site uses its own "
                "credentials, and yours are never sent to it."
            )
    credentials = Credentials(email=SANDBOX_EMAIL, secret=SANDBOX_API_TOKEN)
    with serve_in_thread(site) as url, SiteClient(url, url, credentials, settings=settings) as client:
        yield client, "sandbox"


def _required(config: SiteConfig) -> Credentials:
    if config.credentials is None:
        raise AssertionError("config_from_env guarantees credentials for a real site")
    return config.credentials
