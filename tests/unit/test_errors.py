from __future__ import annotations

import pytest

from reconciler.errors import Diagnostic, SourceSpan, error, warning


@pytest.mark.parametrize(
    "diagnostic",
    [
        error("manifest.yaml", "invalid YAML", source=SourceSpan("m.yaml", 3, 7)),
        warning("plan.unmanaged", "not declared", address="products/Acme"),
        error("site.http", "refused", source=SourceSpan("x.yaml", 1, 1), address="customRoles/R"),
    ],
)
def test_diagnostic_json_round_trip(diagnostic: Diagnostic) -> None:
    assert Diagnostic.from_json(diagnostic.to_json()) == diagnostic


@pytest.mark.parametrize(
    "data",
    [
        {"code": "c", "message": "m"},
        {"severity": "fatal", "code": "c", "message": "m"},
        {"severity": "error"},
    ],
)
def test_malformed_diagnostic_json_raises(data: dict[str, object]) -> None:
    with pytest.raises((KeyError, ValueError)):
        Diagnostic.from_json(data)
