"""The site a command works on: a real Atlassian Cloud site, or the embedded sandbox served over real HTTP on
127.0.0.1 for the length of one command (one client code path); and reading it, with a progress bar on a
terminal. The sandbox is imported only when it is the site, so a command on a real site never loads it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from reconciler.address import Address
from reconciler.cli.ui import current_ui
from reconciler.errors import SiteError
from reconciler.kind_names import CUSTOM_ROLES, TEAM_ROLES
from reconciler.live import NO_HOLDERS, LiveState, holders_to_check, lookup_reads, read_live_state
from reconciler.policy_rules import RIGHT_RULES, kinds_judged
from reconciler.registry import kinds_for, kinds_to_read
from reconciler.site.answers import OPS_WAY_OUT
from reconciler.site.api import SiteApi
from reconciler.site.config import Credentials, config_from_env
from reconciler.site.http import SiteClient
from reconciler.site.settings import ClientSettings
from reconciler.state import DesiredState


@contextmanager
def open_site(site: str | None, parallelism: int) -> Iterator[tuple[SiteClient, str]]:
    """The configured site's client, and its name as plans show it."""
    ui = current_ui()
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
    # The sandbox is part of the product, but only this command's site: loaded when it is the one.
    from reconciler.cli.sandbox import STATE_VARIABLE, sandbox_site  # noqa: PLC0415
    from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL  # noqa: PLC0415
    from reconciler.sandbox.server import serve_in_thread  # noqa: PLC0415

    site_served = sandbox_site(config.sandbox_state, STATE_VARIABLE)
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
    with serve_in_thread(site_served) as url, SiteClient(url, url, credentials, settings=settings) as client:
        ui.ctrl_c.stops.append(client.interrupt)
        yield client, "sandbox"


def read_site(
    client: SiteApi,
    name: str,
    kind_names: Sequence[str] | None,
    desired: DesiredState | None = None,
    declared: frozenset[Address] | None = None,
) -> LiveState:
    """The live site. With `desired`, also the holders its manifests name that the site checks, and the
    objects of kinds read one by one are those it declares (or those in `declared`)."""
    ui = current_ui()
    kinds = kinds_for(kind_names)
    holders = NO_HOLDERS
    if desired is not None:
        named = kinds_to_read(desired)
        # Policies judge the whole end state: what they need is read under --target too.
        judged = kinds_judged(desired.settings.policies)
        kinds = tuple(
            kind for kind in kinds_for(None) if kind.name in named and (kind in kinds or kind.name in judged)
        )
        holders = holders_to_check(kinds, desired)
        declared = declared or frozenset(desired.objects)
    try:
        if not ui.shows_progress():
            return read_live_state(client, kinds, site=name, holders=holders, declared=declared)
        from reconciler.cli.progress import progress_bar  # noqa: PLC0415 - drawn on a terminal only

        total = len(kinds) + len(lookup_reads(kinds, holders))
        with progress_bar(ui, "Reading {task.description}", name, total) as advance:
            return read_live_state(
                client, kinds, site=name, progress=lambda _what: advance(), holders=holders, declared=declared
            )
    except SiteError as exc:
        if desired is None:
            raise
        raise ops_refusal_with(exc, _manifests_way_out(desired)) from None


OPS_KINDS = (CUSTOM_ROLES.kind, TEAM_ROLES.kind)


def ops_refusal_with(exc: SiteError, way_out: str) -> SiteError:
    """`exc`, and if it is JSM Operations refusing a service account, with `way_out` for the second way out
    (the site layer knows only that the manifests may name the Ops kinds)."""
    if OPS_WAY_OUT not in exc.message:
        return exc
    return dataclasses.replace(exc, message=exc.message.replace(OPS_WAY_OUT, way_out))


def _manifests_way_out(desired: DesiredState) -> str:
    """What in the manifests made the command read the Ops kinds: a section, settings.prune, or a policy on
    their rights. Each needs its own edit; leaving the sections out alone would not stop the reads."""
    sections = any(
        kind in desired.named_kinds
        and (kind not in desired.prune or any(a.kind == kind for a in desired.objects))
        for kind in OPS_KINDS
    )
    edits = [OPS_WAY_OUT] if sections else []
    pruned = [kind for kind in OPS_KINDS if kind in desired.prune]
    if pruned:
        edits.append(f"take {' and '.join(pruned)} out of settings.prune")
    for rule in desired.settings.policies:
        right = rule.deny.right_rule if rule.deny else None
        if right is not None and RIGHT_RULES[right[0]][0] in OPS_KINDS:
            edits.append(f"remove the policy {rule.name!r} from settings.policies (it judges {right[0]})")
    return ", and ".join(edits) or OPS_WAY_OUT  # every edit is needed, not one of them
