"""Each fault knob, observed over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests  # what the real client is built on

from reconciler.sandbox.app import Call, Knobs, SandboxSite
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.sandbox.server import serve_in_thread

from .conftest import OPT_IN, Api


def test_knobs_are_off_by_default() -> None:
    assert Knobs() == Knobs(None, 0.0, 0, 1, 0, 503, 0, 0, 0.0, False, {})


def test_chosen_requests_fail_and_change_nothing(api: Api) -> None:
    product = api.get(api.csm("/product")).json["results"][0]
    api.site.knobs.fail_on = {("PUT", f"/product/{product['id']}"): 400}
    failed = api.put(api.csm(f"/product/{product['id']}"), {"name": "Renamed"})
    assert (failed.status, failed.json["statusCode"]) == (400, 400)
    assert api.get(api.csm(f"/product/{product['id']}")).json == product  # other methods pass
    api.site.knobs.fail_on = {}
    assert api.put(api.csm(f"/product/{product['id']}"), {"name": "Renamed"}).status == 200


def test_every_third_request_is_rate_limited_across_the_site(api: Api) -> None:
    api.site.knobs.rate_limit_every = 3
    api.site.knobs.retry_after_s = 7
    statuses = [
        api.get("/_edge/tenant_info", auth=None).status,  # counts like any other request
        api.get(api.jira("/role")).status,
    ]
    limited = api.get(api.jira("/role"))
    assert statuses == [200, 200]
    assert limited.status == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json["errorMessages"]
    api.get(api.csm("/product"))
    api.get(api.csm("/product"))
    csm = api.get(api.csm("/product"))
    assert (csm.status, csm.json["statusCode"]) == (429, 429)
    api.get(api.ops("/teams"))
    api.get(api.ops("/teams"))
    ops = api.get(api.ops("/teams"))
    assert (ops.status, ops.json["errors"][0]["code"]) == (429, "TOO_MANY_REQUESTS")


def test_rate_limited_writes_change_nothing(api: Api) -> None:
    api.site.knobs.rate_limit_every = 1
    assert api.post(api.csm("/product"), {"name": "Nope"}).status == 429
    api.site.knobs.rate_limit_every = 0
    names = [p["name"] for p in api.get(api.csm("/product")).json["results"]]
    assert "Nope" not in names


def test_every_second_request_is_a_server_error(api: Api) -> None:
    api.site.knobs.error_every = 2
    assert api.get(api.ops("/teams")).status == 200
    unavailable = api.get(api.ops("/teams"))
    assert unavailable.status == 503 and unavailable.headers["Retry-After"] == "1"
    assert unavailable.json["errors"][0]["title"]
    api.site.knobs.error_status = 500
    api.get(api.csm("/product"))
    failed = api.get(api.csm("/product"))
    assert (failed.status, failed.json["statusCode"]) == (500, 500)
    assert "Retry-After" not in failed.headers


def _product_names(api: Api) -> list[str]:
    return [p["name"] for p in api.get(api.csm("/product")).json["results"]]


def test_dropped_write_is_committed_and_the_server_keeps_serving(api: Api) -> None:
    api.site.knobs.drop_after_write_every = 2
    assert api.post(api.csm("/product"), {"name": "First"}).status == 200
    assert api.get(api.csm("/product")).status == 200  # reads do not count
    with pytest.raises(ConnectionError):
        api.post(api.csm("/product"), {"name": "Second"})
    assert _product_names(api)[-2:] == ["First", "Second"]
    assert api.post(api.csm("/product"), {"name": "Third"}).status == 200


def test_failed_writes_are_not_dropped(api: Api) -> None:
    api.site.knobs.drop_after_write_every = 1
    assert api.post(api.csm("/product"), {"name": "x" * 201}).status == 400


def test_requests_sees_a_connection_error_after_the_commit(
    tmp_path: Path, demo_seed: dict[str, object]
) -> None:
    state_file = tmp_path / "state.json"
    site = SandboxSite(state_file=state_file, seed=demo_seed, knobs=Knobs(drop_after_write_every=1))
    with serve_in_thread(site) as base_url:
        url = f"{base_url}/jsm/ops/api/{site.cloud_id}/v1/roles"
        auth = (SANDBOX_EMAIL, SANDBOX_API_TOKEN)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, json={"name": "Dropped"}, auth=auth, headers=OPT_IN, timeout=5)
        # Committed and persisted before the connection was dropped.
        saved = json.loads(state_file.read_text())
        assert "Dropped" in [role["name"] for role in saved["custom_roles"]]
        listed = requests.get(url, auth=auth, headers=OPT_IN, timeout=5)
        assert "Dropped" in [role["name"] for role in listed.json()["values"]]


def test_slow_requests_exceed_client_timeouts(api: Api) -> None:
    api.site.knobs.slow_every = 2
    api.site.knobs.slow_s = 0.5
    assert api.get(api.jira("/role"), timeout=0.2).status == 200
    with pytest.raises(TimeoutError):
        api.get(api.jira("/role"), timeout=0.2)
    assert api.get(api.jira("/role"), timeout=0.2).status == 200


def test_latency_is_added_to_every_request(api: Api) -> None:
    api.site.knobs.latency_s = 0.15
    started = time.monotonic()
    api.get(api.jira("/role"))
    api.get(api.jira("/role"))
    assert time.monotonic() - started >= 0.3


def test_calls_are_recorded(api: Api) -> None:
    assert api.site.calls == []
    api.get(api.jira("/role"))
    api.site.knobs.record_calls = True
    api.get(api.ops("/roles?offset=0&size=5"))
    api.post(api.csm("/product"), {"name": "Logged"})
    api.get(api.jira("/myself"), auth=None)
    assert api.site.calls == [
        Call("GET", f"/jsm/ops/api/{api.cloud}/v1/roles", "offset=0&size=5", 200),
        Call("POST", f"/jsm/csm/cloudid/{api.cloud}/api/v1/product", "", 200),
        Call("GET", "/rest/api/3/myself", "", 401),
    ]


def test_page_size_cap_applies_to_every_paginated_list(api: Api) -> None:
    api.site.knobs.max_page_size = 2
    products = api.get(api.csm("/product?limit=100")).json
    assert len(products["results"]) == 2 and "nextPageCursor" in products
    roles = api.get(api.ops("/roles?size=100")).json
    assert len(roles["values"]) == 2  # the seed has exactly two
    assert roles["links"]["next"] == roles["links"]["last"] == "/v1/roles?offset=0&size=2"
    for number in range(3):
        api.post(api.ops("/roles"), {"name": f"Capped {number}"})
    roles = api.get(api.ops("/roles?size=100")).json
    assert len(roles["values"]) == 2 and roles["links"]["next"] == "/v1/roles?offset=2&size=2"
    groups = api.get(api.jira("/group/bulk?maxResults=50")).json
    assert (len(groups["values"]), groups["maxResults"], groups["isLast"]) == (2, 2, False)
