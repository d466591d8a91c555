"""The few GitHub REST calls the action makes: find, create and update its one pull request comment.

The API root is GITHUB_API_URL (GitHub Enterprise Server and the tests' fake API set it). The token goes
in the Authorization header only; errors name the request, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

API_VERSION = "2022-11-28"
TIMEOUT = (10, 30)
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments; a pull request with more is not worth searching further


class GitHubError(Exception):
    """A GitHub API call failed; the message is safe to show (no token)."""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str


class GitHubClient:
    def __init__(self, api_url: str, token: str, repository: str, *, session: requests.Session | None = None):
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "jsm-reconciler-action",
                "Authorization": f"Bearer {token}",
            }
        )

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.api_url}{path}"
        try:
            response = self._session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(f"{method} {path}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            raise GitHubError(f"{method} {path}: HTTP {response.status_code} {message}".rstrip())
        return response.json() if response.content else None

    def list_comments(self, number: int) -> list[Comment]:
        comments: list[Comment] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self._call(
                "GET",
                f"/repos/{self.repository}/issues/{number}/comments",
                params={"per_page": PER_PAGE, "page": page},
            )
            if not isinstance(batch, list):
                raise GitHubError(f"GET comments of #{number}: unexpected answer")
            comments += [Comment(int(c["id"]), str(c.get("body") or "")) for c in batch]
            if len(batch) < PER_PAGE:
                break
        return comments

    def create_comment(self, number: int, body: str) -> Comment:
        data = self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body})
        return Comment(int(data["id"]), str(data.get("body") or ""))

    def update_comment(self, comment_id: int, body: str) -> Comment:
        data = self._call(
            "PATCH", f"/repos/{self.repository}/issues/comments/{comment_id}", json={"body": body}
        )
        return Comment(int(data["id"]), str(data.get("body") or ""))

    def upsert_comment(self, number: int, marker: str, body: str) -> tuple[str, Comment]:
        """Update the oldest comment that starts with `marker`, or create one. Returns (verb, comment)."""
        for comment in self.list_comments(number):
            if comment.body.lstrip().startswith(marker):
                return "updated", self.update_comment(comment.id, body)
        return "created", self.create_comment(number, body)
