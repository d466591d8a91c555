"""The benchmark in its reduced form (a small site, no latency), so it cannot rot. No timing is
asserted here: only that every measurement makes exactly the minimal number of requests."""

from __future__ import annotations

from bench.run import APPLY_MIX, plan_requests, run
from bench.site import SMALL


def test_benchmark_makes_the_minimal_number_of_requests() -> None:
    results = run(SMALL, 0.0, subprocess_server=False, apply_mix=APPLY_MIX[SMALL])
    minimal, _, _ = plan_requests(SMALL)
    no_change, no_change_10, differing, *applies = results
    assert no_change.requests == no_change.minimal_requests == minimal
    assert (no_change.parallelism, no_change_10.parallelism) == (4, 10)
    assert no_change_10.requests == minimal
    assert differing.requests == minimal
    assert differing.json_cpu_s is not None
    assert [m.parallelism for m in applies] == [4, 10]
    for measurement in applies:
        assert measurement.name == f"apply, {APPLY_MIX[SMALL].changes} changes"
        assert measurement.requests == measurement.minimal_requests
    assert no_change.per_object_requests is not None and no_change.per_object_requests > 3 * minimal
