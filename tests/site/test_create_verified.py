"""Creates are not idempotent: when the answer to a POST is lost, the kind looks before it sends again,
so a dropped connection or a 5xx never makes a duplicate. Shown through each kind's `apply` over HTTP
against the sandbox's fault knobs, and for create_verified / delete_verified on their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.errors import RetryableSiteError, TerminalSiteError
from reconciler.kinds.custom_role import CustomRoleKind
from reconciler.kinds.detail_field import DetailFieldKind
from reconciler.kinds.kind import Action, Change, ResourceKind, create_verified, delete_verified
from reconciler.kinds.permission_scheme import PermissionSchemeKind, SchemeWrite
from reconciler.kinds.product import ProductKind
from reconciler.kinds.team_role import TeamRoleKind
from reconciler.registry import get_kind
from reconciler.site.api import Api
from reconciler.site.http import SiteClient
from tests.site.conftest import Served

pytestmark = pytest.mark.usefixtures("no_create_pause")

TEAM_ID = "2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10"  # Platform SRE in the demo seed
NEW_GRANT = {
    "permission": "EDIT_ISSUES",
    "holder": {"type": "projectRole", "parameter": "10001", "value": "10001"},
}


def _create(kind: str, scope: str, after: dict[str, Any], **context: Any) -> Change:
    return Change(
        key=f"{kind}/{after['name']}",
        address=Address(kind, scope, after["name"]),
        action=Action.CREATE,
        before=None,
        after=after,
        context=get_kind(kind).write_data.model_validate(context),
    )


def _cs_scheme(client: SiteClient) -> dict[str, Any]:
    schemes = client.get(Api.JIRA, "/permissionscheme", {"expand": "permissions"})["permissionSchemes"]
    scheme: dict[str, Any] = next(s for s in schemes if s["name"] == "CS scheme")
    return scheme


def _grant_change(client: SiteClient) -> Change:
    scheme = _cs_scheme(client)
    heading = {"name": scheme["name"], "description": scheme["description"]}
    return Change(
        key="permissionSchemes/CS scheme",
        address=Address("permissionSchemes", "", "CS scheme"),
        action=Action.UPDATE,
        before={**heading, "grants": []},
        after={**heading, "grants": ["EDIT_ISSUES: projectRole:Developers"]},
        context=SchemeWrite(server_id=str(scheme["id"]), grant_bodies={"new": NEW_GRANT}),
    )


@dataclass(frozen=True)
class Case:
    """One create through a kind: the change, the POST path it sends, and how many objects exist."""

    kind: ResourceKind
    change: Callable[[SiteClient], Change]
    post_path: str
    count: Callable[[SiteClient], int]


def _names(items: list[dict[str, Any]], name: str) -> int:
    return sum(1 for item in items if item.get("name") == name)


CASES = {
    "product": Case(
        ProductKind(),
        lambda _: _create("products", "", {"name": "New product"}),
        "/product",
        lambda c: _names(list(c.paginate_cursor(Api.CSM, "/product", limit=100)), "New product"),
    ),
    "custom role": Case(
        CustomRoleKind(),
        lambda _: _create(
            "customRoles", "", {"name": "New role", "grantedRights": ["alert-action"], "disallowedRights": []}
        ),
        "/roles",
        lambda c: _names(list(c.paginate_links(Api.OPS, "/roles", size=100)), "New role"),
    ),
    "team role": Case(
        TeamRoleKind(),
        lambda _: _create(
            "teamRoles", TEAM_ID, {"name": "New team role", "granted": ["access-reports"]}, teamId=TEAM_ID
        ),
        f"/teams/{TEAM_ID}/roles",
        lambda c: _names(c.get(Api.OPS, f"/teams/{TEAM_ID}/roles"), "New team role"),
    ),
    "detail field": Case(
        DetailFieldKind(),
        lambda _: _create("detailFields", "organization", {"name": "Renewal date", "type": "DATE"}),
        "/organization/details",
        lambda c: _names(c.get(Api.CSM, "/organization/details")["results"], "Renewal date"),
    ),
    "permission scheme": Case(
        PermissionSchemeKind(),
        lambda _: _create(
            "permissionSchemes",
            "",
            {"name": "New scheme", "description": "", "grants": []},
            grantBodies={"new": NEW_GRANT},
        ),
        "/permissionscheme",
        lambda c: _names(c.get(Api.JIRA, "/permissionscheme")["permissionSchemes"], "New scheme"),
    ),
    "permission grant": Case(
        PermissionSchemeKind(),
        _grant_change,
        "/permission",
        lambda c: sum(
            1
            for g in _cs_scheme(c)["permissions"]
            if g["permission"] == "EDIT_ISSUES" and g["holder"].get("value") == "10001"
        ),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_dropped_answer_to_a_committed_create_makes_no_duplicate(served: Served, case: Case) -> None:
    client = served.client()
    change = case.change(client)
    served.knobs.drop_after_write_every = 1  # every committed write loses its answer
    case.kind.apply(client, change)
    served.knobs.drop_after_write_every = 0
    assert case.count(client) == 1
    posts = [c for c in served.calls("POST") if c.path.endswith(case.post_path)]
    assert len(posts) == 1  # looked, found it, did not send it again


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_create_answered_503_is_sent_again_once(served: Served, case: Case) -> None:
    client = served.client()
    change = case.change(client)
    for _ in range(10):
        client.get(Api.JIRA, "/role")
    # error_every counts every request the site has seen: only the next one (the POST) fails; the next
    # failure would come far later than this test's few requests.
    served.knobs.retry_after_s = 0
    served.knobs.error_every = len(served.site.calls) + 1
    case.kind.apply(client, change)
    served.knobs.error_every = 0
    assert case.count(client) == 1
    posts = [c.status for c in served.calls("POST") if c.path.endswith(case.post_path)]
    assert posts[0] == 503
    assert posts[1:] in ([200], [201])


def test_a_create_is_never_sent_again_without_a_look(served: Served) -> None:
    """The site fails everything: the POST fails, so does the look; the POST is not sent again blind."""
    served.knobs.error_every = 1
    served.knobs.retry_after_s = 0
    client = served.client(max_retries=1)
    with pytest.raises(RetryableSiteError) as caught:
        ProductKind().apply(client, _create("products", "", {"name": "Never"}))
    assert caught.value.status == 503
    assert len(served.calls("POST", "/product")) == 1
    assert len(served.calls("GET", "/product")) == 2  # the look, retried once


# --- create_verified and delete_verified on their own ----------------------------------------------


def _lost(status: int | None = None) -> RetryableSiteError:
    return RetryableSiteError("POST /x: lost", endpoint="POST /x", status=status)


def test_create_verified_returns_the_answer() -> None:
    looks: list[int] = []

    def find() -> str | None:
        looks.append(1)
        return None

    assert create_verified(lambda: "made", find) == "made"
    assert looks == []


def test_create_verified_looks_before_sending_again() -> None:
    sent: list[int] = []

    def create() -> str:
        sent.append(1)
        raise _lost()

    assert create_verified(create, lambda: "found") == "found"
    assert len(sent) == 1


def test_create_verified_looks_again_while_a_lost_create_may_still_be_committing() -> None:
    """No answer at all (status None): the site may not show the object yet. Two looks find nothing, the
    third finds it, and the create is never sent again."""
    sent: list[int] = []
    looks: list[str | None] = [None, None, "found"]

    def create() -> str:
        sent.append(1)
        raise _lost()

    assert create_verified(create, lambda: looks.pop(0)) == "found"
    assert len(sent) == 1 and looks == []


def test_create_verified_sends_again_when_nothing_was_made() -> None:
    answers: list[Any] = [_lost(503), "made"]

    def create() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert create_verified(create, lambda: None) == "made"


def test_create_verified_is_bounded() -> None:
    sent: list[int] = []

    def create() -> str:
        sent.append(1)
        raise _lost(503)

    with pytest.raises(RetryableSiteError):
        create_verified(create, lambda: None, attempts=3)
    assert len(sent) == 3


def test_create_verified_does_not_retry_a_refusal() -> None:
    looks: list[int] = []

    def create() -> str:
        raise TerminalSiteError("POST /x: 400", endpoint="POST /x", status=400)

    def find() -> str | None:
        looks.append(1)
        return None

    with pytest.raises(TerminalSiteError):
        create_verified(create, find)
    assert looks == []


def _failing(error: Exception) -> Callable[[], None]:
    def delete() -> None:
        raise error

    return delete


def _refused(status: int) -> TerminalSiteError:
    return TerminalSiteError(f"DELETE /x: {status}", endpoint="DELETE /x", status=status)


class _Looks:
    """An `exists` that counts how often it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.count = 0

    def __call__(self) -> bool:
        self.count += 1
        return self.answer


@pytest.mark.parametrize("error", [_refused(404), _refused(400), _refused(409), _lost(503), _lost()])
def test_delete_verified_reads_after_a_refusal_or_a_lost_answer(error: Exception) -> None:
    gone, there = _Looks(False), _Looks(True)
    delete_verified(_failing(error), gone)  # gone: done
    with pytest.raises(type(error)):
        delete_verified(_failing(error), there)  # still there: the error stands
    assert (gone.count, there.count) == (1, 1)


@pytest.mark.parametrize("status", [401, 403])
def test_delete_verified_does_not_read_after_an_auth_refusal(status: int) -> None:
    looks = _Looks(False)
    with pytest.raises(TerminalSiteError):
        delete_verified(_failing(_refused(status)), looks)
    assert looks.count == 0


def test_delete_verified_does_not_read_after_a_success() -> None:
    looks = _Looks(True)
    delete_verified(lambda: None, looks)
    assert looks.count == 0
