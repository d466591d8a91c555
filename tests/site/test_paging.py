"""The ends of paged reads the documents leave open (API-FACTS.md, "Ops /v1/roles paging" and section 4):
Ops custom roles stop at an empty page, at a `next` already read, or without `next`; CSM products stop
when `hasNextPage` is false as well as when the cursor is absent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from reconciler.site.api import Api
from tests.site.conftest import CLOUD_ID, app_client

Pages = Callable[[Mapping[str, str]], dict[str, Any]]


def serve_pages(pages: Pages, asked: list[str]) -> Callable[[Request], Response]:
    def answer(request: Request) -> Response:
        asked.append(request.query_string.decode())
        return Response(json.dumps(pages(request.args)), 200, mimetype="application/json")

    return answer


def roles(offset: int, count: int) -> list[dict[str, str]]:
    return [{"id": f"r{n}", "name": f"Role {n}"} for n in range(offset, offset + count)]


def document_shape(args: Mapping[str, str]) -> dict[str, Any]:
    """Five roles in pages of three; the last page's `next` equals `last`, as in the document's example."""
    offset = int(args.get("offset", "0"))
    last = "/v1/roles?offset=3&size=3"
    following = f"/v1/roles?offset={offset + 3}&size=3" if offset + 3 < 5 else last
    return {"values": roles(offset, min(3, 5 - offset)), "links": {"next": following, "last": last}}


def without_next_at_the_end(args: Mapping[str, str]) -> dict[str, Any]:
    offset = int(args.get("offset", "0"))
    links = {"next": f"/v1/roles?offset={offset + 3}&size=3"} if offset == 0 else {}
    return {"values": roles(offset, 3 if offset == 0 else 2), "links": links}


def an_empty_page_at_the_end(args: Mapping[str, str]) -> dict[str, Any]:
    offset = int(args.get("offset", "0"))
    count = {0: 3, 3: 2}.get(offset, 0)
    # Bounded, so that a client that reads past the empty page fails the count rather than hangs.
    links = {"next": f"/v1/roles?offset={offset + 3}&size=3"} if offset < 12 else {}
    return {"values": roles(offset, count), "links": links}


@pytest.mark.parametrize(
    ("pages", "requests"),
    [(document_shape, 2), (without_next_at_the_end, 2), (an_empty_page_at_the_end, 3)],
)
def test_custom_role_pages_end_as_the_document_allows(pages: Pages, requests: int) -> None:
    asked: list[str] = []
    with app_client(serve_pages(pages, asked), cloud_id=CLOUD_ID) as client:
        read = list(client.paginate_links(Api.OPS, "/roles", size=3))
    assert [r["id"] for r in read] == [f"r{n}" for n in range(5)]
    assert len(asked) == requests
    assert asked[:2] == ["offset=0&size=3", "offset=3&size=3"]


def test_a_next_that_leads_back_to_an_earlier_page_ends_the_read() -> None:
    def back_to_the_start(args: Mapping[str, str]) -> dict[str, Any]:
        offset = int(args.get("offset", "0"))
        following = "/v1/roles?size=3&offset=0" if offset else "/v1/roles?offset=3&size=3"
        return {"values": roles(offset, 3), "links": {"next": following}}

    asked: list[str] = []
    with app_client(serve_pages(back_to_the_start, asked), cloud_id=CLOUD_ID) as client:
        read = list(client.paginate_links(Api.OPS, "/roles", size=3))
    assert len(read) == 6 and len(asked) == 2


def test_has_next_page_false_ends_the_product_read_even_with_a_cursor() -> None:
    def products(args: Mapping[str, str]) -> dict[str, Any]:
        cursor = args.get("cursor")
        return {
            "results": [{"id": cursor or "first", "name": f"Product {cursor or 'first'}"}],
            "nextPageCursor": "second" if cursor is None else "third",
            "hasNextPage": cursor is None,
        }

    asked: list[str] = []
    with app_client(serve_pages(products, asked), cloud_id=CLOUD_ID) as client:
        read = list(client.paginate_cursor(Api.CSM, "/product", limit=1))
    assert [p["id"] for p in read] == ["first", "second"]
    assert asked == ["limit=1", "limit=1&cursor=second"]
