"""Requests side by side, as on a real site: a slow read does not hold up the other reads, writes go one at a
time, and a read sees the state before a write or after it, never half of one.

A handler is held inside the site (with the state taken, as its lock allows) by a gate the test opens."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from reconciler.sandbox import csm
from reconciler.sandbox.app import SandboxSite
from reconciler.sandbox.common import Ctx, Reply
from reconciler.sandbox.server import serve_in_thread
from reconciler.sandbox.state import DEFAULT_CLOUD_ID
from tests.sandbox.conftest import BASIC, OPT_IN

T = TypeVar("T")
PRODUCTS = f"/jsm/csm/cloudid/{DEFAULT_CLOUD_ID}/api/v1/product"
HOLD_S = 10.0  # a gate opens by itself after this long, so a broken test ends


class Gate:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold(self) -> None:
        self.entered.set()
        self.opened.wait(HOLD_S)


@contextmanager
def served_with(
    monkeypatch: pytest.MonkeyPatch, method: str, rule: str, handler: Callable[[Ctx, Any], Reply]
) -> Iterator[str]:
    """A site with two products whose `method` `rule` route runs `handler`; yields its host:port."""
    routes = tuple(
        replace(route, handler=handler) if route.rule.endswith(rule) and method in route.methods else route
        for route in csm.ROUTES
    )
    monkeypatch.setattr(csm, "ROUTES", routes)
    site = SandboxSite(seed={"products": [{"name": "First"}, {"name": "Second"}]})
    with serve_in_thread(site) as url:
        yield urlsplit(url).netloc


def ask(host: str, method: str, path: str, body: object = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(host, timeout=HOLD_S / 2)
    try:
        headers = {**OPT_IN, "Authorization": BASIC, "Content-Type": "application/json"}
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def names(host: str) -> list[str]:
    status, page = ask(host, "GET", PRODUCTS)
    assert status == 200
    return [product["name"] for product in page["results"]]


def in_thread(work: Callable[[], T]) -> tuple[threading.Thread, list[T]]:
    outcome: list[T] = []
    thread = threading.Thread(target=lambda: outcome.append(work()))
    thread.start()
    return thread, outcome


def test_a_slow_read_does_not_hold_up_other_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate()

    def slow_list(ctx: Ctx, args: Any) -> Reply:
        gate.hold()
        return csm.list_products(ctx, args)

    with served_with(monkeypatch, "GET", "/product", slow_list) as host:
        slow, outcome = in_thread(lambda: ask(host, "GET", PRODUCTS))
        assert gate.entered.wait(HOLD_S)
        status, roles = ask(host, "GET", "/rest/api/3/role")  # answered while the slow read is inside
        assert status == 200 and isinstance(roles, list)
        assert not gate.opened.is_set()
        gate.opened.set()
        slow.join(HOLD_S)
    assert outcome and outcome[0][0] == 200


def test_writes_go_one_at_a_time_and_a_read_never_sees_half_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that renames both products in two steps, held between them: a read meanwhile sees both old
    names or both new ones, and a second write waits for the first."""
    gate = Gate()
    inside: list[int] = []
    most_inside = 0

    def rename_both(ctx: Ctx, args: Any) -> Reply:
        nonlocal most_inside
        inside.append(1)
        most_inside = max(most_inside, len(inside))
        first, second = ctx.state.products[:2]
        first.name += "+"
        gate.hold()
        second.name += "+"
        inside.pop()
        return Reply(200, {"renamed": [first.name, second.name]})

    with served_with(monkeypatch, "PUT", "/product/<product_id>", rename_both) as host:
        writes = [in_thread(lambda: ask(host, "PUT", f"{PRODUCTS}/any", {"name": "x"})) for _ in range(2)]
        assert gate.entered.wait(HOLD_S)
        reader, read = in_thread(lambda: names(host))
        reader.join(0.3)  # a read that did not wait for the write would have its answer by now
        gate.opened.set()
        for thread, _ in [*writes, (reader, read)]:
            thread.join(HOLD_S)
        assert read and read[0] in (["First", "Second"], ["First+", "Second+"], ["First++", "Second++"])
        assert names(host) == ["First++", "Second++"]
    assert most_inside == 1
    assert sorted(outcome[0][0] for _, outcome in writes) == [200, 200]
