"""config_from_env: the site, the credentials and the http:// rule (CLI.md, "Site and credentials")."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.site.config import (
    DEFAULT_API_BASE,
    DEFAULT_SANDBOX_STATE,
    Credentials,
    check_url_allowed,
    config_from_env,
)

SECRET = "canary-secret-5e1d"
BASIC = {"JSM_EMAIL": "me@example.com", "JSM_API_TOKEN": SECRET}


def test_the_sandbox_is_the_default() -> None:
    config = config_from_env({})
    assert config.is_embedded_sandbox
    assert config.site == "sandbox"
    assert config.credentials is None
    assert config.sandbox_state == Path(DEFAULT_SANDBOX_STATE)


def test_sandbox_state_and_cloud_id_come_from_the_environment() -> None:
    config = config_from_env({"JSM_SANDBOX_STATE": "/tmp/x.json", "JSM_CLOUD_ID": "abc"})
    assert config.sandbox_state == Path("/tmp/x.json")
    assert config.cloud_id == "abc"


def test_the_site_option_wins_over_jsm_site() -> None:
    env = {**BASIC, "JSM_SITE": "https://a.atlassian.net"}
    assert config_from_env(env, site="https://b.atlassian.net/").site == "https://b.atlassian.net"
    assert config_from_env(env, site="sandbox").is_embedded_sandbox


def test_a_real_site_with_basic_credentials() -> None:
    config = config_from_env({**BASIC, "JSM_SITE": "https://acme.atlassian.net/"})
    assert config.site == "https://acme.atlassian.net"
    assert config.api_base == DEFAULT_API_BASE
    assert config.credentials == Credentials(email="me@example.com", secret=SECRET)
    assert config.cloud_id is None


def test_jsm_api_base_and_cloud_id() -> None:
    env = {
        **BASIC,
        "JSM_SITE": "https://acme.atlassian.net",
        "JSM_API_BASE": "https://gw.example.com/",
        "JSM_CLOUD_ID": "cid",
    }
    config = config_from_env(env)
    assert config.api_base == "https://gw.example.com"
    assert config.cloud_id == "cid"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.0.0.2",
        "http://[::1]:9000",
        "http://localhost:5000",
        "http://LOCALHOST",
        "https://example.com",
    ],
)
def test_allowed_urls(url: str) -> None:
    check_url_allowed(url, "JSM_SITE")
    assert config_from_env({**BASIC, "JSM_SITE": url}).site == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://acme.atlassian.net",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.1",
        "http://0.0.0.0",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"http:// is refused"):
        config_from_env({**BASIC, "JSM_SITE": url})


def test_plain_http_api_base_is_refused() -> None:
    env = {**BASIC, "JSM_SITE": "https://acme.atlassian.net", "JSM_API_BASE": "http://gw.example.com"}
    with pytest.raises(ConfigError, match="JSM_API_BASE"):
        config_from_env(env)


@pytest.mark.parametrize("url", ["ftp://example.com", "example.com", "https://", "file:///etc/passwd"])
def test_not_a_url(url: str) -> None:
    with pytest.raises(ConfigError, match="https://"):
        check_url_allowed(url, "JSM_SITE")


def test_a_site_without_a_scheme_gets_the_https_url_suggested() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_env({**BASIC, "JSM_SITE": "acme.atlassian.net"})
    assert str(caught.value).endswith("did you mean 'https://acme.atlassian.net'?")


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    for url in (
        f"https://me:{SECRET}@acme.atlassian.net",
        f"ftp://me:{SECRET}@acme.atlassian.net",
        f"me:{SECRET}@acme.atlassian.net",
    ):
        with pytest.raises(ConfigError) as caught:
            config_from_env({**BASIC, "JSM_SITE": url})
        assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
        assert "JSM_EMAIL" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "missing"),
    [({"JSM_EMAIL": "me@example.com"}, "JSM_API_TOKEN"), ({"JSM_API_TOKEN": SECRET}, "JSM_EMAIL")],
)
def test_half_of_basic_credentials_is_an_error(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing) as caught:
        config_from_env({**env, "JSM_SITE": "https://acme.atlassian.net"})
    assert SECRET not in str(caught.value)


def test_a_real_site_needs_credentials() -> None:
    with pytest.raises(ConfigError, match="JSM_OAUTH_TOKEN"):
        config_from_env({"JSM_SITE": "https://acme.atlassian.net"})


def test_oauth_wins_over_basic() -> None:
    env = {**BASIC, "JSM_OAUTH_TOKEN": "oauth-" + SECRET, "JSM_SITE": "https://acme.atlassian.net"}
    credentials = config_from_env(env).credentials
    assert credentials == Credentials(secret="oauth-" + SECRET, bearer=True)


def test_surrounding_whitespace_is_ignored() -> None:
    env = {
        "JSM_EMAIL": " me@example.com ",
        "JSM_API_TOKEN": f"{SECRET}\n",
        "JSM_SITE": " https://a.atlassian.net ",
    }
    config = config_from_env(env)
    assert config.credentials == Credentials(email="me@example.com", secret=SECRET)
    assert config.site == "https://a.atlassian.net"


@pytest.mark.parametrize("bad", [f"{SECRET}\u2019", f"{SECRET[:4]}\n{SECRET[4:]}", f"“{SECRET}”"])
@pytest.mark.parametrize("variable", ["JSM_API_TOKEN", "JSM_OAUTH_TOKEN"])
def test_a_token_with_characters_no_token_has_is_refused_without_echoing_it(bad: str, variable: str) -> None:
    env = {"JSM_EMAIL": "me@example.com", variable: bad, "JSM_SITE": "https://acme.atlassian.net"}
    with pytest.raises(ConfigError, match=variable) as caught:
        config_from_env(env)
    assert SECRET[4:] not in str(caught.value) and SECRET[4:] not in repr(caught.value)


def test_no_secret_in_the_repr_of_the_config() -> None:
    for env in (BASIC, {"JSM_OAUTH_TOKEN": SECRET}):
        config = config_from_env({**env, "JSM_SITE": "https://acme.atlassian.net"})
        assert config.credentials is not None
        for text in (repr(config), str(config), repr(config.credentials), str(config.credentials)):
            assert SECRET not in text


# --- scoped tokens, the sandbox's own credentials, short tokens, JSM_MAX_RETRY_AFTER -----------------


@pytest.mark.parametrize(("value", "scoped"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_jsm_scoped_token_marks_a_basic_token_as_scoped(value: str, scoped: bool) -> None:
    env = {**BASIC, "JSM_SCOPED_TOKEN": value, "JSM_SITE": "https://acme.atlassian.net"}
    credentials = config_from_env(env).credentials
    assert credentials == Credentials(email="me@example.com", secret=SECRET, scoped=scoped)
    assert credentials.via_gateway is scoped


def test_an_oauth_token_always_goes_through_the_gateway() -> None:
    credentials = config_from_env(
        {"JSM_OAUTH_TOKEN": SECRET, "JSM_SITE": "https://acme.atlassian.net"}
    ).credentials
    assert credentials is not None and credentials.via_gateway


def test_a_scoped_flag_that_is_not_a_yes_or_no_is_refused() -> None:
    with pytest.raises(ConfigError, match="JSM_SCOPED_TOKEN must be 1"):
        config_from_env({**BASIC, "JSM_SCOPED_TOKEN": "maybe", "JSM_SITE": "https://acme.atlassian.net"})


@pytest.mark.parametrize(
    "env",
    [
        BASIC,
        {"JSM_EMAIL": "me@example.com"},  # half of Basic: an error for a real site, not for the sandbox
        {"JSM_OAUTH_TOKEN": "x", "JSM_SCOPED_TOKEN": "maybe"},  # too short, and a bad flag: not read at all
    ],
)
def test_the_sandbox_ignores_credentials_exported_for_a_real_site(env: dict[str, str]) -> None:
    config = config_from_env(env)
    assert config.is_embedded_sandbox and config.credentials is None
    assert set(config.ignored_credentials) == set(env)


@pytest.mark.parametrize("variable", ["JSM_API_TOKEN", "JSM_OAUTH_TOKEN"])
def test_a_token_too_short_to_be_real_is_refused_without_echoing_it(variable: str) -> None:
    env = {"JSM_EMAIL": "me@example.com", variable: "t0ken", "JSM_SITE": "https://acme.atlassian.net"}
    with pytest.raises(ConfigError, match=f"{variable} is shorter than 16 characters") as caught:
        config_from_env(env)
    assert "t0ken" not in str(caught.value)


@pytest.mark.parametrize(("value", "seconds"), [("", 300), ("0", 0), ("900", 900)])
def test_jsm_max_retry_after(value: str, seconds: int) -> None:
    assert config_from_env({"JSM_MAX_RETRY_AFTER": value}).max_retry_after_s == seconds


@pytest.mark.parametrize("value", ["-1", "5m", "1.5", "٣"])
def test_a_jsm_max_retry_after_that_is_not_whole_seconds_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="JSM_MAX_RETRY_AFTER must be a whole number of seconds"):
        config_from_env({"JSM_MAX_RETRY_AFTER": value})


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("JSM_API_TOKEN", f'"{SECRET}"', 'JSM_API_TOKEN starts and ends with a double quote (")'),
        ("JSM_API_TOKEN", f"'{SECRET}'", "JSM_API_TOKEN starts and ends with a single quote (')"),
        ("JSM_OAUTH_TOKEN", f"“{SECRET}”", "JSM_OAUTH_TOKEN starts with a curly quote (“) and ends with"),
        ("JSM_API_TOKEN", f"{SECRET[:4]} {SECRET[4:]}", "JSM_API_TOKEN contains a space at character 5"),
        ("JSM_API_TOKEN", f'{SECRET}"{SECRET}', 'JSM_API_TOKEN contains a double quote (") at character 19'),
        ("JSM_OAUTH_TOKEN", f"{SECRET[:4]}\t{SECRET[4:]}", "JSM_OAUTH_TOKEN contains a tab at character 5"),
        ("JSM_EMAIL", '"me@example.com"', 'JSM_EMAIL starts and ends with a double quote (")'),
        ("JSM_EMAIL", "me @example.com", "JSM_EMAIL contains a space at character 3, which no email address"),
    ],
)
def test_quotes_and_spaces_pasted_into_a_credential_are_refused_without_echoing_it(
    variable: str, value: str, said: str
) -> None:
    env = {**BASIC, variable: value, "JSM_SITE": "https://acme.atlassian.net"}
    with pytest.raises(ConfigError) as caught:
        config_from_env(env)
    assert said in caught.value.message
    assert SECRET[4:] not in caught.value.message and "example.com" not in caught.value.message


def test_spaces_around_a_credential_are_not_part_of_it() -> None:
    env = {
        "JSM_EMAIL": " me@example.com\n",
        "JSM_API_TOKEN": f"{SECRET}\n",
        "JSM_SITE": "https://a.atlassian.net",
    }
    assert config_from_env(env).credentials == Credentials(email="me@example.com", secret=SECRET)


# --- a service account's OAuth 2.0 client credentials ------------------------------------------------

CLIENT = {"JSM_OAUTH_CLIENT_ID": "client-id-1", "JSM_OAUTH_CLIENT_SECRET": "client-" + SECRET}


def test_oauth_client_credentials_are_exchanged_at_the_default_auth_base() -> None:
    credentials = config_from_env({**CLIENT, "JSM_SITE": "https://acme.atlassian.net"}).credentials
    assert credentials == Credentials(
        secret="client-" + SECRET,
        bearer=True,
        client_id="client-id-1",
        auth_base="https://auth.atlassian.com",
    )
    assert credentials.via_gateway and credentials.service_account
    assert "client-" + SECRET not in repr(credentials) + str(credentials)


def test_jsm_auth_base_is_overridable_and_plain_http_only_for_loopback() -> None:
    env = {**CLIENT, "JSM_SITE": "https://acme.atlassian.net", "JSM_AUTH_BASE": "http://127.0.0.1:8080/"}
    credentials = config_from_env(env).credentials
    assert credentials is not None and credentials.auth_base == "http://127.0.0.1:8080"
    with pytest.raises(ConfigError, match=r"JSM_AUTH_BASE: plain http:// is refused for auth\.example\.com"):
        config_from_env({**env, "JSM_AUTH_BASE": "http://auth.example.com"})


@pytest.mark.parametrize("present", ["JSM_OAUTH_CLIENT_ID", "JSM_OAUTH_CLIENT_SECRET"])
def test_half_of_the_client_credentials_is_an_error(present: str) -> None:
    missing = next(name for name in CLIENT if name != present)
    with pytest.raises(ConfigError, match=f"{missing} is not set") as caught:
        config_from_env({present: CLIENT[present], "JSM_SITE": "https://acme.atlassian.net"})
    assert SECRET not in str(caught.value)


def test_the_sandbox_ignores_client_credentials_exported_for_a_real_site() -> None:
    config = config_from_env({**CLIENT, "JSM_AUTH_BASE": "http://auth.example.com"})
    assert config.credentials is None and set(config.ignored_credentials) == set(CLIENT)


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://acme.atlassian.net/jira/servicedesk/projects", "https://acme.atlassian.net"),
        ("http://127.0.0.1:18080/jira/", "http://127.0.0.1:18080"),
        ("https://acme.atlassian.net/?x=1", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net#top", "https://acme.atlassian.net"),
        ("acme.atlassian.net/jira/servicedesk", "https://acme.atlassian.net"),
    ],
)
def test_a_site_with_a_path_is_refused_with_its_root_suggested(url: str, root: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_env({**BASIC, "JSM_SITE": url})
    assert str(caught.value).startswith("JSM_SITE must be")
    assert str(caught.value).endswith(f"did you mean '{root}'?")
    assert config_from_env({**BASIC, "JSM_SITE": root + "/"}).site == root


def test_errors_name_site_when_the_value_came_from_site() -> None:
    env = {**BASIC, "JSM_SITE": "https://other.atlassian.net"}
    for url in ("http://example.atlassian.net", "https://acme.atlassian.net/jira", "acme.atlassian.net"):
        with pytest.raises(ConfigError, match=r"^--site[ :]"):
            config_from_env(env, site=url)
