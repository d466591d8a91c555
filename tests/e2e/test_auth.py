"""The CLI end to end over HTTP against the served sandbox, for what a real site does that a friendly
simulation might not: OAuth and scoped tokens reach Jira only through the API gateway, the site URL
refuses them, a repeated DELETE may be a 400, a mistyped site does not resolve, and credentials meant for
a real site never reach the embedded sandbox."""

from __future__ import annotations

import base64
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.sandbox.app import Knobs
from reconciler.sandbox.auth import SANDBOX_OAUTH_CLIENT_ID, SANDBOX_OAUTH_CLIENT_SECRET
from reconciler.sandbox.common import (
    SANDBOX_API_TOKEN,
    SANDBOX_EMAIL,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_SCOPED_TOKEN,
)
from tests.e2e.conftest import LOOKUPS, Harness

SRE = "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"
SEED: dict[str, Any] = {
    "teams": [
        {"name": "Platform SRE", "id": SRE, "roles": [{"name": "on-call"}, {"name": "retired"}]},
        *LOOKUPS["teams"][1:],
    ],
    "detailFields": {
        "organization": [{"name": "Region", "type": "TEXT"}, {"name": "Old field", "type": "TEXT"}]
    },
    "products": [{"name": "Keep"}, {"name": "Old product"}],
    "customRoles": [{"name": "Old role", "grantedRights": ["alert-action"]}],
}
# Something of every kind to create, update and delete.
MANIFESTS = """
settings:
  prune: [detailFields, products, customRoles, teamRoles, permissionSchemes]
detailFields:
  organization:
    - {name: Region, type: TEXT}
    - {name: Tier, type: SELECT, options: [Gold, Silver]}
products:
  - name: Keep
  - name: New product
customRoles:
  - {name: Finance, grantedRights: [alert-action]}
teamRoles:
  - team: Platform SRE
    roles:
      - {name: on-call, granted: [edit-schedules]}
permissionSchemes:
  - name: Gateway scheme
    grants:
      BROWSE_PROJECTS: [reporter]
"""


def run(harness: Harness, *args: str, **env: str) -> Result:
    """The CLI against the served sandbox, with the credentials given (none by default)."""
    environment = {
        "JSM_SITE": harness.url,
        "JSM_API_BASE": harness.url,
        "JSM_EMAIL": "",
        "JSM_API_TOKEN": "",
        "JSM_OAUTH_TOKEN": "",
        "JSM_SCOPED_TOKEN": "",
        "JSM_OAUTH_CLIENT_ID": "",
        "JSM_OAUTH_CLIENT_SECRET": "",
        "JSM_AUTH_BASE": "",
        "JSM_CLOUD_ID": "",
        "JSM_JOURNAL": str(harness.manifests.parent / "journal.jsonl"),
        "GITHUB_ACTIONS": "",
        **env,
    }
    return CliRunner().invoke(cli, ["--no-color", *args], env=environment, catch_exceptions=False)


OAUTH = {"JSM_OAUTH_TOKEN": SANDBOX_OAUTH_TOKEN}
SCOPED = {"JSM_EMAIL": SANDBOX_EMAIL, "JSM_API_TOKEN": SANDBOX_SCOPED_TOKEN, "JSM_SCOPED_TOKEN": "1"}


