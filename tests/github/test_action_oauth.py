"""The Action's inputs for a service account's OAuth 2.0 client credentials: passed to the tool as
JSM_OAUTH_CLIENT_ID and JSM_OAUTH_CLIENT_SECRET only, counted as credentials, the secret blanked."""

from __future__ import annotations

import re

from reconciler.github.runner import Inputs, Runner
from tests.github.action_runner import ACTION, load_action

SECRET = "client-secret-canary-4e2d9a"


def test_client_credential_inputs_reach_the_tool_only_through_env() -> None:
    action = load_action()
    for name, variable in (
        ("oauth-client-id", "JSM_OAUTH_CLIENT_ID"),
        ("oauth-client-secret", "JSM_OAUTH_CLIENT_SECRET"),
    ):
        assert name in action["inputs"] and action["inputs"][name]["default"] == ""
        run_step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
        assert run_step["env"][variable] == f"${{{{ inputs.{name} }}}}"
        assert len(re.findall(rf"\$\{{\{{\s*inputs\.{name}\s*\}}\}}", ACTION.read_text())) == 1


def test_client_credentials_count_as_credentials_and_the_secret_is_blanked() -> None:
    env = {"JSM_SITE": "https://acme.atlassian.net", "JSM_OAUTH_CLIENT_ID": "client-id"}
    assert not Inputs.from_env(env).has_credentials  # half of them is none
    env["JSM_OAUTH_CLIENT_SECRET"] = SECRET
    assert Inputs.from_env(env).has_credentials
    assert SECRET not in Runner(env).redact(f"the site said: {SECRET}")
