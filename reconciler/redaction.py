"""The one rule for blanking credentials out of text: every place that prints, logs or saves text a
credential could reach (the CLI's output, HTTP error bodies, the GitHub Action's log) uses it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable

# No real token is this short (Atlassian API tokens have 24 characters or far more, OAuth and GitHub tokens
# more still), so a shorter value is a placeholder: the configuration refuses it, and blanking it would
# garble ordinary words ("object(s)" with a token "t").
MIN_SECRET_LENGTH = 16
PLACEHOLDER = "[redacted]"


def basic_auth_secrets(email: str, token: str) -> list[str]:
    """The token, and the Basic header value built from it, which an error body may echo."""
    pair = f"{email}:{token}".encode("latin-1", "replace")
    return [token, base64.b64encode(pair).decode()]


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function that replaces each secret (of MIN_SECRET_LENGTH or more) in a text by PLACEHOLDER."""
    ordered = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, PLACEHOLDER)
        return text

    return redact