@pytest.mark.parametrize("credentials", [OAUTH, SCOPED], ids=["oauth", "scoped-token"])
def test_plan_and_apply_converge_through_the_gateway(
    harness_factory: Any, credentials: dict[str, str]
) -> None:
    harness: Harness = harness_factory(SEED)
    harness.write(MANIFESTS)
    planned = run(harness, "plan", "--detailed-exitcode", str(harness.manifests), **credentials)
    assert planned.exit_code == 2, planned.output + planned.stderr
    applied = run(harness, "apply", "--auto-approve", "--allow-delete", str(harness.manifests), **credentials)
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "0 failed" in applied.output
    again = run(harness, "plan", "--detailed-exitcode", str(harness.manifests), **credentials)
    assert again.exit_code == 0 and "No changes." in again.output, again.output
    paths = [c.path for c in harness.site.calls]
    cloud = harness.site.cloud_id
    assert f"/ex/jira/{cloud}/rest/api/3/permissionscheme" in paths
    assert ("POST", f"/ex/jira/{cloud}/rest/api/3/permissionscheme") in harness.writes()
    assert [p for p in paths if p.startswith("/rest/api/3")] == []  # never the site URL


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {SANDBOX_OAUTH_TOKEN}",
        "Basic " + base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_SCOPED_TOKEN}".encode()).decode(),
    ],
    ids=["bearer", "scoped-token"],
)
def test_the_site_url_answers_401_to_gateway_credentials(harness: Harness, authorization: str) -> None:
    site = requests.get(
        f"{harness.url}/rest/api/3/myself", headers={"Authorization": authorization}, timeout=10
    )
    assert site.status_code == 401
    assert site.json() == {
        "errorMessages": ["Client must be authenticated to access this resource."],
        "errors": {},
    }
    gateway = f"{harness.url}/ex/jira/{harness.site.cloud_id}/rest/api/3/myself"
    assert requests.get(gateway, headers={"Authorization": authorization}, timeout=10).status_code == 200


def test_a_scoped_token_without_the_flag_says_what_to_set(harness: Harness) -> None:
    harness.write("permissionSchemes: []\n")  # a kind of Jira's, which the site URL serves
    scoped_unflagged = {**SCOPED, "JSM_SCOPED_TOKEN": ""}
    result = run(harness, "plan", str(harness.manifests), **scoped_unflagged)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "401" in errors[0] and "JSM_SCOPED_TOKEN=1" in errors[0], result.stderr
    assert SANDBOX_SCOPED_TOKEN not in result.output + result.stderr


def test_a_lost_delete_answer_then_a_400_still_converges(harness_factory: Any) -> None:
    """The documents declare no 404 for these DELETEs: sent again after a lost answer, a real site may
    answer 400. The client reads whether the object is gone instead of trusting the status."""
    knobs = Knobs(record_calls=True, delete_missing_status=400)
    harness: Harness = harness_factory(SEED, knobs)
    harness.write(
        """
        settings:
          prune: [detailFields, products, teamRoles]
        detailFields:
          organization:
            - {name: Region, type: TEXT}
        products:
          - name: Keep
        teamRoles:
          - team: Platform SRE
            roles:
              - {name: on-call}
        """
    )
    knobs.drop_after_write_every = 1  # every committed write loses its answer (the plan only deletes)
    applied = run(
        harness,
        "apply",
        "--auto-approve",
        "--allow-delete",
        str(harness.manifests),
        JSM_EMAIL=SANDBOX_EMAIL,
        JSM_API_TOKEN=SANDBOX_API_TOKEN,
    )
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "3 applied, 0 failed" in applied.output
    answers: dict[str, list[int]] = defaultdict(list)
    for call in harness.site.calls:
        if call.method == "DELETE":
            answers[call.path].append(call.status)
    # Each DELETE committed and lost its answer (recorded as 204), was sent again and got the 400.
    assert sorted(answers.values()) == [[204, 400]] * 3, answers
    knobs.drop_after_write_every = 0
    again = run(
        harness,
        "plan",
        "--detailed-exitcode",
        str(harness.manifests),
        JSM_EMAIL=SANDBOX_EMAIL,
        JSM_API_TOKEN=SANDBOX_API_TOKEN,
    )
    assert again.exit_code == 0 and "No changes." in again.output, again.output


