"""Pagination in the three styles the APIs use: CSM's cursors, Ops' links and Jira's PageBean. None reads
forever: a CSM cursor that does not advance is an error; an Ops `next` already read, or absent, or an empty
page, ends the read (the document's own last page has `next` equal to `last`); a PageBean read ends at
`isLast` or an empty page."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.errors import TerminalSiteError
from reconciler.site.api import Api, display_path

Get = Callable[[Api, str, Mapping[str, Any] | None], Any]  # SiteApi.get: one page's body


def cursor_pages(get: Get, api: Api, path: str, *, limit: int, key: str = "results") -> Iterator[Any]:
    """CSM style: `limit` + `cursor`, until `nextPageCursor` is absent or `hasNextPage` is false (the
    document requires it without defining it: honoured when it is there, not relied on)."""
    params: dict[str, Any] = {"limit": limit}
    endpoint = f"GET {display_path(api, path)}"
    seen: set[str] = set()
    while True:
        page = get(api, path, params)
        yield from _list_field(page, key, endpoint)
        cursor = page.get("nextPageCursor")
        if cursor is not None and not isinstance(cursor, str):
            raise TerminalSiteError(
                f"{endpoint}: the response's nextPageCursor is not a string", endpoint=endpoint
            )
        if not cursor or page.get("hasNextPage") is False:
            return
        _check_next(cursor, seen, "nextPageCursor", endpoint)
        params = {"limit": limit, "cursor": cursor}


def link_pages(get: Get, api: Api, path: str, *, size: int) -> Iterator[Any]:
    """Ops style: `offset` + `size`, following `links.next` (relative to the API root). The document
    states no rule for the last page, and its example has `next` equal to `last` there (API-FACTS.md
    section 7): the read stops at an empty page, at a `next` it has read already, or without `next`."""
    params: dict[str, Any] = {"offset": 0, "size": size}
    endpoint = f"GET {display_path(api, path)}"
    read: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    while True:
        read.add(_page_key(path, params))
        page = get(api, path, params)
        values = _list_field(page, "values", endpoint)
        yield from values
        links = page.get("links") or {}
        if not isinstance(links, dict):
            raise TerminalSiteError(f"{endpoint}: the response's links is not an object", endpoint=endpoint)
        next_link = links.get("next")
        if next_link is not None and not isinstance(next_link, str):
            raise TerminalSiteError(
                f"{endpoint}: the response's links.next is not a string", endpoint=endpoint
            )
        if not values or not next_link:
            return
        parts = urlsplit(next_link)
        next_path = parts.path.removeprefix("/v1") if parts.path.startswith("/v1") else path
        next_params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if _page_key(next_path, next_params) in read:
            return
        path, params = next_path, next_params


def page_bean_pages(
    get: Get, api: Api, path: str, *, max_results: int, params: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """Jira PageBean style: `startAt` + `maxResults`, until `isLast`."""
    start = 0
    while True:
        page = get(api, path, {**(params or {}), "startAt": start, "maxResults": max_results})
        values = _list_field(page, "values", f"GET {display_path(api, path)}")
        yield from values
        if page.get("isLast", True) or not values:
            return
        start += len(values)


def _check_next(token: Any, seen: set[str], what: str, endpoint: str) -> None:
    """A next-page cursor or link must be a string that was not followed before: a site that sends
    the same one again would otherwise be read forever."""
    if not isinstance(token, str):
        raise TerminalSiteError(f"{endpoint}: the response's {what} is not a string", endpoint=endpoint)
    if token in seen:
        raise TerminalSiteError(
            f"{endpoint}: the response's {what} repeats an earlier page; pagination does not advance",
            endpoint=endpoint,
        )
    seen.add(token)


def _page_key(path: str, params: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A page as a request names it, whatever the order of its parameters."""
    return path, tuple(sorted((str(k), str(v)) for k, v in params.items()))


def _list_field(page: Any, key: str, endpoint: str) -> list[Any]:
    values = page.get(key) if isinstance(page, dict) else None
    if not isinstance(values, list):
        raise TerminalSiteError(f"{endpoint}: the response has no list {key!r}", endpoint=endpoint)
    return values
