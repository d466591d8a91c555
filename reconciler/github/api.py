"""The few GitHub API calls the action makes: who the token writes as, the pull request a commit merged,
and the action's own pull request comments.

The REST root is GITHUB_API_URL and the GraphQL endpoint GITHUB_GRAPHQL_URL (GitHub Enterprise Server and
the tests' fake API set them). The token goes in the Authorization header only; errors name the request,
never the token.

Whose a comment is: the token's identity is asked of GraphQL (`viewer`), the one query that answers for
every kind of token: REST `GET /user` refuses installation tokens (GITHUB_TOKEN, a GitHub App's), and
`GET /app` needs the app's private key. A comment is the action's when its REST `user.id` is that
identity's `databaseId`, which neither a rename nor the `[bot]` suffix changes.
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


# Besides GitHubError, what reading an answer that is not as GitHub documents it raises: a field missing, or
# of another type than documented.
UNEXPECTED_ANSWER = (KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class Identity:
    """Who the token writes as: a user (a personal access token) or a bot (an installation token)."""

    login: str
    id: int


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author_id: int | None = None
    node_id: str = ""

    @classmethod
    def from_json(cls, data: Any) -> Comment:
        user = data.get("user") or {}
        author = user.get("id")
        return cls(
            int(data["id"]),
            str(data.get("body") or ""),
            author if isinstance(author, int) else None,
            str(data.get("node_id") or ""),
        )


_VIEWER = "query { viewer { login databaseId } }"
# The last editor of a comment: someone with write access to a repository can edit anyone's comments.
_EDITOR = (
    "query($id: ID!) { node(id: $id) { ... on IssueComment {"
    " editor { login ... on User { databaseId } ... on Bot { databaseId } } } } }"
)


def graphql_url(api_url: str) -> str:
    """GraphQL's endpoint when GITHUB_GRAPHQL_URL is not set: github.com's, or GitHub Enterprise Server's."""
    root = api_url.rstrip("/")
    return f"{root.removesuffix('/api/v3')}/api/graphql" if root.endswith("/api/v3") else f"{root}/graphql"


class GitHubClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        *,
        graphql: str = "",
        session: requests.Session | None = None,
    ):
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql or graphql_url(api_url)
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
        return self._request(method, f"{self.api_url}{path}", path, **kwargs)

    def _request(self, method: str, url: str, label: str, **kwargs: Any) -> Any:
        """One request; errors name `label` (the REST path, or `graphql`), never the token."""
        try:
            response = self._session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(f"{method} {label}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            raise GitHubError(f"{method} {label}: HTTP {response.status_code} {message}".rstrip())
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
            comments += [Comment.from_json(c) for c in batch]
            if len(batch) < PER_PAGE:
                break
        return comments

    def create_comment(self, number: int, body: str) -> Comment:
        data = self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body})
        return Comment.from_json(data)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        data = self._call(
            "PATCH", f"/repos/{self.repository}/issues/comments/{comment_id}", json={"body": body}
        )
        return Comment.from_json(data)

    def own_comment(self, number: int, marker: str, owner: Identity) -> Comment | None:
        """The oldest comment by `owner` that starts with `marker`; anyone else's is ignored."""
        for comment in self.list_comments(number):
            if comment.author_id == owner.id and comment.body.lstrip().startswith(marker):
                return comment
        return None

    def upsert_comment(self, number: int, marker: str, body: str, owner: Identity) -> tuple[str, Comment]:
        """Update `owner`'s comment that starts with `marker`, or create one. Returns (verb, comment)."""
        comment = self.own_comment(number, marker, owner)
        if comment is not None:
            return "updated", self.update_comment(comment.id, body)
        return "created", self.create_comment(number, body)

    def _graphql(self, query: str, **variables: Any) -> Any:
        answer = self._request(
            "POST", self.graphql_url, "graphql", json={"query": query, "variables": variables}
        )
        if not isinstance(answer, dict) or answer.get("errors") or not isinstance(answer.get("data"), dict):
            errors = answer.get("errors") if isinstance(answer, dict) else None
            first = errors[0].get("message", "") if isinstance(errors, list) and errors else ""
            raise GitHubError(f"POST graphql: {first or 'unexpected answer'}"[:300])
        return answer["data"]

    def viewer(self) -> Identity:
        """Who this token writes as."""
        viewer = self._graphql(_VIEWER).get("viewer") or {}
        login, database_id = viewer.get("login"), viewer.get("databaseId")
        if not isinstance(login, str) or not isinstance(database_id, int):
            raise GitHubError("POST graphql: the token's identity (viewer) has no login or id")
        return Identity(login, database_id)

    def last_editor(self, comment: Comment) -> int | None:
        """The id of whoever last edited `comment`, or None if nobody has edited it since it was posted."""
        node = self._graphql(_EDITOR, id=comment.node_id).get("node")
        if not isinstance(node, dict):
            raise GitHubError(f"POST graphql: comment {comment.id} not found")
        editor = node.get("editor")
        if editor is None:
            return None
        database_id = editor.get("databaseId") if isinstance(editor, dict) else None
        if not isinstance(database_id, int):
            raise GitHubError(f"POST graphql: the editor of comment {comment.id} has no id")
        return database_id

    def merged_pull_request(self, sha: str) -> dict[str, Any] | None:
        """The pull request whose merge made commit `sha` (a merge, squash or rebase), if one did."""
        pulls = self._call(
            "GET", f"/repos/{self.repository}/commits/{sha}/pulls", params={"per_page": PER_PAGE}
        )
        if not isinstance(pulls, list):
            raise GitHubError(f"GET pull requests of commit {sha[:12]}: unexpected answer")
        for pull in pulls:
            if isinstance(pull, dict) and pull.get("merged_at") and pull.get("merge_commit_sha") == sha:
                return pull
        return None