def test_a_site_that_does_not_resolve_fails_at_once_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("version: 1\nproducts: []\n", encoding="utf-8")
    environment = {
        "JSM_SITE": "https://jsm-reconciler-typo.invalid",
        "JSM_API_BASE": "",
        "JSM_EMAIL": SANDBOX_EMAIL,
        "JSM_API_TOKEN": SANDBOX_API_TOKEN,
        "JSM_OAUTH_TOKEN": "",
        "JSM_CLOUD_ID": "",
        "GITHUB_ACTIONS": "",
    }
    start = time.monotonic()
    result = CliRunner().invoke(
        cli, ["--no-color", "-v", "plan", str(tmp_path)], env=environment, catch_exceptions=False
    )
    elapsed = time.monotonic() - start
    assert result.exit_code == 1
    assert (
        "the host name does not resolve (DNS): jsm-reconciler-typo.invalid; check JSM_SITE and JSM_API_BASE"
        in result.stderr
    ), result.stderr
    assert "Retrying" not in result.stderr  # urllib3 logs every retry under -v
    assert "Traceback" not in result.output + result.stderr
    assert elapsed < 15  # was 33 s of retries; generous, so a slow machine never fails it


def test_credentials_for_a_real_site_never_reach_the_embedded_sandbox(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("version: 1\nproducts: [{name: Mine}]\n", encoding="utf-8")
    canary = "canary-real-site-token-3e8d1c"
    environment = {
        **{k: "" for k in os.environ if k.startswith("JSM_")},
        "JSM_SANDBOX_STATE": str(tmp_path / "state.json"),
        "JSM_EMAIL": "me@example.com",
        "JSM_API_TOKEN": canary,
        "JSM_SCOPED_TOKEN": "1",
        "GITHUB_ACTIONS": "",
    }
    runner = CliRunner()
    planned = runner.invoke(
        cli, ["--no-color", "plan", str(tmp_path)], env=environment, catch_exceptions=False
    )
    # Were they sent, the sandbox would answer 401: it knows only its own credentials.
    assert planned.exit_code == 0, planned.stderr
    assert "+ products/Mine" in planned.output
    notices = [line for line in planned.stderr.splitlines() if line.startswith("Ignored ")]
    assert notices == [
        "Ignored JSM_EMAIL, JSM_API_TOKEN, JSM_SCOPED_TOKEN: the sandbox site uses its own credentials, "
        "and yours are never sent to it."
    ]
    assert canary not in planned.output + planned.stderr
    half = {**environment, "JSM_API_TOKEN": ""}  # half of Basic would stop a real site, not the sandbox
    assert runner.invoke(cli, ["plan", str(tmp_path)], env=half, catch_exceptions=False).exit_code == 0


# --- service accounts: OAuth 2.0 client credentials, and what JSM Operations refuses them -----------------

CLIENT_CREDENTIALS = {
    "JSM_OAUTH_CLIENT_ID": SANDBOX_OAUTH_CLIENT_ID,
    "JSM_OAUTH_CLIENT_SECRET": SANDBOX_OAUTH_CLIENT_SECRET,
}
NO_OPERATIONS = """
settings:
  prune: [products]
products:
  - name: Keep
  - name: New product
permissionSchemes:
  - name: Gateway scheme
    grants:
      BROWSE_PROJECTS: [reporter]
"""


def test_a_service_account_plans_and_applies_every_kind_but_operations(
    harness_factory: Any, tmp_path: Path
) -> None:
    """Client credentials exchanged at JSM_AUTH_BASE (the sandbox), Bearer through the gateway; the
    manifests name no Ops kind, so no Ops request is made (JSDCLOUD-17685 would refuse it); neither the
    client secret nor any access token shows in any output, saved plan or journal."""
    harness: Harness = harness_factory(SEED)
    harness.write(NO_OPERATIONS)
    auth = {**CLIENT_CREDENTIALS, "JSM_AUTH_BASE": harness.url}
    saved, journal = tmp_path / "plan.json", harness.manifests.parent / "journal.jsonl"
    outputs = []
    for args in (
        ("plan", "--detailed-exitcode", "--out", str(saved), str(harness.manifests)),
        ("apply", "--plan", str(saved), "--auto-approve", "--allow-delete"),
        ("plan", "--detailed-exitcode", "--format", "json", str(harness.manifests)),
    ):
        result = run(harness, "-v", *args, **auth)
        outputs += [result.output, result.stderr]
        assert result.exit_code in (0, 2), result.output + result.stderr
    assert result.exit_code == 0 and json.loads(result.stdout)["changes"] == []
    assert ("POST", "/oauth/token") in [(c.method, c.path) for c in harness.site.calls]
    assert not [c.path for c in harness.site.calls if c.path.startswith("/jsm/ops/")]
    assert sorted(p["name"] for p in harness.site.snapshot()["products"]) == ["Keep", "New product"]
    for text in (*outputs, saved.read_text(encoding="utf-8"), journal.read_text(encoding="utf-8")):
        assert SANDBOX_OAUTH_CLIENT_SECRET not in text and "sandbox-access-token" not in text


@pytest.mark.parametrize(
    ("credentials", "knobs"),
    [
        (CLIENT_CREDENTIALS, Knobs(record_calls=True)),
        (SCOPED, Knobs(record_calls=True, fail_on={("GET", "/v1/teams"): 403})),
    ],
    ids=["client-credentials", "scoped-token"],
)
def test_an_operations_refusal_under_a_service_account_says_why_and_what_to_do(
    harness_factory: Any, credentials: dict[str, str], knobs: Knobs
) -> None:
    harness: Harness = harness_factory(SEED, knobs)
    harness.write("teamRoles: []\n")
    result = run(harness, "plan", str(harness.manifests), **credentials, JSM_AUTH_BASE=harness.url)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for said in (
        "/jsm/ops/",
        "JSDCLOUD-17685",
        "customRoles and teamRoles",
        "JSM agent access",
        "read:ops-config",
    ):
        assert said in errors[0], errors[0]
    assert "leave customRoles and teamRoles out of the manifests" in errors[0]


@pytest.mark.parametrize(
    ("manifest", "way_out"),
    [
        (
            None,
            "or export only the other kinds: jsm-reconciler export --kind detailFields --kind products "
            "--kind permissionSchemes --kind projects;",
        ),
        (
            "products: []\nsettings:\n  prune: [customRoles]\n",
            "or take customRoles out of settings.prune;",
        ),
        (
            "products: []\nsettings:\n  policies:\n    - name: No admin right\n"
            "      deny: {customRoleRight: admin}\n",
            "or remove the policy 'No admin right' from settings.policies (it judges customRoleRight);",
        ),
        (
            "export --kind teamRoles",
            "or export other kinds (only teamRoles were asked for);",
        ),
        (
            "products: []\nsettings:\n  prune: [customRoles]\n  policies:\n    - name: No admin right\n"
            "      deny: {customRoleRight: admin}\n",
            "or take customRoles out of settings.prune, and remove the policy 'No admin right' from "
            "settings.policies (it judges customRoleRight);",
        ),
    ],
    ids=["export", "prune", "policy", "export only Ops", "prune and policy"],
)
def test_an_operations_refusal_names_what_made_the_command_read_operations(
    harness_factory: Any, tmp_path: Path, manifest: str | None, way_out: str
) -> None:
    """Leaving the Ops sections out of the manifests does not help when export reads every kind, or when
    settings.prune or a policy names an Ops kind: the error says what to change instead."""
    harness: Harness = harness_factory(SEED, Knobs(record_calls=True))
    if manifest is None or manifest.startswith("export "):
        kinds = manifest.split()[1:] if manifest else []
        command: tuple[str, ...] = ("export", "--out", str(tmp_path / "exp"), *kinds)
    else:
        harness.write(manifest)
        command = ("plan", str(harness.manifests))
    result = run(harness, *command, **CLIENT_CREDENTIALS, JSM_AUTH_BASE=harness.url)
    assert result.exit_code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert way_out in error and "JSM agent access" in error
    assert "out of the manifests" not in error
