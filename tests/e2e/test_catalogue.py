"""Through the command line over HTTP: renames the site cannot decide, rights outside the published
list, and holders the site checks (issue 11)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.test_cli import run


def test_a_product_swap_and_a_field_rotation_are_errors_and_nothing_is_written(
    harness_factory: Any,
) -> None:
    harness: Harness = harness_factory(
        {
            "products": [{"name": "Alpha"}, {"name": "Beta"}],
            "detailFields": {
                "customer": [
                    {"name": "One", "type": "TEXT"},
                    {"name": "Two", "type": "DATE"},
                    {"name": "Three", "type": "URL"},
                ]
            },
        }
    )
    path = harness.write(
        """
        products:
          - {name: Alpha, renamedFrom: [Beta]}
          - {name: Beta, renamedFrom: [Alpha]}
        detailFields:
          customer:
            - {name: One, type: URL, renamedFrom: [Three]}
            - {name: Two, type: TEXT, renamedFrom: [One]}
            - {name: Three, type: DATE, renamedFrom: [Two]}
        """
    )
    before = harness.site.snapshot()
    harness.site.calls.clear()
    result = run(harness, "apply", "--auto-approve", "--allow-delete", str(harness.manifests))
    assert result.exit_code == 1
    assert harness.writes() == [] and harness.site.snapshot() == before
    output = result.output
    for line, named in [
        (4, ("products/Alpha (id ", "products/Beta (id ")),
        (5, ("products/Beta (id ", "products/Alpha (id ")),
        (8, ("detailFields.customer/One (id ", "detailFields.customer/Three (id ")),
        (9, ("detailFields.customer/Two (id ", "detailFields.customer/One (id ")),
        (10, ("detailFields.customer/Three (id ", "detailFields.customer/Two (id ")),
    ]:
        diagnostic = next(text for text in output.splitlines() if text.startswith(f"{path}:{line}:"))
        assert "error[plan.rename_conflict]" in diagnostic
        assert all(name in diagnostic for name in named), diagnostic
        assert "two steps" in diagnostic
    assert run(harness, "plan", str(harness.manifests)).exit_code == 1
